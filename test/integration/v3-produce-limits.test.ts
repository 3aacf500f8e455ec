// The limits of v3 produce against the real broker: per-record size
// (v3.record_max_bytes), batch entries (v3.batch_max_entries), the produce
// rate limits (v3.rate_limit, 429 results, shared with WebSocket produce) and the maximum age of a stream
// (v3.stream_max_duration_ms + stream_grace_period_ms, 408 results).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createTopic, eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { post, startProxy } from '../helpers/proxy.js'
import { JSON_TYPE, openStream, recordsPath, str, streamAll } from '../helpers/v3-stream.js'
import { clusterIdOf } from '../helpers/sse.js'
import { WsClient } from '../helpers/ws.js'

const TOO_LARGE = 'Bad Request: Error processing message: Produce request size is larger than allowed threshold'
const EXPIRED = 'Streaming connection open for longer than allowed: Connection will be closed.'

const rateLimit = (over: Record<string, number>): { v3: any } => ({
  v3: { rate_limit: { enabled: true, max_records_per_sec: 1e6, max_records_global_per_sec: 1e6, max_bytes_per_sec: 1e9, max_bytes_global_per_sec: 1e9, ...over } }
})

test('a stream record over record_max_bytes gets a 400 result and the connection is closed', async (t) => {
  const { url } = await startProxy(t, { v3: { record_max_bytes: 200 } as any })
  const topic = uniqueName('v3-size-stream')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic))
  client.write(JSON.stringify({ value: str('small') }))
  assert.equal((await client.next()).error_code, 200)
  client.write(JSON.stringify({ value: str('x'.repeat(300)) }) + JSON.stringify({ value: str('after') }))
  const rest = await client.ended
  assert.equal(rest.length, 1)
  assert.equal(rest[0].error_code, 400)
  assert.equal(rest[0].message, TOO_LARGE)
  await client.closed
  const next = await post(`${url}${recordsPath(topic)}`, JSON_TYPE, { value: str('next') })
  assert.equal(next.body.offset, 1, 'neither the large record nor the one after it was written')
  const read = await readAll(topic, 1, 2)
  assert.deepEqual(read.map((r) => r.value?.toString()), ['small', 'next'])
})

test('a batch entry over record_max_bytes fails alone with the same 400', async (t) => {
  const { url } = await startProxy(t, { v3: { record_max_bytes: 200 } as any })
  const topic = uniqueName('v3-size-batch')
  await createTopic(topic, 1)
  const res = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, {
    entries: [{ id: 'a', value: str('ok') }, { id: 'big', value: str('x'.repeat(300)) }, { id: 'b', value: str('ok too') }]
  })
  assert.equal(res.status, 207)
  assert.deepEqual(res.body.successes.map((s: any) => s.id), ['a', 'b'])
  assert.deepEqual(res.body.failures, [{ id: 'big', error_code: 400, message: TOO_LARGE, retriable: false, persisted: 'no' }])
})

test('batch_max_entries bounds a batch: more is 422/42208 "Too many entries in batch."', async (t) => {
  const { url } = await startProxy(t, { v3: { batch_max_entries: 3 } as any })
  const topic = uniqueName('v3-batch-max')
  await createTopic(topic, 1)
  const entries = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ id: `e${i}`, value: str('x') }))
  const over = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, { entries: entries(4) })
  assert.equal(over.status, 422)
  assert.deepEqual([over.body.error_code, over.body.message], [42208, 'Too many entries in batch.'])
  const ok = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, { entries: entries(3) })
  assert.equal(ok.status, 207)
  assert.equal(ok.body.successes.length, 3)
})

