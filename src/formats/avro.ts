// The avro embedded format: Avro binary encoding (via avsc) of values given
// and rendered in Avro's JSON encoding, as Confluent's REST proxy does.
//
// Produce: kafka-rest converts the request's JSON with AvroSchemaUtils.toObject,
// i.e. Avro's JsonDecoder, so values come in Avro's JSON encoding
// (https://avro.apache.org/docs/1.11.1/specification/#json-encoding):
// a union value is {"<branch full name>": value} except null, bytes and fixed
// are strings whose code points 0-255 are the bytes, unknown record fields are
// an error. One leniency over JsonDecoder: a missing field that has a default
// takes the default (as the binary encoding of a record would).
// Consume: kafka-rest renders with AvroSchemaUtils.toJson, i.e. Avro's
// JsonEncoder, read back by Jackson: the same encoding; NaN and infinities
// are the strings "NaN", "Infinity", "-Infinity" (Jackson's
// QUOTE_NON_NUMERIC_NUMBERS); a float prints as Java's Float.toString does
// (0.1, not 0.10000000149011612). Logical types are rendered as their
// underlying type, as the Confluent deserializer returns them unless
// avro.use.logical.type.converters is set.
import avro from 'avsc'
import { ProxyError } from '../errors.js'
import { javaFloat, SchemaCache, type SchemaText } from './wire.js'
import { isObject } from '../json/parse.js'

export interface AvroSchema {
  readonly type: avro.Type
}

// Longs are JS BigInts inside, so that 64-bit values survive encode and decode
// exactly; avsc's default long type throws beyond 2^53.
const longType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const b = Buffer.allocUnsafe(8)
    b.writeBigInt64LE(n, 0)
    return b
  },
  fromJSON: (v: number | string) => BigInt(v),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => a < b ? -1 : a > b ? 1 : 0
})

// Also catches {"type": "long", ...} (with a logical type, say), which avsc's
// registry override of the name "long" would miss.
function typeHook (schema: unknown): avro.Type | undefined {
  if (schema === 'long') return longType
  if (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long') return longType
  return undefined
}

function compileAvro (src: SchemaText): AvroSchema {
  // Referenced schemas define named types the main schema uses by full name.
  const registry: Record<string, avro.Type> = {}
  const opts = { registry, typeHook, wrapUnions: true as const }
  let at = 'schema'
  try {
    for (const ref of src.references ?? []) {
      at = `referenced schema ${ref.name}`
      avro.Type.forSchema(JSON.parse(ref.schema), opts)
    }
    at = 'schema'
    return { type: avro.Type.forSchema(JSON.parse(src.schema), opts) }
  } catch (err) {
    throw new ProxyError('invalidSchema', `Invalid schema: Avro ${at}: ${(err as Error).message}`)
  }
}

const cache = new SchemaCache<AvroSchema>(compileAvro)

/** Parses a schema, once per schema id (and once per raw schema text). */
export function compile (src: SchemaText): AvroSchema {
  return cache.get(src)
}

/** The record_name strategies' name: the full name of a named type (record, enum, fixed). */
export function recordName (schema: AvroSchema): string | undefined {
  const t = schema.type
  return t.typeName === 'record' || t.typeName === 'error' || t.typeName === 'enum' || t.typeName === 'fixed' ? t.name : undefined
}

/** Validates a value in Avro's JSON encoding and returns its Avro binary encoding. */
export function encode (schema: AvroSchema, value: unknown): Buffer {
  const internal = fromJson(schema.type, value, '')
  try {
    return schema.type.toBuffer(internal)
  } catch (err) {
    throw new ProxyError('schemaConversion', (err as Error).message)
  }
}

/** Decodes Avro binary and renders it in Avro's JSON encoding. Trailing bytes are ignored, as Java's reader does. */
export function decode (schema: AvroSchema, payload: Buffer): unknown {
  let decoded: { value: unknown, offset: number }
  try {
    decoded = schema.type.decode(payload, 0)
  } catch (err) {
    throw new ProxyError('undecodableRecord', `The Avro data does not match its schema: ${(err as Error).message}`)
  }
  if (decoded.offset < 0) throw new ProxyError('undecodableRecord', 'The Avro data is truncated')
  return toJson(schema.type, decoded.value)
}

// ---- JSON encoding -> avsc values ---------------------------------------------

const INT_MIN = -(2 ** 31)
const INT_MAX = 2 ** 31 - 1
const LONG_LIMIT = 2 ** 63

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  return String(v)
}

function typeLabel (type: avro.Type): string {
  return type.name ?? type.typeName.replace(/^abstract:|:wrapped$/g, '')
}

function mismatch (type: avro.Type, v: unknown, path: string, detail?: string): ProxyError {
  const where = path === '' ? '' : `field ${path}: `
  return new ProxyError('schemaConversion', `${where}expected ${typeLabel(type)}, got ${describe(v)}${detail === undefined ? '' : ` (${detail})`}`)
}

