// consumer.strip_schema_framing in the renderers: exactly the 5 bytes of a
// Confluent frame go, only from the sides the mode names, only for BINARY,
// STRING and JSON; anything that is not a frame is rendered as stored; the
// stream render cache keeps renderings with and without stripping apart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { framingStrip, NO_STRIP, unframed } from '../../src/render/framing.js'
import { renderRecords, type RecordLike } from '../../src/render/v2-records.js'
import { renderPartitionRecords } from '../../src/render/v3-records.js'
import { renderBatch } from '../../src/streams/render.js'
import { encodeFrame } from '../../src/formats/wire.js'
import type { ConsumerMessage } from '../../src/kafka/binding.js'
import type { SchemaRegistryClient } from '../../src/registry/client.js'

const PAYLOAD = '{"a":[1,2],"s":"x"}'
const framed = (text: string, id = 7): Buffer => encodeFrame(id, Buffer.from(text))
const b64 = (b: Buffer | string): string => (typeof b === 'string' ? Buffer.from(b) : b).toString('base64')
// Only the schema formats use the registry; these tests render none.
const noRegistry = {} as SchemaRegistryClient

function rec (offset: number, value: Buffer | null, key: Buffer | null = null): RecordLike & ConsumerMessage {
  return { topic: 't', partition: 0, offset, key, value, timestamp: 1700000000000, headers: [], size: 0 } as unknown as RecordLike & ConsumerMessage
}

test('unframed removes exactly a magic byte and schema id, and leaves everything else as it is', () => {
  assert.deepEqual(unframed(framed(PAYLOAD)), Buffer.from(PAYLOAD))
  assert.deepEqual(unframed(framed('', 1)), Buffer.alloc(0), 'a 5-byte frame is an empty payload')
  const short = Buffer.from([0, 1, 2, 3])
  assert.equal(unframed(short), short, 'shorter than a frame: unchanged')
  const noMagic = Buffer.from([1, 0, 0, 0, 7, 0x7b, 0x7d])
  assert.equal(unframed(noMagic), noMagic, 'first byte not 0: unchanged')
  const text = Buffer.from(PAYLOAD)
  assert.equal(unframed(text), text)
  assert.equal(unframed(null), null)
  const f = framed(PAYLOAD)
  assert.equal(unframed(f)?.buffer, f.buffer, 'a view, not a copy')
})

test('modes name the sides', () => {
  assert.equal(framingStrip('none'), NO_STRIP)
  assert.deepEqual(framingStrip('value'), { key: false, value: true })
  assert.deepEqual(framingStrip('key'), { key: true, value: false })
  assert.deepEqual(framingStrip('key_and_value'), { key: true, value: true })
  assert.ok(Object.isFrozen(framingStrip('value')))
})

test('v2 binary and json: the payload when stripping, the stored bytes otherwise', () => {
  const records = [rec(0, framed(PAYLOAD), framed('"k"')), rec(1, Buffer.from('{"plain":1}'), Buffer.from('"p"')), rec(2, null, null)]
  const binOff = JSON.parse(renderRecords('binary', records).body)
  assert.equal(binOff[0].value, b64(framed(PAYLOAD)))
  assert.equal(binOff[0].key, b64(framed('"k"')))
  const binValue = JSON.parse(renderRecords('binary', records, 'fail', framingStrip('value')).body)
  assert.equal(binValue[0].value, b64(PAYLOAD))
  assert.equal(binValue[0].key, b64(framed('"k"')), 'the key keeps its frame under "value"')
  assert.equal(binValue[1].value, b64('{"plain":1}'))
  assert.equal(binValue[2].value, null)
  const json = renderRecords('json', records, 'fail', framingStrip('key_and_value'))
  assert.equal(json.count, 3)
  assert.deepEqual(JSON.parse(json.body).map((r: any) => [r.key, r.value]), [['k', JSON.parse(PAYLOAD)], ['p', { plain: 1 }], [null, null]])
  assert.ok(json.body.includes(PAYLOAD), 'the payload is spliced in byte for byte')
  // Not stripped, the frame is not JSON: the read stops there, or delivers the stored bytes.
  const off = renderRecords('json', records)
  assert.equal(off.count, 0)
  assert.equal(off.stopped?.part, 'key')
  const raw = JSON.parse(renderRecords('json', records, 'raw').body)
  assert.equal(raw[0].undecodable.value.data, b64(framed(PAYLOAD)))
})