test('records over the global record rate get 429 results and are not produced', async (t) => {
  const { url } = await startProxy(t, rateLimit({ max_records_global_per_sec: 1 }))
  const topic = uniqueName('v3-rate-global')
  await createTopic(topic, 1)
  const lines = await streamAll(url, recordsPath(topic), ['a', 'b', 'c', 'd'].map((v) => ({ value: str(v) })))
  assert.equal(lines[0].error_code, 200)
  assert.equal(lines[1].error_code, 429)
  assert.equal(lines[1].message, 'Request rate limit exceeded: more than 1 records per second to this proxy.')
  assert.equal(lines[1].retriable, true)
  assert.equal(lines[1].persisted, 'no')
  const produced = lines.filter((l) => l.error_code === 200).length
  assert.ok(produced < 4)
  const read = await readAll(topic, 1, 4, { timeoutMs: 3000 })
  assert.equal(read.length, produced)
  assert.equal(read[0]?.value?.toString(), 'a')
})

test('record frames of a stream\'s WebSocket share the rate limit with the v3 endpoints: 429 results, not produced', async (t) => {
  const { url } = await startProxy(t, rateLimit({ max_records_global_per_sec: 2 }))
  const topic = uniqueName('v3-rate-ws')
  await createTopic(topic, 1)
  const ws = await WsClient.open(`${url}${recordsPath(topic, await clusterIdOf(url))}`)
  t.after(() => ws.close())
  await ws.until(() => ws.events('start').length === 1)
  // The bucket holds a second of the rate (2); the v3 endpoint takes one token, the socket the rest.
  const started = Date.now()
  assert.equal((await post(`${url}${recordsPath(topic)}`, JSON_TYPE, { value: str('http') })).body.error_code, 200)
  const n = 10
  for (let i = 0; i < n; i++) ws.send({ correlation: i, value: str(`w${i}`) })
  await ws.until(() => ws.events('result').length === n, 10_000, 'every result')
  const seconds = (Date.now() - started) / 1000
  const results = ws.events('result')
  const ok = results.filter((r) => r.error_code === 200)
  const limited = results.filter((r) => r.error_code === 429)
  assert.equal(ok.length + limited.length, n)
  assert.ok(ok.length >= 1 && ok.length <= 1 + Math.ceil(seconds * 2), `${ok.length} of ${n} frames passed in ${seconds} s at 2 records/s, the v3 record taking one token`)
  assert.equal(limited[0].message, 'Request rate limit exceeded: more than 2 records per second to this proxy.')
  assert.deepEqual([limited[0].retriable, limited[0].persisted], [true, 'no'])
  const read = await readAll(topic, 1, 1 + ok.length, { timeoutMs: 3000 })
  assert.equal(read.length, 1 + ok.length, 'only what passed was produced')
})

test('the per-cluster record rate applies to each cluster id of the path separately', async (t) => {
  const { url } = await startProxy(t, rateLimit({ max_records_per_sec: 1 }))
  const topic = uniqueName('v3-rate-cluster')
  await createTopic(topic, 1)
  const a = await streamAll(url, recordsPath(topic, 'cluster-a'), [{ value: str('a1') }, { value: str('a2') }])
  assert.deepEqual(a.map((l) => l.error_code), [200, 429])
  assert.equal(a[1].message, 'Request rate limit exceeded: more than 1 records per second to cluster cluster-a.')
  const b = await streamAll(url, recordsPath(topic, 'cluster-b'), [{ value: str('b1') }])
  assert.deepEqual(b.map((l) => l.error_code), [200])
})

test('byte rates: global, then per cluster, count the record object\'s bytes', async (t) => {
  const { url } = await startProxy(t, rateLimit({ max_bytes_global_per_sec: 150, max_bytes_per_sec: 100 }))
  const topic = uniqueName('v3-rate-bytes')
  await createTopic(topic, 1)
  // Each record object is 70 bytes: the cluster's 100 bytes/s take one.
  const record = { value: str('y'.repeat(70 - '{"value":{"type":"STRING","data":""}}'.length)) }
  assert.equal(JSON.stringify(record).length, 70)
  const a = await streamAll(url, recordsPath(topic, 'a'), [record, record])
  assert.deepEqual(a.map((l) => l.error_code), [200, 429])
  assert.match(a[1].message, /more than 100 bytes per second to cluster a\.$/)
  // 70 of the 150 global bytes are gone: another cluster's 70 fit, a third record does not.
  const b = await streamAll(url, recordsPath(topic, 'b'), [record, record])
  assert.deepEqual(b.map((l) => l.error_code), [200, 429])
  assert.match(b[1].message, /more than 150 bytes per second to this proxy\.$/)
})

