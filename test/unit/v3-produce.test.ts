import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTimestamp, parseV3Record } from '../../src/produce/v3-record.js'
import { rejects, throwsWith } from '../helpers/errors.js'
import { JsonObjectSplitter } from '../../src/json/object-splitter.js'

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678)
const b64 = (s: string): string => Buffer.from(s).toString('base64')

test('BINARY, JSON and STRING data are encoded with their sizes', () => {
  const r = parseV3Record({ key: { type: 'BINARY', data: b64('k\u0000') }, value: { type: 'JSON', data: { a: [1, 'x'] } } }, NOW)
  assert.deepEqual(r.record.key, Buffer.from('k\u0000'))
  assert.equal(r.record.value?.toString(), '{"a":[1,"x"]}')
  assert.deepEqual(r.key, { type: 'BINARY', size: 2 })
  assert.deepEqual(r.value, { type: 'JSON', size: 13 })
  const s = parseV3Record({ value: { type: 'STRING', data: 'héllo' } }, NOW)
  assert.equal(s.record.value?.toString(), 'héllo')
  assert.deepEqual(s.value, { type: 'STRING', size: 6 })
  assert.equal(s.record.key, null)
  assert.equal(s.key, null)
})

test('JSON data may be any JSON value, including a string and false', () => {
  assert.equal(parseV3Record({ value: { type: 'JSON', data: 'x' } }, NOW).record.value?.toString(), '"x"')
  assert.equal(parseV3Record({ value: { type: 'JSON', data: false } }, NOW).record.value?.toString(), 'false')
})

test('absent or null key/value/data mean null bytes; a sent Data object is still reported', () => {
  const r = parseV3Record({ key: null, value: { type: 'BINARY' } }, NOW)
  assert.equal(r.record.key, null)
  assert.equal(r.record.value, null)
  assert.equal(r.key, null)
  assert.deepEqual(r.value, { type: 'BINARY', size: 0 })
  assert.deepEqual(parseV3Record({}, NOW).record, { key: null, value: null, partition: -1, headers: undefined, timestamp: NOW })
})

test('type names are case-insensitive', () => {
  assert.deepEqual(parseV3Record({ value: { type: 'string', data: 'a' } }, NOW).value, { type: 'STRING', size: 1 })
})

test('bad base64 is a 400 naming the data', () => {
  throwsWith(() => parseV3Record({ value: { type: 'BINARY', data: 'not base64!' } }, NOW), 400,
    /^Bad Request: data=not base64! is not a valid base64 string\.$/)
  throwsWith(() => parseV3Record({ value: { type: 'BINARY', data: 12 } }, NOW), 400, /data=12 is not a base64 string/)
  throwsWith(() => parseV3Record({ value: { type: 'STRING', data: 12 } }, NOW), 400, /must be a JSON string/)
})

test('unknown fields are a 400, at the record, data and header level', () => {
  throwsWith(() => parseV3Record({ records: [] }, NOW), 400, /Unrecognized field "records"/)
  throwsWith(() => parseV3Record({ value: { type: 'JSON', data: 1, extra: 1 } }, NOW), 400, /Unrecognized field "extra" in value/)
  throwsWith(() => parseV3Record({ headers: [{ name: 'a', value: null, x: 1 }] }, NOW), 400, /Unrecognized field "x"/)
  throwsWith(() => parseV3Record({ id: 'a' }, NOW), 400, /Unrecognized field "id"/)
  assert.equal(parseV3Record({ id: 'a' }, NOW, 'id').record.partition, -1)
})

test('schema types leave the key/value to the schema encoder, with the arguments they name', () => {
  const r = parseV3Record({ key: { type: 'avro', schema: '"string"', data: 'k' }, value: { subject: 's', schema_version: 2, data: { a: 1 } } }, NOW)
  assert.equal(r.record.key, null)
  assert.equal(r.key, null)
  assert.deepEqual(r.schemas?.key, { type: 'AVRO', subject: null, strategy: null, schemaId: null, schemaVersion: null, schema: '"string"', data: 'k' })
  assert.deepEqual(r.schemas?.value, { type: null, subject: 's', strategy: null, schemaId: null, schemaVersion: 2, schema: null, data: { a: 1 } })
  // No type and no schema fields: the latest schema of the subject.
  const latest = parseV3Record({ value: { data: 'x', subject_name_strategy: 'topic_record_name' } }, NOW)
  assert.equal(latest.schemas?.key, null)
  assert.equal(latest.schemas?.value?.strategy, 'topic_record_name')
  assert.equal(parseV3Record({ value: { type: 'JSONSCHEMA', schema_id: undefined, schema: '{}' } }, NOW).schemas?.value?.type, 'JSONSCHEMA')
})

test('schemaless types ignore the schema fields and never reach the schema encoder', () => {
  const r = parseV3Record({ value: { type: 'STRING', data: 'x', schema_id: 3, subject: 's' } }, NOW)
  assert.equal(r.schemas, null)
  assert.deepEqual(r.value, { type: 'STRING', size: 1 })
})

