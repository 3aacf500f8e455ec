// Server-Sent Events on GET /v3/clusters/{cluster_id}/topics/{topic}/records
// against the real broker: curl, a real EventSource implementation across
// dropped connections, the SSE fields, heartbeats, the errors before and
// after a stream starts, and the end of the process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { EventSource } from 'eventsource'
import { AdminClient } from '../../src/kafka/binding.js'
import { bootstrap, createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { startRelay } from '../helpers/relay.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'

const plain = { streams: { encode_ids: false } }

async function streamUrl (base: string, topic: string, query = ''): Promise<string> {
  return `${base}/v3/clusters/${await clusterIdOf(base)}/topics/${topic}/records${query === '' ? '' : `?${query}`}`
}

function admin (): InstanceType<typeof AdminClient> & Record<string, any> {
  return AdminClient.create({ 'bootstrap.servers': bootstrap(), 'client.id': 'test-streams-admin' }) as any
}

async function adminCall (call: (a: any, cb: (err: unknown) => void) => void): Promise<void> {
  const a = admin()
  try {
    await new Promise<void>((resolve, reject) => call(a, (err) => err ? reject(err) : resolve()))
  } finally {
    a.disconnect()
  }
}

test('curl -N streams records produced before and after it connected', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('sse-curl')
  await createTopic(topic, 2)
  await produceMany(topic, [{ partition: 0, value: 'before-0' }, { partition: 1, value: 'before-1' }])
  const url = await streamUrl(proxy.url, topic, 'from=earliest&format=string')
  const curl = spawn('curl', ['-sSN', '-H', 'Accept: text/event-stream', url])
  t.after(() => curl.kill())
  let out = ''
  curl.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  await eventually(() => out.includes('before-0') && out.includes('before-1') ? true : undefined, { what: 'the records produced before' })
  await produceMany(topic, [{ partition: 0, value: 'after-0' }, { partition: 1, value: 'after-1' }])
  await eventually(() => out.includes('after-0') && out.includes('after-1') ? true : undefined, { what: 'the records produced after' })
  const values = [...out.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string).value.data)
  assert.deepEqual(values.sort(), ['after-0', 'after-1', 'before-0', 'before-1'])
  assert.match(out, /^retry: \d+$/m)
  assert.equal(out.match(/^retry:/gm)?.length, 1, 'retry is sent once')
})

test('an EventSource reconnects after the server drops the connection and misses nothing', async (t) => {
  const proxy = await startProxy(t, { streams: { retry_ms: 50 } })
  const relay = await startRelay(t, proxy.server.port)
  const topic = uniqueName('sse-eventsource')
  await createTopic(topic, 3)
  const url = (await streamUrl(proxy.url, topic, 'format=string')).replace(`:${proxy.server.port}/`, `:${relay.port}/`)
  const es = new EventSource(url)
  t.after(() => es.close())
  const seen: string[] = []
  let opened = 0
  es.addEventListener('open', () => { opened++ })
  es.addEventListener('message', (e) => { seen.push(JSON.parse(e.data).value.data) })
  await eventually(() => opened >= 1 ? true : undefined, { what: 'the first connection' })
  const total = 600
  let produced = 0
  for (let round = 0; round < 6; round++) {
    const batch = Array.from({ length: total / 6 }, (_, i) => ({ partition: (produced + i) % 3, value: `r${produced + i}` }))
    await produceMany(topic, batch)
    produced += batch.length
    // Drop the connection at a point the client may or may not have read up to.
    await eventually(() => seen.length >= produced - 40 ? true : undefined, { what: `records of round ${round}` })
    relay.cut()
    await eventually(() => opened >= round + 2 ? true : undefined, { what: `reconnection ${round + 1}` })
  }
  await eventually(() => seen.length >= total ? true : undefined, { what: 'every record' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(seen.length, total, 'no record twice')
  assert.deepEqual(new Set(seen), new Set(Array.from({ length: total }, (_, i) => `r${i}`)), 'no record lost')
  assert.ok(relay.connections >= 7, `the client reconnected (${relay.connections} connections)`)
})

test('tombstones are event: delete, retry comes once, an idle stream sends heartbeats, and its start is resumable', async (t) => {
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 200, encode_ids: false } })
  const topic = uniqueName('sse-fields')
  await createTopic(topic, 1)
  await produceMany(topic, [{ partition: 0, key: 'k', value: 'v' }, { partition: 0, key: 'k', value: null }])
  const client = new SseClient()
  t.after(() => client.close())
  const res = await client.open(await streamUrl(proxy.url, topic, 'from=earliest&format=string'))
  assert.equal(res.status, 200)
  assert.equal(res.headers['content-type'], 'text/event-stream')
  assert.equal(res.headers['cache-control'], 'no-cache')
  await client.until(() => client.events.length >= 2 && client.comments.length >= 2)
  assert.equal(client.retry, 2000)
  assert.deepEqual(client.events.map((e) => [e.event, e.id]), [['message', `${topic}@0#1`], ['delete', `${topic}@0#2`]])
  const tombstone = JSON.parse((client.events[1] as { data: string }).data)
  assert.deepEqual(tombstone, { ...tombstone, topic, partition: 0, offset: 1, key: { type: 'STRING', data: 'k' }, value: null, headers: [] })
  assert.ok(client.comments.every((c) => c === 'heartbeat'))
  assert.ok(client.raw.startsWith(`retry: 2000\n\nid: ${topic}@0#0\n\n`), 'the start position comes before any record')
})

