import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaConsumer } from '../../src/kafka/binding.js'
import { bootstrap, createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy, post } from '../helpers/proxy.js'
import { JSON_TYPE, b64, openStream, recordsPath, str } from '../helpers/v3-stream.js'

interface FullRecord {
  partition: number
  offset: number
  key: Buffer | null
  value: Buffer | null
  timestamp: number
  headers: Array<[string, Buffer]>
}

/** Like readAll, with headers and timestamps. */
async function readFull (topic: string, count: number): Promise<FullRecord[]> {
  const consumer = new KafkaConsumer({
    'bootstrap.servers': bootstrap(),
    'group.id': uniqueName('test-reader'),
    'enable.auto.commit': false
  }, { 'auto.offset.reset': 'earliest' })
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  const out: FullRecord[] = []
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }])
    const deadline = Date.now() + 20000
    while (out.length < count && Date.now() < deadline) {
      const batch = await new Promise<any[]>((resolve, reject) => consumer.consume(100, (err, m) => err ? reject(err) : resolve(m)))
      for (const m of batch) {
        out.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key === undefined || m.key === null ? null : Buffer.from(m.key),
          value: m.value,
          timestamp: m.timestamp,
          headers: (m.headers ?? []).map((h: Record<string, Buffer>) => Object.entries(h)[0])
        })
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  }
  return out
}

test('streaming produce is full duplex: each result arrives before the next record is sent', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-duplex')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic))
  for (let i = 0; i < 5; i++) {
    client.write(JSON.stringify({ value: str(`v${i}`) }) + '\n')
    if (i === 0) assert.equal(await client.status, 200)
    const line = await client.next()
    assert.equal(line.error_code, 200)
    assert.equal(line.cluster_id, 'any-cluster')
    assert.equal(line.topic_name, topic)
    assert.equal(line.partition_id, 0)
    assert.equal(line.offset, i)
    assert.deepEqual(line.value, { type: 'STRING', size: 2 })
    assert.equal(line.key, undefined)
    assert.ok(!Number.isNaN(Date.parse(line.timestamp)))
  }
  client.end()
  assert.deepEqual(await client.ended, [])
  const read = await readAll(topic, 1, 5)
  assert.deepEqual(read.map((r) => r.value?.toString()), ['v0', 'v1', 'v2', 'v3', 'v4'])
})

test('STRING, JSON and BINARY data, headers and timestamps reach Kafka as sent', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-types')
  await createTopic(topic, 1)
  const records = [
    { key: str('k-ü'), value: { type: 'JSON', data: { a: [1, null, 'x'] } }, timestamp: '2023-05-16T18:20:51.844Z' },
    { key: { type: 'BINARY', data: b64('\u0000\u0001') }, value: { type: 'BINARY', data: b64('bin') }, headers: [{ name: 'h', value: b64('1') }, { name: 'h', value: b64('2') }, { name: 'n', value: null }] },
    { value: { type: 'JSON', data: 'text' }, partition_id: 0 },
    { key: str('tombstone') }
  ]
  const before = Date.now()
  const client = openStream(url, recordsPath(topic))
  // Objects split mid-token across chunks, and several in one chunk.
  const body = records.map((r) => JSON.stringify(r)).join('\r\n')
  client.write(body.slice(0, 7))
  client.write(body.slice(7, 150))
  client.end(body.slice(150))
  const lines = await client.ended
  assert.equal(await client.status, 200)
  assert.deepEqual(lines.map((l) => [l.error_code, l.offset]), [[200, 0], [200, 1], [200, 2], [200, 3]])
  assert.equal(lines[0].timestamp, '2023-05-16T18:20:51.844Z')
  assert.deepEqual(lines[0].key, { type: 'STRING', size: 4 })
  assert.deepEqual(lines[0].value, { type: 'JSON', size: 18 })
  assert.deepEqual(lines[1].key, { type: 'BINARY', size: 2 })
  assert.equal(lines[3].value, undefined)

  const read = await readFull(topic, 4)
  assert.equal(read.length, 4)
  const [a, b, c, d] = read as [FullRecord, FullRecord, FullRecord, FullRecord]
  assert.equal(a.key?.toString(), 'k-ü')
  assert.equal(a.value?.toString(), '{"a":[1,null,"x"]}')
  assert.equal(a.timestamp, Date.UTC(2023, 4, 16, 18, 20, 51, 844))
  assert.deepEqual(b.key, Buffer.from([0, 1]))
  assert.equal(b.value?.toString(), 'bin')
  assert.deepEqual(b.headers.map(([n, v]) => [n, v.toString()]), [['h', '1'], ['h', '2'], ['n', '']])
  assert.ok(b.timestamp >= before && b.timestamp <= Date.now())
  assert.equal(new Date(b.timestamp).toISOString(), lines[1].timestamp)
  assert.equal(c.value?.toString(), '"text"')
  assert.equal(d.key?.toString(), 'tombstone')
  assert.equal(d.value, null)
})

