// A validator of JSON text (RFC 8259) over bytes, for consumed records: a
// record whose bytes are valid JSON is spliced into a response verbatim, with
// no parse and no stringify. Verbatim also keeps what a parse would change
// (numbers beyond a double, such as 1e999 or 64-bit ids, and duplicate keys).
//
// It never recurses: nesting lives in an explicit stack that grows as needed,
// so no depth of record content can overflow the call stack. It checks UTF-8
// as RFC 8259 section 8.1 requires (no overlong forms, no surrogates, nothing
// above U+10FFFF); escapes such as \ud800 are valid JSON text per the grammar
// of section 7 and are accepted, as JSON.parse accepts them. A byte order mark
// is refused, as JSON.parse refuses it (section 8.1: it is not part of JSON
// text). Pure and allocation-free on valid input, so it runs on any thread.

const OBJECT = 1
const ARRAY = 2

let stack = new Uint8Array(256)

function isWs (c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isHex (c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
}

function describe (b: Uint8Array, at: number, end: number): string {
  if (at >= end) return 'unexpected end of input'
  const c = b[at] as number
  const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`
  return `unexpected ${shown} at byte ${at}`
}

/** Where a string that opens at `at` (its quote) ends, after the closing quote; negative: -(position of the error) - 1. */
function scanString (b: Uint8Array, at: number, end: number): number {
  let i = at + 1
  while (i < end) {
    const c = b[i] as number
    if (c === 0x22) return i + 1
    if (c < 0x80) {
      if (c === 0x5c) {
        const e = i + 1 < end ? b[i + 1] as number : -1
        if (e === 0x75) {
          if (i + 5 >= end || !isHex(b[i + 2] as number) || !isHex(b[i + 3] as number) || !isHex(b[i + 4] as number) || !isHex(b[i + 5] as number)) return -(i + 1)
          i += 6
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2
        } else {
          return -(i + 1)
        }
      } else if (c < 0x20) {
        return -(i + 1)
      } else {
        i++
      }
      continue
    }
    const next = utf8SequenceEnd(b, i, end)
    if (next < 0) return -(i + 1)
    i = next
  }
  return -(end + 1)
}

/**
 * Where the multi-byte UTF-8 sequence starting at `i` (a byte >= 0x80) ends,
 * or -1 when it is not a valid one (RFC 3629 section 4: the second byte's
 * range depends on the first, which excludes overlong forms, surrogates and
 * code points above U+10FFFF).
 */
export function utf8SequenceEnd (b: Uint8Array, i: number, end: number): number {
  const c = b[i] as number
  let n: number
  let lo = 0x80
  let hi = 0xbf
  if (c >= 0xc2 && c <= 0xdf) n = 1
  else if (c === 0xe0) { n = 2; lo = 0xa0 } else if (c === 0xed) { n = 2; hi = 0x9f } else if (c >= 0xe1 && c <= 0xef) n = 2
  else if (c === 0xf0) { n = 3; lo = 0x90 } else if (c === 0xf4) { n = 3; hi = 0x8f } else if (c >= 0xf1 && c <= 0xf3) n = 3
  else return -1
  if (i + n >= end) return -1
  const c1 = b[i + 1] as number
  if (c1 < lo || c1 > hi) return -1
  for (let k = 2; k <= n; k++) {
    const ck = b[i + k] as number
    if (ck < 0x80 || ck > 0xbf) return -1
  }
  return i + n + 1
}

/** Where a number that starts at `at` ends; negative: -(position of the error) - 1. */
function scanNumber (b: Uint8Array, at: number, end: number): number {
  let i = at
  if (b[i] === 0x2d) i++
  if (i >= end) return -(i + 1)
  if (b[i] === 0x30) {
    i++
  } else if (isDigit(b[i] as number)) {
    while (i < end && isDigit(b[i] as number)) i++
  } else {
    return -(i + 1)
  }
  if (i < end && b[i] === 0x2e) {
    i++
    if (i >= end || !isDigit(b[i] as number)) return -(i + 1)
    while (i < end && isDigit(b[i] as number)) i++
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++
    if (i >= end || !isDigit(b[i] as number)) return -(i + 1)
    while (i < end && isDigit(b[i] as number)) i++
  }
  return i
}

function literal (b: Uint8Array, at: number, end: number, word: string): number {
  if (at + word.length > end) return -(end + 1)
  for (let k = 0; k < word.length; k++) {
    if (b[at + k] !== word.charCodeAt(k)) return -(at + k + 1)
  }
  return at + word.length
}

/**
 * Reads `"name" :` and the whitespace after it, from `i` (at the name's
 * opening quote); returns where the member's value starts, or why the
 * member is malformed.
 */
function memberName (b: Uint8Array, i: number, end: number): number | string {
  if (i >= end || b[i] !== 0x22) return `${describe(b, i, end)}: expected a member name`
  i = scanString(b, i, end)
  if (i < 0) return `invalid string: ${describe(b, -i - 1, end)}`
  while (i < end && isWs(b[i] as number)) i++
  if (i >= end || b[i] !== 0x3a) return `${describe(b, i, end)}: expected ':'`
  i++
  while (i < end && isWs(b[i] as number)) i++
  return i
}

/**
 * Null when `bytes` (from `start` to `end`) is one JSON text; otherwise why
 * not, with the byte position.
 */
export function jsonError (bytes: Uint8Array, start = 0, end = bytes.length): string | null {
  const b = bytes
  let depth = 0
  let i = start
  while (i < end && isWs(b[i] as number)) i++
  if (i >= end) return 'no JSON value (empty input)'
  // Each turn reads one value at `i`, then the separators and closers after it.
  for (;;) {
    let c = b[i] as number
    if (c === 0x7b || c === 0x5b) {
      if (depth === stack.length) {
        const grown = new Uint8Array(stack.length * 2)
        grown.set(stack)
        stack = grown
      }
      stack[depth++] = c === 0x7b ? OBJECT : ARRAY
      i++
      while (i < end && isWs(b[i] as number)) i++
      if (i < end && b[i] === (c === 0x7b ? 0x7d : 0x5d)) {
        depth--
        i++
      } else if (c === 0x7b) {
        const after = memberName(b, i, end)
        if (typeof after === 'string') return after
        i = after
        if (i >= end) return describe(b, i, end)
        continue
      } else {
        if (i >= end) return describe(b, i, end)
        continue
      }
    } else {
      if (c === 0x22) i = scanString(b, i, end)
      else if (c === 0x2d || isDigit(c)) i = scanNumber(b, i, end)
      else if (c === 0x74) i = literal(b, i, end, 'true')
      else if (c === 0x66) i = literal(b, i, end, 'false')
      else if (c === 0x6e) i = literal(b, i, end, 'null')
      else return describe(b, i, end)
      if (i < 0) return `invalid ${c === 0x22 ? 'string' : c === 0x2d || isDigit(c) ? 'number' : 'literal'}: ${describe(b, -i - 1, end)}`
    }
    // After a value: close containers, or find the next value of the current one.
    for (;;) {
      while (i < end && isWs(b[i] as number)) i++
      if (depth === 0) return i === end ? null : `${describe(b, i, end)}: trailing data after the JSON value`
      if (i >= end) return describe(b, i, end)
      c = b[i] as number
      const top = stack[depth - 1]
      if (c === 0x2c) {
        i++
        while (i < end && isWs(b[i] as number)) i++
        if (top === OBJECT) {
          const after = memberName(b, i, end)
          if (typeof after === 'string') return after
          i = after
        }
        if (i >= end) return describe(b, i, end)
        break
      }
      if ((top === OBJECT && c === 0x7d) || (top === ARRAY && c === 0x5d)) {
        depth--
        i++
        continue
      }
      return `${describe(b, i, end)}: expected ',' or '${top === OBJECT ? '}' : ']'}'`
    }
  }
}

/** True when `bytes` is one JSON text (RFC 8259, UTF-8). */
export function isJson (bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  return jsonError(bytes, start, end) === null
}
