// The one entry point v2 handlers use for the schema formats (avro,
// jsonschema, protobuf).
//
// Produce runs in two steps so that large batches can be encoded in the pool:
//   1. resolveProduceSchemas: registry I/O on the main thread, once per
//      request and side (the registry client's caches make it once per schema);
//   2. encodeWithSchemas / encodeBodyWithSchemas: pure, from the resolved
//      schema texts and ids to wire-framed buffers; the pool task
//      workers/schema-encode.ts runs the same function, so inline and pooled
//      results are byte-identical. Each thread compiles a schema once per id.
// Reads resolve every schema id of a batch first, then decode synchronously.
//
// Confluent's v2 rules (kafka-rest AbstractProduceAction, SchemaManagerImpl,
// SchemaRecordSerializerImpl): `*_schema_id` is looked up by id, `*_schema`
// is parsed, looked up in the subject of the configured strategy and
// registered when missing; both at once is a 400; a null or absent key or
// value stays null; a non-null one without a schema is 42201 (key) or 42202
// (value). The response reports the ids used. Data that does not match its
// schema is 42203, the code of the spec's table (kafka-rest's Errors
// JSON_AVRO_CONVERSION); newer kafka-rest answers it with a plain 400.
// One difference: Confluent also checks that a schema given by id is
// registered under the topic's subject (a version lookup per schema); v2's
// response has no version, and the check only turns away ids the registry
// knows, so it is skipped.
import { ProxyError, rehydrateError } from '../errors.js'
import type { SubjectStrategy } from '../config/schema.js'
import { subjectFor, type SchemaReference, type SchemaRegistryClient } from '../registry/client.js'
import * as avro from './avro.js'
import * as jsonschema from './jsonschema.js'
import * as protobuf from './protobuf.js'
import { decodeFrame, encodeFrame, type ResolvedReference, type SchemaSource, type SchemaText, type SchemaType } from './wire.js'
import { decodeRecords, parseProduceBody, unpackBatch, type BatchTaskResult, type DecodedBatch } from '../produce/v2-body.js'
import { transferableCopy, type TaskPool } from '../pool/pool.js'
import { jsonError } from '../json/validate.js'
import { isObject } from '../json/parse.js'
import type { DecodedSides, DecodedSide } from '../render/v2-records.js'

export type SchemaFormat = 'avro' | 'jsonschema' | 'protobuf'

export const SCHEMA_TYPE: Readonly<Record<SchemaFormat, SchemaType>> = { avro: 'AVRO', jsonschema: 'JSON', protobuf: 'PROTOBUF' }

const FORMAT_NAME: Readonly<Record<SchemaFormat, string>> = { avro: 'Avro', jsonschema: 'JSON Schema', protobuf: 'Protobuf' }

export function isSchemaFormat (format: string): format is SchemaFormat {
  return format === 'avro' || format === 'jsonschema' || format === 'protobuf'
}

export interface SubjectStrategies {
  key: SubjectStrategy
  value: SubjectStrategy
}

const TOPIC_NAME_STRATEGIES: SubjectStrategies = { key: 'topic_name', value: 'topic_name' }

/** The schemas of one produce request; null for a side that names none. Plain data (goes to the pool). */
export interface ProduceSchemas {
  key: SchemaSource | null
  value: SchemaSource | null
}

export interface EncodedProduce {
  batch: DecodedBatch
  keySchemaId: number | null
  valueSchemaId: number | null
}

export interface DecodedRecord {
  key: unknown
  value: unknown
}

/** A compiled schema of any format, behind one shape. Made once per request and side, never per record. */
export interface Codec {
  recordName: string | undefined
  encode (value: unknown): Buffer
  decode (payload: Buffer, messageIndexes: readonly number[] | undefined): unknown
  /** The message indexes framed in front of what `encode` writes (protobuf only). */
  messageIndexes: readonly number[] | undefined
}

