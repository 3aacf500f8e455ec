// The protobuf embedded format. Schemas are .proto text parsed at run time
// with protobufjs (@bufbuild/protobuf needs descriptors compiled ahead of
// time and cannot parse .proto text). Values are given and rendered in the
// proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) via
// protobufjs's ProtoJSON extension.
//
// Produce: Confluent's REST proxy parses the request's JSON with
// ProtobufSchemaUtils.toObject = JsonFormat.parser() into the schema's first
// message (ProtobufSchema's default descriptor); unknown fields are an
// error, JSON names and .proto names are both accepted. The message index of
// the first message is [0].
// Consume: ProtobufSchemaUtils.toJson prints with JsonFormat.printer()
// .includingDefaultValueFields(): lowerCamelCase JSON names, 64-bit integers
// as strings, enums by name, bytes as base64, fields in field-number order,
// and fields without presence that hold their default printed anyway
// (0, "", false, the first enum value, [] and {}). Fields with presence (a
// message, a oneof member, a proto3 `optional` or proto2 field) are printed
// only when set: that is alwaysPrintFieldsWithNoPresence, which protobuf-java
// 26 made the meaning of includingDefaultValueFields.
import protobuf from 'protobufjs'
import protojson from 'protobufjs/ext/protojson.js'
import { ProxyError } from '../errors.js'
import { javaFloat, SchemaCache, type SchemaText } from './wire.js'

export interface ProtobufSchema {
  readonly root: protobuf.Root
  /** The file's top-level messages in declaration order: message index [i] is topLevel[i]. */
  readonly topLevel: readonly protobuf.Type[]
}

const PARSE_OPTIONS = { keepCase: true }

function invalid (message: string): ProxyError {
  return new ProxyError('invalidSchema', `Invalid schema: ${message}`)
}

function messagesOf (ns: protobuf.ReflectionObject | null): protobuf.Type[] {
  if (!(ns instanceof protobuf.Namespace)) return []
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)
}

function compileProtobuf (src: SchemaText): ProtobufSchema {
  const root = new protobuf.Root()
  let main: protobuf.IParserResult
  try {
    main = protobuf.parse(src.schema, root, PARSE_OPTIONS)
  } catch (err) {
    throw invalid(`Protobuf: ${(err as Error).message}`)
  }
  // Taken before any imported file joins the root, since a file of the same
  // package would merge its messages into the same namespace.
  const topLevel = messagesOf(main.package === undefined ? root : root.lookup(main.package))
  if (topLevel.length === 0) throw invalid('the Protobuf schema defines no message')

  const references = new Map((src.references ?? []).map((r) => [r.name, r.schema]))
  const loaded = new Set<string>()
  const load = (imports: readonly string[] | undefined): void => {
    for (const name of imports ?? []) {
      if (loaded.has(name)) continue
      loaded.add(name)
      const text = references.get(name)
      if (text !== undefined) {
        let parsed: protobuf.IParserResult
        try {
          parsed = protobuf.parse(text, root, PARSE_OPTIONS)
        } catch (err) {
          throw invalid(`Protobuf referenced schema ${name}: ${(err as Error).message}`)
        }
        load(parsed.imports)
        load(parsed.weakImports)
        continue
      }
      // Well-known types come without a reference, as with Confluent's
      // serializers. Other imports that are not references (options-only
      // files such as confluent/meta.proto) are skipped: a type used from
      // one fails to resolve below, with its name.
      const wellKnown = protobuf.common.get(name)
      if (wellKnown !== null && wellKnown.nested !== undefined) root.addJSON(wellKnown.nested)
    }
  }
  load(main.imports)
  load(main.weakImports)
  try {
    root.resolveAll()
  } catch (err) {
    throw invalid(`Protobuf: ${(err as Error).message}`)
  }
  return { root, topLevel }
}

const cache = new SchemaCache<ProtobufSchema>(compileProtobuf)

/** Parses and resolves a schema, once per schema id (and once per raw schema text). */
export function compile (src: SchemaText): ProtobufSchema {
  return cache.get(src)
}

function fullName (type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '')
}

/** The record_name strategies' name: the full name of the first message. */
export function recordName (schema: ProtobufSchema): string | undefined {
  const first = schema.topLevel[0]
  return first === undefined ? undefined : fullName(first)
}

/** The message indexes of what `encode` writes: the first message. */
export const ENCODE_MESSAGE_INDEXES: readonly number[] = [0]

