// Decoding of v2 produce request bodies (binary and json embedded formats).
// Pure functions: they run inline on the event loop for small bodies and in
// the worker pool for large ones, and must give identical results either way.
import { ProxyError, type SerializedError } from '../errors.js'
import { DEFAULT_JSON_LIMITS, isObject, NO_LIMITS, parseJson, type JsonLimits } from '../json/parse.js'

export type PlainFormat = 'binary' | 'json'

/** One record header as the Kafka client takes it: a single-key object. */
export type Header = Record<string, Buffer>

export interface DecodedBatch {
  count: number
  keys: Array<Buffer | null>
  values: Array<Buffer | null>
  /** Per-record partition, -1 where the record names none. */
  partitions: Int32Array
  /** Per-record headers; null when no record of the batch has any. */
  headers: Array<Header[] | undefined> | null
}

// RFC 4648 §4 alphabet. Padding is optional, as Java's Base64 decoder allows;
// anything else (URL-safe characters, whitespace) is rejected rather than
// silently skipped, which is what Buffer.from(s, 'base64') would do.
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/

export function decodeBase64 (s: string, where: string): Buffer {
  const len = s.length
  const padded = len > 0 && s.charCodeAt(len - 1) === 61 // '='
  if (!BASE64_RE.test(s) || (padded ? len % 4 !== 0 : len % 4 === 1)) {
    throw new ProxyError('badRequest', `${where} is not a valid base64 string`)
  }
  return Buffer.from(s, 'base64')
}

/**
 * Parses the request's JSON strictly (UTF-8, the limits, no repeated keys;
 * see json-input.ts) and returns the records array, validated for shape.
 * Null limits: the main thread already parsed these same bytes so, and a
 * pool task only needs the records again.
 */
export function parseProduceBody (body: Uint8Array, limits: JsonLimits | null): { records: unknown[], parsed: Record<string, unknown> } {
  const parsed = limits === null ? parseJson(body, NO_LIMITS, { prefix: 'Malformed JSON: ', checked: true }) : parseJson(body, limits, { prefix: 'Malformed JSON: ' })
  if (!isObject(parsed)) throw new ProxyError('badRequest', 'Request body must be a JSON object')
  const records = parsed.records
  if (records === undefined || records === null || (Array.isArray(records) && records.length === 0)) {
    throw new ProxyError('unprocessable', 'records may not be empty')
  }
  if (!Array.isArray(records)) throw new ProxyError('badRequest', 'records must be an array')
  return { records, parsed }
}

function encodeField (format: PlainFormat, v: unknown, where: string): Buffer | null {
  if (format === 'json') return v === undefined || v === null ? null : Buffer.from(JSON.stringify(v), 'utf8')
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw new ProxyError('badRequest', `${where} must be a base64 string`)
  return decodeBase64(v, where)
}

// Headers are an extension of the v2 API, in v3's shape: [{name, value}] with
// base64 values. The Kafka client cannot send a null header value, so null is
// written as an empty one.
function decodeHeaders (v: unknown, where: string): Header[] {
  if (!Array.isArray(v)) throw new ProxyError('badRequest', `${where} must be an array of {name, value}`)
  const out = new Array<Header>(v.length)
  for (let i = 0; i < v.length; i++) {
    const h: unknown = v[i]
    if (!isObject(h) || typeof h.name !== 'string') throw new ProxyError('badRequest', `${where}[${i}] must be {name, value} with a string name`)
    const value = h.value === undefined || h.value === null ? Buffer.alloc(0) : typeof h.value === 'string' ? decodeBase64(h.value, `${where}[${i}].value`) : null
    if (value === null) throw new ProxyError('badRequest', `${where}[${i}].value must be a base64 string`)
    out[i] = { [h.name]: value }
  }
  return out
}

