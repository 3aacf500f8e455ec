// Strict parsing of JSON request bodies and streamed record objects. Every
// JSON input of the API goes through parseJson, inline or in a pool worker,
// so that nothing a client sends is silently changed on its way to Kafka:
//
//  - the bytes must be UTF-8 (RFC 8259 §8.1); decoding invalid UTF-8 would
//    put U+FFFD where the client's bytes were;
//  - nesting is bounded (server.max_json_depth): every later step that walks
//    a value (JSON.stringify, the schema encoders) recurses, and V8's stack
//    ends near 4,000 levels on the main thread;
//  - one string is bounded (server.max_json_string_bytes, counted as the raw
//    bytes between its quotes);
//  - a number that a double cannot hold is refused instead of rounded:
//    1e400 would become Infinity (written back as null), 2^64 would lose its
//    low digits. Decimals with more digits than a double keeps are rounded to
//    the nearest double, as RFC 8259 §6 allows;
//  - a key repeated within one object is refused: JSON.parse keeps the last
//    one and drops the others without a word (RFC 8259 §4 leaves it open);
//  - an unpaired surrogate escape (\ud800) is refused: it is valid JSON
//    text, but no UTF-8 bytes stand for it, so a STRING value, a header name
//    or a schema-encoded string would be written with U+FFFD instead.
//
// The byte scan runs before JSON.parse. It skips string contents with
// indexOf (memchr) and counts the members of all objects (one ':' outside
// strings per member); after the parse, fewer keys than members means a
// repeated key. JSON.parse itself stays the judge of the grammar.
import { isUtf8 } from 'node:buffer'
import { ProxyError, type ErrorKey } from '../errors.js'
import { configSchema } from '../config/schema.js'
import { utf8SequenceEnd } from './validate.js'

export interface JsonLimits {
  maxDepth: number
  /** 0: no limit beyond the body's. */
  maxStringBytes: number
}

const SERVER = configSchema.properties.server.properties

/** The configuration's defaults (server.max_json_depth, server.max_json_string_bytes). */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: SERVER.max_json_depth.default,
  maxStringBytes: SERVER.max_json_string_bytes.default
})

/** The limits a server's configuration sets. */
export function jsonLimits (server: { max_json_depth: number, max_json_string_bytes: number }): JsonLimits {
  return Object.freeze({ maxDepth: server.max_json_depth, maxStringBytes: server.max_json_string_bytes })
}

/** For `checked` input only, whose limits were applied before. */
export const NO_LIMITS: JsonLimits = Object.freeze({ maxDepth: Number.POSITIVE_INFINITY, maxStringBytes: 0 })

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COLON = 0x3a
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const LOWER_E = 0x65
const UPPER_E = 0x45

// Strings up to this long are scanned byte by byte: a native indexOf call
// costs more than a few comparisons, and most keys are short.
const INLINE_STRING_BYTES = 16
// An integer literal of at most 15 digits is always a safe integer.
const SAFE_DIGITS = 15
// A literal without an exponent needs more characters than this to overflow
// or underflow a double.
const RANGE_SAFE_CHARS = 300
// Longest slice of client input quoted back in an error message.
const QUOTE_LIMIT = 64

function fail (key: ErrorKey, prefix: string, detail: string): never {
  throw new ProxyError(key, prefix + detail)
}

function quoted (s: string): string {
  return JSON.stringify(s.length > QUOTE_LIMIT ? `${s.slice(0, QUOTE_LIMIT)}…` : s)
}

/** Index of the quote that closes a string whose content starts at `from`; `end` when unterminated. */
function closingQuote (b: Uint8Array, from: number, end: number, inline: number): number {
  let j = from
  const stop = Math.min(end, from + inline)
  for (; j < stop; j++) {
    const c = b[j] as number
    if (c === QUOTE) return j
    if (c === BACKSLASH) j++
  }
  if (j >= end) return end
  // `j` starts clean (never inside an escape), so the backslashes that count
  // for a quote all lie between `j` and it.
  for (;;) {
    const q = (b as Buffer).indexOf(QUOTE, j)
    if (q === -1) return end
    let k = q - 1
    while (k >= j && b[k] === BACKSLASH) k--
    if ((q - 1 - k) % 2 === 0) return q
    j = q + 1
  }
}