export function codecFor (format: SchemaFormat, src: SchemaText): Codec {
  switch (format) {
    case 'avro': {
      const s = avro.compile(src)
      return { recordName: avro.recordName(s), encode: (v) => avro.encode(s, v), decode: (p) => avro.decode(s, p), messageIndexes: undefined }
    }
    case 'jsonschema': {
      const s = jsonschema.compile(src)
      return { recordName: jsonschema.recordName(s), encode: (v) => jsonschema.encode(s, v), decode: (p) => jsonschema.decode(s, p), messageIndexes: undefined }
    }
    case 'protobuf': {
      const s = protobuf.compile(src)
      return {
        recordName: protobuf.recordName(s),
        encode: (v) => protobuf.encode(s, v),
        decode: (p, indexes) => protobuf.decode(s, p, indexes),
        messageIndexes: protobuf.ENCODE_MESSAGE_INDEXES
      }
    }
  }
}

// ---- Schema resolution (I/O, main thread) ------------------------------------

function isSchemaId (v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff
}

// Confluent's serializers name referenced schemas by reference name; nesting
// is bounded so that a reference cycle in a registry cannot loop forever.
const MAX_REFERENCE_DEPTH = 32

export async function resolveReferences (registry: SchemaRegistryClient, refs: readonly SchemaReference[], out: ResolvedReference[] = [], seen = new Set<string>(), depth = 0): Promise<ResolvedReference[]> {
  for (const ref of refs) {
    if (seen.has(ref.name)) continue
    seen.add(ref.name)
    if (depth >= MAX_REFERENCE_DEPTH) throw new ProxyError('invalidSchema', `Invalid schema: references nest deeper than ${MAX_REFERENCE_DEPTH} levels`)
    const v = await registry.getVersion(ref.subject, ref.version)
    // Dependencies first: a schema is compiled after everything it uses.
    await resolveReferences(registry, v.references, out, seen, depth + 1)
    out.push({ name: ref.name, schema: v.schema })
  }
  return out
}

async function sourceById (registry: SchemaRegistryClient, format: SchemaFormat, id: number): Promise<SchemaSource> {
  const registered = await registry.getById(id)
  if (registered.schemaType !== SCHEMA_TYPE[format]) {
    throw new ProxyError('invalidSchema', `Invalid schema: schema ${id} is a ${registered.schemaType} schema, not ${SCHEMA_TYPE[format]}`)
  }
  const references = await resolveReferences(registry, registered.references)
  return { id, schemaType: registered.schemaType, schema: registered.schema, references }
}

async function resolveSide (format: SchemaFormat, registry: SchemaRegistryClient, topic: string, isKey: boolean,
  schemaId: unknown, schema: unknown, strategy: SubjectStrategy): Promise<SchemaSource | null> {
  const side = isKey ? 'key' : 'value'
  const byId = schemaId !== undefined && schemaId !== null
  const raw = schema !== undefined && schema !== null
  if (!byId && !raw) return null
  if (byId && raw) throw new ProxyError('badRequest', `Unsupported argument: ${side}_schema and ${side}_schema_id cannot both be given`)
  if (byId && !isSchemaId(schemaId)) throw new ProxyError('badRequest', `${side}_schema_id must be a schema id (a non-negative integer)`)
  if (raw && typeof schema !== 'string') throw new ProxyError('badRequest', `${side}_schema must be a string holding the schema`)
  if (!registry.configured) throw new ProxyError('registryNotConfigured')
  if (byId) return await sourceById(registry, format, schemaId as number)
  const text = schema as string
  // Parsed before anything is registered: a bad schema is 42205, and the
  // record_name strategies need the name inside it.
  const codec = codecFor(format, { schema: text })
  const subject = subjectFor(strategy, topic, isKey, codec.recordName)
  const id = await registry.ensureRegistered(subject, SCHEMA_TYPE[format], text)
  return { id, schemaType: SCHEMA_TYPE[format], schema: text, references: [] }
}

