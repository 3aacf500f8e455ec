// Every response of a running proxy, against the real broker, conforms to the
// OpenAPI document it serves: documented status, documented media type, body
// valid against the schema (undeclared fields included). Every documented
// operation is called at least once with a 2xx answer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OPENAPI } from '../../src/api/routes.js'
import { ContractChecker, documentedOperations } from '../helpers/openapi.js'
import { startProxy } from '../helpers/proxy.js'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { request, b64, show, V2, BINARY_V2, JSON_V2, type HttpResult } from '../helpers/consumers.js'

type Params = Record<string, string | number>

interface CallOptions {
  expect: number
  query?: Params
  body?: unknown
  headers?: Record<string, string>
}

class Session {
  readonly problems: string[] = []

  constructor (readonly url: string, readonly checker: ContractChecker) {}

  /** Calls `method template` with `params` substituted, checks the answer against the document and records what is wrong. */
  async call (method: string, template: string, params: Params, opts: CallOptions): Promise<HttpResult> {
    const res = await this.raw(method, template, params, opts)
    this.problems.push(...this.checker.check(method, template, res))
    if (res.status !== opts.expect) this.problems.push(`${method} ${template}: expected HTTP ${opts.expect}, got ${show(res)}`)
    return res
  }

  /** The same request without checks (for polling). */
  async raw (method: string, template: string, params: Params, opts: Omit<CallOptions, 'expect'>): Promise<HttpResult> {
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = params[name]
      if (v === undefined) throw new Error(`${template}: no value for {${name}}`)
      return encodeURIComponent(String(v))
    })
    const qs = opts.query === undefined ? '' : `?${new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString()}`
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json'
    return await request(method, `${this.url}${path}${qs}`, { headers, ...(opts.body === undefined ? {} : { body: opts.body }) })
  }

  /** Polls until `done` holds for the unchecked answer; then makes the checked call. */
  async when (method: string, template: string, params: Params, opts: CallOptions, done: (r: HttpResult) => boolean, what: string): Promise<HttpResult> {
    await eventually(async () => done(await this.raw(method, template, params, opts)) ? true : undefined, { what, timeoutMs: 30000 })
    return await this.call(method, template, params, opts)
  }

  /** Asserts nothing was wrong since the last flush. */
  flush (): void {
    const problems = this.problems.splice(0)
    assert.deepEqual(problems, [], problems.join('\n'))
  }
}

const C = '/v3/clusters/{cluster_id}'
const G = `${C}/consumer-groups/{group}`
const I = '/consumers/{group}/instances/{instance}'

