// Rendering of the records of a v3 stateless partition read (the `data` of a
// KafkaRecordList). Each key and value is {"type": BINARY|STRING|JSON,
// "data": …}; JSON is spliced in verbatim once src/json/validate.ts
// has found the bytes to be JSON text, so no record content is parsed or
// stringified and nothing recurses on it.
//
// Pure functions of plain message-like objects, so they can run on any
// thread. A key or value that is not valid for its format stops the batch
// (policy `fail`): the records before it are rendered and the caller delivers
// those; a read that starts with it fails naming its offset. Under policy
// `raw` it is delivered as its bytes with the reason:
//   {"type":"BINARY","data":"<base64>","reason":"…"}
//
// The sides consumer.strip_schema_framing names first lose Confluent's
// framing (src/render/framing.ts); what is rendered, and reported as
// undecodable, is then the payload.
import { jsonError } from '../json/validate.js'
import { NO_STRIP, unframed, type FramingStrip } from './framing.js'
import { asBuffer, headersJson as headersWith, type RecordLike } from './record-parts.js'
import type { Undecodable, UndecodablePolicy } from './undecodable.js'

export const V3_FORMATS = ['BINARY', 'STRING', 'JSON'] as const
export type V3Format = typeof V3_FORMATS[number]

export interface V3RenderOptions {
  keyFormat: V3Format
  valueFormat: V3Format
  policy: UndecodablePolicy
}

export interface V3RenderedBatch {
  /** The JSON array of the first `count` records. */
  data: string
  count: number
  /** The record (at index `count`) that stopped the batch under policy `fail`; null when none did. */
  stopped: Undecodable | null
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A side as `{"type":…,"data":…}` text, or the reason it is not valid for its format. */
export function side (bytes: Buffer | null, format: V3Format): { text: string } | { reason: string } {
  if (bytes === null) return { text: 'null' }
  if (format === 'BINARY') return { text: `{"type":"BINARY","data":"${bytes.toString('base64')}"}` }
  if (format === 'JSON') {
    const err = jsonError(bytes)
    // Validated: the bytes are UTF-8, so the text round-trips to the same bytes.
    return err === null ? { text: `{"type":"JSON","data":${bytes.toString('utf8')}}` } : { reason: `not JSON (${err})` }
  }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return { reason: 'not UTF-8 text' }
  }
  return { text: `{"type":"STRING","data":${JSON.stringify(text)}}` }
}

/** A side that is not valid for its format, as its bytes with the reason (policy `raw`). */
export function raw (bytes: Buffer | null, reason: string): string {
  return `{"type":"BINARY","data":"${(bytes as Buffer).toString('base64')}","reason":${JSON.stringify(reason)}}`
}

/** The headers as `[{"name":…,"value":<base64>|null}]`, the shape v3 produce takes. */
export function headersJson (m: RecordLike): string {
  return headersWith(m, 'null')
}

/** `strip`: consumer.strip_schema_framing, the same for every read of a process. */
export function renderPartitionRecords (messages: readonly RecordLike[], opts: V3RenderOptions, strip: FramingStrip = NO_STRIP): V3RenderedBatch {
  const stripKey = strip.key
  const stripValue = strip.value
  let data = '['
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as RecordLike
    const keyBytes = stripKey ? unframed(asBuffer(m.key)) : asBuffer(m.key)
    const valueBytes = stripValue ? unframed(asBuffer(m.value)) : asBuffer(m.value)
    const key = side(keyBytes, opts.keyFormat)
    const value = side(valueBytes, opts.valueFormat)
    if (opts.policy === 'fail' && ('reason' in key || 'reason' in value)) {
      const part = 'reason' in key ? 'key' : 'value'
      const reason = 'reason' in key ? key.reason : (value as { reason: string }).reason
      return { data: data + ']', count: i, stopped: { topic: m.topic, partition: m.partition, offset: m.offset, part, reason } }
    }
    // librdkafka reports -1 when the record carries no timestamp.
    const ts = m.timestamp !== undefined && m.timestamp >= 0 ? `"${new Date(m.timestamp).toISOString()}"` : 'null'
    const keyText = 'text' in key ? key.text : raw(keyBytes, key.reason)
    const valueText = 'text' in value ? value.text : raw(valueBytes, value.reason)
    data += `${i === 0 ? '' : ','}{"partition_id":${m.partition},"offset":${m.offset},"timestamp":${ts},"key":${keyText},"value":${valueText},"headers":${headersJson(m)}}`
  }
  return { data: data + ']', count: messages.length, stopped: null }
}
