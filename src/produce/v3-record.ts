// Validation and encoding of one v3 produce record (a ProduceRequest object of
// the streaming endpoint, or an entry of the batch endpoint).
//
// parseV3Record is pure and synchronous: it validates the record and encodes
// the schemaless types (BINARY, JSON, STRING) at once. A key or value that
// needs a schema (AVRO, JSONSCHEMA, PROTOBUF, or no type at all: the latest
// schema of the subject) has its arguments checked there and is left in
// `schemas`; V3SchemaEncoder then resolves the schema with the registry and
// writes the Confluent wire format. Resolved schemas are cached, so after the
// first record of a schema the encoder runs synchronously too.
//
// Schema resolution follows Confluent's SchemaManagerImpl.getSchema, exactly
// one branch per key or value:
//   schema_id       type, schema_version and schema absent; the subject (given,
//                   or the strategy's for the schema) must hold the id, whose
//                   version the result reports;
//   schema_version  type and schema absent; that version of the subject;
//   schema (raw)    type required; looked up in the subject, registered when
//                   missing;
//   none            type absent; the latest version of the subject.
// `subject` and `subject_name_strategy` exclude each other; the strategy
// defaults to schema_registry.key_subject_strategy / value_subject_strategy.
// A schemaless type ignores the schema fields, as Confluent's ProduceAction
// does.
import { ProxyError } from '../errors.js'
import type { SubjectStrategy } from '../config/schema.js'
import type { OutgoingRecord } from '../kafka/producer.js'
import { decodeBase64, type Header } from './v2-body.js'
import { isObject } from '../json/parse.js'
import { subjectFor, type SchemaRegistryClient } from '../registry/client.js'
import { codecFor, resolveReferences, type Codec, type SchemaFormat, type SubjectStrategies } from '../formats/schema-formats.js'
import { encodeFrame, type SchemaType } from '../formats/wire.js'

export type SchemaDataType = 'AVRO' | 'JSONSCHEMA' | 'PROTOBUF'
export type DataType = 'BINARY' | 'JSON' | 'STRING' | SchemaDataType

/** What a success result reports about a key or value that was sent. */
export interface DataSummary {
  type: DataType
  /** The schema fields are set for the schema types only. */
  subject?: string
  schema_id?: number
  schema_version?: number
  size: number
}

/** A key or value to be serialized with a schema, its arguments validated. */
export interface SchemaData {
  /** Only with a raw `schema`. */
  type: SchemaDataType | null
  subject: string | null
  strategy: SubjectStrategy | null
  schemaId: number | null
  schemaVersion: number | null
  schema: string | null
  /** Null or undefined make a null key or value. */
  data: unknown
}

export interface V3Record {
  /** `timestamp` is always set: the request's, or `now`. */
  record: OutgoingRecord & { timestamp: number }
  key: DataSummary | null
  value: DataSummary | null
  /**
   * Set when the key or value needs a schema; V3SchemaEncoder.encode fills
   * in their bytes and summaries. Null on the schemaless path.
   */
  schemas: { key: SchemaData | null, value: SchemaData | null } | null
}

const RECORD_FIELDS = new Set(['partition_id', 'headers', 'key', 'value', 'timestamp'])
const HEADER_FIELDS = new Set(['name', 'value'])
const DATA_FIELDS = new Set(['type', 'data', 'subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'])
const SCHEMA_TYPES = new Set(['AVRO', 'JSONSCHEMA', 'PROTOBUF'])
const STRATEGIES: Readonly<Record<string, SubjectStrategy>> = {
  TOPIC_NAME: 'topic_name', RECORD_NAME: 'record_name', TOPIC_RECORD_NAME: 'topic_record_name'
}
const MAX_INT32 = 0x7fffffff
// Longest slice of a client's value quoted back in an error message.
const QUOTE_LIMIT = 64

// ISO-8601 date-time with a zone, as Java's Instant parser takes it.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i

function quote (s: string): string {
  return s.length > QUOTE_LIMIT ? `${s.slice(0, QUOTE_LIMIT)}…` : s
}