test('v3: BINARY, STRING and JSON sides without the frame; a stripped payload that is not JSON is reported as the payload', () => {
  const strip = framingStrip('key_and_value')
  const records = [rec(0, framed(PAYLOAD), framed('k1')), rec(1, framed('not json'))]
  const str = JSON.parse(renderPartitionRecords(records, { keyFormat: 'STRING', valueFormat: 'STRING', policy: 'fail' }, strip).data)
  assert.deepEqual(str.map((r: any) => [r.key?.data ?? null, r.value.data]), [['k1', PAYLOAD], [null, 'not json']])
  const bin = JSON.parse(renderPartitionRecords(records, { keyFormat: 'BINARY', valueFormat: 'BINARY', policy: 'fail' }).data)
  assert.equal(bin[0].value.data, b64(framed(PAYLOAD)), 'off: the stored bytes')
  const json = renderPartitionRecords(records, { keyFormat: 'STRING', valueFormat: 'JSON', policy: 'raw' }, strip)
  const parsed = JSON.parse(json.data)
  assert.deepEqual(parsed[0].value, { type: 'JSON', data: JSON.parse(PAYLOAD) })
  assert.equal(parsed[1].value.data, b64('not json'))
  assert.match(parsed[1].value.reason, /not JSON/)
})

test('streams: stripped sides, and the shared render cache keeps each variant apart', async () => {
  const m = rec(0, framed(PAYLOAD), framed('k'))
  const base = { keyFormat: 'STRING', valueFormat: 'STRING', policy: 'fail' } as const
  const on = await renderBatch([m], { ...base, strip: framingStrip('key_and_value') }, noRegistry, true)
  assert.deepEqual(JSON.parse(on.json[0] as string).value, { type: 'STRING', data: PAYLOAD })
  assert.deepEqual(JSON.parse(on.json[0] as string).key, { type: 'STRING', data: 'k' })
  // The same record object, as a topic tail shares it: renderings with other strip settings are not taken from the cache.
  const off = await renderBatch([m], base, noRegistry, true)
  assert.equal(JSON.parse(off.json[0] as string).value.data, framed(PAYLOAD).toString('utf8'))
  const valueOnly = await renderBatch([m], { ...base, strip: framingStrip('value') }, noRegistry, true)
  assert.equal(JSON.parse(valueOnly.json[0] as string).key.data, framed('k').toString('utf8'))
  assert.equal(JSON.parse(valueOnly.json[0] as string).value.data, PAYLOAD)
  const again = await renderBatch([m], { ...base, strip: framingStrip('key_and_value') }, noRegistry, true)
  assert.equal(again.json[0], on.json[0])
  // Not shared (a stream's own reader): the same result.
  const own = await renderBatch([m], { ...base, strip: framingStrip('key_and_value') }, noRegistry)
  assert.equal(own.json[0], on.json[0])
  // undecodable=raw delivers the payload that was not valid, not the frame.
  const bad = rec(1, framed('nope'))
  const raw = await renderBatch([bad], { keyFormat: 'BINARY', valueFormat: 'JSON', policy: 'raw', strip: framingStrip('value') }, noRegistry)
  assert.equal(JSON.parse(raw.json[0] as string).value.data, b64('nope'))
  const stopped = await renderBatch([bad], { keyFormat: 'BINARY', valueFormat: 'JSON', policy: 'fail', strip: framingStrip('value') }, noRegistry)
  assert.equal(stopped.json.length, 0)
  assert.equal(stopped.stopped?.offset, 1)
})
