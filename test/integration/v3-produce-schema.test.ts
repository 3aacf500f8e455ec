// v3 produce with the schema types (AVRO, JSONSCHEMA, PROTOBUF) against the
// real broker and the real schema registry (Apicurio's Confluent API). What
// Kafka holds is read with a plain librdkafka reader and checked to be the
// Confluent wire format (magic byte 0, the schema id, for Protobuf the
// message-index list [0] as one 0 byte, then the payload) decodable with the
// schema; what the registry holds is read with its own HTTP API.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { post, startProxy } from '../helpers/proxy.js'
import { JSON_TYPE, recordsPath, str, streamAll } from '../helpers/v3-stream.js'
import { decodeFrame } from '../../src/formats/wire.js'
import * as avro from '../../src/formats/avro.js'
import * as jsonschema from '../../src/formats/jsonschema.js'
import * as protobuf from '../../src/formats/protobuf.js'

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') {
    throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  }
  return url
}

const withRegistry = { schema_registry: { url: registryUrl() } }

async function registry (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, body: any }> {
  const res = await fetch(registryUrl() + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

async function registerSchema (subject: string, schemaType: string, schema: string): Promise<number> {
  const res = await registry('POST', `/subjects/${encodeURIComponent(subject)}/versions`, schemaType === 'AVRO' ? { schema } : { schema, schemaType })
  assert.equal(res.status, 200, JSON.stringify(res.body))
  return res.body.id
}

interface Case {
  type: 'AVRO' | 'JSONSCHEMA' | 'PROTOBUF'
  schemaType: 'AVRO' | 'JSON' | 'PROTOBUF'
  schema: string
  data: unknown[]
  /** The payload decoded back to JSON, for each of `data`. */
  decode: (schema: string, payload: Buffer, indexes?: number[]) => unknown
  expected: unknown[]
  mismatched: unknown
}

const CASES: Case[] = [
  {
    type: 'AVRO',
    schemaType: 'AVRO',
    schema: JSON.stringify({ type: 'record', name: 'Order', namespace: 'test.v3schema', fields: [{ name: 'id', type: 'long' }, { name: 'item', type: 'string' }] }),
    data: [{ id: 1, item: 'apple' }, { id: 2, item: 'pear' }],
    decode: (schema, payload) => avro.decode(avro.compile({ schema }), payload),
    expected: [{ id: 1, item: 'apple' }, { id: 2, item: 'pear' }],
    mismatched: { id: 'one', item: 'x' }
  },
  {
    type: 'JSONSCHEMA',
    schemaType: 'JSON',
    // Apicurio takes a JSON Schema only with `$schema` or `properties` at the top level.
    schema: JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'Order',
      type: 'object',
      properties: { id: { type: 'integer' }, item: { type: 'string' } },
      required: ['id'],
      additionalProperties: false
    }),
    data: [{ id: 1, item: 'apple' }, { id: 2 }],
    decode: (schema, payload) => {
      const compiled = jsonschema.compile({ schema })
      const value = jsonschema.decode(compiled, payload)
      assert.ok(compiled.validate(value), `${payload.toString()} does not match its JSON Schema`)
      return value
    },
    expected: [{ id: 1, item: 'apple' }, { id: 2 }],
    mismatched: { id: 1, extra: true }
  },
  {
    type: 'PROTOBUF',
    schemaType: 'PROTOBUF',
    schema: 'syntax = "proto3";\npackage test.v3schema;\n\nmessage Order {\n  int64 id = 1;\n  string item = 2;\n}\n',
    data: [{ id: 1, item: 'apple' }, { id: '2', item: 'pear' }],
    decode: (schema, payload, indexes) => protobuf.decode(protobuf.compile({ schema }), payload, indexes),
    expected: [{ id: '1', item: 'apple' }, { id: '2', item: 'pear' }],
    mismatched: { id: 1, nosuchfield: 2 }
  }
]

