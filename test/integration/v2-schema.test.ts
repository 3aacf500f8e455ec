// v2 produce and consume with the schema formats (avro, jsonschema,
// protobuf) against the real broker and the real schema registry the test
// runner starts. What Kafka holds is checked with a plain librdkafka reader
// and what the registry holds with its own HTTP API, so a bug in the proxy's
// framing or registration cannot hide behind its own decoder.
//
// Wire format (Confluent Schema Registry docs, "Formats, Serializers, and
// Deserializers" > "Wire format"): magic byte 0, the schema id as a 4-byte
// big-endian integer, then for Protobuf the message-index list ([0], the
// first message, written as the single byte 0), then the payload.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { createTopic, readAll, uniqueName, type ReadRecord } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { TaskPool } from '../../src/pool/pool.js'
import {
  BINARY_V2, V2, assertError, createConsumer, deleteConsumer, read, readUntil, request, show, subscribe,
  type ConsumedRecord, type HttpResult
} from '../helpers/consumers.js'

type Format = 'avro' | 'jsonschema' | 'protobuf'

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') {
    throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  }
  return url
}

const registryProxy = (): { schema_registry: { url: string } } => ({ schema_registry: { url: registryUrl() } })

const media = (format: string, version = 'v2'): string => `application/vnd.kafka.${format}.${version}+json`

async function registryGet (path: string): Promise<{ status: number, body: any }> {
  const res = await fetch(registryUrl() + path, { signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}

function produce (url: string, topic: string, format: string, body: unknown, version = 'v2'): Promise<HttpResult> {
  return request('POST', `${url}/topics/${encodeURIComponent(topic)}`, { headers: { 'content-type': media(format, version) }, body })
}

interface Case {
  format: Format
  schemaType: 'AVRO' | 'JSON' | 'PROTOBUF'
  valueSchema: string
  keySchema: string
  /** Values as produced, each with the JSON the proxy renders on a read. */
  values: Array<{ produced: unknown, read: unknown }>
  keys: Array<{ produced: unknown, read: unknown }>
  /** Schema text the format's parser rejects. */
  invalidSchema: string
  /** Values the schema rejects. */
  mismatched: unknown[]
  /** The registry's text, made comparable with what was registered. */
  normalize: (schema: string) => unknown
}

const asJson = (s: string): unknown => JSON.parse(s)

const CASES: Case[] = [
  {
    format: 'avro',
    schemaType: 'AVRO',
    valueSchema: JSON.stringify({
      type: 'record',
      name: 'User',
      namespace: 'test.v2schema',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'int' },
        { name: 'nick', type: ['null', 'string'], default: null },
        { name: 'score', type: 'double' },
        { name: 'tags', type: { type: 'array', items: 'string' } }
      ]
    }),
    keySchema: '"string"',
    values: [
      // Avro's JSON encoding: a non-null union value names its branch.
      { produced: { name: 'alice', age: 30, nick: { string: 'al' }, score: 1.5, tags: ['a', 'b'] }, read: { name: 'alice', age: 30, nick: { string: 'al' }, score: 1.5, tags: ['a', 'b'] } },
      { produced: { name: 'bob', age: 41, nick: null, score: -2, tags: [] }, read: { name: 'bob', age: 41, nick: null, score: -2, tags: [] } }
    ],
    keys: [{ produced: 'user-1', read: 'user-1' }, { produced: 'user-2', read: 'user-2' }],
    invalidSchema: '{"type": "record", "name": "Broken", "fields": [{"name": "x", "type": "nosuchtype"}]}',
    mismatched: [
      { name: 5, age: 1, nick: null, score: 0, tags: [] },
      // A bare string for a union field: Avro's JSON encoding needs {"string": "al"}.
      { name: 'x', age: 1, nick: 'al', score: 0, tags: [] }
    ],
    normalize: asJson
  },
  {
    format: 'jsonschema',
    schemaType: 'JSON',
    valueSchema: JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'User',
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' } }
      },
      required: ['name'],
      additionalProperties: false
    }),
    // Apicurio 3.0.9 takes JSON as a JSON Schema only with `$schema` or `properties` at the top
    // (`{"type": "string"}` alone answers 42201 "Given schema is not from type: JSON");
    // Confluent's registry takes either form.
    keySchema: '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "string"}',
    values: [
      { produced: { name: 'alice', age: 30, tags: ['a', 'b'] }, read: { name: 'alice', age: 30, tags: ['a', 'b'] } },
      { produced: { name: 'bob' }, read: { name: 'bob' } }
    ],
    keys: [{ produced: 'user-1', read: 'user-1' }, { produced: 'user-2', read: 'user-2' }],
    invalidSchema: '{"type": "nosuchtype"}',
    mismatched: [
      { age: 'thirty' },
      { name: 'x', unknown: true }
    ],
    normalize: asJson
  },
  {
    format: 'protobuf',
    schemaType: 'PROTOBUF',
    valueSchema: [
      'syntax = "proto3";',
      'package test.v2schema;',
      '',
      'message User {',
      '  string name = 1;',
      '  int64 id = 2;',
      '  int32 age = 3;',
      '  repeated string tags = 4;',
      '  string display_name = 5;',
      '}',
      ''
    ].join('\n'),
    keySchema: 'syntax = "proto3";\npackage test.v2schema;\n\nmessage UserKey {\n  string id = 1;\n}\n',
    values: [
      // proto3 JSON mapping: lowerCamelCase names on output (the .proto name is accepted on
      // input), 64-bit integers as strings, fields without presence printed with their default.
      {
        produced: { name: 'alice', id: '9007199254740993', age: 30, tags: ['a', 'b'], display_name: 'Alice' },
        read: { name: 'alice', id: '9007199254740993', age: 30, tags: ['a', 'b'], displayName: 'Alice' }
      },
      { produced: { name: 'bob' }, read: { name: 'bob', id: '0', age: 0, tags: [], displayName: '' } }
    ],
    keys: [{ produced: { id: 'user-1' }, read: { id: 'user-1' } }, { produced: { id: 'user-2' }, read: { id: 'user-2' } }],
    invalidSchema: 'syntax = "proto3";\nmessage Broken {\n  string x = ;\n}\n',
    mismatched: [
      { name: 'x', age: 'not a number' },
      { name: 'x', nosuchfield: 1 }
    ],
    normalize: (s) => s.replace(/\s+/g, '')
  }
]

