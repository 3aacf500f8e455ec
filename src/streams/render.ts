// One pushed record as one line of JSON:
//   {"topic":…,"partition":…,"offset":…,"timestamp":…,"key":…,"value":…,"headers":[…]}
// with each key and value rendered as the stateless read renders them
// ({"type":"BINARY"|"STRING"|"JSON","data":…}, src/render/v3-records.ts), or
// decoded through the schema registry for AVRO, JSONSCHEMA and PROTOBUF
// ({"type":"AVRO","data":<the decoded value as JSON>}). A side that is not
// valid for its format stops the batch (undecodable=fail) or is delivered as
// its bytes with the reason (undecodable=raw), as in every read.
import type { ConsumerMessage } from '../kafka/binding.js'
import { decodeForRead, type SchemaFormat } from '../formats/schema-formats.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { DecodedSide } from '../render/v2-records.js'
import { headersJson, raw, side } from '../render/v3-records.js'
import type { Undecodable, UndecodablePolicy } from '../render/undecodable.js'

export const STREAM_FORMATS = ['BINARY', 'STRING', 'JSON', 'AVRO', 'JSONSCHEMA', 'PROTOBUF'] as const
export type StreamFormat = typeof STREAM_FORMATS[number]

const SCHEMA: Partial<Record<StreamFormat, SchemaFormat>> = { AVRO: 'avro', JSONSCHEMA: 'jsonschema', PROTOBUF: 'protobuf' }

export interface StreamRenderOptions {
  keyFormat: StreamFormat
  valueFormat: StreamFormat
  policy: UndecodablePolicy
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

type Side = { text: string } | { reason: string }

function fromDecoded (d: DecodedSide, type: StreamFormat): Side {
  if (d === null) return { text: 'null' }
  return 'json' in d ? { text: `{"type":"${type}","data":${d.json}}` } : d
}

async function decodeSide (messages: readonly ConsumerMessage[], format: StreamFormat, part: 'key' | 'value',
  registry: SchemaRegistryClient): Promise<Side[]> {
  const schema = SCHEMA[format]
  if (schema === undefined) {
    const f = format as 'BINARY' | 'STRING' | 'JSON'
    return messages.map((m) => side(asBuffer(part === 'key' ? m.key : m.value), f))
  }
  const framed = messages.map((m) => ({ key: null, value: asBuffer(part === 'key' ? m.key : m.value) }))
  const decoded = await decodeForRead(schema, registry, framed)
  return decoded.map((d) => fromDecoded(d.value, format))
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
  const keyText = 'text' in key ? key.text : raw(asBuffer(m.key), key.reason)
  const valueText = 'text' in value ? value.text : raw(asBuffer(m.value), value.reason)
  return `{"topic":${JSON.stringify(m.topic)},"partition":${m.partition},"offset":${m.offset},"timestamp":${ts},"key":${keyText},"value":${valueText},"headers":${headersJson(m)}}`
}

// The records of a topic tail (src/streams/tail.ts) are the same objects for
// every stream reading the shared window, and a record's JSON depends only on
// the record and the formats: the first stream to render one leaves it here
// for the others (one entry per record, for the formats asked last; the
// schema formats, which go through the registry, are not kept). With 100
// streams on a topic this took the rendering from 100 times per record to
// once (BENCHMARKS.md, "Fan-out").
const rendered = new WeakMap<ConsumerMessage, { formats: string, json: string }>()

function formatsKey (opts: StreamRenderOptions): string | null {
  if (SCHEMA[opts.keyFormat] !== undefined || SCHEMA[opts.valueFormat] !== undefined) return null
  return `${opts.keyFormat} ${opts.valueFormat} ${opts.policy}`
}

function renderKept (messages: readonly ConsumerMessage[], opts: StreamRenderOptions, formats: string): RenderedBatch {
  const json: string[] = []
  const keyFormat = opts.keyFormat as 'BINARY' | 'STRING' | 'JSON'
  const valueFormat = opts.valueFormat as 'BINARY' | 'STRING' | 'JSON'
  for (const m of messages) {
    const kept = rendered.get(m)
    if (kept !== undefined && kept.formats === formats) {
      json.push(kept.json)
      continue
    }
    const one = renderOne(m, side(asBuffer(m.key), keyFormat), side(asBuffer(m.value), valueFormat), opts.policy)
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
  const formats = shared ? formatsKey(opts) : null
  if (formats !== null) return renderKept(messages, opts, formats)
  const [keys, values] = await Promise.all([
    decodeSide(messages, opts.keyFormat, 'key', registry),
    decodeSide(messages, opts.valueFormat, 'value', registry)
  ])
  const json: string[] = []
  for (let i = 0; i < messages.length; i++) {
    const one = renderOne(messages[i] as ConsumerMessage, keys[i] as Side, values[i] as Side, opts.policy)
    if (typeof one !== 'string') return { json, stopped: one }
    json.push(one)
  }
  return { json, stopped: null }
}
