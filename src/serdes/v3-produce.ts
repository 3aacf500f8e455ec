// Validation and encoding of one v3 produce record (a ProduceRequest object of
// the streaming endpoint, or an entry of the batch endpoint). Pure: the
// handler decides what to do with the record and its errors.
//
// Only the schemaless types are encoded here (BINARY, JSON, STRING). Schema
// types and the schema selectors (subject, schema_id, …) are recognised and
// answered with a "not supported yet" error rather than mistaken for unknown
// fields.
import { ProxyError } from '../errors.js'
import type { OutgoingRecord } from '../kafka/producer.js'
import { decodeBase64, type Header } from './v2-produce.js'

export type DataType = 'BINARY' | 'JSON' | 'STRING'

/** What a success result reports about a key or value that was sent. */
export interface DataSummary {
  type: DataType
  size: number
}

export interface V3Record {
  /** `timestamp` is always set: the request's, or `now`. */
  record: OutgoingRecord & { timestamp: number }
  key: DataSummary | null
  value: DataSummary | null
}

const RECORD_FIELDS = new Set(['partition_id', 'headers', 'key', 'value', 'timestamp'])
const HEADER_FIELDS = new Set(['name', 'value'])
const DATA_FIELDS = new Set(['type', 'data', 'subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'])
const SCHEMA_SELECTORS = ['subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'] as const
const SCHEMA_TYPES = new Set(['AVRO', 'JSONSCHEMA', 'PROTOBUF'])
const MAX_INT32 = 0x7fffffff
// Longest slice of a client's value quoted back in an error message.
const QUOTE_LIMIT = 64

// ISO-8601 date-time with a zone, as Java's Instant parser takes it.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function quote (s: string): string {
  return s.length > QUOTE_LIMIT ? `${s.slice(0, QUOTE_LIMIT)}…` : s
}

function badRequest (detail: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${detail}`)
}

function rejectUnknown (o: Record<string, unknown>, known: ReadonlySet<string>, where: string, extra?: string): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k) && k !== extra) throw badRequest(`Unrecognized field "${k}" in ${where}.`)
  }
}

function base64 (s: string): Buffer {
  try {
    return decodeBase64(s, 'data')
  } catch {
    throw badRequest(`data=${quote(s)} is not a valid base64 string.`)
  }
}

function encodeData (v: unknown, which: 'key' | 'value'): { bytes: Buffer | null, summary: DataSummary | null } {
  if (v === undefined || v === null) return { bytes: null, summary: null }
  if (!isObject(v)) throw badRequest(`${which} must be an object with "type" and "data".`)
  rejectUnknown(v, DATA_FIELDS, which)
  const selector = SCHEMA_SELECTORS.find((f) => v[f] !== undefined && v[f] !== null)
  const rawType = v.type ?? null
  if (rawType !== null && typeof rawType !== 'string') throw badRequest(`${which}.type must be a string.`)
  const type = rawType?.toUpperCase() ?? null
  if (selector !== undefined || type === null || SCHEMA_TYPES.has(type)) {
    throw new ProxyError('unprocessable',
      `Schema-based serialization (${selector ?? type ?? 'latest schema of the subject'}) is not supported yet by the v3 produce API; use type BINARY, JSON or STRING.`)
  }
  const data = v.data
  let bytes: Buffer | null
  if (type === 'BINARY') {
    if (data === undefined || data === null) bytes = null
    else if (typeof data !== 'string') throw badRequest(`data=${quote(JSON.stringify(data))} is not a base64 string.`)
    else bytes = base64(data)
  } else if (type === 'JSON') {
    bytes = data === undefined || data === null ? null : Buffer.from(JSON.stringify(data), 'utf8')
  } else if (type === 'STRING') {
    if (data === undefined || data === null) bytes = null
    else if (typeof data !== 'string') throw badRequest(`${which}.data must be a JSON string for type STRING.`)
    else bytes = Buffer.from(data, 'utf8')
  } else {
    throw badRequest(`${which}.type ${quote(type)} is not one of BINARY, JSON, STRING, AVRO, JSONSCHEMA, PROTOBUF.`)
  }
  return { bytes, summary: { type, size: bytes?.length ?? 0 } }
}

// The Kafka client cannot send a null header value, so null is written as an
// empty one (as v2 does).
function decodeHeaders (v: unknown): Header[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw badRequest('headers must be an array of {"name", "value"}.')
  const out = new Array<Header>(v.length)
  for (let i = 0; i < v.length; i++) {
    const h: unknown = v[i]
    if (!isObject(h) || typeof h.name !== 'string') throw badRequest(`headers[${i}] must be {"name", "value"} with a string name.`)
    rejectUnknown(h, HEADER_FIELDS, `headers[${i}]`)
    const raw = h.value
    if (raw !== undefined && raw !== null && typeof raw !== 'string') throw badRequest(`headers[${i}].value must be a base64 string or null.`)
    out[i] = { [h.name]: typeof raw === 'string' ? base64(raw) : Buffer.alloc(0) }
  }
  return out
}

function parsePartition (v: unknown): number {
  if (v === undefined || v === null) return -1
  if (typeof v !== 'number' || !Number.isInteger(v) || v > MAX_INT32) throw badRequest('partition_id must be a 32-bit integer.')
  if (v < 0) throw new ProxyError('partitionNotFound', `Partition ${v} not found.`)
  return v
}

function daysIn (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** Milliseconds since the epoch of an ISO-8601 instant; null for anything else. */
export function parseTimestamp (s: string): number | null {
  const m = ISO_RE.exec(s)
  if (m === null) return null
  const month = Number(m[2])
  const day = Number(m[3])
  // Date.parse rolls 2023-02-30 over into March; Java refuses it.
  if (month < 1 || month > 12 || day < 1 || day > daysIn(Number(m[1]), month)) return null
  const ms = Date.parse(s.toUpperCase())
  return Number.isNaN(ms) || ms < 0 ? null : ms
}

function timestampOf (v: unknown, now: number): number {
  if (v === undefined || v === null) return now
  const ms = typeof v === 'string' ? parseTimestamp(v) : null
  if (ms === null) throw badRequest(`timestamp=${quote(String(JSON.stringify(v)))} is not an ISO-8601 instant after 1970.`)
  return ms
}

/**
 * Validates one record object and encodes its key, value and headers.
 * `extraField` names one more allowed top-level field (the batch entry `id`).
 * Throws a ProxyError (400, 404/40402 or 422) for a record that cannot be sent.
 */
export function parseV3Record (input: unknown, now: number, extraField?: string): V3Record {
  if (!isObject(input)) throw badRequest('a record must be a JSON object.')
  rejectUnknown(input, RECORD_FIELDS, 'the record', extraField)
  const partition = parsePartition(input.partition_id)
  const headers = decodeHeaders(input.headers)
  const key = encodeData(input.key, 'key')
  const value = encodeData(input.value, 'value')
  const timestamp = timestampOf(input.timestamp, now)
  return {
    record: { key: key.bytes, value: value.bytes, partition, headers, timestamp },
    key: key.summary,
    value: value.summary
  }
}
