// The renderers of consumed records (v2 binary/json/schema formats, v3
// partition reads) and the decode step of the schema formats, on hostile
// record content: nothing may throw, recurse on content, or alter bytes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderDecoded, renderRecords, type RecordLike } from '../../src/render/v2-records.js'
import { renderPartitionRecords } from '../../src/render/v3-records.js'
import { decodeForRead } from '../../src/formats/schema-formats.js'
import { undecodableError, undecodableParam } from '../../src/render/undecodable.js'
import { encodeFrame } from '../../src/formats/wire.js'
import { registryClient, startFakeRegistry } from '../helpers/fake-registry.js'

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)

function rec (offset: number, value: Buffer | string | null, key: Buffer | string | null = null, extra: Partial<RecordLike> = {}): RecordLike {
  return { topic: 't"q', partition: 3, offset, key, value: typeof value === 'string' ? Buffer.from(value) : value, timestamp: 1700000000000 + offset, headers: [], ...extra }
}

test('binary: base64 keys, values and headers, timestamps, and a topic name that needs escaping', () => {
  const out = renderRecords('binary', [
    rec(0, 'v', 'k', { headers: [{ h1: Buffer.from('x') }, { 'h"2': Buffer.alloc(0) }] }),
    rec(1, null, null, { timestamp: -1 })
  ])
  assert.equal(out.count, 2)
  assert.equal(out.stopped, null)
  assert.deepEqual(JSON.parse(out.body), [
    { topic: 't"q', key: 'aw==', value: 'dg==', partition: 3, offset: 0, timestamp: 1700000000000, headers: [{ name: 'h1', value: 'eA==' }, { name: 'h"2', value: '' }] },
    { topic: 't"q', key: null, value: null, partition: 3, offset: 1, timestamp: null, headers: [] }
  ])
  assert.equal(renderRecords('binary', []).body, '[]')
})

test('json: valid JSON is spliced byte for byte at any depth; the batch stops before the first record that is not JSON', () => {
  const d = deep(100_000)
  const out = renderRecords('json', [rec(0, '{"a":1e999, "b":12345678901234567890}'), rec(1, d, '"k"'), rec(2, '\u0000'), rec(3, '{}')])
  assert.equal(out.count, 2)
  assert.deepEqual(out.stopped, { topic: 't"q', partition: 3, offset: 2, part: 'value', reason: 'not JSON (unexpected byte 0x00 at byte 0)' })
  assert.ok(out.body.includes('"value":{"a":1e999, "b":12345678901234567890},'))
  assert.ok(out.body.includes(`"key":"k","value":${d},`))
  assert.equal((JSON.parse(out.body) as unknown[]).length, 2)
  const first = renderRecords('json', [rec(7, '{}', Buffer.from([0xc3, 0x28]))])
  assert.equal(first.count, 0)
  assert.equal(first.stopped?.part, 'key')
  assert.equal(first.body, '[]')
})

test('json with policy raw: the undecodable side is null, with its bytes and the reason beside it', () => {
  const out = renderRecords('json', [rec(0, 'nope', 'x'), rec(1, '[1]', '"ok"')], 'raw')
  assert.equal(out.count, 2)
  const [a, b] = JSON.parse(out.body) as any[]
  assert.equal(a.key, null)
  assert.equal(a.value, null)
  assert.deepEqual(a.undecodable.key, { data: Buffer.from('x').toString('base64'), reason: 'not JSON (unexpected \'x\' at byte 0)' })
  assert.equal(Buffer.from(a.undecodable.value.data, 'base64').toString(), 'nope')
  assert.deepEqual(b.value, [1])
  assert.equal(b.undecodable, undefined)
})

test('schema formats: decoded JSON text is spliced, a reason stops the batch or is delivered raw', () => {
  const messages = [rec(0, 'A'), rec(1, 'B'), rec(2, 'C')]
  const decoded = [{ key: null, value: { json: '{"x":1}' } }, { key: { reason: 'schema 9: not found' }, value: { json: '2' } }, { key: null, value: { json: '3' } }]
  const failed = renderDecoded(messages, decoded)
  assert.equal(failed.count, 1)
  assert.equal(failed.stopped?.reason, 'schema 9: not found')
  const raw = JSON.parse(renderDecoded(messages, decoded, 'raw').body) as any[]
  assert.deepEqual(raw.map((r) => r.value), [{ x: 1 }, 2, 3])
  assert.equal(raw[1].undecodable.key.reason, 'schema 9: not found')
})

test('v3: JSON, STRING and BINARY sides, a page that stops before a bad record, and raw sides with their reason', () => {
  const d = deep(50_000)
  const messages = [rec(0, d, '"k"', { headers: [{ h: Buffer.from('v') }] }), rec(1, Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), rec(2, '1')]
  const json = renderPartitionRecords(messages, { keyFormat: 'JSON', valueFormat: 'JSON', policy: 'fail' })
  assert.equal(json.count, 1)
  assert.equal(json.stopped?.offset, 1)
  assert.match(json.stopped?.reason ?? '', /invalid string/)
  assert.ok(json.data.includes(`"value":{"type":"JSON","data":${d}}`))
  const [r0] = JSON.parse(json.data) as any[]
  assert.deepEqual(r0.key, { type: 'JSON', data: 'k' })
  assert.equal(r0.timestamp, new Date(1700000000000).toISOString())
  assert.deepEqual(r0.headers, [{ name: 'h', value: 'dg==' }])
  const str = renderPartitionRecords(messages.slice(1), { keyFormat: 'STRING', valueFormat: 'STRING', policy: 'fail' })
  assert.equal(str.count, 0)
  assert.equal(str.stopped?.reason, 'not UTF-8 text')
  const raw = JSON.parse(renderPartitionRecords(messages, { keyFormat: 'BINARY', valueFormat: 'JSON', policy: 'raw' }).data) as any[]
  assert.deepEqual(raw[1].value, { type: 'BINARY', data: Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]).toString('base64'), reason: json.stopped?.reason })
  assert.deepEqual(raw[0].key, { type: 'BINARY', data: Buffer.from('"k"').toString('base64') })
  assert.deepEqual(raw[2].value, { type: 'JSON', data: 1 })
})

