// Stream positions (event ids and cursors): the Gravitee notation, base64url,
// and a strict parse that refuses hostile input with a 400 of our own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ERRORS } from '../../src/errors.js'
import { encodePosition, formatPosition, MAX_ID_CHARS, parsePosition, type StreamPosition } from '../../src/streams/position.js'
import { rejects } from '../helpers/errors.js'

function position (entries: Array<[string, Array<[number, number]>]>): StreamPosition {
  return new Map(entries.map(([t, ps]) => [t, new Map(ps)]))
}

function plain (p: StreamPosition): Array<[string, Array<[number, number]>]> {
  return [...p].map(([t, ps]) => [t, [...ps].sort((a, b) => a[0] - b[0])])
}

test('format: Gravitee notation, partitions ascending, topics joined by ;', () => {
  const p = position([['orders', [[2, 7], [0, 12], [1, 0]]], ['audit.log', [[0, 3]]]])
  assert.equal(formatPosition(p), 'orders@0#12,1#0,2#7;audit.log@0#3')
})

test('encode: base64url without padding by default, the plain notation when encoding is off', () => {
  const p = position([['my-topic', [[1, 0], [2, 0]]]])
  assert.equal(encodePosition(p, false), 'my-topic@1#0,2#0')
  const id = encodePosition(p, true)
  assert.equal(id, Buffer.from('my-topic@1#0,2#0').toString('base64url'))
  assert.doesNotMatch(id, /[=+/]/)
})

test('parse: the plain form and the encoded form name the same position', () => {
  const text = 'orders@0#12,1#0,2#7;audit.log@0#3'
  const expected = [['orders', [[0, 12], [1, 0], [2, 7]]], ['audit.log', [[0, 3]]]]
  assert.deepEqual(plain(parsePosition(text, 'cursor')), expected)
  assert.deepEqual(plain(parsePosition(Buffer.from(text).toString('base64url'), 'cursor')), expected)
})

test('parse: standard base64 with padding, as `echo -n … | base64` writes it (Gravitee\'s documented example)', () => {
  // 'demo@0#0' is 8 bytes: one '='. Topic names, digits, '@#,;' are ASCII
  // below '>', so their base64 never holds '+' or '/': the alphabets differ
  // only in padding.
  const std = Buffer.from('demo@0#0').toString('base64')
  assert.match(std, /=$/)
  assert.deepEqual(plain(parsePosition(std, 'Last-Event-ID')), [['demo', [[0, 0]]]])
})

test('parse: offsets up to 2^53 - 1 and partitions up to 2^31 - 1 round-trip', () => {
  const p = position([['t', [[2147483647, Number.MAX_SAFE_INTEGER], [0, 0]]]])
  assert.deepEqual(plain(parsePosition(encodePosition(p, true), 'cursor')), plain(p))
})

test('round trip: any position survives encode and parse, in either form', () => {
  const topic = fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/).filter((t) => t !== '.' && t !== '..')
  const offsets = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 2147483647 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), {
    minLength: 1, maxLength: 12, selector: (e) => e[0]
  })
  const positions = fc.uniqueArray(fc.tuple(topic, offsets), { minLength: 1, maxLength: 5, selector: (e) => e[0] })
  fc.assert(fc.property(positions, fc.boolean(), (entries, encode) => {
    const p = position(entries)
    assert.deepEqual(plain(parsePosition(encodePosition(p, encode), 'cursor')), plain(p))
  }), { numRuns: 500 })
})