test('a filter that passes over records still moves the client\'s last event id (with the heartbeat)', async (t) => {
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 200, encode_ids: false } })
  const topic = uniqueName('sse-filter-id')
  await createTopic(topic, 1)
  const client = new SseClient()
  t.after(() => client.close())
  await client.open(await streamUrl(proxy.url, topic, 'key=wanted&format=string'))
  await produceMany(topic, [{ partition: 0, key: 'other', value: 'a' }, { partition: 0, key: 'other', value: 'b' }])
  await client.until(() => client.lastId === `${topic}@0#2`, 10_000, 'the id past the filtered records')
  assert.equal(client.events.length, 0)
})

test('before the stream starts: bad parameters and ids are 400, unknown topic 40403, unknown partition 40402, all in our error body', async (t) => {
  const proxy = await startProxy(t, plain)
  const topic = uniqueName('sse-errors')
  await createTopic(topic, 2)
  const open = async (query: string, headers: Record<string, string> = {}, name = topic): Promise<{ status: number, body: any }> => {
    const c = new SseClient()
    const r = await c.open(await streamUrl(proxy.url, name, query), headers)
    c.close()
    return { status: r.status, body: r.body === '' ? null : JSON.parse(r.body) }
  }
  for (const [query, headers, message] of [
    ['from=yesterday', {}, /from must be latest, earliest or an ISO-8601/],
    ['partitions=0,0', {}, /listed twice/],
    ['nonsense=1', {}, /unknown parameter/],
    ['', { 'last-event-id': `${topic}@0#01` }, /^Invalid Last-Event-ID/],
    ['last_event_id=%%%', {}, /^Invalid last_event_id/],
    ['', { 'last-event-id': 'other-topic@0#1' }, /names topic other-topic, and this stream is of topic/]
  ] as Array<[string, Record<string, string>, RegExp]>) {
    const r = await open(query, headers)
    assert.equal(r.status, 400, `${query} ${JSON.stringify(headers)}`)
    assert.equal(r.body.error_code, 400)
    assert.match(r.body.message, message)
  }
  const unknownTopic = await open('', {}, uniqueName('no-such-topic'))
  assert.equal(unknownTopic.status, 404)
  assert.equal(unknownTopic.body.error_code, 40403)
  for (const [query, headers] of [['partitions=5', {}], ['', { 'last-event-id': `${topic}@0#0,7#0` }]] as Array<[string, Record<string, string>]>) {
    const r = await open(query, headers)
    assert.equal(r.status, 404)
    assert.equal(r.body.error_code, 40402)
  }
  const c = new SseClient()
  const wrongCluster = await c.open(`${proxy.url}/v3/clusters/not-this-one/topics/${topic}/records`)
  assert.equal(wrongCluster.status, 404)
  const head = await fetch(await streamUrl(proxy.url, topic), { method: 'HEAD' })
  assert.equal(head.status, 405)
})

