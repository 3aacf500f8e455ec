import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decodeRecord,
  decodeRecordBatch,
  encodeBodyWithSchemas,
  encodeRecords,
  encodeRecordsInPool,
  encodeWithSchemas,
  resolveProduceSchemas,
  type SchemaFormat
} from '../../src/formats/schema-formats.js'
import { SchemaRegistryClient } from '../../src/registry/client.js'
import { decodeFrame, encodeFrame } from '../../src/formats/wire.js'
import { ProxyError } from '../../src/errors.js'
import { throwsWith } from '../helpers/errors.js'
import { TaskPool } from '../../src/pool/pool.js'
import schemaEncode from '../../workers/schema-encode.js'
import { registryClient, startFakeRegistry } from '../helpers/fake-registry.js'

const USER_AVRO = JSON.stringify({
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [{ name: 'id', type: 'int' }, { name: 'email', type: ['null', 'string'], default: null }]
})
const KEY_AVRO = '"string"'
const USER_JSON = JSON.stringify({ title: 'User', type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] })
const USER_PROTO = 'syntax = "proto3"; package com.example; message User { int32 id = 1; string email = 2; }'

function hex (b: Uint8Array | null | undefined): string | null {
  return b === null || b === undefined ? null : Buffer.from(b).toString('hex')
}

async function rejectsWith (p: Promise<unknown>, errorCode: number, status: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.errorCode, errorCode)
    assert.equal(err.status, status)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

test('avro: raw schemas are registered under <topic>-key/-value, records come out framed', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const request = {
    key_schema: KEY_AVRO,
    value_schema: USER_AVRO,
    records: [
      { key: 'k1', value: { id: 1, email: { string: 'a@b' } }, partition: 2 },
      { value: { id: 2, email: null } },
      { key: 'k3', value: null }
    ]
  }
  const out = await encodeRecords('avro', registry, 'users', request)
  const keyId = (await registry.lookup('users-key', KEY_AVRO, 'AVRO'))?.id
  const valueId = (await registry.lookup('users-value', USER_AVRO, 'AVRO'))?.id
  assert.equal(out.keySchemaId, keyId)
  assert.equal(out.valueSchemaId, valueId)
  assert.notEqual(keyId, valueId)
  // Key "k1": magic 0, id, then the Avro string (length 2 -> 04, "k1").
  assert.equal(hex(out.batch.keys[0]), '00' + (keyId as number).toString(16).padStart(8, '0') + '04' + '6b31')
  // Value {id: 1, email: {"string": "a@b"}}: 02, branch 1 (02), length 3 (06) "a@b".
  assert.equal(hex(out.batch.values[0]), '00' + (valueId as number).toString(16).padStart(8, '0') + '02' + '02' + '06' + '614062')
  // Null and absent keys and values stay null: no frame, no schema needed.
  assert.equal(out.batch.keys[1], null)
  assert.equal(out.batch.values[2], null)
  assert.deepEqual([...out.batch.partitions], [2, -1, -1])

  const back = await decodeRecord('avro', registry, out.batch.keys[0] ?? null, out.batch.values[0] ?? null)
  assert.deepEqual(back, { key: 'k1', value: { id: 1, email: { string: 'a@b' } } })
})

test('registry calls happen once per request and schema, then not at all', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const records = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: { id: i } }))
  const first = await encodeRecords('avro', registry, 'bulk', { key_schema: KEY_AVRO, value_schema: USER_AVRO, records })
  // Per side: one lookup (not found) and one registration, whatever the record count.
  assert.equal(fake.count(), 4)
  await encodeRecords('avro', registry, 'bulk', { key_schema: KEY_AVRO, value_schema: USER_AVRO, records })
  // What was registered is known by id, too.
  await encodeRecords('avro', registry, 'bulk', { key_schema: KEY_AVRO, value_schema_id: first.valueSchemaId, records })
  assert.equal(fake.count(), 4)

  // Reads: one id lookup per distinct schema, for the whole batch and the next ones.
  const fresh = registryClient(t, fake.url)
  const encoded = await encodeRecords('avro', registry, 'bulk', { key_schema: KEY_AVRO, value_schema: USER_AVRO, records })
  const framed = encoded.batch.values.map((v, i) => ({ key: encoded.batch.keys[i] ?? null, value: v ?? null }))
  const before = fake.count()
  const decoded = await decodeRecordBatch('avro', fresh, framed)
  await decodeRecordBatch('avro', fresh, framed)
  assert.equal(fake.count() - before, 2)
  assert.deepEqual(decoded[499], { key: 'k499', value: { id: 499, email: null } })
})

