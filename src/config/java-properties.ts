// The text format of java.util.Properties.load, which Confluent's proxy reads kafka-rest.properties
// with: comment lines start with # or !, a key ends at the first unescaped '=', ':' or whitespace,
// a line ending in an odd number of backslashes continues on the next one (whose leading
// whitespace is dropped), and backslash escapes (\t \n \r \f \uXXXX, otherwise the character
// itself) apply in keys and values alike. Decoding the bytes is the caller's choice: Java reads a
// stream as ISO-8859-1.

export interface PropertyEntry {
  readonly key: string
  readonly value: string
  /** 1-based line on which the entry's logical line starts. */
  readonly line: number
}

export interface PropertyError {
  readonly line: number
  readonly message: string
}

// Whitespace as Properties.load sees it: space, tab and form feed (line ends split lines first).
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\f'

function endsContinued (text: string): boolean {
  let slashes = 0
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) slashes++
  return slashes % 2 === 1
}

function skipBlanks (text: string, from: number): number {
  let i = from
  while (isBlank(text[i])) i++
  return i
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' }
const HEX4 = /^[0-9A-Fa-f]{4}$/

/** Resolves the escapes of a key or value; throws with the malformed sequence. */
function unescape (raw: string): string {
  if (!raw.includes('\\')) return raw
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string
    if (c !== '\\') {
      out += c
      continue
    }
    const next = raw[++i]
    if (next === undefined) break
    if (next === 'u') {
      const hex = raw.slice(i + 1, i + 5)
      if (!HEX4.test(hex)) throw new Error(`malformed \\uXXXX escape "\\u${hex}"`)
      out += String.fromCharCode(parseInt(hex, 16))
      i += 4
    } else {
      out += SIMPLE_ESCAPES[next] ?? next
    }
  }
  return out
}

/** Splits a logical line into its raw (still escaped) key and value. */
function splitEntry (text: string): { key: string, value: string } {
  let i = 0
  let key = ''
  for (; i < text.length; i++) {
    const c = text[i] as string
    if (c === '\\') {
      key += c + (text[i + 1] ?? '')
      i++
      continue
    }
    if (c === '=' || c === ':' || isBlank(c)) break
    key += c
  }
  i = skipBlanks(text, i)
  if (text[i] === '=' || text[i] === ':') i = skipBlanks(text, i + 1)
  return { key, value: text.slice(i) }
}

/**
 * Parses the text of a .properties file. A later entry for the same key wins, as in
 * java.util.Properties; entries come back in file order, repeats included.
 */
export function parseProperties (text: string): { entries: PropertyEntry[], errors: PropertyError[] } {
  const lines = text.split(/\r\n|\r|\n/)
  const entries: PropertyEntry[] = []
  const errors: PropertyError[] = []
  for (let n = 0; n < lines.length; n++) {
    const start = n
    const first = lines[n] as string
    const begin = skipBlanks(first, 0)
    if (begin === first.length) continue
    // A comment is one natural line: a trailing backslash does not continue it.
    if (first[begin] === '#' || first[begin] === '!') continue
    let logical = first.slice(begin)
    while (endsContinued(logical)) {
      logical = logical.slice(0, -1)
      if (n + 1 >= lines.length) break
      const next = lines[++n] as string
      logical += next.slice(skipBlanks(next, 0))
    }
    // Only continuations and blanks, as Java skips them.
    if (logical === '') continue
    const raw = splitEntry(logical)
    try {
      entries.push({ key: unescape(raw.key), value: unescape(raw.value), line: start + 1 })
    } catch (err) {
      errors.push({ line: start + 1, message: (err as Error).message })
    }
  }
  return { entries, errors }
}
