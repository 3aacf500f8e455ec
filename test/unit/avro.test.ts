import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compile, decode, encode, recordName } from '../../src/formats/avro.js'
import { ProxyError } from '../../src/errors.js'
import { rejects } from '../helpers/errors.js'

// Expected bytes are worked out by hand from the Avro specification
// (https://avro.apache.org/docs/1.11.1/specification/#binary-encoding):
// int and long are zigzag varints, strings and bytes a long length then the
// bytes, a union its branch index then the value, float and double IEEE 754
// little-endian, arrays and maps blocks of (count, items) ended by a 0 count.

function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function schema (s: unknown, id?: number): ReturnType<typeof compile> {
  return compile({ id, schema: JSON.stringify(s) })
}

const USER = {
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'big', type: 'long' },
    { name: 'name', type: 'string' }
  ]
}

test('records are their fields in order, zigzag varints for numbers', () => {
  const s = schema(USER)
  // id 1 -> zigzag 2; big -1 -> zigzag 1; "hi" -> length 2 (zigzag 4), then the UTF-8 bytes.
  assert.equal(hex(encode(s, { id: 1, big: -1, name: 'hi' })), '02' + '01' + '04' + '6869')
  // 300 -> zigzag 600 = 0x258: 0xd8 (low 7 bits + continuation) 0x04; -64 -> zigzag 127 = 0x7f.
  assert.equal(hex(encode(s, { id: 300, big: -64, name: '' })), 'd804' + '7f' + '00')
})

test('longs are exact to 64 bits', () => {
  const s = schema('long')
  // 2^62 zigzags to 2^63: nine 7-bit groups of zeros, then 1.
  assert.equal(hex(encode(s, 2 ** 62)), '80808080808080808001')
  assert.equal(decode(s, Buffer.from('80808080808080808001', 'hex')), 2 ** 62)
  // -2^63 zigzags to 2^64 - 1: ten bytes, all ones but the last.
  assert.equal(hex(encode(s, -(2 ** 63))), 'ffffffffffffffffff01')
  assert.equal(decode(s, Buffer.from('ffffffffffffffffff01', 'hex')), -(2 ** 63))
  rejects(() => encode(s, 2 ** 63), 'schemaConversion')
  rejects(() => encode(s, 1.5), 'schemaConversion')
  rejects(() => encode(schema('int'), 2 ** 31), 'schemaConversion')
})

test('unions are {"<type>": value} on the way in and out; null is null', () => {
  const s = schema({
    type: 'record',
    name: 'R',
    namespace: 'ns',
    fields: [
      { name: 'u', type: ['null', 'string', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'int' }] }] }
    ]
  })
  // Branch 1 (zigzag 2), then "x".
  assert.equal(hex(encode(s, { u: { string: 'x' } })), '02' + '0278')
  assert.equal(hex(encode(s, { u: null })), '00')
  // Branch 2 (zigzag 4), then x = 3 (zigzag 6). Named branches go by full name.
  assert.equal(hex(encode(s, { u: { 'ns.Inner': { x: 3 } } })), '04' + '06')
  assert.deepEqual(decode(s, Buffer.from('0406', 'hex')), { u: { 'ns.Inner': { x: 3 } } })
  assert.deepEqual(decode(s, Buffer.from('020278', 'hex')), { u: { string: 'x' } })
  assert.deepEqual(decode(s, Buffer.from('00', 'hex')), { u: null })
  // A bare value is not Avro's JSON encoding of a union.
  rejects(() => encode(s, { u: 'x' }), 'schemaConversion', /field u: .*\{"<type>": value\}/)
  rejects(() => encode(s, { u: { int: 1 } }), 'schemaConversion', /string, ns\.Inner/)
  rejects(() => encode(s, { u: { string: 'a', 'ns.Inner': { x: 1 } } }), 'schemaConversion')
})

