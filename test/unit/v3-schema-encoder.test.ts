// V3SchemaEncoder against the in-process fake registry: which registry calls
// each of Confluent's four branches makes, what the wire bytes and result
// summaries hold, and that a cached schema encodes without a promise.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LATEST_TTL_MS, V3SchemaEncoder, parseV3Record, type V3Record } from '../../src/produce/v3-record.js'
import { SchemaRegistryClient } from '../../src/registry/client.js'
import { decodeFrame } from '../../src/formats/wire.js'
import * as avro from '../../src/formats/avro.js'
import { registryClient, startFakeRegistry } from '../helpers/fake-registry.js'
import { ProxyError } from '../../src/errors.js'

const TOPIC_NAME = { key: 'topic_name', value: 'topic_name' } as const
const USER = JSON.stringify({ type: 'record', name: 'User', namespace: 'unit.v3', fields: [{ name: 'name', type: 'string' }] })

function record (value: unknown, key?: unknown): V3Record {
  return parseV3Record(key === undefined ? { value } : { key, value }, 0)
}

async function encoded (encoder: V3SchemaEncoder, rec: V3Record, topic = 't'): Promise<V3Record> {
  await encoder.encode(rec, topic)
  return rec
}

async function fails (p: () => Promise<unknown> | unknown, errorCode: number, message?: RegExp): Promise<void> {
  await assert.rejects(async () => { await p() }, (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.errorCode, errorCode, err.message)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

test('a raw schema is registered under the topic strategy\'s subject and framed; the next record needs no registry call', async (t) => {
  const fake = await startFakeRegistry(t)
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME)
  const rec = await encoded(encoder, record({ type: 'AVRO', schema: USER, data: { name: 'ann' } }, { type: 'STRING', data: 'k' }))
  const frame = decodeFrame(rec.record.value as Buffer)
  assert.equal(frame.schemaId, 1)
  assert.deepEqual(avro.decode(avro.compile({ schema: USER }), frame.payload), { name: 'ann' })
  assert.deepEqual(rec.value, { type: 'AVRO', subject: 't-value', schema_id: 1, schema_version: 1, size: (rec.record.value as Buffer).length })
  assert.deepEqual(rec.key, { type: 'STRING', size: 1 })
  const calls = fake.count()

  const next = record({ type: 'AVRO', schema: USER, data: { name: 'bob' } })
  assert.equal(encoder.encode(next, 't'), undefined, 'a cached schema encodes synchronously')
  assert.equal(decodeFrame(next.record.value as Buffer).schemaId, 1)
  assert.equal(fake.count(), calls)
})

test('schema_id: the subject must hold the id, whose version is reported', async (t) => {
  const fake = await startFakeRegistry(t)
  fake.seed('t-value', 'AVRO', '"int"')
  const { id } = fake.seed('t-value', 'AVRO', USER)
  fake.seed('other', 'AVRO', '"long"')
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME)
  const rec = await encoded(encoder, record({ schema_id: id, data: { name: 'x' } }))
  assert.deepEqual(rec.value, { type: 'AVRO', subject: 't-value', schema_id: id, schema_version: 2, size: 7 })
  await fails(() => encoder.encode(record({ schema_id: 3, data: 1 }), 't'), 42207, /not registered under subject t-value/)
  const bySubject = await encoded(encoder, record({ schema_id: 3, subject: 'other', data: 5 }))
  assert.equal(bySubject.value?.subject, 'other')
  await fails(() => encoder.encode(record({ schema_id: 99, data: 1 }), 't'), 42207)
})

test('schema_version and the latest version; latest is re-read after its TTL', async (t) => {
  const fake = await startFakeRegistry(t)
  fake.seed('t-key', 'JSON', '{"$schema":"http://json-schema.org/draft-07/schema#","type":"string"}')
  fake.seed('t-value', 'AVRO', '"string"')
  let now = 1000
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME, () => now)
  const v1 = await encoded(encoder, record({ schema_version: 1, data: 'a' }, { data: 'k' }))
  assert.equal(v1.key?.type, 'JSONSCHEMA')
  assert.equal(v1.record.key?.subarray(5).toString(), '"k"')
  assert.deepEqual(v1.value, { type: 'AVRO', subject: 't-value', schema_id: 2, schema_version: 1, size: 7 })

  const first = await encoded(encoder, record({ data: 'latest' }))
  assert.equal(first.value?.schema_version, 1)
  fake.seed('t-value', 'AVRO', USER)
  const cached = record({ data: 'still a string' })
  assert.equal(encoder.encode(cached, 't'), undefined, 'latest is served from the cache within its TTL')
  assert.equal(cached.value?.schema_version, 1)
  now += LATEST_TTL_MS
  const fresh = record({ data: { name: 'n' } })
  const pending = encoder.encode(fresh, 't')
  assert.ok(pending instanceof Promise, 'an expired latest is looked up again')
  await pending
  assert.deepEqual(fresh.value, { type: 'AVRO', subject: 't-value', schema_id: 3, schema_version: 2, size: 7 })
})