test('streams.max_per_process: one stream more is a retriable 503 (50307), and a slot frees when a stream ends', async (t) => {
  const proxy = await startProxy(t, { streams: { max_per_process: 2 } })
  const topic = uniqueName('sse-limit')
  await createTopic(topic, 1)
  const url = await streamUrl(proxy.url, topic)
  const a = new SseClient()
  const b = new SseClient()
  t.after(() => { a.close(); b.close() })
  assert.equal((await a.open(url)).status, 200)
  assert.equal((await b.open(url)).status, 200)
  const c = new SseClient()
  const refused = await c.open(url)
  assert.equal(refused.status, 503)
  assert.deepEqual(JSON.parse(refused.body), { error_code: 50307, message: JSON.parse(refused.body).message, retriable: true })
  a.close()
  await eventually(async () => {
    const d = new SseClient()
    const r = await d.open(url)
    d.close()
    return r.status === 200 ? true : undefined
  }, { what: 'a free slot' })
})

test('after the stream started, failures are a final event: error, then the stream closes', async (t) => {
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 200, encode_ids: false }, kafka: { metadata_refresh_ms: 300 } })
  const topic = uniqueName('sse-late-errors')
  await createTopic(topic, 1)
  await produceMany(topic, [{ partition: 0, value: '{"ok":1}' }, { partition: 0, value: 'not json' }])
  const undecodable = new SseClient()
  t.after(() => undecodable.close())
  await undecodable.open(await streamUrl(proxy.url, topic, 'from=earliest&value_format=json'))
  await undecodable.until(() => undecodable.ended)
  assert.deepEqual(undecodable.events.map((e) => e.event), ['message', 'error'])
  const err = JSON.parse((undecodable.events[1] as { data: string }).data)
  assert.equal(err.error_code, 50002)
  assert.equal(err.id, `${topic}@0#1`, 'the id to resume from is at the record')
  assert.match(err.message, new RegExp(`offset 1 .*resume from event id ${topic}@0#2`))

  const deleted = new SseClient()
  t.after(() => deleted.close())
  await deleted.open(await streamUrl(proxy.url, topic, 'format=string'))
  await adminCall((a, cb) => a.deleteTopic(topic, 10000, cb))
  await deleted.until(() => deleted.ended, 30_000, 'the stream to end')
  const last = deleted.events.at(-1)
  assert.equal(last?.event, 'error')
  assert.equal(JSON.parse(last?.data as string).error_code, 40403)
})

test('a stream of every partition takes in partitions the topic gains, from their first record', async (t) => {
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 200, encode_ids: false }, kafka: { metadata_refresh_ms: 300 } })
  const topic = uniqueName('sse-grow')
  await createTopic(topic, 1)
  const client = new SseClient()
  t.after(() => client.close())
  await client.open(await streamUrl(proxy.url, topic, 'format=string'))
  await adminCall((a, cb) => a.createPartitions(topic, 3, 10000, cb))
  await eventually(() => proxy.server.metadata.cached()?.topics.get(topic)?.partitions.length === 3 ? true : undefined, { what: 'the new partitions in metadata' })
  await produceMany(topic, [{ partition: 0, value: 'p0' }, { partition: 2, value: 'p2' }])
  await client.until(() => client.events.length >= 2, 20_000, 'records of the old and the new partition')
  assert.deepEqual(client.records().map((r) => r.value.data).sort(), ['p0', 'p2'])
  assert.equal(client.lastId, `${topic}@0#1,1#0,2#1`)
})

test('shutdown ends every stream with a final event carrying the id to resume from; resuming elsewhere misses nothing', async (t) => {
  const topic = uniqueName('sse-shutdown')
  await createTopic(topic, 2)
  await produceMany(topic, Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
  const first = await startProxy(t, plain)
  const client = new SseClient()
  t.after(() => client.close())
  await client.open(await streamUrl(first.url, topic, 'from=earliest&format=string'))
  await client.until(() => client.events.length >= 50)
  await first.server.shutdown()
  await client.until(() => client.ended)
  const final = client.events.at(-1)
  assert.equal(final?.event, 'error')
  const body = JSON.parse(final?.data as string)
  assert.equal(body.error_code, 50303)
  assert.equal(body.retriable, true)
  assert.equal(body.id, `${topic}@0#25,1#25`)
  assert.equal(final?.id, body.id)

  await produceMany(topic, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `w${i}` })))
  const second = await startProxy(t, plain)
  const resumed = new SseClient()
  t.after(() => resumed.close())
  await resumed.open(await streamUrl(second.url, topic, 'format=string'), { 'last-event-id': body.id })
  await resumed.until(() => resumed.events.length >= 10)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.deepEqual(resumed.records().map((r) => r.value.data).sort(), Array.from({ length: 10 }, (_, i) => `w${i}`).sort())
})