/** The schema id and decoded payload of a framed record, after checking the frame. */
function unframe (c: Case, bytes: Buffer | null, schema: string): { id: number, value: unknown } {
  assert.ok(bytes !== null && bytes.length > 5, `frame too short: ${bytes?.toString('hex') ?? 'null'}`)
  assert.equal(bytes[0], 0, 'magic byte')
  if (c.type === 'PROTOBUF') assert.equal(bytes[5], 0, 'message-index list [0]')
  const frame = decodeFrame(bytes, c.type === 'PROTOBUF')
  return { id: frame.schemaId, value: c.decode(schema, frame.payload, frame.messageIndexes) }
}

for (const c of CASES) {
  test(`${c.type}: raw schema, schema_id, schema_version and latest all frame the value with the registered id`, async (t) => {
    const { url } = await startProxy(t, withRegistry)
    const topic = uniqueName(`v3-schema-${c.type.toLowerCase()}`)
    await createTopic(topic, 1)
    const first = await streamAll(url, recordsPath(topic), [
      { key: str('k0'), value: { type: c.type, schema: c.schema, data: c.data[0] } }
    ])
    assert.equal(first.length, 1)
    assert.equal(first[0].error_code, 200, JSON.stringify(first[0]))
    const id = first[0].value.schema_id
    assert.ok(Number.isInteger(id))
    assert.deepEqual(first[0].value, { type: c.type, subject: `${topic}-value`, schema_id: id, schema_version: 1, size: first[0].value.size })
    assert.deepEqual(first[0].key, { type: 'STRING', size: 2 })

    const registered = await registry('GET', `/subjects/${encodeURIComponent(`${topic}-value`)}/versions/latest`)
    assert.equal(registered.status, 200)
    assert.equal(registered.body.id, id)
    assert.equal(registered.body.schemaType ?? 'AVRO', c.schemaType)

    const lines = await streamAll(url, recordsPath(topic), [
      { value: { type: c.type, schema: c.schema, data: c.data[1] } },
      { value: { schema_id: id, data: c.data[0] } },
      { value: { schema_version: 1, data: c.data[1] } },
      { value: { data: c.data[0] } },
      { value: { subject: `${topic}-value`, data: c.data[1] } },
      { value: { subject_name_strategy: 'TOPIC_NAME', schema_version: -1, data: c.data[0] } }
    ])
    assert.deepEqual(lines.map((l) => l.error_code), [200, 200, 200, 200, 200, 200], JSON.stringify(lines))
    for (const l of lines) {
      assert.deepEqual(l.value, { type: c.type, subject: `${topic}-value`, schema_id: id, schema_version: 1, size: l.value.size })
    }
    assert.deepEqual(lines.map((l) => l.offset), [1, 2, 3, 4, 5, 6])

    const read = await readAll(topic, 1, 7)
    assert.equal(read.length, 7)
    assert.equal(read[0]?.key?.toString(), 'k0')
    const all = [first[0], ...lines]
    read.forEach((r, i) => {
      const { id: framed, value } = unframe(c, r.value, c.schema)
      assert.equal(framed, id, `record ${i}`)
      assert.deepEqual(value, c.expected[i % 2], `record ${i}`)
      assert.equal(r.value?.length, all[i].value.size, `record ${i}: size`)
    })
  })
}

test('schema keys: a key schema is registered under <topic>-key and framed with its id', async (t) => {
  const { url } = await startProxy(t, withRegistry)
  const topic = uniqueName('v3-schema-key')
  await createTopic(topic, 1)
  const lines = await streamAll(url, recordsPath(topic), [
    { key: { type: 'AVRO', schema: '"string"', data: 'key-1' }, value: { type: 'JSON', data: { v: 1 } } }
  ])
  assert.equal(lines[0].error_code, 200, JSON.stringify(lines[0]))
  assert.equal(lines[0].key.subject, `${topic}-key`)
  assert.deepEqual(lines[0].value, { type: 'JSON', size: 7 })
  const [r] = await readAll(topic, 1, 1)
  const frame = decodeFrame(r?.key as Buffer)
  assert.equal(frame.schemaId, lines[0].key.schema_id)
  assert.equal(avro.decode(avro.compile({ schema: '"string"' }), frame.payload), 'key-1')
  assert.equal(r?.value?.toString(), '{"v":1}')
})