test('responses conform to the OpenAPI document; every documented operation is exercised', async (t) => {
  const { url } = await startProxy(t, { webhooks: { allowed_hosts: ['127.0.0.1'], store_topic: uniqueName('openapi-webhooks') } })
  const s = new Session(url, await ContractChecker.create())
  const topic = uniqueName('openapi')
  await createTopic(topic, 2)
  const group = uniqueName('openapi-group')
  const p: Params = { topic, group, partition: 0 }
  const v2 = { accept: V2 }

  await t.test('the document is served at /openapi.json', async () => {
    const res = await s.call('GET', '/openapi.json', {}, { expect: 200 })
    assert.deepEqual(res.body, OPENAPI)
    s.flush()
  })

  await t.test('health', async () => {
    const live = await s.call('GET', '/health/live', {}, { expect: 200 })
    assert.deepEqual(live.body, { status: 'ok' })
    await s.call('GET', '/health/ready', {}, { expect: 200 })
    s.flush()
  })

  await t.test('v2 metadata and produce', async () => {
    await s.call('GET', '/', p, { expect: 200, headers: v2 })
    await s.call('POST', '/', p, { expect: 200, headers: { ...v2, 'content-type': V2 }, body: { a: 1 } })
    await s.call('GET', '/topics', p, { expect: 200, headers: v2 })
    await s.call('GET', '/topics/{topic}', p, { expect: 200, headers: v2 })
    await s.call('GET', '/topics/{topic}/partitions', p, { expect: 200, headers: v2 })
    await s.call('GET', '/topics/{topic}/partitions/{partition}', p, { expect: 200, headers: v2 })
    await s.call('GET', '/topics/{topic}/partitions/{partition}/offsets', p, { expect: 200, headers: v2 })
    await s.call('GET', '/brokers', p, { expect: 200, headers: v2 })
    const produced = await s.call('POST', '/topics/{topic}', p, {
      expect: 200,
      headers: { 'content-type': BINARY_V2 },
      body: { records: [{ key: b64('k'), value: b64('v'), partition: 0, headers: [{ name: 'h', value: b64('x') }] }, { value: b64('w'), partition: 1 }] }
    })
    assert.equal(produced.body?.offsets?.length, 2, show(produced))
    await s.call('POST', '/topics/{topic}/partitions/{partition}', p, { expect: 200, headers: { 'content-type': JSON_V2 }, body: { records: [{ value: { n: 1 } }] } })
    // Error bodies: unknown topic, partition, wrong media type, an empty produce.
    await s.call('GET', '/topics/{topic}', { topic: uniqueName('missing') }, { expect: 404, headers: v2 })
    await s.call('GET', '/topics/{topic}/partitions/{partition}', { topic, partition: 9 }, { expect: 404, headers: v2 })
    await s.call('POST', '/topics/{topic}', p, { expect: 415, body: { records: [] } })
    await s.call('POST', '/topics/{topic}', p, { expect: 422, headers: { 'content-type': BINARY_V2 }, body: { records: [] } })
    await s.call('GET', '/topics', p, { expect: 406, headers: { accept: 'text/plain' } })
    s.flush()
  })

  const consumer: Params = { group, instance: uniqueName('c1') }
  await t.test('v2 consumer: create, subscribe, read with headers and timestamps, commit', async () => {
    await s.call('POST', '/consumers/{group}', consumer, {
      expect: 200,
      headers: { 'content-type': V2 },
      body: { name: consumer.instance, format: 'binary', 'auto.offset.reset': 'earliest' }
    })
    await s.call('POST', `${I}/subscription`, consumer, { expect: 204, headers: { 'content-type': V2 }, body: { topics: [topic] } })
    await s.call('GET', `${I}/subscription`, consumer, { expect: 200, headers: v2 })
    const records: any[] = []
    const deadline = Date.now() + 30000
    while (records.length < 3 && Date.now() < deadline) {
      const res = await s.call('GET', `${I}/records`, consumer, { expect: 200, headers: { accept: BINARY_V2 }, query: { timeout: 500 } })
      if (Array.isArray(res.body)) records.push(...res.body)
    }
    assert.equal(records.length, 3, 'all records read')
    assert.ok(records.some((r) => r.headers.length === 1), 'headers are returned')
    const offsets = records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset }))
    await s.call('POST', `${I}/offsets`, consumer, { expect: 200, headers: { 'content-type': V2 }, body: { offsets } })
    await s.call('GET', `${I}/offsets`, consumer, { expect: 200, headers: { 'content-type': V2, accept: V2 }, body: { partitions: [{ topic, partition: 0 }] } })
    await s.call('GET', `${I}/records`, consumer, { expect: 406, headers: { accept: JSON_V2 } })
    await s.call('GET', `${I}/subscription`, { group, instance: 'nobody' }, { expect: 404, headers: v2 })
    s.flush()
  })

  await t.test('v2 consumers: read a topic (v1 form), assign, seek, delete', async () => {
    const other = uniqueName('openapi-other')
    const reader: Params = { group: other, instance: uniqueName('c2'), topic }
    await s.call('POST', '/consumers/{group}', reader, { expect: 200, headers: { 'content-type': V2 }, body: { name: reader.instance, format: 'binary', 'auto.offset.reset': 'earliest' } })
    await s.call('GET', `${I}/topics/{topic}`, reader, { expect: 200, headers: { accept: BINARY_V2 }, query: { timeout: 200 } })
    await s.call('DELETE', I, reader, { expect: 204, headers: { 'content-type': V2 } })

    const manual: Params = { group: other, instance: uniqueName('c3') }
    await s.call('POST', '/consumers/{group}', manual, { expect: 200, headers: { 'content-type': V2 }, body: { name: manual.instance } })
    const partitions = { partitions: [{ topic, partition: 0 }] }
    await s.call('POST', `${I}/assignments`, manual, { expect: 204, headers: { 'content-type': V2 }, body: partitions })
    await s.call('GET', `${I}/assignments`, manual, { expect: 200, headers: v2 })
    await s.call('POST', `${I}/positions`, manual, { expect: 204, headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 0 }] } })
    await s.call('POST', `${I}/positions/beginning`, manual, { expect: 204, headers: { 'content-type': V2 }, body: partitions })
    await s.call('POST', `${I}/positions/end`, manual, { expect: 204, headers: { 'content-type': V2 }, body: partitions })
    await s.call('POST', `${I}/subscription`, manual, { expect: 409, headers: { 'content-type': V2 }, body: { topics: [topic] } })
    await s.call('DELETE', I, manual, { expect: 204, headers: { 'content-type': V2 } })
    s.flush()
  })

  const v3: Params = { ...p }
  await t.test('v3 clusters and brokers', async () => {
    const clusters = await s.call('GET', '/v3/clusters', {}, { expect: 200 })
    v3.cluster_id = clusters.body?.data?.[0]?.cluster_id
    assert.equal(typeof v3.cluster_id, 'string', show(clusters))
    await s.call('GET', C, v3, { expect: 200 })
    const brokers = await s.call('GET', `${C}/brokers`, v3, { expect: 200 })
    v3.broker_id = brokers.body?.data?.[0]?.broker_id
    await s.call('GET', `${C}/brokers/{broker_id}`, v3, { expect: 200 })
    await s.call('GET', `${C}/brokers/{broker_id}/partition-replicas`, v3, { expect: 200 })
    await s.call('GET', C, { cluster_id: 'no-such-cluster' }, { expect: 404 })
    await s.call('GET', `${C}/brokers`, v3, { expect: 406, headers: { accept: 'text/plain' } })
    s.flush()
  })

  await t.test('v3 topics, partitions, replicas, reassignments', async () => {
    await s.call('GET', `${C}/topics`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/{topic}`, v3, { expect: 200, query: { include_authorized_operations: 'true' } })
    await s.call('GET', `${C}/topics/{topic}/partitions`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/offset`, v3, { expect: 200, query: { offset_type: 'earliest_and_latest' } })
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/replicas`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/replicas/{broker_id}`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/-/partitions/-/reassignment`, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/{topic}/partitions/-/reassignment`, v3, { expect: 200 })
    // No partition of a fresh topic is being reassigned: Confluent answers 404.
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/reassignment`, v3, { expect: 404 })
    // No stream is under a JWT without [auth]: a renewal names no stream any process holds.
    await s.call('POST', '/v3/streams/{stream_id}/authorization', { stream_id: '00000000-0000-0000-0000-000000000000' }, { expect: 404 })

    const created = { ...v3, topic: uniqueName('openapi-v3') }
    await s.call('POST', `${C}/topics`, v3, { expect: 200, body: { topic_name: created.topic, partitions_count: 1, validate_only: true } })
    await s.call('POST', `${C}/topics`, v3, { expect: 201, body: { topic_name: created.topic, partitions_count: 1, configs: [{ name: 'retention.ms', value: '3600000' }] } })
    await s.call('POST', `${C}/topics`, v3, { expect: 400, body: { topic_name: created.topic, partitions_count: 1 } })
    await s.when('GET', `${C}/topics/{topic}`, created, { expect: 200 }, (r) => r.status === 200, 'the new topic is known')
    await s.call('PATCH', `${C}/topics/{topic}`, created, { expect: 200, body: { partitions_count: 2 } })
    await s.call('DELETE', `${C}/topics/{topic}`, created, { expect: 204 })
    await s.call('GET', `${C}/topics/{topic}`, { ...v3, topic: uniqueName('missing') }, { expect: 404 })
    s.flush()
  })

  await t.test('v3 configs', async () => {
    const name = 'retention.ms'
    await s.call('GET', `${C}/topics/{topic}/configs`, v3, { expect: 200 })
    await s.call('PUT', `${C}/topics/{topic}/configs/{name}`, { ...v3, name }, { expect: 204, body: { value: '7200000' } })
    await s.call('GET', `${C}/topics/{topic}/configs/{name}`, { ...v3, name }, { expect: 200 })
    await s.call('POST', `${C}/topics/{topic}/configs:alter`, v3, { expect: 204, body: { data: [{ name, value: '3600000' }, { name: 'cleanup.policy', operation: 'DELETE' }] } })
    await s.call('DELETE', `${C}/topics/{topic}/configs/{name}`, { ...v3, name }, { expect: 204 })
    await s.call('GET', `${C}/topics/-/configs`, v3, { expect: 200 })
    await s.call('POST', `${C}/topics/-/configs:alter`, v3, { expect: 204, body: { data: [{ topic_name: topic, configs: [{ name, value: '3600000' }] }] } })

    // A dynamic config set to its default value, then removed: harmless for other tests on the shared broker.
    const broker = { ...v3, name: 'max.connections' }
    const value = '2147483647'
    await s.call('GET', `${C}/brokers/-/configs`, v3, { expect: 200 })
    await s.call('GET', `${C}/brokers/{broker_id}/configs`, v3, { expect: 200 })
    await s.call('PUT', `${C}/brokers/{broker_id}/configs/{name}`, broker, { expect: 204, body: { value } })
    await s.call('GET', `${C}/brokers/{broker_id}/configs/{name}`, broker, { expect: 200 })
    await s.call('POST', `${C}/brokers/{broker_id}/configs:alter`, v3, { expect: 204, body: { data: [{ name: broker.name, value }] } })
    await s.call('DELETE', `${C}/brokers/{broker_id}/configs/{name}`, broker, { expect: 204 })
    await s.call('PUT', `${C}/broker-configs/{name}`, broker, { expect: 204, body: { value } })
    await s.when('GET', `${C}/broker-configs/{name}`, broker, { expect: 200 }, (r) => r.status === 200, 'cluster config set')
    await s.call('GET', `${C}/broker-configs`, v3, { expect: 200 })
    await s.call('POST', `${C}/broker-configs:alter`, v3, { expect: 204, body: { data: [{ name: broker.name, value }] } })
    await s.call('DELETE', `${C}/broker-configs/{name}`, broker, { expect: 204 })
    await s.call('PUT', `${C}/topics/{topic}/configs/{name}`, { ...v3, name }, { expect: 422, body: '' })
    s.flush()
  })

  await t.test('v3 ACLs', async (st) => {
    const principal = `User:${uniqueName('openapi')}`
    const acl = { resource_type: 'TOPIC', resource_name: topic, pattern_type: 'LITERAL', principal, host: '*', operation: 'READ', permission: 'ALLOW' }
    const query = { resource_type: 'TOPIC', pattern_type: 'LITERAL', operation: 'ANY', permission: 'ANY', principal }
    st.after(async () => { await s.raw('DELETE', `${C}/acls`, v3, { query }) })
    await s.call('POST', `${C}/acls`, v3, { expect: 201, body: acl })
    await s.call('POST', `${C}/acls:batch`, v3, { expect: 204, body: { data: [{ ...acl, operation: 'WRITE' }, { ...acl, operation: 'DESCRIBE', permission: 'DENY' }] } })
    await s.when('GET', `${C}/acls`, v3, { expect: 200, query: { principal } }, (r) => r.body?.data?.length === 3, 'ACLs listed')
    await s.call('DELETE', `${C}/acls`, v3, { expect: 200, query })
    await s.call('GET', `${C}/acls`, v3, { expect: 400, query: { resource_type: 'NOPE' } })
    s.flush()
  })

  await t.test('v3 consumer groups, consumers, assignments and lags', async () => {
    const g: Params = { ...v3, group }
    await s.when('GET', `${C}/consumer-groups`, v3, { expect: 200 }, (r) => r.body?.data?.some((x: any) => x.consumer_group_id === group) === true, 'group listed')
    await s.call('GET', G, g, { expect: 200 })
    const members = await s.when('GET', `${G}/consumers`, g, { expect: 200 }, (r) => r.body?.data?.length > 0, 'group has a member')
    g.consumer = members.body?.data?.[0]?.consumer_id
    await s.call('GET', `${G}/consumers/{consumer}`, g, { expect: 200 })
    const assigned = await s.call('GET', `${G}/consumers/{consumer}/assignments`, g, { expect: 200 })
    const first = assigned.body?.data?.[0]
    const a = { ...g, topic: first?.topic_name, partition: first?.partition_id }
    await s.call('GET', `${G}/consumers/{consumer}/assignments/{topic}/partitions/{partition}`, a, { expect: 200 })
    await s.when('GET', `${G}/lags`, g, { expect: 200 }, (r) => r.status === 200, 'lags known')
    await s.call('GET', `${G}/lags/{topic}/partitions/{partition}`, { ...g, partition: 0 }, { expect: 200 })
    await s.call('GET', `${G}/lag-summary`, g, { expect: 200 })
    await s.call('GET', G, { ...v3, group: uniqueName('no-group') }, { expect: 404 })
    s.flush()
  })

  await t.test('v3 produce (streaming and batch) and the stateless read', async () => {
    const stream = JSON.stringify({ value: { type: 'JSON', data: { a: 1 } }, headers: [{ name: 'h', value: b64('x') }] }) +
      JSON.stringify({ partition_id: 0, key: { type: 'STRING', data: 'k' }, value: { type: 'BINARY', data: b64('v') } }) +
      JSON.stringify({ partition_id: 99, value: { type: 'STRING', data: 'nowhere' } })
    const produced = await s.call('POST', `${C}/topics/{topic}/records`, v3, { expect: 200, body: stream })
    assert.equal(produced.text.split('\r\n').filter((l) => l !== '').length, 3, show(produced))
    await s.call('POST', `${C}/topics/{topic}/records`, v3, { expect: 422, body: ' ' })
    await s.call('POST', `${C}/topics/{topic}/records:batch`, v3, {
      expect: 207,
      body: { entries: [{ id: 'a', value: { type: 'STRING', data: 'x' } }, { id: 'b', partition_id: 99, value: { type: 'STRING', data: 'y' } }] }
    })
    await s.call('POST', `${C}/topics/{topic}/records:batch`, v3, { expect: 422, body: { entries: [] } })
    const read = await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/records`, v3, { expect: 200, query: { offset: 0, format: 'BINARY', timeout: 1000 } })
    assert.ok((read.body?.data?.length ?? 0) > 0, show(read))
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/records`, v3, { expect: 200, query: { offset: 0, format: 'STRING', max_bytes: 1 } })
    await s.call('GET', `${C}/topics/{topic}/partitions/{partition}/records`, v3, { expect: 400, query: { offset: -1 } })
    const page = await s.call('GET', `${C}/topics/{topic}/records`, v3, { expect: 200, query: { from: 'earliest', format: 'BINARY', timeout: 1000 } })
    assert.ok((page.body?.records?.length ?? 0) > 0 && typeof page.body?.next_cursor === 'string', show(page))
    await s.call('GET', `${C}/topics/{topic}/records`, v3, { expect: 200, query: { cursor: page.body.next_cursor, timeout: 0 } })
    await s.call('GET', `${C}/topics/{topic}/records`, v3, { expect: 400, query: { cursor: 'not-a-position' } })
    const across = await s.call('GET', `${C}/topics/-/records`, v3, { expect: 200, query: { topic_pattern: topic.replace(/[.-]/g, '\\$&'), from: 'earliest', timeout: 1000 } })
    assert.ok((across.body?.records?.length ?? 0) > 0, show(across))
    await s.call('GET', `${C}/topics/-/records`, v3, { expect: 400, query: { topic_pattern: '(a+)+' } })
    await s.call('GET', `${C}/topics/{topic}/records`, { ...v3, topic: uniqueName('missing') }, { expect: 404 })
    s.flush()
  })

  await t.test('webhook subscriptions: create, list, get, change, delete', async () => {
    const S = `${C}/topics/{topic}/subscriptions`
    // Paused: the callback (the discard port) is never called.
    const created = await s.call('POST', S, v3, {
      expect: 201,
      body: { callback_url: 'http://127.0.0.1:9/hook', state: 'paused', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, format: 'json', batch: { max_records: 10 }, headers: { h: 'x' } }
    })
    const one: Params = { ...v3, subscription_id: created.body?.subscription_id as string }
    await s.call('GET', S, v3, { expect: 200 })
    await s.call('GET', `${C}/topics/-/subscriptions`, v3, { expect: 200 })
    await s.call('GET', `${S}/{subscription_id}`, one, { expect: 200 })
    await s.call('PATCH', `${S}/{subscription_id}`, one, { expect: 200, body: { max_attempts: 3, secret: null } })
    await s.call('POST', S, v3, { expect: 422, body: { callback_url: 'http://10.0.0.1/hook' } })
    await s.call('POST', S, v3, { expect: 400, body: { callback_url: 'http://127.0.0.1:9/hook', qos: 'sometimes' } })
    await s.call('GET', `${S}/{subscription_id}`, { ...v3, subscription_id: 'no-such-subscription' }, { expect: 404 })
    await s.call('DELETE', `${S}/{subscription_id}`, one, { expect: 204 })
    s.flush()
  })

  await t.test('v2 consumer: unsubscribe and delete', async () => {
    await s.call('DELETE', `${I}/subscription`, consumer, { expect: 204, headers: { 'content-type': V2 } })
    await s.call('DELETE', I, consumer, { expect: 204, headers: { 'content-type': V2 } })
    s.flush()
  })

  await t.test('the running server routes exactly the documented methods of every documented path', async () => {
    const doc = OPENAPI as any
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => `p-${name}`)
      const res = await request('OPTIONS', `${url}${path}`)
      assert.equal(res.status, 204, `OPTIONS ${template}: ${show(res)}`)
      const methods = ['get', 'put', 'post', 'delete', 'patch'].filter((m) => item[m] !== undefined).map((m) => m.toUpperCase())
      const allow = String(res.headers.allow ?? '').split(', ').filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
      assert.deepEqual(allow.sort(), methods.sort(), `Allow of ${template}`)
    }
    const unknown = await request('OPTIONS', `${url}/v3/clusters/c/not-a-resource`)
    assert.equal(unknown.status, 404, show(unknown))
  })

  await t.test('every documented operation was answered with a valid 2xx', () => {
    const missing = documentedOperations().filter((op) => !s.checker.succeeded.has(op))
    // One documented operation needs an ongoing partition reassignment, which a test cannot hold open on a one-broker cluster;
    // a stream's renewal needs a stream under a JWT ([auth]): its 204 is in test/integration/security-challenge.test.ts.
    assert.deepEqual(missing, ['GET /v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/reassignment', 'POST /v3/streams/{stream_id}/authorization'])
    const v3Documented = documentedOperations().filter((op) => op.split(' ')[1]?.startsWith('/v3/'))
    const v3Exercised = [...s.checker.succeeded].filter((op) => op.split(' ')[1]?.startsWith('/v3/'))
    assert.equal(v3Exercised.length, v3Documented.length - 2)
  })
})
