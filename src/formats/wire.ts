// The Confluent wire format of schema-framed keys and values, as pure functions:
//
//   byte 0       magic byte 0
//   bytes 1..4   schema id, 32-bit big-endian (the registry's global id)
//   protobuf     message indexes: zigzag varints, a count then the indexes
//                (the path of the message type inside the .proto file)
//   rest         the payload (Avro binary, JSON text or Protobuf binary)
//
// Source: Confluent Schema Registry docs, "Formats, Serializers, and
// Deserializers" > "Wire format". The one special case: the most common
// message-index list [0] is written as a single 0 byte (a count of 0).
//
// Also here, because the pool's task files need them without loading any
// I/O module: the shape of a resolved schema and the per-thread cache of
// compiled schemas keyed by wire-format schema id.
import { ProxyError } from '../errors.js'

export const MAGIC_BYTE = 0
/** Magic byte plus schema id. */
export const HEADER_SIZE = 5

export interface Frame {
  schemaId: number
  /** A view into the decoded buffer, not a copy. */
  payload: Buffer
  /** Only when decoded with message indexes (protobuf). */
  messageIndexes?: number[]
}

// A varint of a 32-bit value takes at most 5 bytes.
const MAX_VARINT_BYTES = 5

function zigzagVarintLength (n: number): number {
  let zz = ((n << 1) ^ (n >> 31)) >>> 0
  let len = 1
  while (zz > 0x7f) { zz >>>= 7; len++ }
  return len
}

function writeZigzagVarint (buf: Buffer, at: number, n: number): number {
  let zz = ((n << 1) ^ (n >> 31)) >>> 0
  while (zz > 0x7f) {
    buf[at++] = (zz & 0x7f) | 0x80
    zz >>>= 7
  }
  buf[at++] = zz
  return at
}

function isSingleZero (indexes: readonly number[]): boolean {
  return indexes.length === 0 || (indexes.length === 1 && indexes[0] === 0)
}

/** The bytes of a message-index list, with [0] (and the equivalent []) as one 0 byte. */
export function encodeMessageIndexes (indexes: readonly number[]): Buffer {
  if (isSingleZero(indexes)) return Buffer.from([0])
  let len = zigzagVarintLength(indexes.length)
  for (const i of indexes) len += zigzagVarintLength(i)
  const out = Buffer.allocUnsafe(len)
  let at = writeZigzagVarint(out, 0, indexes.length)
  for (const i of indexes) at = writeZigzagVarint(out, at, i)
  return out
}

export function encodeFrame (schemaId: number, payload: Uint8Array, messageIndexes?: readonly number[]): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new RangeError(`schema id ${schemaId} is not a non-negative 32-bit integer`)
  }
  const indexes = messageIndexes === undefined ? null : encodeMessageIndexes(messageIndexes)
  const indexLen = indexes === null ? 0 : indexes.length
  const out = Buffer.allocUnsafe(HEADER_SIZE + indexLen + payload.length)
  out[0] = MAGIC_BYTE
  out.writeInt32BE(schemaId, 1)
  if (indexes !== null) indexes.copy(out, HEADER_SIZE)
  out.set(payload, HEADER_SIZE + indexLen)
  return out
}

function undecodable (message: string): ProxyError {
  return new ProxyError('undecodableRecord', message)
}

function readZigzagVarint (buf: Buffer, at: number): [value: number, next: number] {
  let zz = 0
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (at >= buf.length) throw undecodable('Truncated message indexes in a Protobuf record')
    const b = buf[at++] as number
    zz |= (b & 0x7f) << (7 * i)
    if ((b & 0x80) === 0) return [(zz >>> 1) ^ -(zz & 1), at]
  }
  throw undecodable('Malformed varint in the message indexes of a Protobuf record')
}

/**
 * Splits a framed key or value. Protobuf frames carry message indexes that
 * nothing in the bytes announces, so the caller says whether to read them.
 */
