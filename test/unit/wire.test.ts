import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeFrame, encodeFrame, encodeMessageIndexes, javaFloat, SchemaCache } from '../../src/formats/wire.js'
import { ProxyError } from '../../src/errors.js'

function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function undecodable (fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof ProxyError && err.key === 'undecodableRecord' && err.errorCode === 50002)
}

test('a frame is magic byte 0, the schema id big-endian, then the payload', () => {
  assert.equal(hex(encodeFrame(1, Buffer.from('hi'))), '00' + '00000001' + '6869')
  assert.equal(hex(encodeFrame(0x01020304, Buffer.alloc(0))), '00' + '01020304')
  assert.equal(hex(encodeFrame(0x7fffffff, Buffer.from([0xff]))), '00' + '7fffffff' + 'ff')
})

test('schema ids outside 0..2^31-1 are programming errors', () => {
  for (const bad of [-1, 2 ** 31, 1.5, Number.NaN]) assert.throws(() => encodeFrame(bad, Buffer.alloc(0)), RangeError)
})

test('message indexes: [0] (and []) is a single 0 byte', () => {
  assert.equal(hex(encodeMessageIndexes([0])), '00')
  assert.equal(hex(encodeMessageIndexes([])), '00')
  assert.equal(hex(encodeFrame(7, Buffer.from([0xaa]), [0])), '00' + '00000007' + '00' + 'aa')
})

test('message indexes are zigzag varints, a count then the indexes', () => {
  // Confluent's documented example: the first nested message of the second
  // top-level message, [1, 0], is the count 2 and the indexes 1 and 0,
  // zigzag-encoded as 4, 2, 0.
  assert.equal(hex(encodeMessageIndexes([1, 0])), '040200')
  // [2]: count 1 -> 2, index 2 -> 4.
  assert.equal(hex(encodeMessageIndexes([2])), '0204')
  // 300 zigzags to 600 = 0b100_1011000: low 7 bits 0x58 with the continuation bit, then 0x04.
  assert.equal(hex(encodeMessageIndexes([300])), '02d804')
  // 64 zigzags to 128, the first value that needs two bytes.
  assert.equal(hex(encodeMessageIndexes([0, 64])), '04008001')
})

test('decodeFrame splits header and payload; the payload is a view', () => {
  const buf = encodeFrame(42, Buffer.from('payload'))
  const f = decodeFrame(buf)
  assert.equal(f.schemaId, 42)
  assert.equal(f.payload.toString(), 'payload')
  assert.equal(f.messageIndexes, undefined)
  assert.equal(f.payload.buffer, buf.buffer)
})

test('decodeFrame reads message indexes when asked', () => {
  for (const indexes of [[0], [1, 0], [2], [300], [0, 64], [3, 1, 4, 1, 5]]) {
    const f = decodeFrame(encodeFrame(9, Buffer.from('x'), indexes), true)
    assert.deepEqual(f.messageIndexes, indexes)
    assert.equal(f.payload.toString(), 'x')
    assert.equal(f.schemaId, 9)
  }
  // A count of 0 means [0].
  assert.deepEqual(decodeFrame(Buffer.from('000000000100ff', 'hex'), true).messageIndexes, [0])
})

test('bad frames are undecodable records (50002)', () => {
  undecodable(() => decodeFrame(Buffer.alloc(0)))
  undecodable(() => decodeFrame(Buffer.from('0000000001', 'hex').subarray(0, 4)))
  undecodable(() => decodeFrame(Buffer.from('{"a":1}')))
  assert.throws(() => decodeFrame(Buffer.from('0100000001', 'hex')), /Unknown magic byte 1/)
  // Protobuf: missing indexes, a truncated varint, a negative count, a count larger than the rest, a negative index.
  undecodable(() => decodeFrame(Buffer.from('0000000001', 'hex'), true))
  undecodable(() => decodeFrame(Buffer.from('000000000180', 'hex'), true))
  undecodable(() => decodeFrame(Buffer.from('000000000101', 'hex'), true))
  undecodable(() => decodeFrame(Buffer.from('00000000017f00', 'hex'), true))
  undecodable(() => decodeFrame(Buffer.from('00000000010201', 'hex'), true))
  undecodable(() => decodeFrame(Buffer.from('0000000001ffffffffff01', 'hex'), true))
})

test('SchemaCache compiles once per id, checks the text, and evicts the least recently used', () => {
  let compiles = 0
  const cache = new SchemaCache((src) => ({ n: ++compiles, text: src.schema }), 2)
  const a = cache.get({ id: 1, schema: 'A' })
  assert.equal(cache.get({ id: 1, schema: 'A' }), a)
  assert.equal(compiles, 1)
  // A raw schema compiled before registration is reused for its id.
  const raw = cache.get({ schema: 'B' })
  assert.equal(cache.get({ id: 2, schema: 'B' }), raw)
  assert.equal(compiles, 2)
  // Same id, other text (another registry): compiled anew.
  assert.notEqual(cache.get({ id: 1, schema: 'A2' }), a)
  assert.equal(compiles, 3)
  cache.get({ id: 2, schema: 'B' })
  cache.get({ id: 3, schema: 'C' })
  assert.equal(cache.size, 2)
  cache.get({ id: 1, schema: 'A2' })
  assert.equal(compiles, 5, 'id 1 was the least recently used and was evicted')
  // With references, a schema is never taken from the text cache.
  cache.get({ id: 4, schema: 'B', references: [{ name: 'r', schema: 'R' }] })
  assert.equal(compiles, 6)
})

test('javaFloat prints floats as Java does', () => {
  assert.equal(javaFloat(Math.fround(0.1)), 0.1)
  assert.equal(javaFloat(Math.fround(3.14159)), 3.14159)
  assert.equal(javaFloat(Math.fround(1e-7)), 1e-7)
  assert.equal(javaFloat(Math.fround(16777217)), 16777216)
  assert.equal(javaFloat(Math.fround(3.4028234663852886e38)), 3.4028235e38)
  assert.equal(javaFloat(0), 0)
})
