// The v2 read path across consume steps: a read renders each step's records
// while the next step runs, and an instance that is being read fetches ahead
// between reads. Observed over HTTP against a real broker.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { V2, assign, createConsumer, produceBinary, readOk, readUntil, request, show, subscribe, unb64, type ConsumedRecord } from '../helpers/consumers.js'

const rawBytes = (records: ConsumedRecord[]): number =>
  records.reduce((n, r) => n + (r.value === null ? 0 : Buffer.from(r.value as string, 'base64').length) + (r.key === null ? 0 : Buffer.from(r.key as string, 'base64').length), 0)

test('reads made of many consume steps deliver every record once, in offset order per partition, within max_bytes', async (t) => {
  // Seven records per step: every read below spans several steps and ends inside one.
  const { url } = await startProxy(t, { consumer: { max_poll_records: 7 } })
  const topic = uniqueName('t-steps')
  await createTopic(topic, 3)
  const produced = Array.from({ length: 240 }, (_, i) => ({ value: `value-${String(i).padStart(4, '0')}`, partition: i % 3 }))
  await produceBinary(url, topic, produced)
  const c = await createConsumer(url, uniqueName('grp-steps'), { 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])

  const seen: ConsumedRecord[] = []
  let reads = 0
  while (seen.length < produced.length && reads < 400) {
    const records = await readOk(c, { maxBytes: 300, timeout: 2000 })
    reads++
    if (records.length > 1) assert.ok(rawBytes(records) <= 300, `a response of ${rawBytes(records)} bytes over max_bytes 300`)
    const last = new Map<number, number>()
    for (const r of records) {
      const prev = last.get(r.partition)
      assert.ok(prev === undefined || r.offset === prev + 1, `partition ${r.partition}: ${r.offset} after ${String(prev)} in one response`)
      last.set(r.partition, r.offset)
    }
    seen.push(...records)
  }
  assert.equal(seen.length, produced.length, `read ${seen.length} of ${produced.length} records in ${reads} reads`)
  for (let p = 0; p < 3; p++) {
    const offsets = seen.filter((r) => r.partition === p).map((r) => r.offset)
    assert.deepEqual(offsets, Array.from({ length: 80 }, (_, i) => i), `partition ${p} offsets across reads`)
  }
  assert.deepEqual(seen.map((r) => unb64(r.value as string)).sort(), produced.map((r) => r.value).sort())
})

test('a seek made while records were fetched ahead starts the next read at the new position', async (t) => {
  const { url } = await startProxy(t, { consumer: { max_poll_records: 5 } })
  const topic = uniqueName('t-ahead-seek')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 60 }, (_, i) => ({ value: `v${String(i).padStart(3, '0')}`, partition: 0 })))
  const c = await createConsumer(url, uniqueName('grp-ahead-seek'), { 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])

  // A small first read leaves most records to be fetched ahead before the seek.
  const first = await readUntil(c, 1, { maxBytes: 20 })
  assert.equal(first[0]?.offset, 0)
  const back = await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 2 }] } })
  assert.equal(back.status, 204, show(back))
  const after = await readUntil(c, 1, { maxBytes: 40 })
  assert.deepEqual(after.map((r) => r.offset), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].slice(0, after.length))
  assert.equal(unb64(after[0]?.value as string), 'v002')

  const ahead = await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 50 }] } })
  assert.equal(ahead.status, 204, show(ahead))
  const rest = await readUntil(c, 10)
  assert.deepEqual(rest.map((r) => r.offset), Array.from({ length: 10 }, (_, i) => 50 + i))
})