test('subject and record name strategies pick the subject; a version must exist in it', async (t) => {
  const { url } = await startProxy(t, withRegistry)
  const topic = uniqueName('v3-schema-subjects')
  await createTopic(topic, 1)
  const name = uniqueName('Rec').replace(/[^A-Za-z0-9_]/g, '_')
  const schema = JSON.stringify({ type: 'record', name, namespace: 'test.v3schema', fields: [{ name: 'x', type: 'int' }] })
  const custom = uniqueName('v3-custom-subject')
  const customId = await registerSchema(custom, 'AVRO', '"long"')
  const lines = await streamAll(url, recordsPath(topic), [
    { value: { type: 'AVRO', schema, subject_name_strategy: 'RECORD_NAME', data: { x: 1 } } },
    { value: { type: 'AVRO', schema, subject_name_strategy: 'TOPIC_RECORD_NAME', data: { x: 2 } } },
    { value: { subject: custom, data: 7 } },
    { value: { subject: custom, schema_version: 1, data: 8 } },
    { value: { subject: custom, schema_version: 2, data: 9 } },
    { value: { schema_id: customId, data: 10 } },
    { value: { subject_name_strategy: 'RECORD_NAME', data: { x: 3 } } }
  ])
  assert.deepEqual(lines.map((l) => l.error_code), [200, 200, 200, 200, 42207, 42207, 400], JSON.stringify(lines))
  assert.equal(lines[0].value.subject, `test.v3schema.${name}`)
  assert.equal(lines[1].value.subject, `${topic}-test.v3schema.${name}`)
  assert.deepEqual(lines[2].value, { type: 'AVRO', subject: custom, schema_id: customId, schema_version: 1, size: 6 })
  assert.equal(lines[3].value.schema_id, customId)
  // schema_id is looked up in the topic's subject, which does not hold it.
  assert.match(lines[5].message, new RegExp(`${topic}-value`))
  assert.match(lines[6].message, /RECORD_NAME needs the schema/)
  for (const l of lines.slice(4)) assert.equal(l.persisted, 'no')
  const read = await readAll(topic, 1, 4)
  assert.deepEqual(read.map((r) => decodeFrame(r.value as Buffer).schemaId).slice(2), [customId, customId])
})

test('argument conflicts, bad data and registry errors are per-record results; good records around them are written', async (t) => {
  const { url } = await startProxy(t, withRegistry)
  const topic = uniqueName('v3-schema-errors')
  await createTopic(topic, 1)
  const c = CASES[0] as Case
  const lines = await streamAll(url, recordsPath(topic), [
    { value: { type: 'AVRO', schema: c.schema, data: c.data[0] } },
    { value: { subject: 'a', subject_name_strategy: 'TOPIC_NAME', data: 1 } },
    { value: { type: 'AVRO', schema_id: 1, data: 1 } },
    { value: { schema_id: 1, schema_version: 1, data: 1 } },
    { value: { schema: '"string"', data: 'x' } },
    { value: { type: 'AVRO', data: 'x' } },
    { value: { type: 'AVRO', schema: c.schema, data: c.mismatched } },
    { value: { type: 'AVRO', schema: '{"type":"record","name":"Bad","fields":[{"name":"x","type":"nosuchtype"}]}', data: {} } },
    { value: { schema_id: 2 ** 31 - 1, data: 1 } },
    { key: { subject: uniqueName('v3-no-such-subject'), data: 1 }, value: str('x') },
    { value: { type: 'AVRO', schema: c.schema, data: c.data[1] } }
  ])
  assert.deepEqual(lines.map((l) => l.error_code), [200, 400, 400, 400, 400, 400, 400, 42205, 42207, 42207, 200], JSON.stringify(lines))
  assert.match(lines[1].message, /subject and subject_name_strategy cannot both be given/)
  assert.match(lines[6].message, /^Bad Request: Failed to serialize the value as Avro/)
  assert.deepEqual([lines[0].offset, lines[10].offset], [0, 1])
  const read = await readAll(topic, 1, 2)
  assert.deepEqual(read.map((r) => unframe(c, r.value, c.schema).value), c.expected)
})

