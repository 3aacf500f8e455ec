import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy, post, BINARY, JSON_V2 } from '../helpers/proxy.js'
import { javaPartition } from '../helpers/murmur2.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

test('binary produce returns offsets and a plain librdkafka consumer reads the records back', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-binary')
  await createTopic(topic, 3)
  const records = Array.from({ length: 30 }, (_, i) => ({ key: b64(`key-${i}`), value: b64(`value-${i}`) }))
  const res = await post(`${url}/topics/${topic}`, BINARY, { records })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.v2+json')
  assert.equal(res.body.offsets.length, 30)
  assert.equal(res.body.key_schema_id, null)
  assert.equal(res.body.value_schema_id, null)
  for (const o of res.body.offsets) {
    assert.equal(o.error_code, null)
    assert.equal(o.error, null)
    assert.ok(Number.isInteger(o.partition) && o.partition >= 0 && o.partition < 3)
    assert.ok(Number.isInteger(o.offset) && o.offset >= 0)
  }

  const read = await readAll(topic, 3, 30)
  assert.equal(read.length, 30)
  const byPosition = new Map(read.map((r) => [`${r.partition}@${r.offset}`, r]))
  res.body.offsets.forEach((o: { partition: number, offset: number }, i: number) => {
    const r = byPosition.get(`${o.partition}@${o.offset}`)
    assert.ok(r !== undefined, `record ${i} at ${o.partition}@${o.offset} not found in Kafka`)
    assert.equal(r.key?.toString(), `key-${i}`)
    assert.equal(r.value?.toString(), `value-${i}`)
  })
})

test('json produce writes each value as its JSON text', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-json')
  await createTopic(topic, 1)
  const res = await post(`${url}/topics/${topic}`, JSON_V2, {
    records: [{ key: 'k', value: { a: 1, b: [true, null] } }, { value: 'plain' }, { value: null }]
  })
  assert.equal(res.status, 200)
  assert.deepEqual(res.body.offsets.map((o: { offset: number }) => o.offset), [0, 1, 2])
  const read = await readAll(topic, 1, 3)
  assert.deepEqual(read.map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]), [
    ['"k"', '{"a":1,"b":[true,null]}'],
    [null, '"plain"'],
    [null, null]
  ])
})

test('keyed records land on the partition the Java client picks (murmur2)', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-murmur2')
  const partitions = 12
  await createTopic(topic, partitions)
  const keys = Array.from({ length: 200 }, (_, i) => `customer-${i * 7919}`)
  const res = await post(`${url}/topics/${topic}`, BINARY, { records: keys.map((k) => ({ key: b64(k), value: b64('v') })) })
  assert.equal(res.status, 200)
  const used = new Set<number>()
  res.body.offsets.forEach((o: { partition: number }, i: number) => {
    assert.equal(o.partition, javaPartition(Buffer.from(keys[i] as string), partitions), `key ${keys[i]}`)
    used.add(o.partition)
  })
  assert.ok(used.size > 6, 'keys spread over the partitions')
  const read = await readAll(topic, partitions, 200)
  for (const r of read) assert.equal(r.partition, javaPartition(r.key as Buffer, partitions))
})

test('record-level partition and the partition endpoint are honoured', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-partition')
  await createTopic(topic, 4)
  const res = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('a'), partition: 2 }, { value: b64('b'), partition: 3 }] })
  assert.equal(res.status, 200)
  assert.deepEqual(res.body.offsets.map((o: { partition: number }) => o.partition), [2, 3])
  const res2 = await post(`${url}/topics/${topic}/partitions/1`, BINARY, { records: [{ value: b64('c') }, { key: b64('k'), value: b64('d') }] })
  assert.equal(res2.status, 200)
  assert.deepEqual(res2.body.offsets.map((o: { partition: number, offset: number }) => [o.partition, o.offset]), [[1, 0], [1, 1]])
})