function latin1 (b: Uint8Array, start: number, end: number): string {
  return (b as Buffer).toString('latin1', start, end)
}

/** Refuses a number literal that would not survive the trip through a double. */
function checkNumber (b: Uint8Array, start: number, end: number, plain: boolean, exponent: boolean, prefix: string): void {
  const text = latin1(b, start, end)
  const n = Number(text)
  if (Number.isNaN(n)) return // not a number literal: JSON.parse reports it
  if (plain) {
    if (!Number.isSafeInteger(n)) {
      fail('numberOutOfRange', prefix, `the integer ${quoted(text)} is beyond ±(2^53 - 1) and cannot be kept exactly; send it as a string`)
    }
    return
  }
  if (!exponent && end - start <= RANGE_SAFE_CHARS) return
  if (!Number.isFinite(n)) fail('numberOutOfRange', prefix, `the number ${quoted(text)} is beyond the range of a double`)
  if (n === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) {
    fail('numberOutOfRange', prefix, `the number ${quoted(text)} is too small for a double and would become 0`)
  }
}

/**
 * Checks the limits over the bytes of one JSON text and counts the members of
 * all its objects. Malformed text is not reported here (JSON.parse does that);
 * the count is only meaningful for text that JSON.parse accepts.
 */
export function scanJson (b: Uint8Array, limits: JsonLimits, prefix = ''): number {
  const end = b.length
  const maxDepth = limits.maxDepth
  const maxString = limits.maxStringBytes > 0 ? limits.maxStringBytes : Number.POSITIVE_INFINITY
  let depth = 0
  let members = 0
  let afterColon = false
  let longValues = false
  let i = 0
  while (i < end) {
    const c = b[i] as number
    if (c === QUOTE) {
      // Values of one body tend to be alike: after a long one (base64, most
      // often) the next value goes straight to indexOf.
      const close = closingQuote(b, i + 1, end, afterColon && longValues ? 0 : INLINE_STRING_BYTES)
      if (afterColon) longValues = close - i - 1 > INLINE_STRING_BYTES
      afterColon = false
      if (close - i - 1 > maxString) {
        fail('jsonStringTooLong', prefix, `a JSON string of ${close - i - 1} bytes is longer than the limit of ${maxString} bytes`)
      }
      i = close + 1
    } else if (c === COLON) {
      members++
      afterColon = true
      i++
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) fail('jsonTooDeep', prefix, `JSON nesting is deeper than the limit of ${maxDepth} levels`)
      i++
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
      i++
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const start = i
      let plain = true
      let exponent = false
      for (i++; i < end; i++) {
        const d = b[i] as number
        if (d >= ZERO && d <= NINE) continue
        if (d === LOWER_E || d === UPPER_E) exponent = true
        else if (d !== DOT && d !== PLUS && d !== MINUS) break
        plain = false
      }
      if (plain ? i - start > SAFE_DIGITS : exponent || i - start > RANGE_SAFE_CHARS) {
        checkNumber(b, start, i, plain, exponent, prefix)
      }
    } else {
      i++
    }
  }
  return members
}

/** The number of keys of every object inside `v`. Depth is bounded by the scan before. */
function countKeys (v: object): number {
  let n = 0
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i]
      if (typeof e === 'object' && e !== null) n += countKeys(e)
    }
    return n
  }
  for (const k in v) {
    n++
    const e: unknown = (v as Record<string, unknown>)[k]
    if (typeof e === 'object' && e !== null) n += countKeys(e)
  }
  return n
}

/** The first key that repeats within one object of valid JSON text, for the error message. */
export function firstDuplicateKey (text: string): string | null {
  const keys: Array<Set<string> | null> = []
  let stringStart = -1
  let stringEnd = -1
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      let j = i + 1
      while (j < text.length && text.charCodeAt(j) !== QUOTE) j += text.charCodeAt(j) === BACKSLASH ? 2 : 1
      stringStart = i
      stringEnd = j
      i = j
    } else if (c === OPEN_BRACE) keys.push(new Set())
    else if (c === OPEN_BRACKET) keys.push(null)
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) keys.pop()
    else if (c === COLON) {
      const set = keys[keys.length - 1]
      if (set === null || set === undefined) continue
      const key = JSON.parse(text.slice(stringStart, stringEnd + 1)) as string
      if (set.has(key)) return key
      set.add(key)
    }
  }
  return null
}

