// Writes the broker refuses for the whole batch say `persisted: "no"`: Kafka
// answered that nothing was appended, so a client may retry (after fixing the
// cause) without creating duplicates. Provoked on a real broker through topic
// configs, over v2 and v3.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { AdminClient } from '../../src/kafka/binding.js'
import { bootstrap, uniqueName, waitForTopic } from '../helpers/kafka.js'
import { startProxy, post, get, BINARY } from '../helpers/proxy.js'
import { recordsPath, streamAll } from '../helpers/v3-stream.js'

async function createTopicWith (name: string, config: Record<string, string>): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': bootstrap(), 'client.id': 'test-admin' })
  try {
    await new Promise<void>((resolve, reject) => {
      // The binding's declarations omit `config`, which its createTopic takes.
      const spec = { topic: name, num_partitions: 1, replication_factor: 1, config } as Parameters<typeof admin.createTopic>[0]
      admin.createTopic(spec, 15000, (err) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve()
      })
    })
  } finally {
    admin.disconnect()
  }
  await waitForTopic(name, 1)
}

async function endOffset (url: string, topic: string): Promise<number> {
  const res = await get(`${url}/topics/${topic}/partitions/0/offsets`)
  assert.equal(res.status, 200)
  return res.body.end_offset
}

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64')

async function proxy (t: TestContext): Promise<string> {
  return (await startProxy(t)).url
}

test('a record larger than the topic max.message.bytes: v2 and v3 answer persisted "no", nothing is written', async (t) => {
  const url = await proxy(t)
  const topic = uniqueName('refused-size')
  // Below librdkafka's own message.max.bytes, so the record is sent and the broker refuses it.
  await createTopicWith(topic, { 'max.message.bytes': '1024' })
  const big = Buffer.alloc(8000, 7)

  const v2 = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64(big) }] })
  assert.equal(v2.status, 200)
  const [o] = v2.body.offsets
  assert.deepEqual({ error_code: o.error_code, offset: o.offset, retriable: o.retriable, persisted: o.persisted },
    { error_code: 50002, offset: null, retriable: false, persisted: 'no' }, JSON.stringify(o))

  const v3 = await streamAll(url, recordsPath(topic), [{ value: { type: 'BINARY', data: b64(big) } }])
  assert.equal(v3.length, 1)
  assert.equal(v3[0].error_code, 50002, JSON.stringify(v3[0]))
  assert.equal(v3[0].persisted, 'no')

  assert.equal(await endOffset(url, topic), 0, 'the broker wrote nothing')
})

test('a keyless record on a compacted topic (INVALID_RECORD) answers persisted "no"; keyed ones are written', async (t) => {
  const url = await proxy(t)
  const topic = uniqueName('refused-compact')
  await createTopicWith(topic, { 'cleanup.policy': 'compact' })

  const keyless = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('no key') }] })
  assert.equal(keyless.status, 200)
  const [o] = keyless.body.offsets
  assert.equal(o.error_code, 50002, JSON.stringify(o))
  assert.equal(o.offset, null)
  assert.equal(o.retriable, false)
  assert.equal(o.persisted, 'no')
  assert.equal(await endOffset(url, topic), 0)

  const keyed = await post(`${url}/topics/${topic}`, BINARY, { records: [{ key: b64('k'), value: b64('with key') }] })
  assert.equal(keyed.body.offsets[0].error_code, null, JSON.stringify(keyed.body))
  assert.equal(await endOffset(url, topic), 1)
})