test('bytes and fixed are strings of code points 0-255', () => {
  const s = schema({
    type: 'record',
    name: 'B',
    fields: [{ name: 'b', type: 'bytes' }, { name: 'f', type: { type: 'fixed', name: 'F2', size: 2 } }]
  })
  // b: length 2 (zigzag 4) then ff 01; f: exactly 2 bytes, no length.
  assert.equal(hex(encode(s, { b: '\u00ff\u0001', f: 'ab' })), '04ff01' + '6162')
  assert.deepEqual(decode(s, Buffer.from('04ff016162', 'hex')), { b: '\u00ff\u0001', f: 'ab' })
  rejects(() => encode(s, { b: '\u0100', f: 'ab' }), 'schemaConversion', /field b: .*0-255/)
  rejects(() => encode(s, { b: '', f: 'abc' }), 'schemaConversion', /field f: .*3 bytes instead of 2/)
})

test('float and double: IEEE 754 little-endian; rendered as Java does', () => {
  const f = schema('float')
  // 0.1 as float is 0x3dcccccd.
  assert.equal(hex(encode(f, 0.1)), 'cdcccc3d')
  assert.equal(decode(f, Buffer.from('cdcccc3d', 'hex')), 0.1)
  const d = schema('double')
  // 1.5 as double is 0x3ff8000000000000.
  assert.equal(hex(encode(d, 1.5)), '000000000000f83f')
  // Jackson quotes the non-numbers; Avro's JsonDecoder reads them back.
  assert.equal(decode(d, encode(d, 'NaN')), 'NaN')
  assert.equal(decode(d, encode(d, '-Infinity')), '-Infinity')
  assert.equal(decode(f, encode(f, 'Infinity')), 'Infinity')
  rejects(() => encode(d, 'one'), 'schemaConversion')
})

test('arrays and maps are blocks ended by a zero count', () => {
  const a = schema({ type: 'array', items: 'int' })
  // count 2 (zigzag 4), 1 -> 02, 2 -> 04, end 00.
  assert.equal(hex(encode(a, [1, 2])), '04' + '02' + '04' + '00')
  assert.deepEqual(decode(a, Buffer.from('04020400', 'hex')), [1, 2])
  const m = schema({ type: 'map', values: 'long' })
  // count 1 (zigzag 2), key "a" (02 61), value 1 (02), end 00.
  assert.equal(hex(encode(m, { a: 1 })), '02' + '0261' + '02' + '00')
  assert.deepEqual(decode(m, Buffer.from('0202610200', 'hex')), { a: 1 })
  // A map key "__proto__" from the request is data, not a prototype: it is encoded.
  const tricky = JSON.parse('{"__proto__": 5}') as unknown
  assert.equal(hex(encode(m, tricky)), '02' + '125f5f70726f746f5f5f' + '0a' + '00')
  rejects(() => encode(a, [1, 'x']), 'schemaConversion', /field \[1\]: expected int/)
})

test('enums are the symbol index', () => {
  const e = schema({ type: 'enum', name: 'Suit', symbols: ['SPADES', 'HEARTS'] })
  assert.equal(hex(encode(e, 'HEARTS')), '02')
  assert.equal(decode(e, Buffer.from('02', 'hex')), 'HEARTS')
  rejects(() => encode(e, 'CLUBS'), 'schemaConversion', /expected Suit, got "CLUBS"/)
})

test('a missing field takes its default; without one it is an error naming the field', () => {
  const s = schema({
    type: 'record',
    name: 'D',
    fields: [
      { name: 'a', type: 'int' },
      { name: 'opt', type: ['null', 'string'], default: null },
      { name: 'n', type: 'int', default: 7 }
    ]
  })
  // a = 1 (02), opt = null branch (00), n = 7 (zigzag 14 = 0e).
  assert.equal(hex(encode(s, { a: 1 })), '02000e')
  assert.deepEqual(decode(s, Buffer.from('02000e', 'hex')), { a: 1, opt: null, n: 7 })
  rejects(() => encode(s, { n: 1 }), 'schemaConversion', /field a: missing/)
})