/** The schema id in a record's frame, after checking the magic byte (and the message index). */
function frameId (bytes: Buffer | null, format: Format, what: string): number {
  assert.ok(bytes !== null && bytes.length >= 5, `${what}: ${bytes?.toString('hex') ?? 'null'} is too short for a frame`)
  assert.equal(bytes[0], 0, `${what}: magic byte of ${bytes.toString('hex')}`)
  if (format === 'protobuf') assert.equal(bytes[5], 0, `${what}: message-index list [0] of ${bytes.toString('hex')}`)
  return bytes.readInt32BE(1)
}

function offsetsOk (res: HttpResult, first: number, count: number): void {
  assert.equal(res.status, 200, show(res))
  assert.deepEqual(res.body.offsets, Array.from({ length: count }, (_, i) => ({ partition: 0, offset: first + i, error_code: null, error: null })), show(res))
}

function schemaId (v: unknown, what: string): number {
  assert.ok(typeof v === 'number' && Number.isInteger(v) && v >= 0, `${what}: ${JSON.stringify(v)} is not a schema id`)
  return v
}

async function assertRegistered (c: Case, subject: string, schema: string, id: number): Promise<void> {
  const latest = await registryGet(`/subjects/${encodeURIComponent(subject)}/versions/latest`)
  assert.equal(latest.status, 200, `${subject}: ${JSON.stringify(latest.body)}`)
  assert.equal(latest.body.id, id, `${subject}: ${JSON.stringify(latest.body)}`)
  assert.equal(latest.body.schemaType ?? 'AVRO', c.schemaType)
  assert.deepEqual(c.normalize(latest.body.schema), c.normalize(schema))
}