export function decodeRecords (format: PlainFormat, records: unknown[]): DecodedBatch {
  const count = records.length
  const keys = new Array<Buffer | null>(count)
  const values = new Array<Buffer | null>(count)
  const partitions = new Int32Array(count).fill(-1)
  let headers: Array<Header[] | undefined> | null = null
  for (let i = 0; i < count; i++) {
    const r = records[i]
    if (!isObject(r)) throw new ProxyError('badRequest', `records[${i}] must be an object`)
    keys[i] = encodeField(format, r.key, `records[${i}].key`)
    values[i] = encodeField(format, r.value, `records[${i}].value`)
    if (r.headers !== undefined && r.headers !== null) {
      headers ??= new Array<Header[] | undefined>(count).fill(undefined)
      headers[i] = decodeHeaders(r.headers, `records[${i}].headers`)
    }
    const p = r.partition
    if (p !== undefined && p !== null) {
      if (typeof p !== 'number' || !Number.isInteger(p) || p > 0x7fffffff) {
        throw new ProxyError('badRequest', `records[${i}].partition must be an integer`)
      }
      if (p < 0) throw new ProxyError('partitionNotFound', `Partition ${p} not found.`)
      partitions[i] = p
    }
  }
  return { count, keys, values, partitions, headers }
}

export function decodeProduceBody (format: PlainFormat, body: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): DecodedBatch {
  return decodeRecords(format, parseProduceBody(body, limits).records)
}

// ---- Transfer across the worker-thread boundary ---------------------------
// Many small Buffers would each be copied by structured clone. A decoded batch
// travels instead as one ArrayBuffer holding every key and value back to back
// plus an index, and the main thread takes zero-copy views of it.

export interface PackedBatch {
  count: number
  data: ArrayBuffer
  /** Per record: key offset, key length (-1 = null), value offset, value length (-1 = null). */
  index: Int32Array
  partitions: Int32Array
  /** Headers are rare and small; they travel by structured clone. */
  headers: Array<Array<[string, Uint8Array]> | null> | null
}

export function packBatch (b: DecodedBatch): PackedBatch {
  let total = 0
  for (let i = 0; i < b.count; i++) total += (b.keys[i]?.length ?? 0) + (b.values[i]?.length ?? 0)
  const data = new ArrayBuffer(total)
  const bytes = new Uint8Array(data)
  const index = new Int32Array(b.count * 4)
  let at = 0
  for (let i = 0; i < b.count; i++) {
    const k = b.keys[i] ?? null
    const v = b.values[i] ?? null
    index[i * 4] = at
    index[i * 4 + 1] = k === null ? -1 : k.length
    if (k !== null) { bytes.set(k, at); at += k.length }
    index[i * 4 + 2] = at
    index[i * 4 + 3] = v === null ? -1 : v.length
    if (v !== null) { bytes.set(v, at); at += v.length }
  }
  const headers = b.headers === null
    ? null
    // Exact-size copies: cloning a view into Buffer's shared pool would copy the whole pool slab.
    : b.headers.map((hs) => hs === undefined ? null : hs.map((h) => { const [name, v] = Object.entries(h)[0] as [string, Buffer]; return [name, new Uint8Array(v)] as [string, Uint8Array] }))
  return { count: b.count, data, index, partitions: b.partitions, headers }
}

export function unpackBatch (p: PackedBatch): DecodedBatch {
  const keys = new Array<Buffer | null>(p.count)
  const values = new Array<Buffer | null>(p.count)
  const ix = p.index
  for (let i = 0; i < p.count; i++) {
    const kl = ix[i * 4 + 1] as number
    const vl = ix[i * 4 + 3] as number
    keys[i] = kl < 0 ? null : Buffer.from(p.data, ix[i * 4] as number, kl)
    values[i] = vl < 0 ? null : Buffer.from(p.data, ix[i * 4 + 2] as number, vl)
  }
  const headers = p.headers === null
    ? null
    : p.headers.map((hs) => hs === null ? undefined : hs.map(([name, v]) => ({ [name]: Buffer.from(v.buffer, v.byteOffset, v.byteLength) })))
  return { count: p.count, keys, values, partitions: p.partitions, headers }
}

/** The pool task that decodes a large v2 produce body off the event loop (workers/produce.ts). */
export interface ProduceTask {
  format: PlainFormat
  body: Uint8Array
  limits: JsonLimits
}

/** What a produce-side pool task answers: the packed batch (transferred), or its error as data. */
export type BatchTaskResult = { ok: true, batch: PackedBatch } | { ok: false, error: SerializedError }
