// What the tests against a broker with security of its own (SASL, TLS, ACLs)
// share: starting that broker, and the start and end of a round trip through
// the proxy that proves a security configuration works. Each test adds its own
// steps between them, for what its principal may do.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { startBroker } from '../../src/dev/kafka-broker.js'
import { createKafkaAdmin, type KafkaAdmin } from '../../src/kafka/admin.js'
import { createLogger } from '../../src/logger.js'
import { libDir } from './broker.js'
import type { TestPki } from './certs.js'
import { b64, BINARY_V2, request, show, type HttpResult } from './consumers.js'
import { eventually, uniqueName } from './kafka.js'

const V3_JSON = 'application/json'

/**
 * `n` ports that were free a moment ago. A broker's listeners are fixed in its
 * properties before it starts, so it cannot take port 0 and say which it got.
 */
export async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => {
    const s = createServer()
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    return s
  }))
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map(async (s) => await new Promise((resolve) => s.close(resolve))))
  return ports
}

export interface SecureBrokerOptions<L extends string> {
  /** The broker keeps its data in `broker/` below it; the caller removes it. */
  dir: string
  /**
   * The listeners besides PLAINTEXT and CONTROLLER, each named by its security
   * protocol, bound to 127.0.0.1 and advertised as the host given here
   * (localhost where the certificate names only localhost).
   */
  listeners: Record<L, string>
  /** The PKCS#12 key store the TLS listeners present. */
  keystore: { location: string, password: string }
  /** Everything else: mechanisms, JAAS, truststore, client auth, authorizer. */
  properties: Record<string, string>
}

export interface SecureBroker<L extends string> {
  /** The PLAINTEXT listener (ANONYMOUS), for the test's own setup; the proxy gets a secured one. */
  plaintext: string
  /** The port of each of `listeners`. */
  ports: Record<L, number>
}

