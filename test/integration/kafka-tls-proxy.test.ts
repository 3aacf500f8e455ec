// The proxy against a broker of its own whose SSL listener requires client
// certificates (ssl.client.auth=required, a PEM truststore holding the CA the
// test makes) and authorizes with ACLs (StandardAuthorizer,
// allow.everyone.if.no.acl.found false): the real entry point, configured
// only by KAFKA_PROXY_KAFKA__SECURITY__* environment variables, creates,
// produces (v2, v3), reads (v3) and deletes through it with a client
// certificate from PEM files and from a PKCS#12 key store. Without a
// certificate the broker refuses the proxy: 503s, not a crash; a wrong key
// store password is a clear error (docs/security.md, "Kafka side").
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { AclBinding, AclOperation, KafkaAdmin } from '../../src/kafka/admin.js'
import { makePki } from '../helpers/certs.js'
import { assertError, b64, BINARY_V2, request, type HttpResult } from '../helpers/consumers.js'
import { eventually } from '../helpers/kafka.js'
import { bootProxy, type LogLine, type ProxyProcess } from '../helpers/process.js'
import { createAndProduce, deleteTopicV3, readBackV3, startAclBroker, type AclBroker } from '../helpers/secure-kafka.js'

/** Everything the proxy's principals may touch starts with this. */
const TOPIC_PREFIX = 'tls-ok-'
const V3_JSON = 'application/json'
const KEYSTORE_PASSWORD = 'p12-secret'

async function tlsBroker (t: TestContext): Promise<AclBroker> {
  const pki = makePki(t)
  // On SSL the principal is the client certificate's subject DN (the default
  // ssl.principal.mapping.rules), the one grant() names.
  return await startAclBroker(t, 'kafka-tls-proxy-', pki, 'SSL', {
    'listener.name.ssl.ssl.client.auth': 'required',
    // A PEM truststore (KIP-651): the CA's certificate file as it is.
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': pki.ca.cert
  })
}

/**
 * Exactly what the proxy needs for what the test does (READ, WRITE and DELETE
 * imply DESCRIBE; WRITE covers the idempotent producer's id, KIP-679), to
 * the certificate's principal, so the test also proves which principal the
 * broker saw.
 */
async function grant (root: KafkaAdmin, principal: string): Promise<void> {
  const allow = (operation: AclOperation): AclBinding =>
    ({ resourceType: 'TOPIC', resourceName: TOPIC_PREFIX, patternType: 'PREFIXED', principal, host: '*', operation, permission: 'ALLOW' })
  const errors = await root.createAcls((['CREATE', 'WRITE', 'READ', 'DELETE'] as const).map(allow))
  assert.deepEqual(errors.filter((e) => e !== null), [])
}

function proxyEnv (b: AclBroker, security: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: b.servers,
    KAFKA_PROXY_KAFKA__SECURITY__SECURITY_PROTOCOL: 'ssl',
    KAFKA_PROXY_KAFKA__SECURITY__SSL_CA_LOCATION: b.pki.ca.cert,
    // "broker" would read the brokers' auto.create.topics.enable, which needs
    // DescribeConfigs on the cluster; the test creates its topics itself.
    KAFKA_PROXY_KAFKA__AUTO_CREATE_TOPICS: 'never'
  }
  // librdkafka's dotted names, '.' written as '_' (src/config/env.ts).
  for (const [name, value] of Object.entries(security)) env[`KAFKA_PROXY_KAFKA__SECURITY__${name.toUpperCase().replaceAll('.', '_')}`] = value
  return env
}

/** v3 create, v2 and v3 produce, a v3 partition read and v3 delete, all through the proxy. */
async function roundTrip (proxy: ProxyProcess, label: string): Promise<void> {
  const rt = await createAndProduce(proxy.url, TOPIC_PREFIX, label, 'v3 create topic')
  await readBackV3(rt)
  await deleteTopicV3(rt, 'v3 delete topic')
}