/** A 422 that wrote nothing: Confluent's body plus `retriable` and `persisted`. */
function assertRejected (res: HttpResult, errorCode: number, what: string): void {
  assertError(res, 422, errorCode, what)
  assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message', 'persisted', 'retriable'], `${what}: ${show(res)}`)
  assert.equal(res.body.persisted, 'no', `${what}: ${show(res)}`)
  assert.equal(res.body.retriable, false, `${what}: ${show(res)}`)
}

async function readBack (url: string, format: Format, topic: string, count: number, accept = media(format)): Promise<ConsumedRecord[]> {
  const c = await createConsumer(url, uniqueName(`v2-schema-${format}`), { format, 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const first = await read(c, { accept })
  assert.equal(first.status, 200, show(first))
  assert.equal(first.headers['content-type'], accept)
  const records = [...first.body as ConsumedRecord[], ...await readUntil(c, count - (first.body as unknown[]).length, { accept })]
  records.sort((a, b) => a.offset - b.offset)
  await deleteConsumer(c)
  return records
}

for (const c of CASES) {
  test(`${c.format}: produce with schemas and by id, raw frames in Kafka, subjects in the registry, read back`, async (t) => {
    const { url } = await startProxy(t, registryProxy())
    const topic = uniqueName(`v2-schema-${c.format}`)
    await createTopic(topic, 1)
    const values = c.values.map((v) => v.produced)

    // Values only.
    const plain = await produce(url, topic, c.format, { value_schema: c.valueSchema, records: values.map((value) => ({ value })) })
    offsetsOk(plain, 0, 2)
    assert.equal(plain.headers['content-type'], V2)
    assert.equal(plain.body.key_schema_id, null)
    const valueId = schemaId(plain.body.value_schema_id, 'value_schema_id')

    // Keyed: the same value schema keeps its id.
    const keyed = await produce(url, topic, c.format, {
      key_schema: c.keySchema,
      value_schema: c.valueSchema,
      records: c.keys.map((k, i) => ({ key: k.produced, value: values[i] }))
    })
    offsetsOk(keyed, 2, 2)
    const keyId = schemaId(keyed.body.key_schema_id, 'key_schema_id')
    assert.equal(keyed.body.value_schema_id, valueId)

    // By id: the ids the responses gave stand for the schemas.
    const byId = await produce(url, topic, c.format, {
      key_schema_id: keyId,
      value_schema_id: valueId,
      records: c.keys.map((k, i) => ({ key: k.produced, value: values[i] }))
    })
    offsetsOk(byId, 4, 2)
    assert.equal(byId.body.key_schema_id, keyId)
    assert.equal(byId.body.value_schema_id, valueId)

    const raw = await readAll(topic, 1, 6)
    assert.equal(raw.length, 6)
    raw.sort((a, b) => a.offset - b.offset)
    for (const r of raw) {
      assert.equal(frameId(r.value, c.format, `value at ${r.offset}`), valueId)
      if (r.offset < 2) assert.equal(r.key, null, `key at ${r.offset}`)
      else assert.equal(frameId(r.key, c.format, `key at ${r.offset}`), keyId)
    }
    // A schema given by id encodes exactly as the same schema given as text.
    assert.deepEqual(raw.slice(4).map(rawKv), raw.slice(2, 4).map(rawKv))

    await assertRegistered(c, `${topic}-value`, c.valueSchema, valueId)
    await assertRegistered(c, `${topic}-key`, c.keySchema, keyId)

    const records = await readBack(url, c.format, topic, 6)
    assert.deepEqual(records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value })), [
      ...c.values.map((v, i) => ({ topic, partition: 0, offset: i, key: null, value: v.read })),
      ...[2, 4].flatMap((base) => c.values.map((v, i) => ({ topic, partition: 0, offset: base + i, key: c.keys[i]?.read, value: v.read })))
    ])
  })

  test(`${c.format}: 42201, 42202, 42205 and 42203 write nothing; a binary Accept on a format ${c.format} instance is 406/40601`, async (t) => {
    const { url } = await startProxy(t, registryProxy())
    const topic = uniqueName(`v2-schema-${c.format}-errors`)
    await createTopic(topic, 1)
    const [value, other] = c.values.map((v) => v.produced)
    const key = c.keys[0]?.produced

    // Parsed before anything is registered.
    assertRejected(await produce(url, topic, c.format, { value_schema: c.invalidSchema, records: [{ value }] }), 42205, 'invalid value schema')
    assertRejected(await produce(url, topic, c.format, { value_schema: 'not a schema {', records: [{ value }] }), 42205, 'unparsable value schema')
    assertRejected(await produce(url, topic, c.format, { key_schema: c.invalidSchema, value_schema: c.valueSchema, records: [{ key, value }] }), 42205, 'invalid key schema')
    const none = await registryGet(`/subjects/${encodeURIComponent(`${topic}-value`)}/versions/latest`)
    assert.equal(none.status, 404, `an invalid schema must not be registered: ${JSON.stringify(none.body)}`)

    assertRejected(await produce(url, topic, c.format, { records: [{ value }] }), 42202, 'value without any schema')
    assertRejected(await produce(url, topic, c.format, { key_schema: c.keySchema, records: [{ key, value }] }), 42202, 'value without a value schema')
    assertRejected(await produce(url, topic, c.format, { value_schema: c.valueSchema, records: [{ value }, { key, value: other }] }), 42201, 'key without a key schema')
    for (const [i, bad] of c.mismatched.entries()) {
      // The bad record is second: one bad record fails the whole request.
      assertRejected(await produce(url, topic, c.format, { value_schema: c.valueSchema, records: [{ value }, { value: bad }] }), 42203, `mismatched value ${i}`)
    }
    assertRejected(await produce(url, topic, c.format, { key_schema: c.keySchema, value_schema: c.valueSchema, records: [{ key: c.mismatched[0], value }] }), 42203, 'mismatched key')

    // None of the rejected requests wrote anything: the first good record is at offset 0.
    offsetsOk(await produce(url, topic, c.format, { value_schema: c.valueSchema, records: [{ value }] }), 0, 1)

    const consumer = await createConsumer(url, uniqueName(`v2-schema-${c.format}-406`), { format: c.format, 'auto.offset.reset': 'earliest' })
    await subscribe(consumer, [topic])
    const otherSchemaFormat = c.format === 'avro' ? 'protobuf' : 'avro'
    for (const accept of [BINARY_V2, V2, '*/*', media(otherSchemaFormat), media('json')]) {
      const res = await read(consumer, { accept })
      assertError(res, 406, 40601, `read with Accept ${accept}`)
    }
    // The instance still reads its own format.
    const records = await readUntil(consumer, 1, { accept: media(c.format) })
    assert.deepEqual(records.map((r) => r.value), [c.values[0]?.read])
    await deleteConsumer(consumer)
  })
}

