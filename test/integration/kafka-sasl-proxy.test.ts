// The proxy against a broker of its own that requires SASL_SSL (SCRAM-SHA-512
// and PLAIN) with a certificate signed by a CA the test generates, and
// authorizes with ACLs (StandardAuthorizer, allow.everyone.if.no.acl.found
// false): the real entry point, configured only by environment variables
// ([kafka.security]), creates, produces, consumes, describes and deletes
// through it; what the ACLs refuse is 403/40301; a proxy started before its
// ACLs exist works once they are granted; wrong credentials are a logged
// authentication error and 503s, not a crash (docs/security.md).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { AclBinding, AclOperation, KafkaAdmin } from '../../src/kafka/admin.js'
import { kafkaTool } from '../helpers/broker.js'
import { makePki } from '../helpers/certs.js'
import { assertError, b64, BINARY_V2, createConsumer, deleteConsumer, request, show, subscribe, type HttpResult } from '../helpers/consumers.js'
import { eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy, type ProxyProcess } from '../helpers/process.js'
import { createAndProduce, deleteTopicV3, ok, readBackV3, startAclBroker, type AclBroker } from '../helpers/secure-kafka.js'

const PASSWORD = { scram: 'scram-secret', plain: 'plain-secret' }
/** Everything the proxy's principals may touch starts with these. */
const TOPIC_PREFIX = 'sasl-ok-'
const GROUP_PREFIX = 'sasl-grp-'
const V3_JSON = 'application/json'

