// Splits a byte stream of concatenated JSON objects (`{…}{…}` with optional
// whitespace between them, as v3 streaming produce sends) into the text of
// each object as soon as its closing brace arrives, whatever the chunking.
//
// The scanner works on bytes: every byte it acts on ('{', '}', '[', ']', '"',
// '\\') is ASCII, and UTF-8 never uses ASCII values inside a multi-byte
// sequence, so a character split across chunks cannot be misread. Objects
// are handed out as bytes, joined across chunks, so the caller checks and
// decodes each one whole (json/parse.ts): a multi-byte character split
// by a chunk boundary is never decoded in halves. The scanner itself checks
// just enough to find object boundaries.

const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

function isWhitespace (b: number): boolean {
  // JSON's insignificant whitespace (RFC 8259 §2).
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09
}

/** How many backslashes directly precede `end`, not looking before `from`. */
function backslashRun (chunk: Buffer, end: number, from: number): number {
  let n = 0
  for (let j = end - 1; j >= from && chunk[j] === BACKSLASH; j--) n++
  return n
}

export interface SplitResult {
  /**
   * Objects completed by this chunk, in order, as bytes. They may share
   * memory with the chunk: use them before the chunk is reused.
   */
  objects: Buffer[]
  /** Set when the stream is malformed after `objects`; nothing more will be split. */
  error: string | null
}

export class JsonObjectSplitter {
  private depth = 0
  private inString = false
  private escaped = false
  /** Bytes of the object under way that arrived in earlier chunks. */
  private parts: Buffer[] = []
  private partsLength = 0
  private failed: string | null = null
  private seen = false
  private oversized = false

  /**
   * @param maxObjectBytes one object may not be longer; bounds the memory a
   *   never-closing object can take.
   * @param tooLargeMessage the error for an object over `maxObjectBytes`.
   */
  constructor (
    private readonly maxObjectBytes = Number.POSITIVE_INFINITY,
    private readonly tooLargeMessage?: string
  ) {}

  /** Whether the stream failed because an object exceeded `maxObjectBytes`. */
  get overLimit (): boolean {
    return this.oversized
  }

  /** Whether any non-whitespace byte arrived so far. */
  get sawInput (): boolean {
    return this.seen
  }

  push (chunk: Buffer): SplitResult {
    const objects: Buffer[] = []
    if (this.failed !== null) return { objects, error: this.failed }
    // Start of the current object's bytes within this chunk, or -1 when the
    // object began in an earlier chunk (its head is in `parts`) or none is open.
    let start = this.depth > 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number
      if (this.depth === 0) {
        if (isWhitespace(b)) continue
        this.seen = true
        if (b !== OPEN_BRACE) return { objects, error: this.fail(`Unexpected character '${String.fromCharCode(b)}' between JSON objects`) }
        this.depth = 1
        start = i
        continue
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false
          continue
        }
        // Strings (base64 data, mostly) are the bulk of the bytes: jump to the
        // next quote with indexOf (memchr) instead of looking at each byte.
        // The quote ends the string unless an odd run of backslashes, all
        // inside this string, precedes it.
        const quote = chunk.indexOf(QUOTE, i)
        if (quote === -1) {
          this.escaped = backslashRun(chunk, chunk.length, i) % 2 === 1
          i = chunk.length
          continue
        }
        if (backslashRun(chunk, quote, i) % 2 === 0) this.inString = false
        i = quote
        continue
      }
      if (b === QUOTE) this.inString = true
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        // Mismatched pairs are left for JSON.parse, which rejects them.
        if (--this.depth === 0) {
          const tail = chunk.subarray(start, i + 1)
          if (this.partsLength + tail.length > this.maxObjectBytes) return { objects, error: this.tooLarge() }
          const bytes = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail], this.partsLength + tail.length)
          this.parts = []
          this.partsLength = 0
          objects.push(bytes)
          start = -1
        }
      }
    }
    if (this.depth > 0) {
      // Copy: the caller's chunk may be reused once push returns.
      const rest = Buffer.from(chunk.subarray(start))
      if (this.partsLength + rest.length > this.maxObjectBytes) return { objects, error: this.tooLarge() }
      this.parts.push(rest)
      this.partsLength += rest.length
    }
    return { objects, error: null }
  }

  /** The end of the stream: an error when an object was left open. */
  end (): string | null {
    if (this.failed !== null) return this.failed
    if (this.depth > 0) return this.fail('Unexpected end of input inside a JSON object')
    return null
  }

  private tooLarge (): string {
    this.oversized = true
    return this.fail(this.tooLargeMessage ?? `A record is larger than the limit of ${this.maxObjectBytes} bytes`)
  }

  private fail (message: string): string {
    this.failed = message
    this.parts = []
    this.partsLength = 0
    return message
  }
}