/** Step 1 of produce: the key and value schemas a request names, registered and resolved. */
export async function resolveProduceSchemas (format: SchemaFormat, registry: SchemaRegistryClient, topic: string,
  request: Readonly<Record<string, unknown>>, strategies: SubjectStrategies = TOPIC_NAME_STRATEGIES): Promise<ProduceSchemas> {
  const [key, value] = await Promise.all([
    resolveSide(format, registry, topic, true, request.key_schema_id, request.key_schema, strategies.key),
    resolveSide(format, registry, topic, false, request.value_schema_id, request.value_schema, strategies.value)
  ])
  return { key, value }
}

// ---- Encoding (pure: inline or in the pool) -----------------------------------

function encodeField (format: SchemaFormat, codec: Codec | null, id: number, v: unknown, i: number, isKey: boolean): Buffer | null {
  if (v === undefined || v === null) return null
  if (codec === null) throw new ProxyError(isKey ? 'keySchemaMissing' : 'valueSchemaMissing')
  let payload: Buffer
  try {
    payload = codec.encode(v)
  } catch (err) {
    if (err instanceof ProxyError && err.key === 'schemaConversion') {
      throw new ProxyError('schemaConversion', `Conversion of JSON to ${FORMAT_NAME[format]} failed: records[${i}].${isKey ? 'key' : 'value'}: ${err.message}`)
    }
    throw err
  }
  return encodeFrame(id, payload, codec.messageIndexes)
}

/**
 * Step 2 of produce, pure: the records' keys and values encoded and framed,
 * with partitions and headers checked exactly as for binary and json.
 */
export function encodeWithSchemas (format: SchemaFormat, schemas: ProduceSchemas, records: unknown[]): DecodedBatch {
  // Only partition and headers go through the plain decoder; key and value are ours.
  const batch = decodeRecords('binary', records.map((r) => isObject(r) ? { partition: r.partition, headers: r.headers } : r))
  const key = schemas.key === null ? null : codecFor(format, schemas.key)
  const value = schemas.value === null ? null : codecFor(format, schemas.value)
  const keyId = schemas.key?.id ?? 0
  const valueId = schemas.value?.id ?? 0
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as Record<string, unknown>
    batch.keys[i] = encodeField(format, key, keyId, r.key, i, true)
    batch.values[i] = encodeField(format, value, valueId, r.value, i, false)
  }
  return batch
}

/**
 * encodeWithSchemas from the raw request body: what the pool task runs. The
 * main thread parsed (and checked) the same bytes before sending them.
 */
export function encodeBodyWithSchemas (format: SchemaFormat, schemas: ProduceSchemas, body: Buffer): DecodedBatch {
  return encodeWithSchemas(format, schemas, parseProduceBody(body, null).records)
}

/** Both steps inline, for a parsed request body (`parseProduceBody(body, limits).parsed`). */
export async function encodeRecords (format: SchemaFormat, registry: SchemaRegistryClient, topic: string,
  request: Readonly<Record<string, unknown>>, strategies?: SubjectStrategies): Promise<EncodedProduce> {
  const records = request.records
  if (!Array.isArray(records) || records.length === 0) throw new ProxyError('unprocessable', 'records may not be empty')
  const schemas = await resolveProduceSchemas(format, registry, topic, request, strategies)
  return { batch: encodeWithSchemas(format, schemas, records), keySchemaId: schemas.key?.id ?? null, valueSchemaId: schemas.value?.id ?? null }
}

/**
 * Both steps with the encoding in the pool, for large bodies. `parsed` is the
 * body as the caller parsed it (`parseProduceBody(body, limits).parsed`), for
 * the schema fields; the task parses its own copy, which is cheaper than
 * cloning the parsed records across threads.
 */
