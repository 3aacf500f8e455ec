// Stream positions: the event id of a pushed record and the cursor of a
// cursor read. A position names, for every partition of a stream, the offset
// of the next record to deliver, in the notation of Gravitee's Kafka endpoint:
//
//   <topic>@<partition>#<offset>,<partition>#<offset>;<topic>@<partition>#<offset>
//
// sent base64url-encoded (RFC 4648 §5, no padding) unless streams.encode_ids
// is false. Nothing about a stream is stored on the proxy: a client resuming
// with an id on any process of any instance gets exactly the records after it.
//
// Parsing is strict, because an id is client input that decides where reads
// start: a topic name as Kafka allows them (legal characters, at most 249, not
// `.` or `..`), partitions and offsets in canonical decimal (no sign, no
// leading zeros, within int32 and 2^53), no topic or partition twice, and for
// the encoded form canonical base64 (either alphabet, padding optional, no
// stray bits). Both forms are accepted whatever streams.encode_ids says: a
// plain id always holds '@', which base64 never does.
import { ProxyError } from '../errors.js'

/** Per topic, the offset of the next record to deliver on each partition. */
export type StreamPosition = Map<string, Map<number, number>>

/** Longest id taken, in characters; far above any header limit, it bounds the work of a WebSocket ack. */
export const MAX_ID_CHARS = 65536

/** Kafka's topic name rule (org.apache.kafka.common.internals.Topic). */
const TOPIC_CHARS = /^[A-Za-z0-9._-]{1,249}$/
const MAX_PARTITION = 2147483647
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/** The plain notation; partitions in ascending order, topics in the position's order. */
export function formatPosition (position: StreamPosition): string {
  let out = ''
  for (const [topic, offsets] of position) {
    if (out !== '') out += ';'
    out += `${topic}@`
    const partitions = [...offsets.keys()].sort((a, b) => a - b)
    for (let i = 0; i < partitions.length; i++) {
      const p = partitions[i] as number
      out += `${i === 0 ? '' : ','}${p}#${offsets.get(p) as number}`
    }
  }
  return out
}

/** The plain notation, base64url-encoded unless `encode` is false. */
export function encodePlain (plain: string, encode: boolean): string {
  return encode ? Buffer.from(plain, 'latin1').toString('base64url') : plain
}

export function encodePosition (position: StreamPosition, encode: boolean): string {
  return encodePlain(formatPosition(position), encode)
}

function invalid (source: string, why: string): ProxyError {
  return new ProxyError('invalidEventId', `Invalid ${source}: ${why}.`)
}

/** A short, printable slice of hostile input for a message. */
function quote (text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)
}

function decodeBase64 (text: string, source: string): string {
  if (!BASE64.test(text)) throw invalid(source, 'not an event id (neither topic@partition#offset nor base64)')
  const padded = text.endsWith('=')
  const body = padded ? text.replace(/=+$/, '') : text
  if (body.length % 4 === 1 || (padded && text.length % 4 !== 0)) throw invalid(source, 'not valid base64 (wrong length)')
  const url = body.includes('-') || body.includes('_')
  if (url && (body.includes('+') || body.includes('/'))) throw invalid(source, 'base64 mixing both alphabets')
  const bytes = Buffer.from(body, url ? 'base64url' : 'base64')
  // Node's decoder ignores bits past the last whole byte; a canonical encoding has none.
  const again = bytes.toString('base64url')
  const normalized = url ? body : body.replaceAll('+', '-').replaceAll('/', '_')
  if (again !== normalized) throw invalid(source, 'not canonical base64')
  return bytes.toString('latin1')
}

/** A canonical decimal integer from `text[start, end)` at most `max`, or -1. */
function decimal (text: string, start: number, end: number, max: number): number {
  const len = end - start
  if (len < 1 || len > 16) return -1
  if (len > 1 && text.charCodeAt(start) === 48) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n > max ? -1 : n
}

/**
 * The position an event id or cursor names, from either form. `source` names
 * where it came from (Last-Event-ID, cursor, ack…) for the 400's message.
 */
export function parsePosition (text: string, source: string): StreamPosition {
  if (text.length === 0) throw invalid(source, 'empty')
  if (text.length > MAX_ID_CHARS) throw invalid(source, `longer than ${MAX_ID_CHARS} characters`)
  const plain = text.includes('@') ? text : decodeBase64(text, source)
  const out: StreamPosition = new Map()
  for (const part of plain.split(';')) {
    const at = part.indexOf('@')
    if (at === -1) throw invalid(source, `${quote(part)} has no topic@`)
    const topic = part.slice(0, at)
    if (!TOPIC_CHARS.test(topic) || topic === '.' || topic === '..') throw invalid(source, `${quote(topic)} is not a topic name`)
    if (out.has(topic)) throw invalid(source, `topic ${topic} appears twice`)
    const offsets = new Map<number, number>()
    let start = at + 1
    while (true) {
      let end = part.indexOf(',', start)
      if (end === -1) end = part.length
      const hash = part.indexOf('#', start)
      if (hash === -1 || hash > end) throw invalid(source, `${quote(part.slice(start, end))} in topic ${topic} is not partition#offset`)
      const partition = decimal(part, start, hash, MAX_PARTITION)
      if (partition < 0) throw invalid(source, `${quote(part.slice(start, hash))} in topic ${topic} is not a partition id`)
      const offset = decimal(part, hash + 1, end, Number.MAX_SAFE_INTEGER)
      if (offset < 0) throw invalid(source, `${quote(part.slice(hash + 1, end))} at partition ${partition} of topic ${topic} is not an offset`)
      if (offsets.has(partition)) throw invalid(source, `partition ${partition} of topic ${topic} appears twice`)
      offsets.set(partition, offset)
      if (end === part.length) break
      start = end + 1
    }
    out.set(topic, offsets)
  }
  return out
}