test('by id: the registered schema is used, with its references', async (t) => {
  const fake = await startFakeRegistry(t)
  const address = fake.seed('address', 'AVRO', JSON.stringify({ type: 'record', name: 'Address', namespace: 'shared', fields: [{ name: 'zip', type: 'string' }] }))
  const { id } = fake.seed('people-value', 'AVRO', JSON.stringify({ type: 'record', name: 'Person', fields: [{ name: 'home', type: 'shared.Address' }] }),
    [{ name: 'shared.Address', subject: 'address', version: address.version }])
  const registry = registryClient(t, fake.url)
  const out = await encodeRecords('avro', registry, 'people', { value_schema_id: id, records: [{ value: { home: { zip: '1' } } }] })
  assert.equal(out.valueSchemaId, id)
  assert.equal(out.keySchemaId, null)
  assert.deepEqual(await decodeRecord('avro', registry, null, out.batch.values[0] ?? null), { key: null, value: { home: { zip: '1' } } })
  assert.equal(fake.count('POST'), 0, 'nothing is registered for a schema given by id')
})

test('jsonschema and protobuf frames', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const js = await encodeRecords('jsonschema', registry, 'j', { value_schema: USER_JSON, records: [{ value: { id: 7 } }] })
  const jsId = js.valueSchemaId as number
  assert.deepEqual(decodeFrame(js.batch.values[0] as Buffer), { schemaId: jsId, payload: Buffer.from('{"id":7}') })
  assert.deepEqual((await decodeRecord('jsonschema', registry, null, js.batch.values[0] ?? null)).value, { id: 7 })

  const pb = await encodeRecords('protobuf', registry, 'p', { value_schema: USER_PROTO, records: [{ value: { id: 150 } }] })
  const pbId = pb.valueSchemaId as number
  // The message index [0] is the single 0 byte after the id; then field 1 = 150.
  assert.equal(hex(pb.batch.values[0]), '00' + pbId.toString(16).padStart(8, '0') + '00' + '089601')
  assert.deepEqual((await decodeRecord('protobuf', registry, null, pb.batch.values[0] ?? null)).value, { id: 150, email: '' })
  assert.equal((await registry.getById(pbId)).schemaType, 'PROTOBUF')
  assert.equal((await registry.getById(jsId)).schemaType, 'JSON')
})

test('record_name and topic_record_name strategies pick the subject from the schema', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  await resolveProduceSchemas('avro', registry, 'orders', { value_schema: USER_AVRO }, { key: 'topic_name', value: 'record_name' })
  await resolveProduceSchemas('protobuf', registry, 'orders', { key_schema: USER_PROTO }, { key: 'topic_record_name', value: 'topic_name' })
  await resolveProduceSchemas('jsonschema', registry, 'orders', { value_schema: USER_JSON }, { key: 'topic_name', value: 'topic_record_name' })
  const registered = fake.requests.filter((r) => r.path.endsWith('/versions')).map((r) => decodeURIComponent(r.path.split('/')[2] as string))
  assert.deepEqual(registered, ['com.example.User', 'orders-com.example.User', 'orders-User'])
  await rejectsWith(resolveProduceSchemas('avro', registry, 'orders', { value_schema: '"string"' }, { key: 'topic_name', value: 'record_name' }), 42205, 422)
})