function setOwn (o: Record<string, unknown>, k: string, v: unknown): void {
  // An own "__proto__" key from JSON.parse must stay data, not become the prototype.
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

function latin1 (v: string): Buffer | null {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return null
  return Buffer.from(v, 'latin1')
}

const branchesOf = new WeakMap<avro.Type, Map<string, avro.Type>>()

function branches (union: avro.types.WrappedUnionType): Map<string, avro.Type> {
  let m = branchesOf.get(union)
  if (m === undefined) {
    m = new Map(union.types.map((t) => [t.branchName as string, t]))
    branchesOf.set(union, m)
  }
  return m
}

function fromJson (type: avro.Type, v: unknown, path: string): unknown {
  switch (type.typeName) {
    case 'null':
      if (v === null) return null
      break
    case 'boolean':
      if (typeof v === 'boolean') return v
      break
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v) && v >= INT_MIN && v <= INT_MAX) return v
      break
    case 'abstract:long':
      if (typeof v === 'number' && Number.isInteger(v) && v >= -LONG_LIMIT && v < LONG_LIMIT) return BigInt(v)
      break
    case 'float':
    case 'double':
      if (typeof v === 'number') return v
      // Avro's JsonDecoder reads the strings its encoder writes for these.
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v)
      break
    case 'string':
      if (typeof v === 'string') return v
      break
    case 'bytes':
    case 'fixed': {
      if (typeof v !== 'string') break
      const bytes = latin1(v)
      if (bytes === null) throw mismatch(type, v, path, 'bytes are written as a string of code points 0-255')
      if (type.typeName === 'fixed' && bytes.length !== (type as avro.types.FixedType).size) {
        throw mismatch(type, v, path, `${bytes.length} bytes instead of ${(type as avro.types.FixedType).size}`)
      }
      return bytes
    }
    case 'enum':
      if (typeof v === 'string' && (type as avro.types.EnumType).symbols.includes(v)) return v
      break
    case 'array':
      if (Array.isArray(v)) {
        const items = (type as avro.types.ArrayType).itemsType
        return v.map((item, i) => fromJson(items, item, `${path}[${i}]`))
      }
      break
    case 'map':
      if (isObject(v)) {
        const values = (type as avro.types.MapType).valuesType as avro.Type
        const out: Record<string, unknown> = {}
        for (const k of Object.keys(v)) setOwn(out, k, fromJson(values, v[k], `${path}[${JSON.stringify(k)}]`))
        return out
      }
      break
    case 'record':
    case 'error':
      if (isObject(v)) return recordFromJson(type as avro.types.RecordType, v, path)
      break
    case 'union:wrapped': {
      const byName = branches(type as avro.types.WrappedUnionType)
      if (v === null && byName.has('null')) return null
      const keys = isObject(v) ? Object.keys(v) : []
      const branch = keys.length === 1 ? byName.get(keys[0] as string) : undefined
      if (branch === undefined || branch.typeName === 'null') {
        throw mismatch(type, v, path, `a union value is written as {"<type>": value}, with <type> one of ${[...byName.keys()].filter((n) => n !== 'null').join(', ')}`)
      }
      const name = keys[0] as string
      return { [name]: fromJson(branch, (v as Record<string, unknown>)[name], path) }
    }
  }
  throw mismatch(type, v, path)
}

function recordFromJson (type: avro.types.RecordType, v: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let seen = 0
  for (const f of type.fields) {
    const fieldPath = path === '' ? f.name : `${path}.${f.name}`
    if (Object.prototype.hasOwnProperty.call(v, f.name)) {
      seen++
      out[f.name] = fromJson(f.type, v[f.name], fieldPath)
    } else if (f.defaultValue() === undefined) {
      throw new ProxyError('schemaConversion', `field ${fieldPath}: missing, and it has no default`)
    }
  }
  if (seen < Object.keys(v).length) {
    const unknown = Object.keys(v).filter((k) => type.field(k) === undefined)
    throw new ProxyError('schemaConversion', `${path === '' ? '' : `field ${path}: `}unknown fields ${unknown.map((k) => JSON.stringify(k)).join(', ')} for record ${type.name as string}`)
  }
  return out
}

// ---- avsc values -> JSON encoding -----------------------------------------------

function toJson (type: avro.Type, v: unknown): unknown {
  switch (type.typeName) {
    case 'null':
      return null
    case 'abstract:long':
      // Beyond 2^53 a JSON number in JS loses digits; the renderer has no other number type.
      return Number(v as bigint)
    case 'float': {
      const x = v as number
      return Number.isFinite(x) ? javaFloat(x) : String(x)
    }
    case 'double': {
      const x = v as number
      return Number.isFinite(x) ? x : String(x)
    }
    case 'bytes':
    case 'fixed':
      return (v as Buffer).toString('latin1')
    case 'array': {
      const items = (type as avro.types.ArrayType).itemsType
      return (v as unknown[]).map((item) => toJson(items, item))
    }
    case 'map': {
      const values = (type as avro.types.MapType).valuesType as avro.Type
      const m = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const k of Object.keys(m)) setOwn(out, k, toJson(values, m[k]))
      return out
    }
    case 'record':
    case 'error': {
      const r = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const f of (type as avro.types.RecordType).fields) out[f.name] = toJson(f.type, r[f.name])
      return out
    }
    case 'union:wrapped': {
      if (v === null) return null
      const name = Object.keys(v as object)[0] as string
      const branch = branches(type as avro.types.WrappedUnionType).get(name) as avro.Type
      return { [name]: toJson(branch, (v as Record<string, unknown>)[name]) }
    }
    default:
      // boolean, int, string, enum
      return v
  }
}
