// The parameters of a stream request, checked before anything is read or any
// response is started: every problem is a 400 in our error body. Parameters
// this route does not know are refused too, so a typo (`partition=` for
// `partitions=`) is not silently a stream of something else.
import type { IncomingMessage } from 'node:http'
import { ProxyError } from '../errors.js'
import { enumParam } from '../api/v3/resource.js'
import { UNDECODABLE_POLICIES, type UndecodablePolicy } from '../render/undecodable.js'
import type { FramingStrip } from '../render/framing.js'
import type { RecordFilter } from './filter.js'
import { parsePosition, type StreamPosition } from './position.js'
import { STREAM_FORMATS, type StreamRenderOptions } from './render.js'
import { QOS_LEVELS, type Qos } from './group.js'
import type { StartFrom } from './start.js'

export interface StreamParams {
  from: StartFrom
  /** Where to resume: Last-Event-ID (header), else cursor, else last_event_id (query); null for none. */
  resume: StreamPosition | null
  /** The partitions asked for; null for every partition of the topic. */
  partitions: number[] | null
  render: StreamRenderOptions
  filter: RecordFilter
  /** topics/-/records: the pattern of topic names to stream; null elsewhere. */
  pattern: string | null
  /** The consumer group the stream joins; null: none (QoS none). */
  group: string | null
  qos: Qos
  /** Cursor reads: the longest wait for a first record, and the bounds of a page. */
  timeoutMs: number
  maxRecords: number
  maxBytes: number
}

export interface ParamLimits {
  cursorTimeoutMs: number
  cursorMaxTimeoutMs: number
  cursorMaxRecords: number
  cursorMaxBytes: number
  /** consumer.strip_schema_framing, which every stream of the process renders with; absent: none. */
  strip?: FramingStrip
}

const KNOWN = new Set(['from', 'partitions', 'last_event_id', 'cursor', 'key', 'format', 'key_format', 'value_format',
  'undecodable', 'timeout', 'max_records', 'max_bytes', 'group', 'qos', 'topic_pattern'])
const HEADER_PREFIX = 'header.'
const DIGITS = /^(?:0|[1-9]\d{0,15})$/
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/

