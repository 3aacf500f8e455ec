// Rendering of consumed records for v2 reads. Confluent's fields (topic, key,
// value, partition, offset) plus two additive ones clients ask for:
// `timestamp` (ms since the epoch, null when the record has none) and
// `headers` ([{name, value}] with base64 values), in the shape v3 produce
// takes, so a consumed header can be produced again unchanged. The client
// binding cannot carry a null header value, so values are never null: a
// header written with a null value reads as "".
import fjs, { type ObjectSchema } from 'fast-json-stringify'
import type { ConsumerMessage } from '../kafka/client.js'
import { ProxyError } from '../errors.js'

export type ReadFormat = 'binary' | 'json'

interface RenderedRecord {
  topic: string
  key: unknown
  value: unknown
  partition: number
  offset: number
  timestamp: number | null
  headers: Array<{ name: string, value: string }>
}

function itemSchema (data: object): ObjectSchema {
  return {
    type: 'object',
    properties: {
      topic: { type: 'string' },
      key: data,
      value: data,
      partition: { type: 'integer' },
      offset: { type: 'integer' },
      timestamp: { type: 'integer', nullable: true },
      headers: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, value: { type: 'string' } },
          required: ['name', 'value']
        }
      }
    },
    required: ['topic', 'key', 'value', 'partition', 'offset', 'timestamp', 'headers']
  }
}

const serializers: Record<ReadFormat, (records: RenderedRecord[]) => string> = {
  binary: fjs({ type: 'array', items: itemSchema({ type: 'string', nullable: true }) }),
  // Any JSON value: fast-json-stringify falls back to JSON.stringify for it.
  json: fjs({ type: 'array', items: itemSchema({}) })
}

function asBuffer (v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

function decodeJson (bytes: Buffer | null, m: ConsumerMessage, field: string): unknown {
  if (bytes === null) return null
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new ProxyError('kafkaError', `The ${field} of the record at ${m.topic}-${m.partition}@${m.offset} is not JSON; read it with format binary`)
  }
}

function headersOf (m: ConsumerMessage): Array<{ name: string, value: string }> {
  const out: Array<{ name: string, value: string }> = []
  for (const h of m.headers ?? []) {
    // The binding gives each header as a one-key object.
    for (const name in h) {
      out.push({ name, value: asBuffer((h as Record<string, Buffer | string>)[name])?.toString('base64') ?? '' })
    }
  }
  return out
}

/** Records of a schema format, already decoded through the registry, as JSON. */
export function renderDecoded (messages: ConsumerMessage[], decoded: ReadonlyArray<{ key: unknown, value: unknown }>): string {
  const records = new Array<RenderedRecord>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ConsumerMessage
    const d = decoded[i] as { key: unknown, value: unknown }
    records[i] = {
      topic: m.topic,
      key: d.key,
      value: d.value,
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp !== undefined && m.timestamp >= 0 ? m.timestamp : null,
      headers: headersOf(m)
    }
  }
  return serializers.json(records)
}

export function renderRecords (format: ReadFormat, messages: ConsumerMessage[]): string {
  const records = new Array<RenderedRecord>(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ConsumerMessage
    const key = asBuffer(m.key)
    const value = asBuffer(m.value)
    records[i] = {
      topic: m.topic,
      key: format === 'binary' ? key?.toString('base64') ?? null : decodeJson(key, m, 'key'),
      value: format === 'binary' ? value?.toString('base64') ?? null : decodeJson(value, m, 'value'),
      partition: m.partition,
      offset: m.offset,
      timestamp: m.timestamp !== undefined && m.timestamp >= 0 ? m.timestamp : null,
      headers: headersOf(m)
    }
  }
  return serializers[format](records)
}