test('errors name the field path and the value', () => {
  const s = schema({
    type: 'record',
    name: 'Order',
    fields: [{
      name: 'address',
      type: { type: 'record', name: 'Address', fields: [{ name: 'zip', type: 'int' }] }
    }, {
      name: 'lines', type: { type: 'array', items: 'Address' }
    }]
  })
  rejects(() => encode(s, { address: { zip: 'x' }, lines: [] }), 'schemaConversion', /^field address\.zip: expected int, got "x"$/)
  rejects(() => encode(s, { address: { zip: 1 }, lines: [{ zip: 2 }, { zip: null }] }), 'schemaConversion', /field lines\[1\]\.zip: expected int, got null/)
  rejects(() => encode(s, { address: { zip: 1, city: 'x' }, lines: [] }), 'schemaConversion', /field address: unknown fields "city"/)
  rejects(() => encode(s, 'nope'), 'schemaConversion', /^expected Order, got "nope"$/)
  assert.equal((rejectsMessage(() => encode(s, { address: { zip: 1 }, lines: [], extra: 1 }))), 'unknown fields "extra" for record Order')
})

function rejectsMessage (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('did not throw')
}

test('logical types are their underlying type', () => {
  const s = schema({ type: 'record', name: 'T', fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'id', type: { type: 'string', logicalType: 'uuid' } }] })
  const v = { at: 1700000000000, id: '0b6e7a52-3e32-4f0a-9b0e-4b2d8a9b6d11' }
  assert.deepEqual(decode(s, encode(s, v)), v)
})

test('named types from referenced schemas resolve by full name', () => {
  const s = compile({
    id: 1001,
    schema: JSON.stringify({ type: 'record', name: 'Main', namespace: 'app', fields: [{ name: 'addr', type: 'shared.Address' }] }),
    references: [{ name: 'shared.Address', schema: JSON.stringify({ type: 'record', name: 'Address', namespace: 'shared', fields: [{ name: 'zip', type: 'string' }] }) }]
  })
  assert.deepEqual(decode(s, encode(s, { addr: { zip: '1' } })), { addr: { zip: '1' } })
  rejects(() => compile({ schema: JSON.stringify({ type: 'record', name: 'M', fields: [{ name: 'a', type: 'shared.Nope' }] }) }), 'invalidSchema')
})

test('invalid schemas are 42205', () => {
  for (const bad of ['{"type": "record"', '{"type": "nope"}', '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "int", "default": "x"}]}']) {
    assert.throws(() => compile({ schema: bad }), (err: unknown) => err instanceof ProxyError && err.errorCode === 42205 && err.status === 422)
  }
})

test('recordName is the full name of a named type', () => {
  assert.equal(recordName(schema(USER)), 'com.example.User')
  assert.equal(recordName(schema({ type: 'enum', name: 'E', namespace: 'n', symbols: ['A'] })), 'n.E')
  assert.equal(recordName(schema('string')), undefined)
})

test('a schema is compiled once per id', () => {
  const a = compile({ id: 5000, schema: JSON.stringify(USER) })
  assert.equal(compile({ id: 5000, schema: JSON.stringify(USER) }), a)
  // The same id with another text (another registry) is compiled anew.
  assert.notEqual(compile({ id: 5000, schema: '"string"' }), a)
})

test('decoding: truncated data is undecodable, trailing bytes are ignored', () => {
  const s = schema(USER)
  assert.throws(() => decode(s, Buffer.from('02', 'hex')), (err: unknown) => err instanceof ProxyError && err.errorCode === 50002)
  assert.deepEqual(decode(s, Buffer.from('020104686900ff', 'hex')), { id: 1, big: -1, name: 'hi' })
})

test('round trip of a nested record', () => {
  const s = schema({
    type: 'record',
    name: 'Everything',
    fields: [
      { name: 'b', type: 'boolean' },
      { name: 'items', type: { type: 'array', items: { type: 'map', values: ['null', 'double'] } } },
      { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } },
      { name: 'child', type: ['null', 'Everything'], default: null }
    ]
  })
  const v = { b: true, items: [{ x: { double: 1.25 }, y: null }], e: 'B', child: { Everything: { b: false, items: [], e: 'A', child: null } } }
  assert.deepEqual(decode(s, encode(s, v)), v)
})