/** A broker of its own that never creates topics by itself; it stops when the test ends. */
export async function startSecureBroker<L extends string> (t: TestContext, opts: SecureBrokerOptions<L>): Promise<SecureBroker<L>> {
  const names = Object.keys(opts.listeners) as L[]
  const [port, controllerPort, ...own] = await freePorts(2 + names.length) as [number, number, ...number[]]
  const ports = Object.fromEntries(names.map((name, i) => [name, own[i]])) as Record<L, number>
  const bound = names.map((name) => `,${name}://127.0.0.1:${ports[name]}`).join('')
  const advertised = names.map((name) => `,${name}://${opts.listeners[name]}:${ports[name]}`).join('')
  const protocols = names.map((name) => `,${name}:${name}`).join('')
  const broker = await startBroker({
    libDir: libDir(),
    dataDir: path.join(opts.dir, 'broker'),
    port,
    controllerPort,
    properties: {
      'auto.create.topics.enable': 'false',
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${bound}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}${advertised}`,
      'listener.security.protocol.map': `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${protocols}`,
      ...opts.properties,
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': opts.keystore.location,
      'ssl.keystore.password': opts.keystore.password
    }
  })
  t.after(() => broker.stop())
  return { plaintext: `127.0.0.1:${port}`, ports }
}

export interface AclBroker {
  /** The secured listener, by the host name the certificate names. */
  servers: string
  /** The PLAINTEXT listener, for the test's own setup. */
  plaintext: string
  /** The test's CA, which signed the broker's certificate and signs client certificates. */
  pki: TestPki
  /** An admin client on the PLAINTEXT listener, whose ANONYMOUS principal is a super user. */
  root: KafkaAdmin
}

/**
 * A broker for the proxy to reach on one secured `listener` only, advertised
 * as localhost with a certificate from a CA of the test's own, that denies
 * what no ACL allows. The broker and the test talk as ANONYMOUS on PLAINTEXT
 * and CONTROLLER, which stays a super user. `name` prefixes the temp dir.
 */
export async function startAclBroker (t: TestContext, name: string, pki: TestPki, listener: 'SSL' | 'SASL_SSL', properties: Record<string, string>): Promise<AclBroker> {
  const dir = mkdtempSync(path.join(os.tmpdir(), name))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const keystore = pki.pkcs12(pki.server('broker'), 'broker', 'changeit')
  const { plaintext, ports } = await startSecureBroker(t, {
    dir,
    listeners: { [listener]: 'localhost' } as Record<typeof listener, string>,
    keystore: { location: keystore, password: 'changeit' },
    properties: {
      ...properties,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'allow.everyone.if.no.acl.found': 'false',
      'super.users': 'User:ANONYMOUS'
    }
  })
  const root = createKafkaAdmin({ bootstrapServers: plaintext, clientId: 'test-root', requestTimeoutMs: 10000, properties: {}, log: createLogger('silent', 'test') })
  t.after(() => root.close())
  return { servers: `localhost:${ports[listener]}`, plaintext, pki, root }
}

/** The body of a response that must have `status`; `what` names the step when it has not. */
export async function ok (res: Promise<HttpResult>, status: number, what: string): Promise<any> {
  const r = await res
  assert.equal(r.status, status, `${what}: ${show(r)}`)
  return r.body
}

export interface RoundTrip {
  /** The proxy's base URL. */
  url: string
  /** The v3 cluster's URL. */
  base: string
  /** One partition holding 'v2-record' (key k1) at offset 0 and 'v3-record' (key k2) at offset 1. */
  topic: string
}

/**
 * Waits for the proxy to reach the cluster, creates `${topicPrefix}${label}-…`
 * over v3 and writes one record over v2 and one over v3. `createWhat` names the
 * create step in its failure message.
 */
export async function createAndProduce (url: string, topicPrefix: string, label: string, createWhat: string): Promise<RoundTrip> {
  const clusters = await eventually(async () => {
    const r = await request('GET', `${url}/v3/clusters`)
    return r.status === 200 ? r.body : undefined
  }, { what: `${label}: the proxy to reach the cluster`, timeoutMs: 30000 })
  const base = `${url}/v3/clusters/${clusters.data[0].cluster_id as string}`
  const topic = uniqueName(`${topicPrefix}${label}`)

  const created = await ok(request('POST', `${base}/topics`, { headers: { 'content-type': V3_JSON }, body: { topic_name: topic, partitions_count: 1, replication_factor: 1 } }), 201, createWhat)
  assert.equal(created.topic_name, topic)

  // The topic's metadata reaches the producer a little after the create returns.
  const v2 = await ok(eventually(async () => {
    const r = await request('POST', `${url}/topics/${topic}`, { headers: { 'content-type': BINARY_V2 }, body: { records: [{ key: b64('k1'), value: b64('v2-record') }] } })
    return r.status === 404 ? undefined : r
  }, { what: 'the new topic to be writable' }), 200, 'v2 produce')
  assert.equal(v2.offsets[0].error_code, null, JSON.stringify(v2))
  assert.equal(v2.offsets[0].offset, 0)

  const v3 = await ok(request('POST', `${base}/topics/${topic}/records`, {
    headers: { 'content-type': V3_JSON }, body: { key: { type: 'STRING', data: 'k2' }, value: { type: 'STRING', data: 'v3-record' } }
  }), 200, 'v3 produce')
  assert.equal(v3.error_code, 200, JSON.stringify(v3))
  assert.equal(v3.offset, 1)
  return { url, base, topic }
}

/** Reads both records back with a v3 partition read from offset 0. */
export async function readBackV3 ({ base, topic }: RoundTrip): Promise<void> {
  const page = await ok(request('GET', `${base}/topics/${topic}/partitions/0/records?offset=0`), 200, 'v3 partition read')
  assert.deepEqual(page.data.map((r: { value: { data: string } }) => Buffer.from(r.value.data, 'base64').toString()), ['v2-record', 'v3-record'], JSON.stringify(page).slice(0, 500))
}

/** Deletes the topic over v3 and waits until the proxy no longer finds it; `what` names the delete step. */
export async function deleteTopicV3 ({ base, topic }: RoundTrip, what: string): Promise<void> {
  await ok(request('DELETE', `${base}/topics/${topic}`), 204, what)
  await eventually(async () => (await request('GET', `${base}/topics/${topic}`)).status === 404 ? true : undefined, { what: 'the deleted topic to be gone' })
}