export async function encodeRecordsInPool (pool: TaskPool, format: SchemaFormat, registry: SchemaRegistryClient, topic: string,
  body: Buffer, parsed: Readonly<Record<string, unknown>>, strategies?: SubjectStrategies): Promise<EncodedProduce> {
  const schemas = await resolveProduceSchemas(format, registry, topic, parsed, strategies)
  const bytes = transferableCopy(body)
  const task: SchemaEncodeTask = { format, schemas, body: bytes }
  const result = await pool.run<BatchTaskResult>('schema-encode', task, [bytes.buffer as ArrayBuffer])
  if (!result.ok) throw rehydrateError(result.error)
  return { batch: unpackBatch(result.batch), keySchemaId: schemas.key?.id ?? null, valueSchemaId: schemas.value?.id ?? null }
}

// ---- Decoding (reads) -------------------------------------------------------------

export interface FramedRecord {
  key: Buffer | null
  value: Buffer | null
  /** Names the record in error messages, e.g. "topic-0@42". */
  where?: string
}

// What the registry says about a schema id on a read: unreachable or
// forbidden passes through (retry, or fix the grant); anything else about the
// record's bytes or its schema makes the record undecodable, 50002 and not
// retriable. Confluent answers every deserializer failure with 408/40801
// (KafkaRestExceptionMapper maps any SerializationException so, under a
// FIXME, CPKAFKA-3412), which tells clients to retry a read that cannot
// succeed; the body shape is the same.
function readError (err: unknown, what: string): ProxyError {
  if (err instanceof ProxyError) {
    if (err.key === 'registryUnavailable' || err.key === 'registryForbidden' || err.key === 'registryNotConfigured') return err
    if (err.key === 'registryFailed') return new ProxyError('registryUnavailable', err.message.replace(/^Error serializing message\. /, ''), { cause: err.cause })
    return new ProxyError('undecodableRecord', `Error deserializing ${what}: ${err.message.replace(/^Error serializing message\. /, '')}`, { cause: err })
  }
  return new ProxyError('undecodableRecord', `Error deserializing ${what}`, { cause: err })
}

/**
 * Decodes a batch of consumed records: every distinct schema id is resolved
 * once (the registry client caches across batches), then each record is
 * decoded and rendered as Confluent's REST proxy renders it. One undecodable
 * record fails the batch, as a deserializer exception fails Confluent's read.
 */
export async function decodeRecordBatch (format: SchemaFormat, registry: SchemaRegistryClient, records: readonly FramedRecord[]): Promise<DecodedRecord[]> {
  const withIndexes = format === 'protobuf'
  const frames = records.map((r) => {
    const where = r.where === undefined ? 'the record' : `the record at ${r.where}`
    const frame = (bytes: Buffer | null, side: string): ReturnType<typeof decodeFrame> | null => {
      if (bytes === null) return null
      try {
        return decodeFrame(bytes, withIndexes)
      } catch (err) {
        throw readError(err, `the ${side} of ${where}`)
      }
    }
    return { key: frame(r.key, 'key'), value: frame(r.value, 'value'), where }
  })

  const ids = new Set<number>()
  for (const f of frames) {
    if (f.key !== null) ids.add(f.key.schemaId)
    if (f.value !== null) ids.add(f.value.schemaId)
  }
  const codecs = new Map<number, Codec>()
  await Promise.all([...ids].map(async (id) => {
    try {
      codecs.set(id, codecFor(format, await sourceById(registry, format, id)))
    } catch (err) {
      throw readError(err, `schema ${id}`)
    }
  }))

  return frames.map((f) => {
    const side = (frame: ReturnType<typeof decodeFrame> | null, name: string): unknown => {
      if (frame === null) return null
      try {
        return (codecs.get(frame.schemaId) as Codec).decode(frame.payload, frame.messageIndexes)
      } catch (err) {
        throw readError(err, `the ${name} of ${f.where}`)
      }
    }
    return { key: side(f.key, 'key'), value: side(f.value, 'value') }
  })
}

/** One consumed record's key and value; see decodeRecordBatch. */
export async function decodeRecord (format: SchemaFormat, registry: SchemaRegistryClient, keyBytes: Buffer | null,
  valueBytes: Buffer | null, where?: string): Promise<DecodedRecord> {
  const [decoded] = await decodeRecordBatch(format, registry, [{ key: keyBytes, value: valueBytes, where }])
  return decoded as DecodedRecord
}

