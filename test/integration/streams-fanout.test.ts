// Fan-out against the real broker: streams near a topic's head share one
// Kafka fetch per process (librdkafka's own statistics count the bytes), a
// slow client is detached onto a reader of its own and still gets every
// record, and past the reader limit it is ended with an id it can resume from.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'

const STATS = { 'statistics.interval.ms': 100 }

async function streamUrl (base: string, topic: string, query = ''): Promise<string> {
  return `${base}/v3/clusters/${await clusterIdOf(base)}/topics/${topic}/records${query === '' ? '' : `?${query}`}`
}

test('50 SSE clients on one topic cause the Kafka fetch bytes of one (within 10%), and all 50 get every record', async (t) => {
  // A window of both phases' records: the clients share this process's CPU
  // with the proxy, so they may lag the head by more than the default.
  const proxy = await startProxy(t, { kafka: { consumer: STATS }, streams: { client_buffer_bytes: 32 << 20 } })
  const topic = uniqueName('fanout')
  await createTopic(topic, 3)
  const url = await streamUrl(proxy.url, topic, 'format=string')
  const value = (round: string, i: number): string => `${round}-${i}-${'x'.repeat(2000)}`
  // Statistics arrive every 100 ms; idle fetches add a little all the time,
  // the same in both phases.
  const settle = async (): Promise<number> => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    return proxy.server.streams.stats().receivedBytes
  }
  const n = 2000

  const one = new SseClient()
  t.after(() => one.close())
  await one.open(url)
  const before1 = await settle()
  await produceMany(topic, Array.from({ length: n }, (_, i) => ({ partition: i % 3, value: value('a', i) })))
  await one.until(() => one.count('message') >= n, 30_000, 'the lone client')
  const single = (await settle()) - before1

  const clients = Array.from({ length: 50 }, () => new SseClient())
  t.after(() => { for (const c of clients) c.close() })
  await Promise.all(clients.map((c) => c.open(url)))
  await Promise.all(clients.map((c) => c.until(() => c.raw.includes('id: '), 10_000, 'the start')))
  const before50 = await settle()
  await produceMany(topic, Array.from({ length: n }, (_, i) => ({ partition: i % 3, value: value('b', i) })))
  await Promise.all(clients.map((c) => c.until(() => c.count('message') >= n, 60_000, 'every record at every client')))
  const fifty = (await settle()) - before50

  for (const c of clients) {
    const got = c.records().map((r) => r.value.data as string)
    assert.equal(got.length, n)
    assert.equal(new Set(got).size, n)
    assert.ok(got.every((v) => v.startsWith('b-')))
  }
  assert.ok(single > n * 2000, `the lone client's fetch is counted (${single} bytes)`)
  assert.ok(fifty <= single * 1.1, `50 clients fetched ${fifty} bytes, one client ${single}`)
})

test('a slow client is detached from the shared window onto its own reader, never slows the others, and still gets every record once', async (t) => {
  const proxy = await startProxy(t, { streams: { client_buffer_bytes: 65536 } })
  const topic = uniqueName('fanout-slow')
  await createTopic(topic, 2)
  const url = await streamUrl(proxy.url, topic, 'format=string')
  const fast = new SseClient()
  const slow = new SseClient()
  t.after(() => { fast.close(); slow.close() })
  await fast.open(url)
  await slow.open(url)
  await slow.until(() => slow.raw.includes('id: '))
  slow.pause()
  const n = 8000
  await produceMany(topic, Array.from({ length: n }, (_, i) => ({ partition: i % 2, value: `${i}-${'y'.repeat(2000)}` })))
  await fast.until(() => fast.records().length >= n, 60_000, 'the fast client, while the slow one reads nothing')
  assert.ok(slow.records().length < n, 'the slow client is behind')
  slow.resume()
  await slow.until(() => slow.records().length >= n, 60_000, 'the slow client catching up')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const got = slow.records().map((r) => r.value.data as string)
  assert.equal(got.length, n, 'no record twice')
  assert.equal(new Set(got).size, n, 'no record lost')
})

test('past the reader limit a slow client is ended with a retriable error carrying the id after its last record', async (t) => {
  const proxy = await startProxy(t, { streams: { client_buffer_bytes: 65536, max_readers: 1 } })
  const topic = uniqueName('fanout-cut')
  await createTopic(topic, 1)
  const url = await streamUrl(proxy.url, topic, 'format=string')
  const slow = new SseClient()
  t.after(() => slow.close())
  await slow.open(url)
  await slow.until(() => slow.raw.includes('id: '))
  slow.pause()
  await produceMany(topic, Array.from({ length: 8000 }, (_, i) => ({ partition: 0, value: `${i}-${'z'.repeat(2000)}` })))
  // Let the tail move past the client's window, then let the client read again.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  slow.resume()
  await slow.until(() => slow.ended, 60_000, 'the stream to end')
  const last = slow.events.at(-1)
  assert.equal(last?.event, 'error')
  const body = JSON.parse(last?.data as string)
  assert.deepEqual([body.error_code, body.retriable], [50307, true])
  const records = slow.records()
  const expected = `${topic}@0#${records.length === 0 ? 0 : (records.at(-1).offset as number) + 1}`
  assert.equal(Buffer.from(body.id, 'base64url').toString(), expected, 'the id is just after the last record delivered')
  await eventually(() => proxy.server.streams.size === 0 ? true : undefined, { what: 'the stream to be gone' })
})