test('2,000 records in arbitrary chunks are all acknowledged in order', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-many')
  await createTopic(topic, 1)
  const n = 2000
  const body = Array.from({ length: n }, (_, i) => JSON.stringify({ key: str(`k${i}`), value: { type: 'JSON', data: { i, s: '{"}' } } })).join('\n')
  const client = openStream(url, recordsPath(topic))
  for (let at = 0; at < body.length; at += 997) client.write(body.slice(at, at + 997))
  client.end()
  const lines = await client.ended
  assert.equal(lines.length, n)
  lines.forEach((l, i) => {
    assert.equal(l.error_code, 200, JSON.stringify(l))
    assert.equal(l.offset, i)
  })
  const read = await readAll(topic, 1, n)
  assert.equal(read.length, n)
  assert.deepEqual(JSON.parse(read[1234]?.value?.toString() ?? ''), { i: 1234, s: '{"}' })
})

test('malformed JSON mid-stream: earlier records keep their results, then a 400 line and the end', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-malformed')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic))
  client.write(`${JSON.stringify({ value: str('a') })}\n${JSON.stringify({ value: str('b') })}\n`)
  assert.equal((await client.next()).offset, 0)
  assert.equal((await client.next()).offset, 1)
  client.end(`{"value": nope}\n${JSON.stringify({ value: str('c') })}`)
  const rest = await client.ended
  assert.equal(rest.length, 1)
  assert.equal(rest[0].error_code, 400)
  assert.match(rest[0].message, /^Bad Request: /)
  assert.equal(rest[0].persisted, 'no')

  // The record after the malformed one was not written: the next one takes offset 2.
  const after = await post(`${url}${recordsPath(topic)}`, JSON_TYPE, { value: str('d') })
  assert.equal(after.status, 200)
  assert.equal(after.body.offset, 2)
  const read = await readAll(topic, 1, 3)
  assert.deepEqual(read.map((r) => r.value?.toString()), ['a', 'b', 'd'])
})

test('a stream that stops inside an object or has garbage between objects ends with a 400 line', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-truncated')
  await createTopic(topic, 1)
  for (const tail of ['{"value":{"type":"STRING"', 'garbage']) {
    const client = openStream(url, recordsPath(topic))
    client.end(`${JSON.stringify({ value: str('ok') })} ${tail}`)
    const lines = await client.ended
    assert.deepEqual(lines.map((l) => l.error_code), [200, 400], tail)
  }
})

test('per-record failures are result lines in order; the HTTP status stays 200', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-record-errors')
  await createTopic(topic, 2)
  const records = [
    { value: str('ok0'), partition_id: 1 },
    { value: str('x'), partition_id: -1 },
    { value: str('x'), partition_id: 7 },
    { value: str('x'), records: [] },
    { value: { type: 'BINARY', data: 'not base64!' } },
    { value: { type: 'AVRO', schema: '"string"', data: 'x' } },
    { value: str('x'), timestamp: 'yesterday' },
    { value: str('ok1'), partition_id: 1 }
  ]
  const client = openStream(url, recordsPath(topic))
  client.end(records.map((r) => JSON.stringify(r)).join(''))
  assert.equal(await client.status, 200)
  const lines = await client.ended
  assert.deepEqual(lines.map((l) => l.error_code), [200, 40402, 40402, 400, 400, 42206, 400, 200])
  assert.deepEqual([lines[0].partition_id, lines[0].offset, lines[7].partition_id, lines[7].offset], [1, 0, 1, 1])
  assert.match(lines[3].message, /Unrecognized field "records"/)
  assert.equal(lines[4].message, 'Bad Request: data=not base64! is not a valid base64 string.')
  assert.equal(lines[5].message, 'Schema Registry must be configured when using schemas.')
  for (const l of lines.slice(1, 7)) assert.equal(l.persisted, 'no')
})