function rawKv (r: ReadRecord): { key: string | null, value: string | null } {
  return { key: r.key?.toString('hex') ?? null, value: r.value?.toString('hex') ?? null }
}

async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const AVRO = CASES[0] as Case

test('registry down: a schema produce answers 408/40801, retriable, persisted no', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: `http://127.0.0.1:${await closedPort()}` } })
  const topic = uniqueName('v2-schema-registry-down')
  await createTopic(topic, 1)
  const value = AVRO.values[0]?.produced
  for (const body of [{ value_schema: AVRO.valueSchema, records: [{ value }] }, { value_schema_id: 1, records: [{ value }] }]) {
    const res = await produce(url, topic, 'avro', body)
    assertError(res, 408, 40801, JSON.stringify(Object.keys(body)))
    assert.equal(res.body.retriable, true, show(res))
    assert.equal(res.body.persisted, 'no', show(res))
  }
})

test('registry refusal: an incompatible new version and an unknown schema id answer 422/42207', async (t) => {
  const { url } = await startProxy(t, registryProxy())
  const topic = uniqueName('v2-schema-refused')
  await createTopic(topic, 1)
  const v1 = JSON.stringify({ type: 'record', name: 'Evolving', fields: [{ name: 'a', type: 'string' }] })
  // A new field without a default: readers of the new schema cannot read old records (BACKWARD).
  const v2 = JSON.stringify({ type: 'record', name: 'Evolving', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'int' }] })
  offsetsOk(await produce(url, topic, 'avro', { value_schema: v1, records: [{ value: { a: 'x' } }] }), 0, 1)
  assertRejected(await produce(url, topic, 'avro', { value_schema: v2, records: [{ value: { a: 'x', b: 1 } }] }), 42207, 'incompatible schema')
  assertRejected(await produce(url, topic, 'avro', { value_schema_id: 2147483647, records: [{ value: { a: 'x' } }] }), 42207, 'unknown schema id')
  // Only the first record reached Kafka.
  offsetsOk(await produce(url, topic, 'avro', { value_schema: v1, records: [{ value: { a: 'y' } }] }), 1, 1)
})