test('idle streams on a topic without traffic hold one wait each on its tail, however long they idle', async (t) => {
  // Each idle stream waits on the tail in steps; a wait that timed out used to
  // stay in the tail's list (only new records emptied it), about ten entries
  // per stream per second: 10,000 idle streams grew a worker's heap by 25 MiB/s.
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 60_000 } })
  const topic = uniqueName('fanout-idle')
  await createTopic(topic, 1)
  const url = await streamUrl(proxy.url, topic)
  const clients = Array.from({ length: 20 }, () => new SseClient())
  t.after(() => { for (const c of clients) c.close() })
  // One first, so the tail exists and the others subscribe to it.
  await clients[0]?.open(url)
  await Promise.all(clients.slice(1).map((c) => c.open(url)))
  await Promise.all(clients.map((c) => c.until(() => c.raw.includes('id: '), 10_000, 'the start')))
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const waiting = proxy.server.streams.stats().tailWaiters
  assert.ok(waiting <= clients.length, `${waiting} waits on the tail for ${clients.length} idle streams after 3 s`)
  // Still streaming: a record reaches every client.
  await produceMany(topic, [{ partition: 0, value: 'wake' }])
  await Promise.all(clients.map((c) => c.until(() => c.count('message') === 1, 10_000, 'the record')))
})

test('streams opening at once on a topic without a tail wait for the first to start it, instead of each taking a reader', async (t) => {
  // Clients reconnecting together (a restart, a load balancer's failover)
  // used to take one reader each until the tail existed: past
  // streams.max_readers they were 503s.
  const proxy = await startProxy(t, { streams: { max_readers: 4 } })
  const topic = uniqueName('fanout-burst')
  await createTopic(topic, 2)
  const url = await streamUrl(proxy.url, topic, 'format=string')
  const clients = Array.from({ length: 60 }, () => new SseClient())
  t.after(() => { for (const c of clients) c.close() })
  const opened = await Promise.all(clients.map((c) => c.open(url)))
  assert.deepEqual(opened.map((o) => o.status).filter((s) => s !== 200), [], 'every stream opened')
  await Promise.all(clients.map((c) => c.until(() => c.raw.includes('id: '), 10_000, 'the start')))
  await produceMany(topic, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
  for (const c of clients) {
    await c.until(() => c.count('message') === 10, 15_000, 'every record')
    assert.deepEqual(c.records().map((r) => r.value.data).sort(), Array.from({ length: 10 }, (_, i) => `v${i}`).sort())
  }
})

test('streams sharing a tail render hostile records each by their own formats and policy: invalid UTF-8, invalid JSON, deep nesting, control characters', async (t) => {
  // The first stream's rendering of a record is kept on it for the others
  // (src/streams/render.ts): a stream with other formats or another
  // undecodable policy must not get it.
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('fanout-hostile')
  await createTopic(topic, 1)
  const base = await streamUrl(proxy.url, topic)
  const json = new SseClient()
  const raw = new SseClient()
  const binary = new SseClient()
  t.after(() => { json.close(); raw.close(); binary.close() })
  // One first, so the tail exists and the others subscribe to it at its head.
  await json.open(`${base}?value_format=json`)
  await json.until(() => json.raw.includes('id: '))
  await raw.open(`${base}?value_format=json&undecodable=raw`)
  await binary.open(`${base}?value_format=binary`)
  await Promise.all([raw, binary].map((c) => c.until(() => c.raw.includes('id: '))))
  const deep = '['.repeat(500) + ']'.repeat(500)
  const control = JSON.stringify({ s: 'a\u0000b\u0001\u001f\u2028\u2029' })
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]) // {"a":"\xc3(" }
  const values: Buffer[] = [Buffer.from(deep), Buffer.from(control), invalidUtf8, Buffer.from('not json')]
  await produceMany(topic, values.map((v) => ({ partition: 0, value: v })))

  // BINARY renders any bytes: all four, exactly.
  await binary.until(() => binary.count('message') === 4, 15_000, 'four binary records')
  assert.deepEqual(binary.records().map((r) => Buffer.from(r.value.data, 'base64')), values)
  // JSON with undecodable=raw: the two valid values as JSON, the two others as their bytes with a reason.
  await raw.until(() => raw.count('message') === 4, 15_000, 'four raw-policy records')
  const rawRecords = raw.records()
  assert.deepEqual(rawRecords[0].value, { type: 'JSON', data: JSON.parse(deep) })
  assert.deepEqual(rawRecords[1].value, { type: 'JSON', data: JSON.parse(control) })
  for (const i of [2, 3]) {
    assert.equal(rawRecords[i].value.type, 'BINARY')
    assert.deepEqual(Buffer.from(rawRecords[i].value.data, 'base64'), values[i])
    assert.equal(typeof rawRecords[i].value.reason, 'string')
  }
  // JSON with the default policy: the two valid ones, then the stream ends at the invalid UTF-8 record with the id to resume from.
  await json.until(() => json.ended, 15_000, 'the fail-policy stream to end')
  assert.deepEqual(json.events.map((e) => e.event), ['message', 'message', 'error'])
  const err = JSON.parse((json.events[2] as { data: string }).data)
  assert.equal(err.error_code, 50002)
  assert.equal(err.id, `${topic}@0#2`)
})