/** The message type a frame's message indexes name. */
export function messageType (schema: ProtobufSchema, indexes: readonly number[] = [0]): protobuf.Type {
  let candidates: readonly protobuf.Type[] = schema.topLevel
  let type: protobuf.Type | undefined
  for (const i of indexes) {
    type = candidates[i]
    if (type === undefined) throw new ProxyError('undecodableRecord', `Message indexes [${indexes.join(', ')}] name no message of the schema`)
    candidates = messagesOf(type)
  }
  if (type === undefined) throw new ProxyError('undecodableRecord', 'Empty message indexes')
  return type
}

function cleanMessage (message: string): string {
  // protobufjs names fields by their reflection path with a leading dot.
  return message.replace(/^\./, '')
}

/** Validates a proto3 JSON value against the first message and returns its binary encoding. */
export function encode (schema: ProtobufSchema, value: unknown): Buffer {
  const type = schema.topLevel[0] as protobuf.Type
  let message: protobuf.Message
  try {
    message = protojson.fromJson(type, value)
  } catch (err) {
    throw new ProxyError('schemaConversion', cleanMessage((err as Error).message))
  }
  const bytes = type.encode(message).finish()
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Decodes the message the indexes name and renders it as Confluent's REST proxy does. */
export function decode (schema: ProtobufSchema, payload: Buffer, indexes: readonly number[] = [0]): unknown {
  const type = messageType(schema, indexes)
  let json: unknown
  try {
    json = protojson.toJson(type, type.decode(payload))
  } catch (err) {
    throw new ProxyError('undecodableRecord', `The Protobuf data does not match its schema: ${cleanMessage((err as Error).message)}`)
  }
  return render(type, json)
}

// ---- includingDefaultValueFields ----------------------------------------------

// Well-known types whose JSON form is not an object of their fields; ProtoJSON
// already gives them their special form, and Java prints no defaults inside.
const SPECIAL_JSON = new Set([
  'Any', 'Duration', 'Timestamp', 'FieldMask', 'Struct', 'Value', 'ListValue',
  'DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'
].map((n) => `.google.protobuf.${n}`))

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

const byNumber = new WeakMap<protobuf.Type, protobuf.Field[]>()

function fieldsByNumber (type: protobuf.Type): protobuf.Field[] {
  let fields = byNumber.get(type)
  if (fields === undefined) {
    fields = type.fieldsArray.filter((f) => f.declaringField === null && !f.name.startsWith('.')).sort((a, b) => a.id - b.id)
    byNumber.set(type, fields)
  }
  return fields
}

function printedWhenUnset (f: protobuf.Field): boolean {
  if (f.repeated || f.map) return true
  if (f.partOf !== null && f.partOf !== undefined) return false
  if (f.resolvedType instanceof protobuf.Type) return false
  return !f.hasPresence
}

function defaultJson (f: protobuf.Field): unknown {
  if (f.map) return {}
  if (f.repeated) return []
  if (f.resolvedType instanceof protobuf.Enum) {
    if (f.resolvedType.fullName === '.google.protobuf.NullValue') return null
    const n = typeof f.typeDefault === 'number' ? f.typeDefault : 0
    return f.resolvedType.valuesById[n] ?? n
  }
  if (LONG_TYPES.has(f.type)) return '0'
  switch (f.type) {
    case 'bool': return false
    case 'string':
    case 'bytes': return ''
    default: return 0
  }
}

function renderSingular (f: protobuf.Field, v: unknown): unknown {
  if (f.resolvedType instanceof protobuf.Type) return render(f.resolvedType, v)
  if (f.type === 'float' && typeof v === 'number') return javaFloat(v)
  return v
}

function render (type: protobuf.Type, json: unknown): unknown {
  if (SPECIAL_JSON.has(type.fullName)) {
    return type.fullName === '.google.protobuf.FloatValue' && typeof json === 'number' ? javaFloat(json) : json
  }
  const given = json as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const f of fieldsByNumber(type)) {
    const key = f.jsonName
    if (Object.prototype.hasOwnProperty.call(given, key)) {
      const v = given[key]
      if (f.map) {
        const m = v as Record<string, unknown>
        const rendered: Record<string, unknown> = {}
        for (const k of Object.keys(m)) {
          // A string map key "__proto__" must stay data, not become the prototype.
          Object.defineProperty(rendered, k, { value: renderSingular(f, m[k]), enumerable: true, writable: true, configurable: true })
        }
        out[key] = rendered
      } else if (f.repeated) {
        out[key] = (v as unknown[]).map((item) => renderSingular(f, item))
      } else {
        out[key] = renderSingular(f, v)
      }
    } else if (printedWhenUnset(f)) {
      out[key] = defaultJson(f)
    }
  }
  // Extensions ("[pkg.ext]" keys) keep ProtoJSON's rendering, after the fields.
  for (const k of Object.keys(given)) if (!(k in out) && k.startsWith('[')) out[k] = given[k]
  return out
}
