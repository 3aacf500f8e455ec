import { test } from 'node:test'
import assert from 'node:assert/strict'
import { firstDuplicateKey, invalidUtf8At, parseJson, scanJson, type JsonLimits } from '../../src/json/parse.js'
import { rejects } from '../helpers/errors.js'

const LIMITS: JsonLimits = { maxDepth: 1000, maxStringBytes: 1024 }
const parse = (s: string | Buffer, limits = LIMITS): unknown => parseJson(typeof s === 'string' ? Buffer.from(s) : s, limits)

test('valid JSON parses as JSON.parse does', () => {
  const text = '{"records":[{"key":"a2V5","value":{"a":[1,-2.5e3,true,null,"x\\"y\\\\"],"b":{}}},{"value":"\\u0000"}]}'
  assert.deepEqual(parse(text), JSON.parse(text))
  assert.deepEqual(parse(' [] '), [])
  assert.equal(parse('"\\u00fc"'), 'ü')
  assert.equal(parse('9007199254740991'), 9007199254740991)
  assert.equal(parse('-9007199254740991'), -9007199254740991)
  assert.equal(parse('1e308'), 1e308)
  assert.equal(parse('0.1'), 0.1)
})

test('invalid UTF-8 is refused with the offset of the first bad byte, never decoded to U+FFFD', () => {
  const bad = Buffer.concat([Buffer.from('{"v":"a'), Buffer.from([0xc3]), Buffer.from('"}')])
  rejects(() => parse(bad), 'invalidUtf8', /UTF-8.*byte 7/)
  // Overlong forms, surrogates and lone continuation bytes are invalid too.
  for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
    rejects(() => parse(Buffer.concat([Buffer.from('"'), Buffer.from(bytes), Buffer.from('"')])), 'invalidUtf8')
  }
  assert.equal(invalidUtf8At(Buffer.from('añ€😀')), -1)
  assert.equal(parse(Buffer.from('"añ€😀"')), 'añ€😀')
  // ISO-8859-1 bodies (v3's charset parameter) take every byte as a character.
  assert.equal(parseJson(Buffer.from([0x22, 0xe9, 0x22]), LIMITS, { latin1: true }), 'é')
})

test('nesting beyond the limit is refused before anything walks it', () => {
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  assert.ok(Array.isArray(parse(deep(1000))))
  rejects(() => parse(deep(1001)), 'jsonTooDeep', /deeper than the limit of 1000 levels/)
  rejects(() => parse(deep(100_000)), 'jsonTooDeep')
  rejects(() => parse(`{"a":${'{"b":'.repeat(2000)}1${'}'.repeat(2000)}}`), 'jsonTooDeep')
  // Brackets inside strings are data.
  assert.equal(parse(`"${'['.repeat(1020)}"`), '['.repeat(1020))
})

test('a string longer than the limit is refused; escapes count as written', () => {
  assert.equal((parse(`"${'a'.repeat(1024)}"`) as string).length, 1024)
  rejects(() => parse(`"${'a'.repeat(1025)}"`), 'jsonStringTooLong', /1025 bytes is longer than the limit of 1024 bytes/)
  rejects(() => parse(`{"${'k'.repeat(2000)}":1}`), 'jsonStringTooLong')
  // An escaped quote does not end the string.
  rejects(() => parse(`"${'\\"'.repeat(600)}"`), 'jsonStringTooLong')
  assert.equal((parse(`"${'a'.repeat(20_000)}"`, { maxDepth: 10, maxStringBytes: 0 }) as string).length, 20_000)
})

test('numbers a double cannot hold are refused, not rounded or turned into null', () => {
  rejects(() => parse('1e400'), 'numberOutOfRange', /beyond the range of a double/)
  rejects(() => parse('-1E+400'), 'numberOutOfRange')
  rejects(() => parse('{"partition":18446744073709551616}'), 'numberOutOfRange', /"18446744073709551616" is beyond ±\(2\^53 - 1\)/)
  rejects(() => parse('[9007199254740993]'), 'numberOutOfRange')
  rejects(() => parse('1e-400'), 'numberOutOfRange', /too small/)
  rejects(() => parse(`1${'0'.repeat(400)}.5`), 'numberOutOfRange')
  assert.equal(parse('0e-400'), 0)
  assert.equal(parse('1.5e300'), 1.5e300)
  assert.equal(parse('123456789012345.5'), 123456789012345.5)
  // Digits inside strings are not numbers.
  assert.equal(parse('"18446744073709551616"'), '18446744073709551616')
})

test('a key repeated in one object is refused, wherever it is and however it is escaped', () => {
  rejects(() => parse('{"records":[{"value":1,"value":2}]}'), 'duplicateKey', /the key "value" appears more than once/)
  rejects(() => parse('{"a":1,"\\u0061":2}'), 'duplicateKey', /"a"/)
  rejects(() => parse('{"x":[{"a":{"b":1,"c":2,"b":3}}]}'), 'duplicateKey', /"b"/)
  rejects(() => parse('{"__proto__":1,"__proto__":2}'), 'duplicateKey')
  // The same key in different objects, or a ':' inside a string, is not a repeat.
  assert.deepEqual(parse('{"a":{"a":1},"b":[{"a":2},{"a":"x:y"}],"c:d":1}'), { a: { a: 1 }, b: [{ a: 2 }, { a: 'x:y' }], 'c:d': 1 })
  assert.equal(firstDuplicateKey('{"a":{"b":1},"c":{"b":2},"a":3}'), 'a')
})

test('malformed JSON keeps JSON.parse\'s reason, on one line, after the caller\'s prefix', () => {
  rejects(() => parseJson(Buffer.from('{"records": ['), LIMITS, { prefix: 'Malformed JSON: ' }), 'malformedJson', /^Malformed JSON: [^\n]+$/)
  rejects(() => parse('{"a":"\u0001"}'), 'malformedJson')
  rejects(() => parse(''), 'malformedJson')
})

test('the scan counts one member per key outside strings', () => {
  assert.equal(scanJson(Buffer.from('{"a":1,"b":{"c":"x:y","d":[{"e":null}]}}'), LIMITS), 5)
  assert.equal(scanJson(Buffer.from('["a:b", "\\":"]'), LIMITS), 0)
})

test('an unpaired surrogate escape is refused; a pair, and an escaped backslash before "ud", are data', () => {
  rejects(() => parse('{"value":{"type":"STRING","data":"a\\ud800b"}}'), 'invalidUtf8', /unpaired surrogate/)
  rejects(() => parse('{"headers":[{"name":"\\uDFFF","value":null}]}'), 'invalidUtf8', /unpaired surrogate/)
  rejects(() => parse('{"\\ud83d":1}'), 'invalidUtf8')
  assert.equal(parse('"\\ud83d\\ude00"'), '😀')
  assert.equal(parse('"\\\\ud800"'), '\\ud800')
})