test('the undecodable parameter and the error that names the record', () => {
  assert.equal(undecodableParam(new URLSearchParams('')), 'fail')
  assert.equal(undecodableParam(new URLSearchParams('undecodable=raw')), 'raw')
  assert.throws(() => undecodableParam(new URLSearchParams('undecodable=RAW')), /undecodable must be one of fail, raw/)
  assert.throws(() => undecodableParam(new URLSearchParams('undecodable=skip')), /undecodable must be one of fail, raw/)
  const err = undecodableError({ topic: 't', partition: 1, offset: 42, part: 'value', reason: 'not JSON' }, 'seek past offset 42')
  assert.equal(err.errorCode, 50002)
  assert.equal(err.status, 500)
  assert.equal(err.message, 'The value of the record at topic t, partition 1, offset 42 could not be deserialized: not JSON. To go on, seek past offset 42 or read with undecodable=raw.')
})

test('decodeForRead: per-record reasons for bad frames, unknown ids and corrupt payloads; deep JSON Schema payloads verbatim; registry trouble fails the batch', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url, { request_timeout_ms: 200 })
  const avro = fake.seed('a', 'AVRO', '"string"').id
  const json = fake.seed('j', 'JSON', '{"type":"array"}').id
  const d = deep(20_000)
  const out = await decodeForRead('avro', registry, [
    { key: null, value: encodeFrame(avro, Buffer.from('0278', 'hex')) },
    { key: null, value: Buffer.from('{"json":1}') },
    { key: encodeFrame(4242, Buffer.from('02', 'hex')), value: encodeFrame(avro, Buffer.from('08', 'hex')) }
  ])
  assert.deepEqual(out[0], { key: null, value: { json: '"x"' } })
  assert.match((out[1]?.value as { reason: string }).reason, /magic byte 123/)
  assert.match((out[2]?.key as { reason: string }).reason, /^schema 4242: /)
  assert.match((out[2]?.value as { reason: string }).reason, /truncated/)
  const js = await decodeForRead('jsonschema', registry, [{ key: null, value: encodeFrame(json, Buffer.from(d)) }, { key: null, value: encodeFrame(json, Buffer.from('[1,')) }])
  assert.deepEqual(js[0]?.value, { json: d })
  assert.match((js[1]?.value as { reason: string }).reason, /not JSON \(unexpected end of input\)/)
  fake.hang = true
  const cold = registryClient(t, fake.url, { request_timeout_ms: 200 })
  await assert.rejects(decodeForRead('avro', cold, [{ key: null, value: encodeFrame(avro, Buffer.from('0278', 'hex')) }]), (err: any) => err.errorCode === 40801)
})

test('decodeForRead: recursive Avro and Protobuf records deeper than their decoders follow are a reason, not a failed read', async (t) => {
  const fake = await startFakeRegistry(t)
  const registry = registryClient(t, fake.url)
  const node = fake.seed('n', 'AVRO', JSON.stringify({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] })).id
  // Each level is the union branch 1 (zigzag 2); the innermost is null (0).
  const avroDeep = (n: number): Buffer => encodeFrame(node, Buffer.concat([Buffer.alloc(n, 2), Buffer.from([0])]))
  const [shallow, tooDeep] = await decodeForRead('avro', registry, [{ key: null, value: avroDeep(500) }, { key: null, value: avroDeep(100_000) }])
  assert.ok(shallow?.value !== null && 'json' in (shallow?.value ?? {}), JSON.stringify(shallow).slice(0, 200))
  assert.ok(((shallow?.value as { json: string }).json).startsWith('{"next":{"Node":{"next":{"Node":'))
  assert.match((tooDeep?.value as { reason: string }).reason, /nests deeper than the decoder can follow/)
  const pb = fake.seed('p', 'PROTOBUF', 'syntax = "proto3"; message Node { Node next = 1; int32 x = 2; }').id
  const pbDeep = (n: number): Buffer => {
    let payload = Buffer.from([0x10, 0x01])
    for (let i = 0; i < n; i++) payload = Buffer.concat([Buffer.from([0x0a]), varint(payload.length), payload])
    return encodeFrame(pb, payload, [0])
  }
  const [ok, limit] = await decodeForRead('protobuf', registry, [{ key: null, value: pbDeep(50) }, { key: null, value: pbDeep(5000) }])
  assert.ok('json' in (ok?.value ?? {}), JSON.stringify(ok))
  assert.match((limit?.value as { reason: string }).reason, /max depth/)
})

function varint (n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Buffer.from(out)
}
