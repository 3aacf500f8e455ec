import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isJson, jsonError } from '../../src/json/validate.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex')

/** What JSON.parse says about the bytes, with UTF-8 checked as RFC 8259 asks. */
function parses (b: Uint8Array): boolean {
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b)
  } catch {
    return false
  }
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

test('accepts every kind of JSON value, with whitespace around and inside', () => {
  for (const s of [
    'null', 'true', 'false', '0', '-0', '1', '-1', '12345678901234567890123', '1.5', '-0.0', '1e5', '1E+5', '1e-5', '0e0',
    '1e999', '-1e999', '1.7976931348623157e309', '""', '"a"', '" \\" \\\\ \\/ \\b \\f \\n \\r \\t "', '"\\u0000"', '"\\uD800"', '"\\udc00\\ud800"',
    '"\\uABCD\\uabcd"', '[]', '{}', '[1,2,3]', '{"a":1,"a":2}', '{"":{"":[]}}', ' \t\r\n[ 1 , { "k" : [ ] } ] \n', '[[[[]]]]',
    '"é ☃ 😀"', '"\u007f"', '{"a":null,"b":true,"c":false,"d":[-0.5e-3]}'
  ]) {
    assert.equal(jsonError(bytes(s)), null, s)
    assert.equal(parses(bytes(s)), true, `JSON.parse agrees on ${s}`)
  }
})

test('refuses what RFC 8259 does not allow, saying where', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/], ['   \n', /empty/], ['01', /trailing data/], ['-', /number/], ['-01', /trailing/], ['1.', /number/], ['.5', /unexpected '\.'/],
    ['1e', /number/], ['1e+', /number/], ['+1', /unexpected '\+'/], ['0x10', /trailing/], ['NaN', /unexpected 'N'/], ['Infinity', /unexpected/],
    ['tru', /literal|end/], ['nul', /end/], ['nulll', /trailing/], ['True', /unexpected 'T'/], ['[1,]', /unexpected '\]'/], ['[,1]', /unexpected ','/],
    ['{"a":1,}', /member name/], ['{"a" 1}', /expected ':'/], ['{a:1}', /member name/], ["{'a':1}", /member name/], ["'a'", /unexpected/],
    ['[1 2]', /expected ','/], ['[1}', /expected ',' or '\]'/], ['{"a":1]', /expected ',' or '\}'/], ['[', /end of input/], ['{', /end/],
    ['{"a":', /end/], ['"abc', /end of input/], ['"\\x"', /string/], ['"\\u12"', /string/], ['"\\u12G4"', /string/], ['"\\', /string/],
    ['1 2', /trailing/], ['{} {}', /trailing/], ['[1]x', /trailing/], ['/*c*/1', /unexpected '\/'/], ['\u00a01', /unexpected byte 0xc2/],
    ['\ufeff1', /byte 0xef/]
  ]
  for (const [s, reason] of cases) {
    const err = jsonError(bytes(s))
    assert.ok(err !== null, `refused: ${JSON.stringify(s)}`)
    assert.match(err, reason, JSON.stringify(s))
    assert.equal(parses(bytes(s)), false, `JSON.parse agrees on ${JSON.stringify(s)}`)
  }
  assert.match(jsonError(bytes('[1,2,x]')) as string, /at byte 5/)
})

test('control characters must be escaped inside strings; escaped ones, NUL included, are valid', () => {
  for (let c = 0; c < 0x20; c++) {
    assert.notEqual(jsonError(Buffer.concat([bytes('"a'), Buffer.from([c]), bytes('b"')])), null, `raw 0x${c.toString(16)}`)
    assert.equal(jsonError(bytes(JSON.stringify(`a${String.fromCharCode(c)}b`))), null, `escaped 0x${c.toString(16)}`)
  }
  assert.equal(jsonError(bytes('{"nul":"\\u0000","bell":"\\u0007"}')), null)
})