test('v2 request rules: missing schemas, both forms, bad fields, no registry', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: USER_AVRO, records: [{ key: 'k', value: { id: 1 } }] }), 42201, 422,
    /^Request includes keys but does not include key schema$/)
  await rejectsWith(encodeRecords('avro', registry, 't', { key_schema: KEY_AVRO, records: [{ key: 'k', value: { id: 1 } }] }), 42202, 422,
    /^Request includes values but does not include value schema$/)
  // Null data needs no schema at all.
  const nulls = await encodeRecords('avro', registry, 't', { records: [{ key: null, value: null }, {}] })
  assert.deepEqual(nulls.batch.values, [null, null])
  assert.equal(nulls.valueSchemaId, null)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: USER_AVRO, value_schema_id: 1, records: [{ value: { id: 1 } }] }), 400, 400, /Unsupported argument/)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema_id: 'one', records: [{ value: 1 }] }), 400, 400)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: { type: 'int' }, records: [{ value: 1 }] }), 400, 400)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: '{"type": "nope"}', records: [{ value: 1 }] }), 42205, 422)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: USER_AVRO, records: [] }), 422, 422)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: USER_AVRO, records: [{ value: { id: 1 }, partition: -1 }] }), 40402, 404)
  // A schema id of another type is not a schema of this format.
  const proto = fake.seed('x', 'PROTOBUF', USER_PROTO)
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema_id: proto.id, records: [{ value: { id: 1 } }] }), 42205, 422, /PROTOBUF/)
  // Unknown id: Confluent's 42207.
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema_id: 999, records: [{ value: { id: 1 } }] }), 42207, 422, /schemaId = 999/)

  const none = new SchemaRegistryClient({ url: '', basic_auth_user: '', basic_auth_password: '', ca_file: '', request_timeout_ms: 1000 })
  await rejectsWith(encodeRecords('avro', none, 't', { value_schema: USER_AVRO, records: [{ value: { id: 1 } }] }), 42206, 422)
})

test('conversion errors are 42203 naming the record and field', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const records = [{ value: { id: 1 } }, { value: { id: 'x' } }]
  await rejectsWith(encodeRecords('avro', registry, 't', { value_schema: USER_AVRO, records }), 42203, 422,
    /^Conversion of JSON to Avro failed: records\[1\]\.value: field id: expected int, got "x"$/)
  await rejectsWith(encodeRecords('jsonschema', registry, 't', { value_schema: USER_JSON, records }), 42203, 422,
    /^Conversion of JSON to JSON Schema failed: records\[1\]\.value: field \/id: must be integer$/)
  await rejectsWith(encodeRecords('protobuf', registry, 't', { value_schema: USER_PROTO, records }), 42203, 422,
    /^Conversion of JSON to Protobuf failed: records\[1\]\.value: com\.example\.User\.id: invalid integer/)
})

test('reads: bad frames and unknown ids are undecodable (50002); registry trouble passes through', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url, { request_timeout_ms: 200 })
  const { id } = fake.seed('s', 'AVRO', KEY_AVRO)
  await rejectsWith(decodeRecord('avro', registry, null, Buffer.from('{"json":1}'), 'topic-0@5'), 50002, 500, /the value of the record at topic-0@5: Unknown magic byte 123/)
  await rejectsWith(decodeRecord('avro', registry, encodeFrame(4242, Buffer.from('02', 'hex')), null), 50002, 500, /schema 4242: .*schemaId = 4242/)
  // A schema of another type than the consumer's format.
  await rejectsWith(decodeRecord('protobuf', registry, encodeFrame(id, Buffer.from('00', 'hex')), null), 50002, 500)
  // Bytes that do not match the schema.
  await rejectsWith(decodeRecord('avro', registry, encodeFrame(id, Buffer.from('08', 'hex')), null), 50002, 500, /truncated/)
  fake.hang = true
  const cold = registryClient(t, fake.url, { request_timeout_ms: 200 })
  await rejectsWith(decodeRecord('avro', cold, encodeFrame(id, Buffer.from('0278', 'hex')), null), 40801, 408)
  fake.hang = false
  fake.failNext(503, { error_code: 50003, message: 'Error while forwarding the request to the primary' })
  await rejectsWith(decodeRecord('avro', cold, encodeFrame(id, Buffer.from('0278', 'hex')), null), 40801, 408, /forwarding/)
  assert.deepEqual(await decodeRecord('avro', cold, encodeFrame(id, Buffer.from('0278', 'hex')), null), { key: 'x', value: null })
  // Nothing to decode needs no registry.
  assert.deepEqual(await decodeRecord('avro', new SchemaRegistryClient({ url: '', basic_auth_user: '', basic_auth_password: '', ca_file: '', request_timeout_ms: 100 }), null, null), { key: null, value: null })
})