test('large bodies decoded in the worker pool produce the same records', async (t) => {
  const { url } = await startProxy(t, { pool: { offload_threshold_bytes: 1024 } })
  const topic = uniqueName('v2-pooled')
  await createTopic(topic, 1)
  const records = Array.from({ length: 500 }, (_, i) => ({ key: b64(`k${i}`), value: Buffer.alloc(200, i % 256).toString('base64') }))
  const res = await post(`${url}/topics/${topic}`, BINARY, { records })
  assert.equal(res.status, 200)
  assert.equal(res.body.offsets.length, 500)
  const read = await readAll(topic, 1, 500)
  assert.equal(read.length, 500)
  read.forEach((r, i) => {
    assert.equal(r.key?.toString(), `k${i}`)
    assert.deepEqual(r.value, Buffer.alloc(200, i % 256))
  })
})

test('error codes: unknown topic, media types, empty records, malformed JSON, bad base64, partitions', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-errors')
  await createTopic(topic, 2)
  const ok = { records: [{ value: b64('x') }] }

  const missing = await post(`${url}/topics/${uniqueName('nope')}`, BINARY, ok)
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error_code, 40401)
  assert.equal(typeof missing.body.message, 'string')

  // application/octet-stream is a v1 binary type (test/integration/v1-compat.test.ts).
  for (const type of ['application/json', 'application/vnd.kafka.v2+json', 'text/plain']) {
    const res = await post(`${url}/topics/${topic}`, type, ok)
    assert.equal(res.status, 415, type)
    assert.equal(res.body.error_code, 415, type)
  }

  const empty = await post(`${url}/topics/${topic}`, BINARY, { records: [] })
  assert.equal(empty.status, 422)
  assert.equal(empty.body.error_code, 422)

  const malformed = await post(`${url}/topics/${topic}`, BINARY, '{"records": [{"value": ')
  assert.equal(malformed.status, 400)
  assert.equal(malformed.body.error_code, 400)

  const badB64 = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: 'not base64!' }] })
  assert.equal(badB64.status, 400)
  assert.equal(badB64.body.error_code, 400)
  assert.match(badB64.body.message, /base64/)

  const badPartition = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('x'), partition: 7 }] })
  assert.equal(badPartition.status, 404)
  assert.equal(badPartition.body.error_code, 40402)

  const badPathPartition = await post(`${url}/topics/${topic}/partitions/9`, BINARY, ok)
  assert.equal(badPathPartition.status, 404)
  assert.equal(badPathPartition.body.error_code, 40402)

  const notAcceptable = await post(`${url}/topics/${topic}`, BINARY, ok, { accept: 'text/plain' })
  assert.equal(notAcceptable.status, 406)
  assert.equal(notAcceptable.body, null)

  // None of the refused requests wrote anything.
  const read = await readAll(topic, 2, 1, { timeoutMs: 2000 })
  assert.equal(read.length, 0)
})

test('a body over the limit is refused with 413, declared or chunked', async (t) => {
  const { url } = await startProxy(t, { server: { max_body_bytes: 2048 } })
  const topic = uniqueName('v2-limit')
  await createTopic(topic, 1)
  const big = { records: [{ value: Buffer.alloc(4096).toString('base64') }] }
  const declared = await post(`${url}/topics/${topic}`, BINARY, big)
  assert.equal(declared.status, 413)
  assert.equal(declared.body.error_code, 413)

  const text = JSON.stringify(big)
  const chunked = await fetch(`${url}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': BINARY },
    body: new ReadableStream({
      start (controller) {
        for (let i = 0; i < text.length; i += 500) controller.enqueue(new TextEncoder().encode(text.slice(i, i + 500)))
        controller.close()
      }
    }),
    duplex: 'half'
  } as RequestInit)
  assert.equal(chunked.status, 413)
  assert.equal((await chunked.json() as { error_code: number }).error_code, 413)
})

test('v1 vendor content types are accepted as aliases', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v1-alias')
  await createTopic(topic, 1)
  const res = await post(`${url}/topics/${topic}`, 'application/vnd.kafka.binary.v1+json', { records: [{ value: b64('old') }] }, { accept: 'application/vnd.kafka.v1+json' })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.v1+json')
  assert.equal(res.body.offsets[0].offset, 0)
})