test('UTF-8: refuses overlong forms, surrogates, code points past U+10FFFF, stray and missing continuation bytes', () => {
  const bad = [
    'c0 80', 'c1 bf', 'e0 80 80', 'e0 9f bf', 'f0 80 80 80', 'f0 8f bf bf', // overlong
    'ed a0 80', 'ed bf bf', 'ed a0 80 ed b0 80', // UTF-16 surrogates, alone and paired
    'f4 90 80 80', 'f5 80 80 80', 'f8 88 80 80 80', 'ff', 'fe', // beyond U+10FFFF or never valid
    '80', 'bf', 'c2', 'e2 82', 'f0 9f 98', 'c2 41', 'e2 28 a1', 'f0 9f 28 80' // stray, truncated, bad continuation
  ]
  for (const h of bad) {
    const b = Buffer.concat([bytes('"'), hex(h), bytes('"')])
    assert.match(jsonError(b) as string, /invalid string/, h)
    assert.equal(parses(b), false, `the fatal decoder agrees on ${h}`)
  }
  const good = ['c2 80', 'df bf', 'e0 a0 80', 'ed 9f bf', 'ee 80 80', 'ef bf bf', 'f0 90 80 80', 'f4 8f bf bf', 'e2 82 ac', 'f0 9f 98 80']
  for (const h of good) assert.equal(jsonError(Buffer.concat([bytes('"'), hex(h), bytes('"')])), null, h)
  // Outside strings no byte above 0x7f is valid.
  assert.notEqual(jsonError(Buffer.concat([bytes('['), hex('c2 a0'), bytes('1]')])), null)
})

test('nesting 100,000 deep validates without recursion, balanced or not', () => {
  const n = 100_000
  assert.equal(jsonError(bytes('['.repeat(n) + ']'.repeat(n))), null)
  assert.equal(jsonError(bytes('{"a":'.repeat(n) + '1' + '}'.repeat(n))), null)
  assert.equal(jsonError(bytes('[{"a":'.repeat(n) + '[]' + '}]'.repeat(n))), null)
  assert.match(jsonError(bytes('['.repeat(n) + ']'.repeat(n - 1))) as string, /end of input/)
  assert.match(jsonError(bytes('['.repeat(n) + ']'.repeat(n + 1))) as string, /trailing/)
  assert.match(jsonError(bytes('['.repeat(n) + '}'.repeat(n))) as string, /unexpected '\}' at byte 100000/)
  assert.match(jsonError(bytes('['.repeat(n) + '1}' + ']'.repeat(n - 1))) as string, /expected ',' or '\]'/)
})

test('checks only the given range of a buffer', () => {
  const b = bytes('xx[1,2]yy')
  assert.equal(jsonError(b, 2, 7), null)
  assert.notEqual(jsonError(b, 2, 8), null)
  assert.equal(isJson(b, 3, 4), true)
  assert.equal(isJson(b), false)
})

test('agrees with JSON.parse on generated JSON, on mutations of it, and on random bytes', () => {
  const seed = 20261203
  fc.assert(fc.property(fc.json({ depthSize: 'medium' }), (text) => {
    assert.equal(jsonError(bytes(text)), null, text)
  }), { seed, numRuns: 3000 })
  fc.assert(fc.property(fc.jsonValue(), fc.constantFrom(0, 2, '\t'), (v, space) => {
    assert.equal(isJson(bytes(JSON.stringify(v, null, space))), true)
  }), { seed, numRuns: 2000 })
  // Mutations: a byte replaced, inserted or removed, drawn from JSON's own alphabet and beyond.
  const alphabet = fc.constantFrom(...'{}[]:,"\\ .-+eE0123456789tfnrulasx\n\t'.split('').map((c) => c.charCodeAt(0)), 0x00, 0x1f, 0x7f, 0x80, 0xc0, 0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xff)
  fc.assert(fc.property(fc.json(), fc.nat(), alphabet, fc.constantFrom('replace', 'insert', 'remove'), (text, at, byte, op) => {
    const src = bytes(text)
    const p = src.length === 0 ? 0 : at % src.length
    const out = op === 'replace'
      ? Buffer.concat([src.subarray(0, p), Buffer.from([byte]), src.subarray(p + 1)])
      : op === 'insert' ? Buffer.concat([src.subarray(0, p), Buffer.from([byte]), src.subarray(p)]) : Buffer.concat([src.subarray(0, p), src.subarray(p + 1)])
    assert.equal(isJson(out), parses(out), `${op} 0x${byte.toString(16)} at ${p} of ${text}: ${out.toString('hex')}`)
  }), { seed, numRuns: 20000 })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
    assert.equal(isJson(b), parses(b), Buffer.from(b).toString('hex'))
  }), { seed, numRuns: 20000 })
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
    const b = bytes(JSON.stringify(s))
    assert.equal(isJson(b), true)
  }), { seed, numRuns: 5000 })
})
