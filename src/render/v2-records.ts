// Rendering of consumed records for v2 reads. Confluent's fields (topic, key,
// value, partition, offset) plus two additive ones clients ask for:
// `timestamp` (ms since the epoch, null when the record has none) and
// `headers` ([{name, value}] with base64 values), in the shape v3 produce
// takes, so a consumed header can be produced again unchanged. The client
// binding cannot carry a null header value, so values are never null: a
// header written with a null value reads as "".
//
// The response text is built directly, not through a serializer: base64
// strings need no escaping, and a key or value read as JSON is spliced in
// verbatim once src/json/validate.ts has found it to be JSON text. No
// step recurses on record content, so no record can overflow the stack, and
// the JSON a client reads is byte for byte what was produced.
//
// Renderers are pure functions of plain message-like objects, so they can run
// on any thread. A record that cannot be rendered stops the batch (policy
// `fail`): the records before it are rendered and the caller delivers those,
// keeping the rest for the next read, which then fails naming the record
// (see src/render/undecodable.ts). Under policy `raw` it is delivered with
// its bytes and the reason:
//   {"topic":…,"key":…,"value":null,…,"undecodable":{"value":{"data":"<base64>","reason":"…"}}}
//
// Formats binary and json first remove Confluent's framing from the sides
// consumer.strip_schema_framing names (src/render/framing.ts); what is
// rendered, and reported as undecodable, is then the payload.
import { jsonError } from '../json/validate.js'
import { NO_STRIP, unframed, type FramingStrip } from './framing.js'
import type { Undecodable, UndecodablePolicy } from './undecodable.js'
import { asBuffer, headersJson, type RecordLike } from './record-parts.js'

export type { RecordLike } from './record-parts.js'

export type ReadFormat = 'binary' | 'json'

export interface RenderedBatch {
  /** The JSON array of the first `count` records. */
  body: string
  /** Records rendered: all, or those before `stopped`. */
  count: number
  /** The record (at index `count`) that stopped the batch under policy `fail`; null when none did. */
  stopped: Undecodable | null
}

/** A key or value of a schema format, decoded to JSON text, or why it could not be. */
export type DecodedSide = null | { json: string } | { reason: string }

export interface DecodedSides {
  key: DecodedSide
  value: DecodedSide
}

let lastTopic = ''
let lastTopicJson = '""'

// Records of a batch usually share a topic: quote it once.
function topicJson (topic: string): string {
  if (topic !== lastTopic) {
    lastTopic = topic
    lastTopicJson = JSON.stringify(topic)
  }
  return lastTopicJson
}

function tail (m: RecordLike): string {
  // librdkafka reports -1 when the record carries no timestamp.
  const ts = m.timestamp !== undefined && m.timestamp >= 0 ? m.timestamp : null
  return `,"partition":${m.partition},"offset":${m.offset},"timestamp":${ts},"headers":${headersJson(m, '""')}`
}

function base64Json (b: Buffer | null): string {
  return b === null ? 'null' : `"${b.toString('base64')}"`
}

function rawEntry (part: 'key' | 'value', bytes: Buffer | null, reason: string): string {
  return `"${part}":{"data":${base64Json(bytes)},"reason":${JSON.stringify(reason)}}`
}

function renderBinary (messages: readonly RecordLike[], strip: FramingStrip): RenderedBatch {
  const stripKey = strip.key
  const stripValue = strip.value
  let body = '['
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as RecordLike
    const keyBytes = asBuffer(m.key)
    const valueBytes = asBuffer(m.value)
    const key = base64Json(stripKey ? unframed(keyBytes) : keyBytes)
    body += `${i === 0 ? '' : ','}{"topic":${topicJson(m.topic)},"key":${key},"value":${base64Json(stripValue ? unframed(valueBytes) : valueBytes)}${tail(m)}}`
  }
  return { body: body + ']', count: messages.length, stopped: null }
}

function notJson (bytes: Buffer): string | null {
  const err = jsonError(bytes)
  return err === null ? null : `not JSON (${err})`
}

function renderJson (messages: readonly RecordLike[], policy: UndecodablePolicy, strip: FramingStrip): RenderedBatch {
  const stripKey = strip.key
  const stripValue = strip.value
  let body = '['
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as RecordLike
    const keyBytes = asBuffer(m.key)
    const valueBytes = asBuffer(m.value)
    const key = stripKey ? unframed(keyBytes) : keyBytes
    const value = stripValue ? unframed(valueBytes) : valueBytes
    const keyErr = key === null ? null : notJson(key)
    const valueErr = value === null ? null : notJson(value)
    if (keyErr !== null || valueErr !== null) {
      if (policy === 'fail') {
        const part = keyErr !== null ? 'key' : 'value'
        return { body: body + ']', count: i, stopped: { topic: m.topic, partition: m.partition, offset: m.offset, part, reason: (keyErr ?? valueErr) as string } }
      }
    }
    // Validated: the bytes are UTF-8, so the text round-trips to the same bytes.
    const keyText = key === null || keyErr !== null ? 'null' : key.toString('utf8')
    const valueText = value === null || valueErr !== null ? 'null' : value.toString('utf8')
    body += `${i === 0 ? '' : ','}{"topic":${topicJson(m.topic)},"key":${keyText},"value":${valueText}${tail(m)}`
    if (keyErr !== null || valueErr !== null) {
      const entries: string[] = []
      if (keyErr !== null) entries.push(rawEntry('key', key, keyErr))
      if (valueErr !== null) entries.push(rawEntry('value', value, valueErr))
      body += `,"undecodable":{${entries.join(',')}}`
    }
    body += '}'
  }
  return { body: body + ']', count: messages.length, stopped: null }
}

/** Records in format binary (never undecodable) or json; `strip`: consumer.strip_schema_framing. */
export function renderRecords (format: ReadFormat, messages: readonly RecordLike[], policy: UndecodablePolicy = 'fail', strip: FramingStrip = NO_STRIP): RenderedBatch {
  return format === 'binary' ? renderBinary(messages, strip) : renderJson(messages, policy, strip)
}

/**
 * Records of a schema format, already decoded (through the registry, on the
 * calling side) to JSON text per side, or to the reason they could not be.
 */
export function renderDecoded (messages: readonly RecordLike[], decoded: readonly DecodedSides[], policy: UndecodablePolicy = 'fail'): RenderedBatch {
  let body = '['
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as RecordLike
    const d = decoded[i] as DecodedSides
    const keyBad = d.key !== null && 'reason' in d.key ? d.key.reason : null
    const valueBad = d.value !== null && 'reason' in d.value ? d.value.reason : null
    if ((keyBad !== null || valueBad !== null) && policy === 'fail') {
      const part = keyBad !== null ? 'key' : 'value'
      return { body: body + ']', count: i, stopped: { topic: m.topic, partition: m.partition, offset: m.offset, part, reason: (keyBad ?? valueBad) as string } }
    }
    const keyText = d.key !== null && 'json' in d.key ? d.key.json : 'null'
    const valueText = d.value !== null && 'json' in d.value ? d.value.json : 'null'
    body += `${i === 0 ? '' : ','}{"topic":${topicJson(m.topic)},"key":${keyText},"value":${valueText}${tail(m)}`
    if (keyBad !== null || valueBad !== null) {
      const entries: string[] = []
      if (keyBad !== null) entries.push(rawEntry('key', asBuffer(m.key), keyBad))
      if (valueBad !== null) entries.push(rawEntry('value', asBuffer(m.value), valueBad))
      body += `,"undecodable":{${entries.join(',')}}`
    }
    body += '}'
  }
  return { body: body + ']', count: messages.length, stopped: null }
}