function bad (message: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${message}`)
}

function show (raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw)
}

function daysIn (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** `latest`, `earliest` or an ISO-8601 date and time with a zone (`2024-05-01T12:00:00Z`, `…+02:00`). */
export function parseFrom (raw: string | null): StartFrom {
  if (raw === null || raw === '' || raw === 'latest') return { kind: 'latest' }
  if (raw === 'earliest') return { kind: 'earliest' }
  const m = ISO_TIME.exec(raw)
  const ms = m === null ? NaN : Date.parse(raw)
  if (m !== null && Number.isFinite(ms)) {
    const [year, month, day, hour] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]
    const zoneOk = m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59)
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && zoneOk && ms >= 0) return { kind: 'time', ms }
  }
  throw bad(`from must be latest, earliest or an ISO-8601 date and time with a zone such as 2024-05-01T12:00:00Z (got ${show(raw)}).`)
}

/** `0,2,5`: canonical partition ids, each once. */
export function parsePartitions (raw: string | null): number[] | null {
  if (raw === null) return null
  const out: number[] = []
  for (const item of raw.split(',')) {
    const n = Number(item)
    if (!DIGITS.test(item) || n > 2147483647) throw bad(`partitions must be a comma-separated list of partition ids (got ${show(raw)}).`)
    if (out.includes(n)) throw bad(`partition ${n} is listed twice in partitions.`)
    out.push(n)
  }
  return out
}

function uint (q: URLSearchParams, name: string, min: number): number | null {
  const raw = q.get(name)
  if (raw === null) return null
  const n = Number(raw)
  if (!DIGITS.test(raw) || n < min || n > Number.MAX_SAFE_INTEGER) {
    throw bad(`${name} must be ${min > 0 ? `an integer of at least ${min}` : 'a non-negative integer'} (got ${show(raw)}).`)
  }
  return n
}

function header (req: IncomingMessage, name: string): string | null {
  const v = req.headers[name]
  if (v === undefined) return null
  return Array.isArray(v) ? (v[0] ?? null) : v
}

export function parseStreamParams (query: string, req: IncomingMessage, limits: ParamLimits): StreamParams {
  const q = new URLSearchParams(query)
  const seen = new Set<string>()
  const headers: Array<{ name: string, value: Buffer }> = []
  for (const [name, value] of q) {
    if (name.startsWith(HEADER_PREFIX) && name.length > HEADER_PREFIX.length) {
      headers.push({ name: name.slice(HEADER_PREFIX.length), value: Buffer.from(value) })
      continue
    }
    if (!KNOWN.has(name)) throw bad(`unknown parameter ${show(name)}.`)
    if (seen.has(name)) throw bad(`parameter ${name} is given more than once.`)
    seen.add(name)
  }
  const format = enumParam(q.get('format'), STREAM_FORMATS, 'format', 'BINARY')
  const undecodable = q.get('undecodable')
  if (undecodable !== null && !(UNDECODABLE_POLICIES as readonly string[]).includes(undecodable)) {
    throw bad(`undecodable must be one of ${UNDECODABLE_POLICIES.join(', ')} (got ${show(undecodable)}).`)
  }
  // An EventSource reconnecting sends Last-Event-ID with the URL it was
  // opened with, so the header, which is newer, wins over the query; of the
  // two query forms, cursor wins.
  const lastEventHeader = header(req, 'last-event-id')
  const cursor = q.get('cursor')
  const lastEventId = q.get('last_event_id')
  // An empty cursor is the position of a pattern stream that matched no
  // topic yet: it names no partition, so every partition starts at its first
  // record. (An empty Last-Event-ID is what an EventSource sends for none.)
  let resume: StreamPosition | null = null
  if (lastEventHeader !== null && lastEventHeader !== '') resume = parsePosition(lastEventHeader, 'Last-Event-ID')
  else if (cursor !== null) resume = cursor === '' ? new Map() : parsePosition(cursor, 'cursor')
  else if (lastEventId !== null) resume = lastEventId === '' ? new Map() : parsePosition(lastEventId, 'last_event_id')
  const timeout = uint(q, 'timeout', 0)
  const group = q.get('group')
  // eslint-disable-next-line no-control-regex -- control characters are what the check refuses
  if (group !== null && (group === '' || group.length > 249 || /[\u0000-\u001f]/.test(group))) throw bad(`group must be a consumer group id of 1 to 249 characters without control characters (got ${show(group)}).`)
  const qosRaw = q.get('qos')
  if (qosRaw !== null && !(QOS_LEVELS as readonly string[]).includes(qosRaw)) throw bad(`qos must be one of ${QOS_LEVELS.join(', ')} (got ${show(qosRaw)}).`)
  const qos = (qosRaw ?? (group === null ? 'none' : 'auto')) as Qos
  if (group === null && qos !== 'none') throw bad(`qos=${qos} needs a consumer group: add group=<name>.`)
  if (group !== null && qos === 'none') throw bad('qos=none reads without a consumer group: drop group, or choose auto, at-most-once or at-least-once.')
  const from = parseFrom(q.get('from'))
  if (group !== null && from.kind === 'time') throw bad('from=<time> cannot start a consumer group stream: a group starts at its committed offsets (else earliest or latest).')
  if (group !== null && q.has('partitions')) throw bad('partitions cannot be chosen for a consumer group stream: the group assigns them.')
  const partitions = parsePartitions(q.get('partitions'))
  const render: StreamRenderOptions = {
    keyFormat: enumParam(q.get('key_format'), STREAM_FORMATS, 'key_format', format),
    valueFormat: enumParam(q.get('value_format'), STREAM_FORMATS, 'value_format', format),
    policy: (undecodable ?? 'fail') as UndecodablePolicy
  }
  if (limits.strip !== undefined) render.strip = limits.strip
  return {
    from,
    pattern: q.get('topic_pattern'),
    group,
    qos,
    resume,
    partitions,
    render,
    filter: { key: q.has('key') ? Buffer.from(q.get('key') as string) : null, headers },
    timeoutMs: Math.min(timeout ?? limits.cursorTimeoutMs, limits.cursorMaxTimeoutMs),
    maxRecords: Math.min(uint(q, 'max_records', 1) ?? limits.cursorMaxRecords, limits.cursorMaxRecords),
    maxBytes: Math.min(uint(q, 'max_bytes', 1) ?? limits.cursorMaxBytes, limits.cursorMaxBytes)
  }
}