test('inline and pooled encoding give identical bytes', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const pool = new TaskPool({ threads: 1, maxQueue: 16 })
  t.after(() => pool.close())
  const cases: Array<[SchemaFormat, Record<string, unknown>]> = [
    ['avro', { key_schema: KEY_AVRO, value_schema: USER_AVRO, records: Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: { id: i, email: i % 2 === 0 ? null : { string: `u${i}@x` } }, partition: i % 3 })) }],
    ['jsonschema', { value_schema: USER_JSON, records: Array.from({ length: 300 }, (_, i) => ({ value: { id: i }, headers: [{ name: 'h', value: 'AQI=' }] })) }],
    ['protobuf', { value_schema: USER_PROTO, records: Array.from({ length: 300 }, (_, i) => ({ value: { id: i, email: `u${i}` } })) }]
  ]
  for (const [format, request] of cases) {
    const inline = await encodeRecords(format, registry, `pool-${format}`, request)
    const body = Buffer.from(JSON.stringify(request))
    const pooled = await encodeRecordsInPool(pool, format, registry, `pool-${format}`, body, request)
    assert.equal(pooled.keySchemaId, inline.keySchemaId)
    assert.equal(pooled.valueSchemaId, inline.valueSchemaId)
    assert.equal(pooled.batch.count, inline.batch.count)
    assert.deepEqual(pooled.batch.keys.map(hex), inline.batch.keys.map(hex), format)
    assert.deepEqual(pooled.batch.values.map(hex), inline.batch.values.map(hex), format)
    assert.deepEqual([...pooled.batch.partitions], [...inline.batch.partitions])
    assert.deepEqual(pooled.batch.headers?.map((hs) => hs?.map((h) => Object.entries(h).map(([k, v]) => [k, hex(v)]))),
      inline.batch.headers?.map((hs) => hs?.map((h) => Object.entries(h).map(([k, v]) => [k, hex(v)]))))
  }
})

test('the pool task returns errors as data, rehydrated to the same ProxyError', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const pool = new TaskPool({ threads: 1, maxQueue: 16 })
  t.after(() => pool.close())
  const request = { value_schema: USER_AVRO, records: [{ value: { id: 1 } }, { value: { id: 'x' } }] }
  const body = Buffer.from(JSON.stringify(request))
  await rejectsWith(encodeRecordsInPool(pool, 'avro', registry, 't', body, request), 42203, 422, /records\[1\]\.value: field id/)

  // The task function, called directly, reports errors as plain data.
  const schemas = await resolveProduceSchemas('avro', registry, 't', request)
  assert.deepEqual(schemaEncode({ format: 'avro', schemas, body: new Uint8Array(Buffer.from('{"records":[{"key":"k"}]}')) }),
    { ok: false, error: { key: 'keySchemaMissing', message: 'Request includes keys but does not include key schema' } })
  const malformed = schemaEncode({ format: 'avro', schemas, body: new Uint8Array(Buffer.from('{"records": [')) })
  assert.equal(malformed.ok ? null : malformed.error.key, 'malformedJson')
  // The body form and the records form of the pure step agree.
  assert.deepEqual(encodeBodyWithSchemas('avro', schemas, Buffer.from('{"records":[{"value":{"id":3}}]}')).values.map(hex),
    encodeWithSchemas('avro', schemas, [{ value: { id: 3 } }]).values.map(hex))
  throwsWith(() => encodeBodyWithSchemas('avro', schemas, Buffer.from('{"records":[{"key":"k"}]}')), 42201)
})