test('the proxy connects to Kafka over TLS with a client certificate from PEM files or a PKCS#12 key store', async (t) => {
  const b = await tlsBroker(t)
  await grant(b.root, 'User:CN=proxy-pem')
  await grant(b.root, 'User:CN=proxy-p12')
  const clusterId = (await b.root.describeCluster()).clusterId

  await t.test('PEM certificate and key (ssl.certificate.location, ssl.key.location)', async (t) => {
    const pair = b.pki.kafkaClient('proxy-pem')
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, { 'ssl.certificate.location': pair.cert, 'ssl.key.location': pair.key }) })
    await roundTrip(proxy, 'pem')
  })

  await t.test('PKCS#12 key store with a password (ssl.keystore.location, ssl.keystore.password)', async (t) => {
    const store = b.pki.pkcs12(b.pki.kafkaClient('proxy-p12'), 'proxy-p12', KEYSTORE_PASSWORD)
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, { 'ssl.keystore.location': store, 'ssl.keystore.password': KEYSTORE_PASSWORD }) })
    await roundTrip(proxy, 'p12')
  })

  await t.test('no client certificate: the broker refuses the handshake, the proxy answers 503 and keeps running', async (t) => {
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, {}) })
    const refusal = await eventually(() => proxy.logs.find((l) => l.msg === 'kafka producer could not connect; retrying'), { what: 'the failed connection in the log' })
    // Kafka's SSL listener answers a missing certificate with TLS alert 42 (bad_certificate).
    assert.match(String(refusal.reason), /alert bad certificate: SSL alert number 42/, JSON.stringify(refusal))
    await unreachable(proxy, clusterId)
  })

  await t.test('a wrong key store password: the proxy starts, logs librdkafka\'s and the admin client\'s reason, answers 503', async (t) => {
    const wrong = 'not-the-password'
    const store = b.pki.pkcs12(b.pki.kafkaClient('proxy-wrong'), 'proxy-wrong', KEYSTORE_PASSWORD)
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, { 'ssl.keystore.location': store, 'ssl.keystore.password': wrong }) })
    const message = (l: LogLine): string => String((l.err as { message?: unknown } | undefined)?.message)
    // librdkafka fails to make the client, and the producer tries again every second.
    const producer = await eventually(() => proxy.logs.find((l) => l.msg === 'kafka producer could not connect; retrying'), { what: 'the producer\'s failure in the log' })
    assert.equal(message(producer), `Failed to parse ssl.keystore.location PKCS#12 file: ${store}: error:11800071:PKCS12 routines::mac verify failure`, JSON.stringify(producer))
    // The admin client opens the store once, when the worker starts.
    const admin = proxy.logs.find((l) => l.msg === 'admin client disabled by its security settings')
    assert.ok(admin !== undefined, JSON.stringify(proxy.logs.slice(0, 10)))
    assert.equal(message(admin), `cannot open the PKCS#12 key store ssl.keystore.location ${store} with ssl.keystore.password: mac verify failure`)
    await unreachable(proxy, clusterId)
    assert.equal(proxy.logs.some((l) => JSON.stringify(l).includes(wrong)), false, 'the password is never logged')
  })
})

/** Every route the test uses is 503/50302 (retriable, no TLS detail); the proxy lives on. */
async function unreachable (proxy: ProxyProcess, clusterId: string): Promise<void> {
  const is503 = (res: HttpResult, what: string): void => {
    assertError(res, 503, 50302, what)
    assert.equal(res.body.retriable, true, what)
    assert.doesNotMatch(res.text, /SSL|certificate|PKCS|keystore/i, what)
  }
  const base = `${proxy.url}/v3/clusters/${clusterId}`
  const topic = `${TOPIC_PREFIX}any`
  is503(await request('POST', `${proxy.url}/topics/${topic}`, { headers: { 'content-type': BINARY_V2 }, body: { records: [{ value: b64('x') }] } }), 'v2 produce')
  is503(await request('GET', `${proxy.url}/v3/clusters`), 'v3 clusters')
  is503(await request('POST', `${base}/topics`, { headers: { 'content-type': V3_JSON }, body: { topic_name: topic, partitions_count: 1, replication_factor: 1 } }), 'v3 create topic')
  is503(await request('POST', `${base}/topics/${topic}/records`, { headers: { 'content-type': V3_JSON }, body: { value: { type: 'STRING', data: 'x' } } }), 'v3 produce')
  is503(await request('GET', `${base}/topics/${topic}/partitions/0/records?offset=0`), 'v3 partition read')
  is503(await request('DELETE', `${base}/topics/${topic}`), 'v3 delete topic')
  assert.equal((await request('GET', `${proxy.url}/health/live`)).status, 200)
  assert.equal((await request('GET', `${proxy.url}/health/ready`)).status, 503)
  assert.equal(proxy.child.exitCode, null, 'the proxy is still running')
  assert.equal(proxy.logs.some((l) => l.msg.startsWith('worker exited')), false, JSON.stringify(proxy.logs.slice(-5)))
}