test('records:batch serializes schema entries and reports their schemas', async (t) => {
  const { url } = await startProxy(t, withRegistry)
  const topic = uniqueName('v3-schema-batch')
  await createTopic(topic, 1)
  const c = CASES[2] as Case
  const res = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, {
    entries: [
      { id: 'a', value: { type: 'PROTOBUF', schema: c.schema, data: c.data[0] } },
      { id: 'b', value: { type: 'PROTOBUF', schema: c.schema, data: c.mismatched } },
      { id: 'c', value: { data: c.data[1] } }
    ]
  })
  assert.equal(res.status, 207)
  assert.deepEqual(res.body.successes.map((s: any) => [s.id, s.offset, s.value.type, s.value.subject, s.value.schema_version]),
    [['a', 0, 'PROTOBUF', `${topic}-value`, 1], ['c', 1, 'PROTOBUF', `${topic}-value`, 1]])
  assert.deepEqual(res.body.failures.map((f: any) => [f.id, f.error_code]), [['b', 400]])
  const read = await readAll(topic, 1, 2)
  assert.deepEqual(read.map((r) => unframe(c, r.value, c.schema).value), c.expected)
})

test('without a configured registry schema records get 42206 and schemaless ones still go through', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v3-schema-none')
  await createTopic(topic, 1)
  const lines = await streamAll(url, recordsPath(topic), [
    { value: { data: 'latest?' } },
    { value: { type: 'JSON', data: 1 } }
  ])
  assert.deepEqual(lines.map((l) => l.error_code), [42206, 200])
  assert.equal(lines[0].message, 'Schema Registry must be configured when using schemas.')
})

test('schema_registry subject strategies are the defaults when a record names none', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: registryUrl(), value_subject_strategy: 'topic_record_name' } })
  const topic = uniqueName('v3-schema-default-strategy')
  await createTopic(topic, 1)
  const schema = JSON.stringify({ type: 'record', name: 'Dflt', namespace: 'test.v3schema', fields: [{ name: 'x', type: 'int' }] })
  const lines = await streamAll(url, recordsPath(topic), [
    { key: { type: 'AVRO', schema: '"int"', data: 1 }, value: { type: 'AVRO', schema, data: { x: 1 } } }
  ])
  assert.equal(lines[0].error_code, 200, JSON.stringify(lines[0]))
  assert.equal(lines[0].key.subject, `${topic}-key`)
  assert.equal(lines[0].value.subject, `${topic}-test.v3schema.Dflt`)
})

test('records behind one waiting for the registry keep their order in Kafka', async (t) => {
  const { url } = await startProxy(t, withRegistry)
  const topic = uniqueName('v3-schema-order')
  await createTopic(topic, 1)
  const schema = JSON.stringify({ type: 'record', name: 'Seq', namespace: 'test.v3schema', fields: [{ name: 'n', type: 'int' }] })
  const records = Array.from({ length: 12 }, (_, n) => n % 3 === 0
    ? { value: { type: 'AVRO', schema, data: { n } } }
    : { value: { type: 'JSON', data: { n } }, partition_id: n === 5 ? 0 : undefined })
  const lines = await streamAll(url, recordsPath(topic), records)
  assert.deepEqual(lines.map((l) => [l.error_code, l.offset]), records.map((_, n) => [200, n]))
  const read = await readAll(topic, 1, records.length)
  const c = CASES[0] as Case
  assert.deepEqual(read.map((r, n) => n % 3 === 0 ? (unframe(c, r.value, schema).value as { n: number }).n : JSON.parse(r.value?.toString() ?? '').n),
    records.map((_, n) => n))
})