const HOSTILE: Array<[string, string]> = [
  ['', 'empty'],
  ['t', 'no topic@, not base64 of one'],
  ['t@', 'no partition'],
  ['t@0', 'no offset'],
  ['t@0#', 'empty offset'],
  ['t@#5', 'empty partition'],
  ['@0#1', 'empty topic'],
  ['t@0#1,', 'trailing comma'],
  ['t@0#1;', 'trailing semicolon'],
  [';t@0#1', 'leading semicolon'],
  ['t@0#1,,1#2', 'empty partition entry'],
  ['t@0#1#2', 'two #'],
  ['t@0#1@2', 'an @ in the offset'],
  ['t@-1#0', 'negative partition'],
  ['t@0#-1', 'negative offset'],
  ['t@+1#0', 'signed partition'],
  ['t@0#+1', 'signed offset'],
  ['t@01#0', 'leading zero in a partition'],
  ['t@0#007', 'leading zero in an offset'],
  ['t@0#1e3', 'exponent'],
  ['t@0#0x10', 'hex'],
  ['t@0#1.0', 'fraction'],
  ['t@0# 1', 'space'],
  ['t@0#1 ', 'trailing space'],
  [' t@0#1', 'leading space'],
  ['t@0#９', 'a full-width digit'],
  ['t@0#9007199254740992', 'offset past 2^53 - 1'],
  ['t@0#99999999999999999999', 'offset with 20 digits'],
  ['t@2147483648#0', 'partition past int32'],
  ['t@0#1,0#2', 'a partition twice'],
  ['t@0#1;t@1#2', 'a topic twice'],
  ['.@0#1', 'topic "."'],
  ['..@0#1', 'topic ".."'],
  ['a/b@0#1', 'illegal topic character'],
  ['tö@0#1', 'non-ASCII topic'],
  ['t\u0000@0#1', 'NUL in a topic'],
  [`${'x'.repeat(250)}@0#1`, 'topic longer than 249'],
  ['t@0#1\n', 'newline (would split an SSE field)'],
  ['dA==x', 'data after padding'],
  ['dA=', 'padding with the wrong length'],
  ['dB', 'base64 with stray bits'],
  ['d', 'base64 of a single sextet'],
  ['dA-+', 'both base64 alphabets'],
  ['%74%40%30%23%31', 'percent-encoding'],
  [Buffer.from('t@0#1;').toString('base64url'), 'encoded trailing semicolon'],
  [Buffer.from('t@0#01').toString('base64url'), 'encoded leading zero'],
  [Buffer.from([0xff, 0xfe, 0x40, 0x30]).toString('base64url'), 'encoded binary garbage'],
  [Buffer.from('t@0#1').toString('base64url') + '==', 'base64url with excess padding']
]

for (const [text, what] of HOSTILE) {
  test(`parse refuses ${what}: ${JSON.stringify(text.length > 30 ? text.slice(0, 30) + '…' : text)}`, () => {
    rejects(() => parsePosition(text, 'Last-Event-ID'), 'invalidEventId', /^Invalid Last-Event-ID: /)
  })
}

test('parse refuses an id over the length bound without scanning it', () => {
  const long = `t@${Array.from({ length: 20000 }, (_, i) => `${i}#0`).join(',')}`
  assert.ok(long.length > MAX_ID_CHARS)
  rejects(() => parsePosition(long, 'cursor'), 'invalidEventId', /longer than/)
})

test('an invalid id is a 400 whose message quotes only a short slice of the input', () => {
  assert.equal(ERRORS.invalidEventId.status, 400)
  const topic = 'x'.repeat(300)
  rejects(() => parsePosition(`${topic}@0#1`, 'cursor'), 'invalidEventId', /^Invalid cursor: "x{40}…" is not a topic name\.$/)
})

test('parse never throws anything but invalidEventId on random input', () => {
  const alphabet = fc.constantFrom(...'t@#,;0123456789-_+/=Aa. \n\u00e9'.split(''))
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 40 })), (text) => {
    try {
      const p = parsePosition(text, 'cursor')
      // Whatever parses formats back to a canonical form that parses the same.
      assert.deepEqual(plain(parsePosition(formatPosition(p), 'cursor')), plain(p))
    } catch (err) {
      assert.equal((err as { key?: string }).key, 'invalidEventId', String(err))
    }
  }), { numRuns: 3000 })
})
