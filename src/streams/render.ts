// One pushed record as one line of JSON:
//   {"topic":…,"partition":…,"offset":…,"timestamp":…,"key":…,"value":…,"headers":[…]}
// with each key and value rendered as the stateless read renders them
// ({"type":"BINARY"|"STRING"|"JSON","data":…}, src/render/v3-records.ts), or
// decoded through the schema registry for AVRO, JSONSCHEMA and PROTOBUF
// ({"type":"AVRO","data":<the decoded value as JSON>}). A side that is not
// valid for its format stops the batch (undecodable=fail) or is delivered as
// its bytes with the reason (undecodable=raw), as in every read. BINARY,
// STRING and JSON sides that consumer.strip_schema_framing names lose
// Confluent's framing first (src/render/framing.ts): the payload is what is
// rendered, and what undecodable=raw delivers.
import type { ConsumerMessage } from '../kafka/binding.js'
import { decodeForRead, type SchemaFormat } from '../formats/schema-formats.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { DecodedSide } from '../render/v2-records.js'
import { headersJson, raw, side } from '../render/v3-records.js'
import type { Undecodable, UndecodablePolicy } from '../render/undecodable.js'
import { NO_STRIP, unframed, type FramingStrip } from '../render/framing.js'

export const STREAM_FORMATS = ['BINARY', 'STRING', 'JSON', 'AVRO', 'JSONSCHEMA', 'PROTOBUF'] as const
export type StreamFormat = typeof STREAM_FORMATS[number]

const SCHEMA: Partial<Record<StreamFormat, SchemaFormat>> = { AVRO: 'avro', JSONSCHEMA: 'jsonschema', PROTOBUF: 'protobuf' }

export interface StreamRenderOptions {
  keyFormat: StreamFormat
  valueFormat: StreamFormat
  policy: UndecodablePolicy
  /** consumer.strip_schema_framing (the same for every stream of a process); absent: none. */
  strip?: FramingStrip
}

export interface RenderedBatch {
  /** One JSON object per record, for the first `json.length` records of the batch. */
  json: string[]
  /** The record (at index json.length) that stopped the batch under undecodable=fail; null when none did. */
  stopped: Undecodable | null
}