/** Byte offset of the first byte that is not part of a valid UTF-8 sequence (RFC 3629 §4). */
export function invalidUtf8At (b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    if ((b[i] as number) < 0x80) { i++; continue }
    const next = utf8SequenceEnd(b, i, b.length)
    if (next < 0) return i
    i = next
  }
  return -1
}

/** A JSON object: not null, not an array. */
export function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export interface ParseOptions {
  /** Prepended to every error message ("Malformed JSON: ", "Bad Request: "). */
  prefix?: string
  /** The bytes are ISO-8859-1 (v3's charset parameter); every byte is a character. */
  latin1?: boolean
  /** The same bytes already passed parseJson (on the main thread, before a pool task): skip the checks. */
  checked?: boolean
}

/** Only the first line of a parser message: V8 adds context lines that quote the input. */
function firstLine (s: string): string {
  const nl = s.indexOf('\n')
  return nl === -1 ? s : s.slice(0, nl)
}

/**
 * Parses one JSON text from `bytes` under `limits`. Throws a ProxyError (400)
 * naming the reason for anything it cannot take exactly as sent.
 */
export function parseJson (bytes: Uint8Array, limits: JsonLimits, opts: ParseOptions = {}): unknown {
  const prefix = opts.prefix ?? ''
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (opts.checked === true) return parseText(buf.toString(opts.latin1 === true ? 'latin1' : 'utf8'), prefix)
  if (opts.latin1 !== true && !isUtf8(buf)) {
    fail('invalidUtf8', prefix, `JSON text must be UTF-8 (RFC 8259 §8.1): invalid byte sequence at byte ${invalidUtf8At(buf)}`)
  }
  const members = scanJson(buf, limits, prefix)
  const text = buf.toString(opts.latin1 === true ? 'latin1' : 'utf8')
  const parsed = parseText(text, prefix)
  // Only fewer keys than members means a repeat (for-in would count an
  // enumerable key someone added to Object.prototype as one more, never less).
  if (members > 0 && typeof parsed === 'object' && parsed !== null && countKeys(parsed) < members) {
    const key = firstDuplicateKey(text)
    fail('duplicateKey', prefix, `the key ${quoted(key ?? '')} appears more than once in one JSON object`)
  }
  // Raw bytes passed isUtf8, so only a \u escape can make an unpaired
  // surrogate, which has no UTF-8 form (a Buffer would write U+FFFD for it).
  // Escapes are rare: one memchr for a backslash usually settles it.
  if (buf.indexOf(BACKSLASH) !== -1 && (buf.indexOf('\\ud') !== -1 || buf.indexOf('\\uD') !== -1)) {
    const bad = illFormed(parsed)
    if (bad !== null) {
      fail('invalidUtf8', prefix, `the string ${quoted(bad)} holds an unpaired surrogate escape (\\ud800-\\udfff), which has no UTF-8 form (RFC 8259 §8.2)`)
    }
  }
  return parsed
}

// In Node 20 (V8 11.3), though only in TypeScript's ES2024 library.
const wellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed

/** The first string (value or key) inside `v` that is not well-formed UTF-16; null when none. */
function illFormed (v: unknown): string | null {
  if (typeof v === 'string') return wellFormed.call(v) ? null : v
  if (typeof v !== 'object' || v === null) return null
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = illFormed(v[i])
      if (bad !== null) return bad
    }
    return null
  }
  for (const k in v) {
    if (!wellFormed.call(k)) return k
    const bad = illFormed((v as Record<string, unknown>)[k])
    if (bad !== null) return bad
  }
  return null
}

function parseText (text: string, prefix: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    return fail('malformedJson', prefix, firstLine((err as Error).message))
  }
}