async function saslBroker (t: TestContext): Promise<AclBroker> {
  const sasl = 'listener.name.sasl_ssl'
  const b = await startAclBroker(t, 'kafka-sasl-proxy-', makePki(t), 'SASL_SSL', {
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
    [`${sasl}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required user_plain-proxy="${PASSWORD.plain}";`,
    [`${sasl}.scram-sha-512.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;'
  })
  await scramUser(b.plaintext, 'scram-proxy', PASSWORD.scram)
  return b
}

/** Sets a SCRAM-SHA-512 password; the credentials live in the cluster metadata (KIP-554). */
async function scramUser (plaintext: string, user: string, password: string): Promise<void> {
  await kafkaTool('kafka.admin.ConfigCommand', ['--bootstrap-server', plaintext, '--alter', '--entity-type', 'users', '--entity-name', user,
    '--add-config', `SCRAM-SHA-512=[iterations=4096,password=${password}]`])
}

/**
 * Exactly what the proxy needs for what the test does. READ, WRITE and DELETE
 * imply DESCRIBE; WRITE on a topic lets the idempotent producer have its
 * producer id (KIP-679), so no IdempotentWrite on the cluster; Metadata and
 * DescribeCluster need no ACL; the partition reader's placeholder group needs
 * none (src/kafka/reader.ts).
 */
async function grant (root: KafkaAdmin, principal: string): Promise<void> {
  const allow = (resourceType: AclBinding['resourceType'], resourceName: string, operation: AclOperation): AclBinding =>
    ({ resourceType, resourceName, patternType: 'PREFIXED', principal, host: '*', operation, permission: 'ALLOW' })
  const bindings = [
    ...(['CREATE', 'WRITE', 'READ', 'DESCRIBE_CONFIGS', 'DELETE'] as const).map((op) => allow('TOPIC', TOPIC_PREFIX, op)),
    allow('GROUP', GROUP_PREFIX, 'READ')
  ]
  const errors = await root.createAcls(bindings)
  assert.deepEqual(errors.filter((e) => e !== null), [])
}

function proxyEnv (b: AclBroker, mechanism: string, username: string, password: string): Record<string, string> {
  return {
    KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: b.servers,
    KAFKA_PROXY_KAFKA__SECURITY__SECURITY_PROTOCOL: 'sasl_ssl',
    KAFKA_PROXY_KAFKA__SECURITY__SASL_MECHANISM: mechanism,
    KAFKA_PROXY_KAFKA__SECURITY__SASL_USERNAME: username,
    KAFKA_PROXY_KAFKA__SECURITY__SASL_PASSWORD: password,
    KAFKA_PROXY_KAFKA__SECURITY__SSL_CA_LOCATION: b.pki.ca.cert,
    // "broker" would read the brokers' auto.create.topics.enable, which needs
    // DescribeConfigs on the cluster; the test creates its topics itself.
    KAFKA_PROXY_KAFKA__AUTO_CREATE_TOPICS: 'never'
  }
}

/** Create, produce (v2, v3), consume (v2 subscription, v3 partition read), describe and delete, all through the proxy. */
async function roundTrip (proxy: ProxyProcess, label: string): Promise<void> {
  const rt = await createAndProduce(proxy.url, TOPIC_PREFIX, label, 'create topic')
  const { url, base, topic } = rt

  const described = await ok(request('GET', `${base}/topics/${topic}`), 200, 'describe topic')
  assert.equal(described.partitions_count, 1)
  const configs = await ok(request('GET', `${base}/topics/${topic}/configs`), 200, 'topic configs')
  assert.ok(configs.data.some((c: { name: string }) => c.name === 'cleanup.policy'), JSON.stringify(configs).slice(0, 300))

  await readBackV3(rt)

  const consumer = await createConsumer(url, uniqueName(`${GROUP_PREFIX}${label}`), { 'auto.offset.reset': 'earliest', format: 'binary' })
  await subscribe(consumer, [topic])
  const values: string[] = []
  await eventually(async () => {
    const r = await request('GET', `${consumer.path}/records?timeout=1000`, { headers: { accept: BINARY_V2 } })
    assert.equal(r.status, 200, show(r))
    for (const rec of r.body as Array<{ value: string }>) values.push(Buffer.from(rec.value, 'base64').toString())
    return values.length >= 2 ? true : undefined
  }, { what: 'the v2 consumer to read both records', timeoutMs: 30000 })
  assert.deepEqual(values, ['v2-record', 'v3-record'])
  await deleteConsumer(consumer)

  await deleteTopicV3(rt, 'delete topic')
}

/** What the ACLs refuse is Kafka's authorization error, 403/40301 (docs/security.md). */
async function refusals (proxy: ProxyProcess, root: KafkaAdmin, principal: string): Promise<void> {
  const url = proxy.url
  const cluster = (await ok(request('GET', `${url}/v3/clusters`), 200, 'clusters')).data[0].cluster_id as string
  const base = `${url}/v3/clusters/${cluster}`
  const forbidden = (res: HttpResult, what: string): void => assertError(res, 403, 40301, what)

  // Outside the prefix: creating is refused (CREATE).
  forbidden(await request('POST', `${base}/topics`, { headers: { 'content-type': V3_JSON }, body: { topic_name: uniqueName('sasl-other'), partitions_count: 1, replication_factor: 1 } }), 'create outside the prefix')

  // A topic the principal may see (DESCRIBE) but not write, read, configure or delete.
  const topic = uniqueName('sasl-seen')
  await root.createTopic({ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, false)
  assert.deepEqual(await root.createAcls([{ resourceType: 'TOPIC', resourceName: topic, patternType: 'LITERAL', principal, host: '*', operation: 'DESCRIBE', permission: 'ALLOW' }]), [null])
  const described = await eventually(async () => {
    const r = await request('GET', `${base}/topics/${topic}`)
    return r.status === 200 ? r.body : undefined
  }, { what: 'the proxy to see the DESCRIBE-only topic' })
  assert.equal(described.topic_name, topic)

  const v2 = await request('POST', `${url}/topics/${topic}`, { headers: { 'content-type': BINARY_V2 }, body: { records: [{ value: b64('x') }] } })
  assert.equal(v2.body?.offsets?.[0]?.error_code, 40301, `v2 produce: ${show(v2)}`)
  // v3 produce answers each record in a 200 stream; the record's result carries the refusal.
  const v3 = await request('POST', `${base}/topics/${topic}/records`, { headers: { 'content-type': V3_JSON }, body: { value: { type: 'STRING', data: 'x' } } })
  assert.equal(v3.status, 200, show(v3))
  assert.equal(v3.body?.error_code, 40301, `v3 produce: ${show(v3)}`)
  forbidden(await request('GET', `${base}/topics/${topic}/partitions/0/records?offset=0`), 'v3 partition read')
  forbidden(await request('GET', `${base}/topics/${topic}/configs`), 'topic configs')
  forbidden(await request('DELETE', `${base}/topics/${topic}`), 'delete')

  const reader = await createConsumer(url, uniqueName(`${GROUP_PREFIX}seen`), { 'auto.offset.reset': 'earliest', format: 'binary' })
  await subscribe(reader, [topic])
  const read = await eventually(async () => {
    const r = await request('GET', `${reader.path}/records?timeout=500`, { headers: { accept: BINARY_V2 } })
    return r.status === 200 ? undefined : r
  }, { what: 'a v2 read of a topic without READ to fail' })
  forbidden(read, 'v2 read without READ on the topic')
  await deleteConsumer(reader)

  // A group outside the prefix: joining it is refused (READ on the group).
  const stranger = await createConsumer(url, uniqueName('sasl-other-group'), { 'auto.offset.reset': 'earliest', format: 'binary' })
  await subscribe(stranger, [topic])
  const joined = await eventually(async () => {
    const r = await request('GET', `${stranger.path}/records?timeout=500`, { headers: { accept: BINARY_V2 } })
    return r.status === 200 ? undefined : r
  }, { what: 'a v2 read in a group without READ to fail' })
  forbidden(joined, 'v2 read in a group without READ')
  await deleteConsumer(stranger)
}

/** Binary v2 produce of one record; the raw answer. */
async function produceOne (url: string, topic: string, value: string): Promise<HttpResult> {
  return await request('POST', `${url}/topics/${topic}`, { headers: { 'content-type': BINARY_V2 }, body: { records: [{ value: b64(value) }] } })
}

test('the proxy produces, consumes and administers through SASL_SSL with ACLs; refusals and wrong credentials are clear', async (t) => {
  const b = await saslBroker(t)
  await grant(b.root, 'User:scram-proxy')
  const clusterId = (await b.root.describeCluster()).clusterId

  await t.test('SCRAM-SHA-512: create, produce, consume, describe, delete; what the ACLs refuse is 403/40301', async (t) => {
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, 'SCRAM-SHA-512', 'scram-proxy', PASSWORD.scram) })
    await roundTrip(proxy, 'scram')
    await refusals(proxy, b.root, 'User:scram-proxy')
  })

  await t.test('PLAIN, started before its ACLs exist: refused at first, working once they are granted, without a restart', async (t) => {
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, 'PLAIN', 'plain-proxy', PASSWORD.plain) })
    // A topic it may see but not write: the idempotent producer's InitProducerId
    // needs IdempotentWrite on the cluster or Write on some topic (KIP-679).
    const topic = uniqueName(`${TOPIC_PREFIX}early`)
    await b.root.createTopic({ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, false)
    assert.deepEqual(await b.root.createAcls([{ resourceType: 'TOPIC', resourceName: topic, patternType: 'LITERAL', principal: 'User:plain-proxy', host: '*', operation: 'DESCRIBE', permission: 'ALLOW' }]), [null])
    const refused = await eventually(async () => {
      const r = await produceOne(proxy.url, topic, 'early')
      return r.status === 404 || r.status === 503 ? undefined : r
    }, { what: 'the proxy to see the topic' })
    const record = refused.body?.offsets?.[0]
    assert.equal(record?.error_code, 40301, show(refused))
    assert.equal(record?.persisted, 'no', show(refused))
    await eventually(() => proxy.logs.find((l) => l.msg.startsWith('kafka refused the producer id')), { what: 'the refused producer id in the log' })

    await grant(b.root, 'User:plain-proxy')
    const written = await eventually(async () => {
      const r = await produceOne(proxy.url, topic, 'granted')
      return r.status === 200 && r.body.offsets[0].error_code === null ? r.body.offsets[0] : undefined
    }, { what: 'a produce to succeed once the ACLs exist', timeoutMs: 30000 })
    assert.equal(written.partition, 0)
    await roundTrip(proxy, 'plain')
  })

  await t.test('wrong credentials: the proxy starts, logs why, and answers 503 until they are fixed, without a restart', async (t) => {
    const proxy = await bootProxy(t, { workers: 1, env: proxyEnv(b, 'SCRAM-SHA-512', 'scram-proxy', 'the-new-password') })
    const refusal = await eventually(() => proxy.logs.find((l) => l.msg === 'kafka producer could not connect; retrying'), { what: 'the failed connection in the log' })
    assert.match(String(refusal.reason), /SASL authentication error: Authentication failed/, JSON.stringify(refusal))

    assert.equal((await request('GET', `${proxy.url}/health/live`)).status, 200)
    assert.equal((await request('GET', `${proxy.url}/health/ready`)).status, 503)
    const unreachable = (res: HttpResult, what: string): void => {
      assertError(res, 503, 50302, what)
      assert.equal(res.body.retriable, true, what)
      // The broker's reason is for the operator's log, not for API clients.
      assert.doesNotMatch(res.text, /SASL|credentials|password/i, what)
    }
    const base = `${proxy.url}/v3/clusters/${clusterId}`
    unreachable(await request('GET', `${proxy.url}/topics`), 'v2 topics')
    unreachable(await produceOne(proxy.url, `${TOPIC_PREFIX}any`, 'x'), 'v2 produce')
    unreachable(await request('GET', `${proxy.url}/v3/clusters`), 'v3 clusters')
    unreachable(await request('GET', `${base}/topics`), 'v3 topics')
    unreachable(await request('POST', `${base}/topics`, { headers: { 'content-type': V3_JSON }, body: { topic_name: `${TOPIC_PREFIX}x`, partitions_count: 1, replication_factor: 1 } }), 'v3 create topic')
    unreachable(await request('POST', `${base}/topics/${TOPIC_PREFIX}any/records`, { headers: { 'content-type': V3_JSON }, body: { value: { type: 'STRING', data: 'x' } } }), 'v3 produce')
    unreachable(await request('GET', `${base}/topics/${TOPIC_PREFIX}any/partitions/0/records?offset=0`), 'v3 partition read')
    const consumer = await createConsumer(proxy.url, uniqueName(`${GROUP_PREFIX}wrong`), { format: 'binary' })
    unreachable(await request('POST', `${consumer.path}/subscription`, { headers: { 'content-type': 'application/vnd.kafka.v2+json' }, body: { topics: [`${TOPIC_PREFIX}any`] } }), 'v2 subscribe')
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running')
    assert.equal(proxy.logs.some((l) => l.msg.startsWith('worker exited')), false, JSON.stringify(proxy.logs.slice(-5)))

    // The broker's credentials change to what the proxy was given.
    await scramUser(b.plaintext, 'scram-proxy', 'the-new-password')
    await eventually(async () => (await request('GET', `${proxy.url}/health/ready`)).status === 200 ? true : undefined, { what: 'readiness once the credentials match', timeoutMs: 30000 })
    await roundTrip(proxy, 'fixed')
  })
})