// What can be rendered at all from a decoded value. JSON.stringify recurses;
// the decoders bound the depth of what they build (protobufjs refuses
// nesting past its recursion limit, avsc's recursive reader overflows well
// before the stringifier would), so this only guards the invariant that no
// record content fails a read, as a reason instead of an exception.
function jsonText (v: unknown): DecodedSide {
  try {
    return { json: JSON.stringify(v) ?? 'null' }
  } catch (err) {
    return { reason: `the decoded data cannot be rendered as JSON: ${(err as Error).message}` }
  }
}

function reasonOf (err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  // avsc reads recursive types by recursion: a record nested deeper than the stack allows.
  if (text.includes('Maximum call stack size exceeded')) return 'the data nests deeper than the decoder can follow (Maximum call stack size exceeded)'
  return text.replace(/^Error serializing message\. /, '')
}

// The registry's own trouble fails the read (retry, or fix the grant or the
// configuration); everything else is about this record's bytes or its schema.
function passesThrough (err: unknown): boolean {
  return err instanceof ProxyError && (err.key === 'registryUnavailable' || err.key === 'registryForbidden' ||
    err.key === 'registryNotConfigured' || err.key === 'registryFailed')
}

/**
 * Decodes a batch of consumed records for rendering, never failing on a
 * record's content: each side becomes JSON text, or the reason it cannot be
 * (bad magic byte, a schema id the registry does not have, a payload its
 * schema cannot decode). Only the registry's own trouble rejects the batch.
 * Every distinct schema id is resolved once (the registry client caches
 * across batches). A JSON Schema payload is JSON text already: it is
 * validated and spliced verbatim, at any depth.
 */
export async function decodeForRead (format: SchemaFormat, registry: SchemaRegistryClient, records: readonly FramedRecord[]): Promise<DecodedSides[]> {
  const withIndexes = format === 'protobuf'
  type Framed = ReturnType<typeof decodeFrame> | { reason: string } | null
  const frame = (bytes: Buffer | null): Framed => {
    if (bytes === null) return null
    try {
      return decodeFrame(bytes, withIndexes)
    } catch (err) {
      return { reason: reasonOf(err) }
    }
  }
  const frames = records.map((r) => ({ key: frame(r.key), value: frame(r.value) }))

  const ids = new Set<number>()
  for (const f of frames) {
    if (f.key !== null && !('reason' in f.key)) ids.add(f.key.schemaId)
    if (f.value !== null && !('reason' in f.value)) ids.add(f.value.schemaId)
  }
  const codecs = new Map<number, Codec | string>()
  const failed: unknown[] = []
  await Promise.all([...ids].map(async (id) => {
    try {
      codecs.set(id, codecFor(format, await sourceById(registry, format, id)))
    } catch (err) {
      if (passesThrough(err)) failed.push(err)
      else codecs.set(id, `schema ${id}: ${reasonOf(err)}`)
    }
  }))
  if (failed.length > 0) throw readError(failed[0], 'schemas of the records')

  const side = (f: Framed): DecodedSide => {
    if (f === null || 'reason' in f) return f
    const codec = codecs.get(f.schemaId) as Codec | string
    if (typeof codec === 'string') return { reason: codec }
    if (format === 'jsonschema') {
      const err = jsonError(f.payload)
      return err === null ? { json: f.payload.toString('utf8') } : { reason: `the JSON Schema payload is not JSON (${err})` }
    }
    try {
      return jsonText(codec.decode(f.payload, f.messageIndexes))
    } catch (err) {
      return { reason: reasonOf(err) }
    }
  }
  return frames.map((f) => ({ key: side(f.key), value: side(f.value) }))
}

/** The pool task that encodes a large schema-format produce body off the event loop (workers/schema-encode.ts). */
export interface SchemaEncodeTask {
  format: SchemaFormat
  schemas: ProduceSchemas
  body: Uint8Array
}