function badRequest (detail: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${detail}`)
}

function rejectUnknown (o: Record<string, unknown>, known: ReadonlySet<string>, where: string, extra?: string): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k) && k !== extra) throw badRequest(`Unrecognized field "${quote(k)}" in ${where}.`)
  }
}

function base64 (s: string): Buffer {
  try {
    return decodeBase64(s, 'data')
  } catch {
    throw badRequest(`data=${quote(s)} is not a valid base64 string.`)
  }
}

function present (v: unknown): boolean {
  return v !== undefined && v !== null
}

function optionalString (v: unknown, where: string): string | null {
  if (!present(v)) return null
  if (typeof v !== 'string') throw badRequest(`${where} must be a string.`)
  return v
}

/** The schema arguments of a Data object without a schemaless type, checked against Confluent's four branches. */
function schemaData (v: Record<string, unknown>, type: string | null, which: 'key' | 'value'): SchemaData {
  const subject = optionalString(v.subject, `${which}.subject`)
  const rawStrategy = optionalString(v.subject_name_strategy, `${which}.subject_name_strategy`)
  const strategy = rawStrategy === null ? null : STRATEGIES[rawStrategy.toUpperCase()] ?? null
  if (rawStrategy !== null && strategy === null) {
    throw badRequest(`${which}.subject_name_strategy ${quote(rawStrategy)} is not one of TOPIC_NAME, RECORD_NAME, TOPIC_RECORD_NAME.`)
  }
  if (subject !== null && strategy !== null) throw badRequest(`${which}: subject and subject_name_strategy cannot both be given.`)
  let schemaId: number | null = null
  if (present(v.schema_id)) {
    const id = v.schema_id
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_INT32) throw badRequest(`${which}.schema_id must be a schema id (a non-negative 32-bit integer).`)
    schemaId = id
  }
  let schemaVersion: number | null = null
  if (present(v.schema_version)) {
    const version = v.schema_version
    // -1 is the registry's name for the latest version.
    if (typeof version !== 'number' || !Number.isInteger(version) || version > MAX_INT32 || (version < 1 && version !== -1)) {
      throw badRequest(`${which}.schema_version must be a version number (a positive integer, or -1 for the latest).`)
    }
    schemaVersion = version
  }
  const schema = optionalString(v.schema, `${which}.schema`)
  const schemaType = type as SchemaDataType | null
  if (schemaId !== null) {
    if (schemaType !== null) throw badRequest(`${which}: type cannot be used with schema_id; the schema names its type.`)
    if (schemaVersion !== null) throw badRequest(`${which}: schema_version cannot be used with schema_id.`)
    if (schema !== null) throw badRequest(`${which}: schema cannot be used with schema_id.`)
  } else if (schemaVersion !== null) {
    if (schemaType !== null) throw badRequest(`${which}: type cannot be used with schema_version; the schema names its type.`)
    if (schema !== null) throw badRequest(`${which}: schema cannot be used with schema_version.`)
  } else if (schema !== null) {
    if (schemaType === null) throw badRequest(`${which}: type (AVRO, JSONSCHEMA or PROTOBUF) is required with schema.`)
  } else if (schemaType !== null) {
    throw badRequest(`${which}: type ${schemaType} needs schema, schema_id or schema_version; leave type out to use the latest schema of the subject.`)
  }
  return { type: schemaType, subject, strategy, schemaId, schemaVersion, schema, data: v.data }
}

interface Encoded {
  bytes: Buffer | null
  summary: DataSummary | null
  schema: SchemaData | null
}

const ABSENT: Encoded = { bytes: null, summary: null, schema: null }

function encodeData (v: unknown, which: 'key' | 'value'): Encoded {
  if (v === undefined || v === null) return ABSENT
  if (!isObject(v)) throw badRequest(`${which} must be an object with "type" and "data".`)
  rejectUnknown(v, DATA_FIELDS, which)
  const rawType = v.type ?? null
  if (rawType !== null && typeof rawType !== 'string') throw badRequest(`${which}.type must be a string.`)
  const type = rawType?.toUpperCase() ?? null
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
  } else if (type === null || SCHEMA_TYPES.has(type)) {
    return { bytes: null, summary: null, schema: schemaData(v, type, which) }
  } else {
    throw badRequest(`${which}.type ${quote(type)} is not one of BINARY, JSON, STRING, AVRO, JSONSCHEMA, PROTOBUF.`)
  }
  return { bytes, summary: { type, size: bytes?.length ?? 0 }, schema: null }
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
 * Throws a ProxyError (400 or 404/40402) for a record that cannot be sent.
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
    value: value.summary,
    schemas: key.schema === null && value.schema === null ? null : { key: key.schema, value: value.schema }
  }
}

// ---- Schema types: resolution (registry I/O) and encoding ---------------------

const FORMAT: Readonly<Record<SchemaDataType, SchemaFormat>> = { AVRO: 'avro', JSONSCHEMA: 'jsonschema', PROTOBUF: 'protobuf' }
const REGISTRY_TYPE: Readonly<Record<SchemaDataType, SchemaType>> = { AVRO: 'AVRO', JSONSCHEMA: 'JSON', PROTOBUF: 'PROTOBUF' }
const DATA_TYPE: Readonly<Record<SchemaType, SchemaDataType>> = { AVRO: 'AVRO', JSON: 'JSONSCHEMA', PROTOBUF: 'PROTOBUF' }
const FORMAT_NAME: Readonly<Record<SchemaDataType, string>> = { AVRO: 'Avro', JSONSCHEMA: 'JSON Schema', PROTOBUF: 'Protobuf' }

/** How long "the latest version of the subject" is taken from the cache before the registry is asked again. */
export const LATEST_TTL_MS = 1000
// Resolved schemas kept per process; the registry client caches below this.
const CACHE_CAPACITY = 1000

interface Resolved {
  type: SchemaDataType
  subject: string
  id: number
  version: number
  codec: Codec
}

interface CacheEntry {
  resolved: Resolved
  /** Past this (Date.now) the entry is not used; Infinity for ids and numbered versions, which never change. */
  expires: number
}

function notInSubject (id: number, subject: string): ProxyError {
  return new ProxyError('registryRefused', `Error serializing message. Schema ${id} is not registered under subject ${subject}; error code: 40403`)
}

export class V3SchemaEncoder {
  private readonly cache = new Map<string, CacheEntry>()

  constructor (
    private readonly registry: SchemaRegistryClient,
    private readonly strategies: SubjectStrategies,
    private readonly now: () => number = Date.now
  ) {}

  /**
   * Serializes the schema key and value of `rec` in place. Returns a promise
   * only when a schema is not cached yet; otherwise it has finished (or
   * thrown) when it returns, so cached schemas cost no extra turn of the
   * event loop. Errors are ProxyErrors for the record's result.
   */
  encode (rec: V3Record, topic: string): Promise<void> | undefined {
    const s = rec.schemas
    if (s === null) return undefined
    if (!this.registry.configured) throw new ProxyError('registryNotConfigured')
    const keyId = s.key === null ? null : this.cacheKey(topic, true, s.key)
    const valueId = s.value === null ? null : this.cacheKey(topic, false, s.value)
    const key = keyId === null ? null : this.cached(keyId)
    const value = valueId === null ? null : this.cached(valueId)
    if (key !== undefined && value !== undefined) {
      apply(rec, s, key, value)
      return undefined
    }
    return Promise.all([
      key !== undefined ? key : this.resolve(topic, true, s.key as SchemaData, keyId as string),
      value !== undefined ? value : this.resolve(topic, false, s.value as SchemaData, valueId as string)
    ]).then(([k, v]) => { apply(rec, s, k, v) })
  }

  private strategy (isKey: boolean, d: SchemaData): SubjectStrategy {
    return d.strategy ?? (isKey ? this.strategies.key : this.strategies.value)
  }

  private cacheKey (topic: string, isKey: boolean, d: SchemaData): string {
    return `${topic}\0${isKey ? 'k' : 'v'}\0${d.type ?? ''}\0${d.subject ?? this.strategy(isKey, d)}\0${d.schemaId ?? ''}\0${d.schemaVersion ?? ''}\0${d.schema ?? ''}`
  }

  private cached (id: string): Resolved | undefined {
    const e = this.cache.get(id)
    if (e === undefined) return undefined
    if (e.expires !== Infinity && this.now() >= e.expires) {
      this.cache.delete(id)
      return undefined
    }
    return e.resolved
  }

  private async resolve (topic: string, isKey: boolean, d: SchemaData, cacheId: string): Promise<Resolved> {
    const resolved = await this.lookUp(topic, isKey, d)
    const latest = d.schemaId === null && d.schema === null && (d.schemaVersion === null || d.schemaVersion === -1)
    this.cache.delete(cacheId)
    this.cache.set(cacheId, { resolved, expires: latest ? this.now() + LATEST_TTL_MS : Infinity })
    if (this.cache.size > CACHE_CAPACITY) this.cache.delete(this.cache.keys().next().value as string)
    return resolved
  }

  private subject (topic: string, isKey: boolean, d: SchemaData, recordName: string | undefined): string {
    if (d.subject !== null) return d.subject
    const strategy = this.strategy(isKey, d)
    if (recordName === undefined && strategy !== 'topic_name') {
      const name = strategy.toUpperCase()
      throw badRequest(`${isKey ? 'key' : 'value'}: subject_name_strategy ${name} needs the schema to name the subject; give schema_id or schema, or a subject.`)
    }
    return subjectFor(strategy, topic, isKey, recordName)
  }

  private async lookUp (topic: string, isKey: boolean, d: SchemaData): Promise<Resolved> {
    const registry = this.registry
    if (d.schemaId !== null) {
      const id = d.schemaId
      const registered = await registry.getById(id)
      const type = DATA_TYPE[registered.schemaType]
      const references = await resolveReferences(registry, registered.references)
      const codec = codecFor(FORMAT[type], { id, schema: registered.schema, references })
      const subject = this.subject(topic, isKey, d, codec.recordName ?? '')
      const found = await registry.lookup(subject, registered.schema, registered.schemaType, registered.references)
      if (found === null) throw notInSubject(id, subject)
      return { type, subject, id, version: found.version, codec }
    }
    if (d.schema !== null) {
      const type = d.type as SchemaDataType
      const schemaType = REGISTRY_TYPE[type]
      // Parsed before anything is registered: a bad schema is 42205, and the
      // record_name strategies need the name inside it.
      const parsed = codecFor(FORMAT[type], { schema: d.schema })
      const subject = this.subject(topic, isKey, d, parsed.recordName ?? '')
      const id = await registry.ensureRegistered(subject, schemaType, d.schema)
      const found = await registry.lookup(subject, d.schema, schemaType)
      if (found === null) throw notInSubject(id, subject)
      return { type, subject, id, version: found.version, codec: codecFor(FORMAT[type], { id, schema: d.schema }) }
    }
    const subject = this.subject(topic, isKey, d, undefined)
    const v = await registry.getVersion(subject, d.schemaVersion === null || d.schemaVersion === -1 ? 'latest' : d.schemaVersion)
    const type = DATA_TYPE[v.schemaType]
    const references = await resolveReferences(registry, v.references)
    return { type, subject, id: v.id, version: v.version, codec: codecFor(FORMAT[type], { id: v.id, schema: v.schema, references }) }
  }
}

function serialize (r: Resolved, d: SchemaData, which: 'key' | 'value'): Buffer | null {
  if (d.data === undefined || d.data === null) return null
  let payload: Buffer
  try {
    payload = r.codec.encode(d.data)
  } catch (err) {
    // Confluent's v3 answers data its schema rejects with a plain 400.
    if (err instanceof ProxyError && err.key === 'schemaConversion') {
      throw badRequest(`Failed to serialize the ${which} as ${FORMAT_NAME[r.type]} (schema ${r.id}): ${err.message}`)
    }
    throw err
  }
  return encodeFrame(r.id, payload, r.codec.messageIndexes)
}

function summary (r: Resolved, bytes: Buffer | null): DataSummary {
  return { type: r.type, subject: r.subject, schema_id: r.id, schema_version: r.version, size: bytes?.length ?? 0 }
}

function apply (rec: V3Record, s: NonNullable<V3Record['schemas']>, key: Resolved | null, value: Resolved | null): void {
  if (key !== null) {
    const bytes = serialize(key, s.key as SchemaData, 'key')
    rec.record.key = bytes
    rec.key = summary(key, bytes)
  }
  if (value !== null) {
    const bytes = serialize(value, s.value as SchemaData, 'value')
    rec.record.value = bytes
    rec.value = summary(value, bytes)
  }
}