test('batch entries over a rate limit fail with 429, the others are produced', async (t) => {
  const { url } = await startProxy(t, rateLimit({ max_records_global_per_sec: 2 }))
  const topic = uniqueName('v3-rate-batch')
  await createTopic(topic, 1)
  const res = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, {
    entries: ['a', 'b', 'c', 'd'].map((id) => ({ id, value: str(id) }))
  })
  assert.equal(res.status, 207)
  assert.deepEqual(res.body.successes.map((s: any) => s.id), ['a', 'b'])
  assert.deepEqual(res.body.failures.map((f: any) => [f.id, f.error_code]), [['c', 429], ['d', 429]])
})

test('past stream_max_duration_ms each record gets a 408 result and the connection closes after the grace period', async (t) => {
  const grace = 1000
  const { url } = await startProxy(t, { v3: { stream_max_duration_ms: 300, stream_grace_period_ms: grace } as any })
  const topic = uniqueName('v3-expiry')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic))
  client.write(JSON.stringify({ value: str('early') }))
  assert.equal((await client.next()).error_code, 200)
  let accepted = 1
  // Keep sending until the stream's age passes the maximum.
  const first = await eventually(async () => {
    client.write(JSON.stringify({ value: str('later') }))
    const line = await client.next()
    if (line.error_code === 200) {
      accepted++
      return undefined
    }
    return line
  }, { intervalMs: 50, what: 'a 408 result' })
  const expiredAt = Date.now()
  assert.deepEqual(first, { error_code: 408, message: EXPIRED, retriable: true, persisted: 'no' })
  client.write(JSON.stringify({ value: str('during grace') }))
  assert.equal((await client.next()).error_code, 408)
  assert.deepEqual(await client.ended, [])
  await client.closed
  assert.ok(Date.now() - expiredAt >= grace / 2, 'the connection stays open for the grace period')
  const read = await readAll(topic, 1, accepted + 2, { timeoutMs: 3000 })
  assert.equal(read.length, accepted, 'no 408 record was written')
})

test('server.request_timeout_ms does not cut off a stream, but answers a slower non-streaming upload with 408', async (t) => {
  const { url } = await startProxy(t, { server: { request_timeout_ms: 600, headers_timeout_ms: 600 } })
  const topic = uniqueName('v3-upload-deadline')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic))
  const started = Date.now()
  let sent = 0
  // Keep the stream open well past the upload deadline, one record at a time.
  while (Date.now() - started < 2000) {
    client.write(JSON.stringify({ value: str(`r${sent}`) }))
    assert.equal((await client.next()).error_code, 200, `record ${sent}`)
    sent++
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  client.end()
  assert.deepEqual(await client.ended, [])
  assert.ok(sent >= 5)

  // A batch body that stops arriving half-way is answered 408 after the deadline.
  const closed = await new Promise<{ ms: number, status: number | null }>((resolve) => {
    const begin = Date.now()
    const req = http.request(`${url}${recordsPath(topic)}:batch`, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, 'content-length': '1000' }
    }, (res) => {
      res.resume()
      res.on('close', () => resolve({ ms: Date.now() - begin, status: res.statusCode ?? null }))
    })
    req.on('error', () => resolve({ ms: Date.now() - begin, status: null }))
    req.write('{"entries":[')
  })
  assert.equal(closed.status, 408, 'the slow upload is answered 408 Request Timeout')
  assert.ok(closed.ms >= 500 && closed.ms < 5000, `answered after ${closed.ms} ms`)
})