function asBuffer (v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

/** A side's JSON, or why it is not valid for its format with the bytes that were not (delivered under undecodable=raw). */
type Side = { text: string } | { reason: string, bytes: Buffer | null }

function fromDecoded (d: DecodedSide, type: StreamFormat, bytes: Buffer | null): Side {
  if (d === null) return { text: 'null' }
  return 'json' in d ? { text: `{"type":"${type}","data":${d.json}}` } : { reason: d.reason, bytes }
}

/** A BINARY, STRING or JSON side, without its framing when `strip`. */
function plainSide (raw: Buffer | string | null | undefined, format: 'BINARY' | 'STRING' | 'JSON', strip: boolean): Side {
  const bytes = strip ? unframed(asBuffer(raw)) : asBuffer(raw)
  const out = side(bytes, format)
  return 'text' in out ? out : { reason: out.reason, bytes }
}

async function decodeSide (messages: readonly ConsumerMessage[], format: StreamFormat, part: 'key' | 'value',
  strip: boolean, registry: SchemaRegistryClient): Promise<Side[]> {
  const schema = SCHEMA[format]
  if (schema === undefined) {
    const f = format as 'BINARY' | 'STRING' | 'JSON'
    return messages.map((m) => plainSide(part === 'key' ? m.key : m.value, f, strip))
  }
  const framed = messages.map((m) => ({ key: null, value: asBuffer(part === 'key' ? m.key : m.value) }))
  const decoded = await decodeForRead(schema, registry, framed)
  return decoded.map((d, i) => fromDecoded(d.value, format, framed[i]?.value ?? null))
}

/** One record's JSON, or why it stops the batch (undecodable=fail). */
function renderOne (m: ConsumerMessage, key: Side, value: Side, policy: UndecodablePolicy): string | Undecodable {
  if (policy === 'fail' && ('reason' in key || 'reason' in value)) {
    const part = 'reason' in key ? 'key' : 'value'
    const reason = 'reason' in key ? key.reason : (value as { reason: string }).reason
    return { topic: m.topic, partition: m.partition, offset: m.offset, part, reason }
  }
  // librdkafka reports -1 when the record carries no timestamp.
  const ts = m.timestamp !== undefined && m.timestamp >= 0 ? `"${new Date(m.timestamp).toISOString()}"` : 'null'
  const keyText = 'text' in key ? key.text : raw(key.bytes, key.reason)
  const valueText = 'text' in value ? value.text : raw(value.bytes, value.reason)
  return `{"topic":${JSON.stringify(m.topic)},"partition":${m.partition},"offset":${m.offset},"timestamp":${ts},"key":${keyText},"value":${valueText},"headers":${headersJson(m)}}`
}

// The records of a topic tail (src/streams/tail.ts) are the same objects for
// every stream reading the shared window, and a record's JSON depends only on
// the record and the formats: the first stream to render one leaves it here
// for the others (one entry per record, for the formats asked last; the
// schema formats, which go through the registry, are not kept). With 100
// streams on a topic this took the rendering from 100 times per record to
// once (BENCHMARKS.md, "Fan-out"). The key names everything the JSON depends
// on besides the record, framing removal included: a process has one
// consumer.strip_schema_framing, but tests run several proxies in one process.
const rendered = new WeakMap<ConsumerMessage, { formats: string, json: string }>()

function formatsKey (opts: StreamRenderOptions, strip: FramingStrip): string | null {
  if (SCHEMA[opts.keyFormat] !== undefined || SCHEMA[opts.valueFormat] !== undefined) return null
  return `${opts.keyFormat} ${opts.valueFormat} ${opts.policy} ${strip.key ? 'k' : '-'}${strip.value ? 'v' : '-'}`
}

function renderKept (messages: readonly ConsumerMessage[], opts: StreamRenderOptions, strip: FramingStrip, formats: string): RenderedBatch {
  const json: string[] = []
  const keyFormat = opts.keyFormat as 'BINARY' | 'STRING' | 'JSON'
  const valueFormat = opts.valueFormat as 'BINARY' | 'STRING' | 'JSON'
  const stripKey = strip.key
  const stripValue = strip.value
  for (const m of messages) {
    const kept = rendered.get(m)
    if (kept !== undefined && kept.formats === formats) {
      json.push(kept.json)
      continue
    }
    const one = renderOne(m, plainSide(m.key, keyFormat, stripKey), plainSide(m.value, valueFormat, stripValue), opts.policy)
    if (typeof one !== 'string') return { json, stopped: one }
    rendered.set(m, { formats, json: one })
    json.push(one)
  }
  return { json, stopped: null }
}

/**
 * Renders a batch; only the schema registry's own trouble rejects it.
 * `shared`: the records come from a topic tail's window, which other streams
 * read too (their rendering is kept on the records for them).
 */
export async function renderBatch (messages: readonly ConsumerMessage[], opts: StreamRenderOptions, registry: SchemaRegistryClient, shared = false): Promise<RenderedBatch> {
  const strip = opts.strip ?? NO_STRIP
  const formats = shared ? formatsKey(opts, strip) : null
  if (formats !== null) return renderKept(messages, opts, strip, formats)
  const [keys, values] = await Promise.all([
    decodeSide(messages, opts.keyFormat, 'key', strip.key, registry),
    decodeSide(messages, opts.valueFormat, 'value', strip.value, registry)
  ])
  const json: string[] = []
  for (let i = 0; i < messages.length; i++) {
    const one = renderOne(messages[i] as ConsumerMessage, keys[i] as Side, values[i] as Side, opts.policy)
    if (typeof one !== 'string') return { json, stopped: one }
    json.push(one)
  }
  return { json, stopped: null }
}
