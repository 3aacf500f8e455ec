// kafka.auto_create_topics against the test broker, which runs with
// auto.create.topics.enable=false (scripts/test.mjs): "broker" and "never"
// refuse at once, "always" creates. Creation on a broker that allows it is
// covered by seed-examples.test.ts, which boots dev mode.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { BINARY, get, post, startProxy } from '../helpers/proxy.js'
import { JSON_TYPE, openStream, recordsPath, str } from '../helpers/v3-stream.js'
import { b64, createConsumer, deleteConsumer, readOk, readUntil, request, show, V2 } from '../helpers/consumers.js'

const RECORD = { records: [{ value: b64('first') }] }

async function timed<T> (fn: () => Promise<T>): Promise<{ result: T, ms: number }> {
  const started = Date.now()
  const result = await fn()
  return { result, ms: Date.now() - started }
}

for (const mode of ['broker', 'never'] as const) {
  test(`auto_create_topics = "${mode}" on a broker that does not auto-create: v2 and v3 produce to a missing topic answer 40401 within a second`, async (t) => {
    const { url } = await startProxy(t, { kafka: { auto_create_topics: mode } })
    const topic = uniqueName(`auto-off-${mode}`)
    const cases: Array<[string, () => Promise<{ status: number, body: any }>]> = [
      ['v2 topic', () => post(`${url}/topics/${topic}`, BINARY, RECORD)],
      ['v2 partition', () => post(`${url}/topics/${topic}/partitions/0`, BINARY, RECORD)],
      ['v3 batch', () => post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, { entries: [{ id: 'a', value: str('x') }] })],
      ['v3 stream', () => post(`${url}${recordsPath(topic)}`, JSON_TYPE, { value: str('x') })]
    ]
    for (const [what, send] of cases) {
      const { result, ms } = await timed(send)
      assert.equal(result.status, 404, `${what}: ${JSON.stringify(result.body)}`)
      assert.equal(result.body.error_code, 40401, what)
      // The promise is "not the metadata timeout" (kafka.request_timeout_ms, 5 s here).
      assert.ok(ms < 1000, `${what} answered after ${ms} ms`)
    }
    const described = await get(`${url}/topics/${topic}`)
    assert.equal(described.status, 404, 'the refused produce must not have created the topic')
  })
}

test('auto_create_topics = "always": the first v2 produce to a missing topic creates it with the broker defaults', async (t) => {
  const { url } = await startProxy(t, { kafka: { auto_create_topics: 'always' } })
  const topic = uniqueName('auto-always-v2')
  const res = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('a') }, { value: b64('b') }] })
  assert.equal(res.status, 200, JSON.stringify(res.body))
  assert.deepEqual(res.body.offsets.map((o: any) => [o.partition, o.offset, o.error_code]), [[0, 0, null], [0, 1, null]])
  const described = await get(`${url}/topics/${topic}`)
  assert.equal(described.status, 200)
  // num.partitions of the broker (Kafka's default, 1).
  assert.equal(described.body.partitions.length, 1)
  const stored = await readAll(topic, 1, 2)
  assert.deepEqual(stored.map((r) => r.value?.toString()), ['a', 'b'])

  const partitionTopic = uniqueName('auto-always-v2p')
  const toPartition = await post(`${url}/topics/${partitionTopic}/partitions/0`, BINARY, RECORD)
  assert.equal(toPartition.status, 200, JSON.stringify(toPartition.body))
  assert.equal(toPartition.body.offsets[0].offset, 0)
})

test('auto_create_topics = "always": v3 batch and streaming produce create a missing topic', async (t) => {
  const { url } = await startProxy(t, { kafka: { auto_create_topics: 'always' } })
  const batchTopic = uniqueName('auto-always-v3b')
  const batch = await post(`${url}${recordsPath(batchTopic)}:batch`, JSON_TYPE, { entries: [{ id: 'one', value: str('x') }] })
  assert.equal(batch.status, 207, JSON.stringify(batch.body))
  assert.deepEqual(batch.body.successes.map((s: any) => [s.id, s.partition_id, s.offset]), [['one', 0, 0]])

  const streamTopic = uniqueName('auto-always-v3s')
  const client = openStream(url, recordsPath(streamTopic))
  client.write(JSON.stringify({ value: str('s0') }) + '\n')
  assert.equal(await client.status, 200)
  const first = await client.next()
  assert.equal(first.error_code, 200, JSON.stringify(first))
  assert.equal(first.offset, 0)
  client.end()
  await client.ended
  assert.deepEqual((await readAll(streamTopic, 1, 1)).map((r) => r.value?.toString()), ['s0'])
})

test('v2 subscribe to a topic that does not exist yet succeeds, reads stay 200, and records flow once the topic appears', async (t) => {
  // A short refresh so the proxy notices the new topic quickly.
  const { url } = await startProxy(t, { kafka: { metadata_refresh_ms: 500 } })
  const topic = uniqueName('subscribe-first')
  const c = await createConsumer(url, uniqueName('subscribe-first-g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  const sub = await request('POST', `${c.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [topic] } })
  assert.equal(sub.status, 204, show(sub))
  assert.deepEqual(await readOk(c, { timeout: 500 }), [])
  assert.equal((await get(`${url}/topics/${topic}`)).status, 404, 'the broker refuses auto-creation, so the topic is still missing')

  await createTopic(topic, 1)
  const produced = await post(`${url}/topics/${topic}`, BINARY, RECORD)
  assert.equal(produced.status, 200, JSON.stringify(produced.body))
  const records = await readUntil(c, 1, { timeout: 1000, deadlineMs: 60000 })
  assert.equal(Buffer.from(records[0]?.value, 'base64').toString(), 'first')
  await deleteConsumer(c)
})

test('v2 subscribe to a missing topic creates it when auto-creation is allowed ("always")', async (t) => {
  const { url } = await startProxy(t, { kafka: { auto_create_topics: 'always' } })
  const topic = uniqueName('subscribe-creates')
  const c = await createConsumer(url, uniqueName('subscribe-creates-g'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  const sub = await request('POST', `${c.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [topic] } })
  assert.equal(sub.status, 204, show(sub))
  assert.equal((await get(`${url}/topics/${topic}`)).status, 200, 'subscribe created the topic')
  const produced = await post(`${url}/topics/${topic}`, BINARY, RECORD)
  assert.equal(produced.status, 200, JSON.stringify(produced.body))
  const records = await readUntil(c, 1, { timeout: 1000, deadlineMs: 60000 })
  assert.equal(Buffer.from(records[0]?.value, 'base64').toString(), 'first')
  await deleteConsumer(c)
})

test('auto_create_topics = "always" still answers 40401 for a name Kafka would refuse', async (t) => {
  const { url } = await startProxy(t, { kafka: { auto_create_topics: 'always' } })
  const res = await post(`${url}/topics/${'x'.repeat(250)}`, BINARY, RECORD)
  assert.equal(res.status, 404, JSON.stringify(res.body))
  assert.equal(res.body.error_code, 40401)
})