test('request-level errors: empty body 422/42206, non-JSON media 415, unknown topic 404/40401', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-request-errors')
  await createTopic(topic, 1)
  for (const body of ['', ' \r\n ']) {
    const empty = await post(`${url}${recordsPath(topic)}`, JSON_TYPE, body)
    assert.equal(empty.status, 422)
    assert.equal(empty.body.error_code, 42206)
    assert.equal(empty.body.message, 'Payload error. Request body is empty. Data is required.')
  }
  for (const type of ['text/plain', 'application/vnd.kafka.binary.v2+json']) {
    const res = await post(`${url}${recordsPath(topic)}`, type, { value: str('x') })
    assert.equal(res.status, 415, type)
    const batch = await post(`${url}${recordsPath(topic)}:batch`, type, { entries: [{ id: 'a' }] })
    assert.equal(batch.status, 415, type)
  }
  const missing = await post(`${url}${recordsPath(uniqueName('v3-missing'))}`, JSON_TYPE, { value: str('x') })
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error_code, 40401)
})

test('batch produce answers 207 with successes and failures, each in request order', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-batch')
  await createTopic(topic, 1)
  const res = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, {
    entries: [
      { id: 'first', key: str('k'), value: { type: 'JSON', data: [1] }, timestamp: '2024-01-02T03:04:05.678Z' },
      { id: 'bad-partition', value: str('x'), partition_id: -3 },
      { id: 'second', value: str('v'), headers: [{ name: 'h', value: b64('hv') }] },
      { id: 'bad_base64', value: { type: 'BINARY', data: '%%' } }
    ]
  })
  assert.equal(res.status, 207)
  assert.equal(res.headers.get('content-type'), JSON_TYPE)
  assert.deepEqual(res.body.successes.map((s: any) => [s.id, s.partition_id, s.offset]), [['first', 0, 0], ['second', 0, 1]])
  assert.equal(res.body.successes[0].timestamp, '2024-01-02T03:04:05.678Z')
  assert.deepEqual(res.body.successes[0].key, { type: 'STRING', size: 1 })
  assert.equal(res.body.successes[0].error_code, undefined)
  assert.deepEqual(res.body.failures.map((f: any) => [f.id, f.error_code]), [['bad-partition', 40402], ['bad_base64', 400]])
  const read = await readFull(topic, 2)
  assert.deepEqual(read.map((r) => r.value?.toString()), ['[1]', 'v'])
  assert.deepEqual(read[1]?.headers.map(([n, v]) => [n, v.toString()]), [['h', 'hv']])
})

test('batch validation errors are 422/42208 with Confluent\'s messages', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-batch-invalid')
  await createTopic(topic, 1)
  const batchUrl = `${url}${recordsPath(topic)}:batch`
  const cases: Array<[unknown, string]> = [
    ['', 'Request body is empty. Data is required.'],
    [{ entries: [] }, 'Empty batch.'],
    [{}, 'Empty batch.'],
    [{ entries: Array.from({ length: 11 }, (_, i) => ({ id: `e${i}`, value: str('x') })) }, 'Too many entries in batch.'],
    [{ entries: [{ id: 'a', value: str('x') }, { id: 'a', value: str('y') }] }, 'Batch entry IDs are not distinct.'],
    [{ entries: [{ id: 1, value: str('x') }] }, 'Batch entry identifier is not a valid string.'],
    [{ entries: [{ value: str('x') }] }, 'Batch entry identifier is not a valid string.'],
    [{ entries: [{ id: 'has space' }] }, 'Batch entry identifier is not a valid string.'],
    [{ entries: [{ id: 'x'.repeat(81) }] }, 'Batch entry identifier is not a valid string.']
  ]
  for (const [body, message] of cases) {
    const res = await post(batchUrl, JSON_TYPE, body)
    assert.equal(res.status, 422, message)
    assert.equal(res.body.error_code, 42208, message)
    assert.equal(res.body.message, message)
  }
  const ten = await post(batchUrl, JSON_TYPE, { entries: Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, value: str('x') })) })
  assert.equal(ten.status, 207)
  assert.equal(ten.body.successes.length, 10)
  const malformed = await post(batchUrl, JSON_TYPE, '{"entries": [')
  assert.equal(malformed.status, 400)
  assert.equal((await post(batchUrl, JSON_TYPE, { entries: [{ id: 'a' }], extra: 1 })).status, 400)
})