test('the latest path with no type resolves even for an explicit -1 version', async (t) => {
  const fake = await startFakeRegistry(t)
  fake.seed('t-value', 'AVRO', '"string"')
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME)
  const rec = await encoded(encoder, record({ schema_version: -1, data: 's' }))
  assert.equal(rec.value?.schema_version, 1)
})

test('record name strategies: the name comes from the schema; without one it is a 400', async (t) => {
  const fake = await startFakeRegistry(t)
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), { key: 'topic_name', value: 'record_name' })
  const byDefault = await encoded(encoder, record({ type: 'AVRO', schema: USER, data: { name: 'a' } }))
  assert.equal(byDefault.value?.subject, 'unit.v3.User')
  const topicRecord = await encoded(encoder, record({ type: 'AVRO', schema: USER, subject_name_strategy: 'TOPIC_RECORD_NAME', data: { name: 'a' } }))
  assert.equal(topicRecord.value?.subject, 't-unit.v3.User')
  await fails(() => encoder.encode(record({ data: 'x' }), 't'), 400, /RECORD_NAME needs the schema to name the subject/)
  await fails(() => encoder.encode(record({ type: 'AVRO', schema: '"string"', data: 'x' }), 't'), 42205)
  const explicit = await encoded(encoder, record({ type: 'AVRO', schema: '"string"', subject: 'mine', data: 'x' }))
  assert.equal(explicit.value?.subject, 'mine')
})

test('data the schema rejects is a 400; an invalid schema is 42205; registry errors keep their codes', async (t) => {
  const fake = await startFakeRegistry(t)
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME)
  await fails(() => encoder.encode(record({ type: 'AVRO', schema: USER, data: { name: 3 } }), 't'), 400, /^Bad Request: Failed to serialize the value as Avro/)
  await fails(() => encoder.encode(record({ type: 'AVRO', schema: '{"type":"nope"}', data: 1 }), 't'), 42205)
  fake.failNext(403, { error_code: 40301, message: 'denied' })
  await fails(() => encoder.encode(record({ type: 'AVRO', schema: '"int"', data: 1 }), 't'), 40301)
  fake.failNext(500, { error_code: 50001, message: 'boom' })
  await fails(() => encoder.encode(record({ type: 'AVRO', schema: '"long"', data: 1 }), 't'), 42207)
  await fails(() => encoder.encode(record({ subject: 'nobody', data: 1 }), 't'), 42207)
})

test('null data with a schema is a null key/value that still reports its schema', async (t) => {
  const fake = await startFakeRegistry(t)
  const encoder = new V3SchemaEncoder(registryClient(t, fake.url), TOPIC_NAME)
  const rec = await encoded(encoder, record({ type: 'AVRO', schema: '"string"' }))
  assert.equal(rec.record.value, null)
  assert.deepEqual(rec.value, { type: 'AVRO', subject: 't-value', schema_id: 1, schema_version: 1, size: 0 })
})

test('without a registry URL a schema record fails at once with 42206', () => {
  const encoder = new V3SchemaEncoder(new SchemaRegistryClient({ url: '', basic_auth_user: '', basic_auth_password: '', ca_file: '', request_timeout_ms: 1000 }), TOPIC_NAME)
  assert.throws(() => encoder.encode(record({ type: 'AVRO', schema: '"string"', data: 'x' }), 't'),
    (err: unknown) => err instanceof ProxyError && err.errorCode === 42206 && err.message === 'Schema Registry must be configured when using schemas.')
  assert.equal(encoder.encode(record({ type: 'JSON', data: 1 }), 't'), undefined)
})
