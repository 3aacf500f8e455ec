// Cursor reads (Accept: application/json on the stream path) against the real
// broker: following next_cursor reads every record exactly once, pages are
// bounded, the long poll answers at the first record, and what a cursor
// cannot honour is said.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { clusterIdOf } from '../helpers/sse.js'
import { deleteRecordsBefore, produceMany } from '../helpers/streams.js'

async function page (base: string, topic: string, query: string): Promise<{ status: number, body: any, ms: number }> {
  const started = Date.now()
  const res = await fetch(`${base}/v3/clusters/${await clusterIdOf(base)}/topics/${topic}/records?${query}`, { headers: { accept: 'application/json' } })
  const body = await res.json()
  return { status: res.status, body, ms: Date.now() - started }
}

test('following next_cursor from from=earliest reads every record exactly once, in pages bounded by max_records', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('cursor-all')
  await createTopic(topic, 4)
  const total = 3000
  await produceMany(topic, Array.from({ length: total }, (_, i) => ({ partition: i % 4, key: `k${i}`, value: `v${i}` })))
  const seen: string[] = []
  let query = 'from=earliest&format=string&max_records=170&timeout=500'
  let pages = 0
  for (;;) {
    const r = await page(proxy.url, topic, query)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.ok(r.body.records.length <= 170)
    pages++
    if (r.body.records.length === 0) break
    for (const rec of r.body.records) seen.push(rec.value.data)
    query = `cursor=${encodeURIComponent(r.body.next_cursor)}&format=string&max_records=170&timeout=500`
  }
  assert.equal(seen.length, total, 'no record twice')
  assert.equal(new Set(seen).size, total, 'no record lost')
  assert.ok(pages >= Math.ceil(total / 170))
})

test('max_bytes bounds a page (the first record always counts), and the next page goes on from there', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('cursor-bytes')
  await createTopic(topic, 1)
  await produceMany(topic, Array.from({ length: 6 }, (_, i) => ({ partition: 0, value: 'x'.repeat(100 + i) })))
  const first = await page(proxy.url, topic, 'from=earliest&max_bytes=250&timeout=2000')
  assert.deepEqual(first.body.records.map((r: any) => r.offset), [0, 1])
  assert.equal(first.body.next_cursor, `${topic}@0#2`)
  const big = await page(proxy.url, topic, `cursor=${encodeURIComponent(first.body.next_cursor)}&max_bytes=1&timeout=2000`)
  assert.deepEqual(big.body.records.map((r: any) => r.offset), [2])
})

test('the long poll answers as soon as a record arrives, and an empty page after timeout keeps the cursor', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('cursor-poll')
  await createTopic(topic, 2)
  const empty = await page(proxy.url, topic, 'timeout=300')
  assert.equal(empty.status, 200)
  assert.deepEqual(empty.body.records, [])
  assert.equal(empty.body.next_cursor, `${topic}@0#0,1#0`)
  assert.ok(empty.ms >= 250, `waited out the timeout (${empty.ms} ms)`)
  const waiting = page(proxy.url, topic, `cursor=${encodeURIComponent(empty.body.next_cursor)}&timeout=10000&format=string`)
  await new Promise((resolve) => setTimeout(resolve, 300))
  await produceMany(topic, [{ partition: 1, value: 'hello' }])
  const got = await waiting
  assert.deepEqual(got.body.records.map((r: any) => r.value.data), ['hello'])
  assert.ok(got.ms < 5000, `answered at the record, not the timeout (${got.ms} ms)`)
  assert.equal(got.body.next_cursor, `${topic}@0#0,1#1`)
})

test('a cursor whose offsets retention deleted restarts at the earliest offset and says so in resets', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('cursor-deleted')
  await createTopic(topic, 1)
  await produceMany(topic, Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `v${i}` })))
  await deleteRecordsBefore(topic, 0, 7)
  const r = await page(proxy.url, topic, `cursor=${encodeURIComponent(`${topic}@0#3`)}&format=string&timeout=2000`)
  assert.equal(r.status, 200)
  assert.deepEqual(r.body.records.map((x: any) => x.offset), [7, 8, 9])
  assert.deepEqual(r.body.resets, [{ topic, partition: 0, requested: 3, offset: 7, reason: 'deleted', message: r.body.resets[0].message }])
  assert.match(r.body.resets[0].message, /was deleted \(retention\); restarting at the earliest offset, 7/)
})

test('a page that would start with an undecodable record is a 500/50002 naming the cursor past it; filters apply to pages', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('cursor-undecodable')
  await createTopic(topic, 1)
  await produceMany(topic, [{ partition: 0, key: 'a', value: 'not json' }, { partition: 0, key: 'b', value: '{"n":2}' }, { partition: 0, key: 'a', value: '{"n":3}' }])
  const failed = await page(proxy.url, topic, 'from=earliest&value_format=json&timeout=2000')
  assert.equal(failed.status, 500)
  assert.equal(failed.body.error_code, 50002)
  assert.match(failed.body.message, new RegExp(`read on from cursor ${topic}@0#1`))
  const filtered = await page(proxy.url, topic, `cursor=${encodeURIComponent(`${topic}@0#1`)}&value_format=json&key=a&timeout=2000`)
  assert.deepEqual(filtered.body.records.map((r: any) => r.value.data), [{ n: 3 }])
  assert.equal(filtered.body.next_cursor, `${topic}@0#3`)
})