test('schema argument conflicts and bad schema arguments are 400s', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ subject: 's', subject_name_strategy: 'TOPIC_NAME' }, /subject and subject_name_strategy cannot both be given/],
    [{ schema_id: 1, type: 'AVRO' }, /type cannot be used with schema_id/],
    [{ schema_id: 1, schema_version: 1 }, /schema_version cannot be used with schema_id/],
    [{ schema_id: 1, schema: '"string"' }, /schema cannot be used with schema_id/],
    [{ schema_version: 1, type: 'PROTOBUF' }, /type cannot be used with schema_version/],
    [{ schema_version: 1, schema: '"string"' }, /schema cannot be used with schema_version/],
    [{ schema: '"string"', data: 'x' }, /type \(AVRO, JSONSCHEMA or PROTOBUF\) is required with schema/],
    [{ type: 'AVRO', data: 'x' }, /type AVRO needs schema, schema_id or schema_version/],
    [{ subject_name_strategy: 'BY_MOOD' }, /not one of TOPIC_NAME, RECORD_NAME, TOPIC_RECORD_NAME/],
    [{ schema_id: -1 }, /schema_id must be a schema id/],
    [{ schema_id: '1' }, /schema_id must be a schema id/],
    [{ schema_version: 0 }, /schema_version must be a version number/],
    [{ subject: 1 }, /subject must be a string/],
    [{ type: 'AVRO', schema: {} }, /schema must be a string/]
  ]
  for (const [value, message] of cases) throwsWith(() => parseV3Record({ value }, NOW), 400, message)
  throwsWith(() => parseV3Record({ value: { type: 'XML', data: 'x' } }, NOW), 400, /not one of BINARY/)
})

test('partition_id: absent is -1, negative is 40402, non-integer is 400', () => {
  assert.equal(parseV3Record({ partition_id: null }, NOW).record.partition, -1)
  assert.equal(parseV3Record({ partition_id: 3 }, NOW).record.partition, 3)
  throwsWith(() => parseV3Record({ partition_id: -1 }, NOW), 40402, /Partition -1 not found/)
  rejects(() => parseV3Record({ partition_id: 1.5 }, NOW), 'badRequest')
  rejects(() => parseV3Record({ partition_id: '1' }, NOW), 'badRequest')
  rejects(() => parseV3Record({ partition_id: 2 ** 31 }, NOW), 'badRequest')
})

test('headers are decoded from base64 in order, with repeated names and null values', () => {
  const r = parseV3Record({ headers: [{ name: 'a', value: b64('1') }, { name: 'a', value: b64('2') }, { name: 'n', value: null }, { name: 'm' }] }, NOW)
  assert.deepEqual(r.record.headers, [{ a: Buffer.from('1') }, { a: Buffer.from('2') }, { n: Buffer.alloc(0) }, { m: Buffer.alloc(0) }])
  rejects(() => parseV3Record({ headers: { a: 1 } }, NOW), 'badRequest')
  rejects(() => parseV3Record({ headers: [{ value: b64('1') }] }, NOW), 'badRequest')
  throwsWith(() => parseV3Record({ headers: [{ name: 'a', value: '***' }] }, NOW), 400, /data=\*\*\* is not a valid base64/)
})

test('timestamp: ISO-8601 instants are taken, anything else is a 400, absent is now', () => {
  assert.equal(parseV3Record({ timestamp: '2023-05-16T18:20:51.844Z' }, NOW).record.timestamp, Date.UTC(2023, 4, 16, 18, 20, 51, 844))
  assert.equal(parseV3Record({ timestamp: null }, NOW).record.timestamp, NOW)
  assert.equal(parseTimestamp('2023-05-16T20:20:51+02:00'), Date.UTC(2023, 4, 16, 18, 20, 51))
  assert.equal(parseTimestamp('2023-05-16T18:20Z'), Date.UTC(2023, 4, 16, 18, 20))
  for (const bad of ['2023-05-16', '2023-02-30T00:00:00Z', '2023-05-16T18:20:51', 'yesterday', '1969-12-31T23:59:59Z']) {
    assert.equal(parseTimestamp(bad), null, bad)
  }
  rejects(() => parseV3Record({ timestamp: 1684261251844 }, NOW), 'badRequest', /timestamp=1684261251844/)
  rejects(() => parseV3Record({ timestamp: '2023-13-01T00:00:00Z' }, NOW), 'badRequest')
})

test('a record must be an object', () => {
  for (const input of [null, [], 'x', 1]) rejects(() => parseV3Record(input, NOW), 'badRequest')
})

test('long invalid values are quoted shortened', () => {
  const long = '!'.repeat(500)
  assert.throws(() => parseV3Record({ value: { type: 'BINARY', data: long } }, NOW), (err: Error) => err.message.length < 120)
})

test('the record size limit: the splitter fails with the configured message and says it was the size', () => {
  const s = new JsonObjectSplitter(20, 'too big')
  const ok = s.push(Buffer.from('{"a":"0123456789"} {"a":"0123'))
  assert.deepEqual(ok, { objects: [Buffer.from('{"a":"0123456789"}')], error: null })
  assert.equal(s.overLimit, false)
  assert.deepEqual(s.push(Buffer.from('456789abc"}')), { objects: [], error: 'too big' })
  assert.equal(s.overLimit, true)
  const malformed = new JsonObjectSplitter(20)
  assert.match(malformed.push(Buffer.from('x')).error ?? '', /Unexpected character/)
  assert.equal(malformed.overLimit, false)
})