export function decodeFrame (buf: Buffer, withMessageIndexes = false): Frame {
  if (buf.length < HEADER_SIZE) {
    throw undecodable(`A record of ${buf.length} bytes is too short for the Confluent wire format (magic byte and schema id)`)
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw undecodable(`Unknown magic byte ${buf[0] as number}: the record is not in the Confluent wire format`)
  }
  const schemaId = buf.readInt32BE(1)
  if (!withMessageIndexes) return { schemaId, payload: buf.subarray(HEADER_SIZE) }
  let [count, at] = readZigzagVarint(buf, HEADER_SIZE)
  let messageIndexes: number[]
  if (count === 0) {
    messageIndexes = [0]
  } else {
    // Each index takes at least one byte; a larger count is corrupt, and
    // checking first keeps a bad count from allocating a huge array.
    if (count < 0 || count > buf.length - at) throw undecodable(`Invalid message-index count ${count} in a Protobuf record`)
    messageIndexes = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      let index: number
      ;[index, at] = readZigzagVarint(buf, at)
      if (index < 0) throw undecodable(`Invalid message index ${index} in a Protobuf record`)
      messageIndexes[i] = index
    }
  }
  return { schemaId, payload: buf.subarray(at), messageIndexes }
}

// ---- Resolved schemas and the compiled-schema cache --------------------------

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF'

/** A schema that another one references, with its text fetched from the registry. */
export interface ResolvedReference {
  /** The name the referencing schema uses: an import path, a $ref URI or an Avro type's full name. */
  name: string
  schema: string
}

/**
 * Everything the pure encode and decode steps need to know about a schema:
 * plain data, so it crosses the worker-thread boundary by structured clone.
 */
export interface SchemaSource {
  id: number
  schemaType: SchemaType
  schema: string
  /** Transitively resolved, dependencies before their dependents. */
  references: ResolvedReference[]
}

/** What a format module compiles: a registered schema (with id) or a raw one (without). */
export interface SchemaText {
  id?: number
  schema: string
  references?: readonly ResolvedReference[]
}

/**
 * Compiled schemas of one format, one per schema id, least recently used
 * evicted past `capacity`. Ids are immutable in a registry, so a hit needs no
 * registry call; the text is compared anyway so that a process talking to a
 * second registry (tests do) never decodes with another registry's schema.
 * Raw schemas without references are also kept by text, so a schema parsed
 * to pick its subject is not compiled again once registered.
 */
export class SchemaCache<T> {
  private readonly byId = new Map<number, { text: string, value: T }>()
  private readonly byText = new Map<string, T>()

  constructor (private readonly compile: (src: SchemaText) => T, private readonly capacity = 1000) {}

  get (src: SchemaText): T {
    const plain = src.references === undefined || src.references.length === 0
    if (src.id === undefined) {
      if (!plain) return this.compile(src)
      const hit = this.byText.get(src.schema)
      if (hit !== undefined) return touch(this.byText, src.schema, hit)
      return remember(this.byText, src.schema, this.compile(src), this.capacity)
    }
    const entry = this.byId.get(src.id)
    if (entry !== undefined && entry.text === src.schema) return touch(this.byId, src.id, entry).value
    const value = (plain ? this.byText.get(src.schema) : undefined) ?? this.compile(src)
    remember(this.byId, src.id, { text: src.schema, value }, this.capacity)
    return value
  }

  get size (): number {
    return this.byId.size
  }
}

function touch<K, V> (map: Map<K, V>, key: K, value: V): V {
  map.delete(key)
  map.set(key, value)
  return value
}

function remember<K, V> (map: Map<K, V>, key: K, value: V, capacity: number): V {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
  return value
}

/**
 * A 32-bit float as Java's Float.toString prints it, the shortest decimal that
 * reads back as the same float (0.1, not 0.10000000149011612). Confluent
 * renders Avro and Protobuf floats through Java, so JSON clients see these.
 */
export function javaFloat (x: number): number {
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p))
    if (Math.fround(y) === x) return y
  }
  return Number(x.toPrecision(9))
}