test('registry not configured: schema produce answers 422/42206', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: '' } })
  const topic = uniqueName('v2-schema-unconfigured')
  await createTopic(topic, 1)
  for (const c of CASES) {
    const value = c.values[0]?.produced
    assertRejected(await produce(url, topic, c.format, { value_schema: c.valueSchema, records: [{ value }] }), 42206, `${c.format} by schema`)
    assertRejected(await produce(url, topic, c.format, { value_schema_id: 1, records: [{ value }] }), 42206, `${c.format} by id`)
  }
})

test('avro: a 300-record batch above the offload threshold is encoded in the worker pool, byte for byte as inline', async (t) => {
  // Counts the pool tasks this process runs; the proxy runs in-process.
  const tasks: string[] = []
  const original = Object.getOwnPropertyDescriptor(TaskPool.prototype, 'run') as PropertyDescriptor
  const run = original.value as TaskPool['run']
  TaskPool.prototype.run = function (this: TaskPool, name: string, ...rest: [unknown, ArrayBuffer[]?]) {
    tasks.push(name)
    return run.call(this, name, ...rest)
  } as TaskPool['run']
  t.after(() => { Object.defineProperty(TaskPool.prototype, 'run', original) })

  const pooled = await startProxy(t, { ...registryProxy(), pool: { offload_threshold_bytes: 1024 } })
  const inline = await startProxy(t, registryProxy())
  const topic = uniqueName('v2-schema-pool')
  const inlineTopic = uniqueName('v2-schema-inline')
  await Promise.all([createTopic(topic, 1), createTopic(inlineTopic, 1)])
  const values = Array.from({ length: 300 }, (_, i) => ({
    name: `user-${i}-${'x'.repeat(i % 17)}`,
    age: i,
    nick: i % 3 === 0 ? null : { string: `n${i}` },
    score: i / 4,
    tags: Array.from({ length: i % 4 }, (_, j) => `t${j}`)
  }))
  const body = JSON.stringify({ key_schema: AVRO.keySchema, value_schema: AVRO.valueSchema, records: values.map((value, i) => ({ key: `k${i}`, value })) })
  assert.ok(Buffer.byteLength(body) >= 1024 && Buffer.byteLength(body) < 131072, `body of ${Buffer.byteLength(body)} bytes`)

  const res = await produce(pooled.url, topic, 'avro', body)
  offsetsOk(res, 0, 300)
  assert.deepEqual(tasks, ['schema-encode'])
  const inlineRes = await produce(inline.url, inlineTopic, 'avro', body)
  offsetsOk(inlineRes, 0, 300)
  assert.deepEqual(tasks, ['schema-encode'], 'the default threshold keeps this body inline')

  // Both topics' subjects hold the same schema text, so the registry gives both the same ids.
  assert.equal(res.body.value_schema_id, inlineRes.body.value_schema_id)
  assert.equal(res.body.key_schema_id, inlineRes.body.key_schema_id)
  const [a, b] = await Promise.all([readAll(topic, 1, 300), readAll(inlineTopic, 1, 300)])
  assert.equal(a.length, 300)
  assert.deepEqual(a.sort((x, y) => x.offset - y.offset).map(rawKv), b.sort((x, y) => x.offset - y.offset).map(rawKv))

  const records = await readBack(pooled.url, 'avro', topic, 300)
  assert.deepEqual(records.map((r) => ({ offset: r.offset, key: r.key, value: r.value })), values.map((value, i) => ({ offset: i, key: `k${i}`, value })))

  // A mismatch found in the pool is the same 42203, and writes nothing.
  const bad = JSON.stringify({ value_schema: AVRO.valueSchema, records: [...values.map((value) => ({ value })), { value: { name: 1 } }] })
  assertRejected(await produce(pooled.url, topic, 'avro', bad), 42203, 'mismatch in a pooled batch')
  assert.deepEqual(tasks, ['schema-encode', 'schema-encode'])
  offsetsOk(await produce(pooled.url, topic, 'avro', { value_schema_id: res.body.value_schema_id, records: [{ value: values[0] }] }), 300, 1)
})

// "A Comprehensive REST Proxy for Kafka" (Confluent blog, CP 1.0): the Avro
// produce / create / read / delete example, /work/shared/seeds/001_2c777184cb70dfa0.txt.
// Host, topic and group names differ; everything else is as the post shows it.
// The post's text lost the line closing the `records` array (and the braces of
// the responses); the body below restores only that `]`.
test('seed 001: the Avro example (v1 types, produce with value_schema, create with smallest, read …/topics/{topic}, delete)', async (t) => {
  // The post's single GET shows both records; give the first read time to join the group.
  const { url, server } = await startProxy(t, { ...registryProxy(), consumer: { request_timeout_ms: 5000 } })
  const topic = uniqueName('avrotest')
  const group = uniqueName('my_avro_consumer')
  await createTopic(topic, 1)
  // curl sends `Accept: */*` when the command sets none.
  const CURL = { accept: '*/*' }

  const produced = await request('POST', `${url}/topics/${topic}`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.avro.v1+json' },
    body: `{
   "value_schema": "{\\"type\\": \\"record\\", \\"name\\": \\"User\\", \\"fields\\": [{\\"name\\": \\"username\\", \\"type\\": \\"string\\"}]}",
   "records": [
     {"value": {"username": "testUser"}},
     {"value": {"username": "testUser2"}}
   ]
}`
  })
  assert.equal(produced.status, 200, show(produced))
  assert.equal(produced.headers['content-type'], 'application/vnd.kafka.v1+json')
  // The post shows id 1, the first id of its fresh registry; ours is shared with the other tests.
  const valueSchemaId = schemaId(produced.body.value_schema_id, 'value_schema_id')
  assert.deepEqual(produced.body, {
    key_schema_id: null,
    value_schema_id: valueSchemaId,
    offsets: [
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 1, error_code: null, error: null }
    ]
  })
  const latest = await registryGet(`/subjects/${topic}-value/versions/latest`)
  assert.equal(latest.status, 200, JSON.stringify(latest.body))
  assert.equal(latest.body.id, valueSchemaId)
  assert.deepEqual(JSON.parse(latest.body.schema), { type: 'record', name: 'User', fields: [{ name: 'username', type: 'string' }] })

  const create = await request('POST', `${url}/consumers/${group}`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.v1+json' },
    body: '{"format": "avro", "auto.offset.reset": "smallest"}'
  })
  assert.equal(create.status, 200, show(create))
  assert.equal(create.headers['content-type'], 'application/vnd.kafka.v1+json')
  const instanceId = create.body.instance_id as string
  assert.match(instanceId, /^rest-consumer-/)
  assert.deepEqual(create.body, { instance_id: instanceId, base_uri: `http://127.0.0.1:${server.port}/consumers/${group}/instances/${instanceId}` })

  const records = await request('GET', `${create.body.base_uri}/topics/${topic}`, { headers: { accept: 'application/vnd.kafka.avro.v1+json' } })
  assert.equal(records.status, 200, show(records))
  assert.equal(records.headers['content-type'], 'application/vnd.kafka.avro.v1+json')
  assert.deepEqual((records.body as ConsumedRecord[]).map(({ key, value, partition, offset }) => ({ key, value, partition, offset })), [
    { key: null, value: { username: 'testUser' }, partition: 0, offset: 0 },
    { key: null, value: { username: 'testUser2' }, partition: 0, offset: 1 }
  ])

  const del = await request('DELETE', create.body.base_uri, { headers: CURL })
  assert.equal(del.status, 204, show(del))
  assert.equal(del.text, '')
})
