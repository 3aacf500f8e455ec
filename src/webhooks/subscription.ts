// A webhook subscription as it is stored (the store topic's JSON value) and
// the request bodies that make and change one. Bodies are checked strictly
// before anything happens: a field of the wrong type, out of range, not in
// its enum, or not known at all is a 400 naming it (null is not "absent"),
// and a body without callback_url is a 422 as Confluent answers a missing
// required field. Checks that need the network (the callback's host, the
// dead-letter topic) are the caller's.
import { ProxyError } from '../errors.js'
import { isValidTopicName } from '../api/v3/topics.js'
import { UNDECODABLE_POLICIES, type UndecodablePolicy } from '../render/undecodable.js'
import { parseFrom } from '../streams/params.js'
import { STREAM_FORMATS, type StreamFormat } from '../streams/render.js'
import type { StartFrom } from '../streams/start.js'
import { secretKey } from './sign.js'

export const QOS_LEVELS = ['at-least-once', 'at-most-once', 'auto'] as const
export type Qos = typeof QOS_LEVELS[number]

/**
 * active: delivering; paused: by a PATCH; failed: a delivery ran out of
 * attempts and there is no dead-letter topic; cancelled: the callback
 * answered 410 Gone. A PATCH to active resumes the last three.
 */
export const STATES = ['active', 'paused', 'failed', 'cancelled'] as const
export type State = typeof STATES[number]

export const MAX_BATCH_RECORDS = 1000
export const MAX_BATCH_WAIT_MS = 60_000
const DEFAULT_BATCH_RECORDS = 100
const DEFAULT_BATCH_WAIT_MS = 1000
const MAX_FILTER_HEADERS = 32
const MAX_ATTEMPTS = 1000

export interface BatchOptions {
  max_records: number
  max_wait_ms: number
}

export interface Subscription {
  subscription_id: string
  topic: string
  callback_url: string
  /** Never in a response or a log line. */
  secret: string | null
  /** As given: earliest, latest or an ISO-8601 time. */
  from: string
  /** The first offset of each partition the topic had when the subscription was made (from `from`). */
  start: Record<string, number>
  qos: Qos
  key: string | null
  headers: Record<string, string>
  key_format: StreamFormat
  value_format: StreamFormat
  undecodable: UndecodablePolicy
  batch: BatchOptions | null
  max_attempts: number
  dead_letter_topic: string | null
  state: State
  state_reason: string | null
  /** Milliseconds since the epoch. */
  created_at: number
  updated_at: number
  /**
   * The principal that created it, when security was on (src/security/): only
   * that principal finds it; absent for subscriptions made without a
   * principal (or stored before owners were kept), which every principal allowed on its topic finds.
   */
  owner?: string
}

/** A create body, checked; `start` is resolved by the caller from `from`. */
export type NewSubscription = Omit<Subscription, 'subscription_id' | 'topic' | 'start' | 'state_reason' | 'created_at' | 'updated_at' | 'owner'> & { startFrom: StartFrom }

export type SubscriptionPatch = Partial<Pick<Subscription, 'callback_url' | 'secret' | 'state' | 'max_attempts' | 'batch' | 'dead_letter_topic'>>

function bad (detail: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${detail}`)
}

function show (v: unknown): string {
  const text = JSON.stringify(v) ?? String(v)
  return text.length > 60 ? `${text.slice(0, 60)}…` : text
}

function string (body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw bad(`${name} must be a string (got ${show(v)})`)
  return v
}

function nullableString (body: Record<string, unknown>, name: string): string | null | undefined {
  return body[name] === null ? null : string(body, name)
}

function choice<T extends string> (body: Record<string, unknown>, name: string, values: readonly T[], fold = false): T | undefined {
  const raw = string(body, name)
  if (raw === undefined) return undefined
  const found = values.find((v) => v === (fold ? raw.toUpperCase() : raw))
  if (found === undefined) throw bad(`${name} must be one of ${values.join(', ')} (got ${show(raw)})`)
  return found
}

function integer (body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = body[name]
  if (v === undefined) return undefined
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) throw bad(`${name} must be an integer from ${min} to ${max} (got ${show(v)})`)
  return v as number
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function onlyKnown (body: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const name of Object.keys(body)) {
    if (!known.includes(name)) throw bad(`unknown field ${show(name)} in ${what}`)
  }
}

function parseBatch (body: Record<string, unknown>): BatchOptions | null | undefined {
  const raw = body.batch
  if (raw === undefined || raw === null) return raw
  if (!isObject(raw)) throw bad(`batch must be an object {max_records, max_wait_ms} or null (got ${show(raw)})`)
  onlyKnown(raw, ['max_records', 'max_wait_ms'], 'batch')
  return {
    max_records: integer(raw, 'max_records', 1, MAX_BATCH_RECORDS) ?? DEFAULT_BATCH_RECORDS,
    max_wait_ms: integer(raw, 'max_wait_ms', 0, MAX_BATCH_WAIT_MS) ?? DEFAULT_BATCH_WAIT_MS
  }
}

function parseSecret (body: Record<string, unknown>): string | null | undefined {
  const secret = nullableString(body, 'secret')
  if (typeof secret === 'string') {
    const key = secretKey(secret)
    if (typeof key === 'string') throw bad(key)
  }
  return secret
}

function parseDeadLetterTopic (body: Record<string, unknown>): string | null | undefined {
  const topic = nullableString(body, 'dead_letter_topic')
  if (typeof topic === 'string' && !isValidTopicName(topic)) throw bad(`dead_letter_topic ${show(topic)} is not a topic name`)
  return topic
}

function parseHeaders (body: Record<string, unknown>): Record<string, string> {
  const raw = body.headers
  if (raw === undefined) return {}
  if (!isObject(raw)) throw bad(`headers must be an object of header names to values (got ${show(raw)})`)
  const out: Record<string, string> = {}
  const names = Object.keys(raw)
  if (names.length > MAX_FILTER_HEADERS) throw bad(`headers may hold at most ${MAX_FILTER_HEADERS} filters`)
  for (const name of names) {
    const v = raw[name]
    if (typeof v !== 'string') throw bad(`headers.${name} must be a string (got ${show(v)})`)
    out[name] = v
  }
  return out
}

const CREATE_FIELDS = ['callback_url', 'secret', 'from', 'qos', 'key', 'headers', 'format', 'key_format', 'value_format',
  'undecodable', 'batch', 'max_attempts', 'dead_letter_topic', 'state'] as const
const PATCH_FIELDS = ['callback_url', 'secret', 'state', 'max_attempts', 'batch', 'dead_letter_topic'] as const

export function parseCreate (body: Record<string, unknown>, defaultMaxAttempts: number): NewSubscription {
  onlyKnown(body, CREATE_FIELDS, 'the subscription')
  for (const name of ['callback_url', 'secret', 'from', 'qos', 'key', 'headers', 'format', 'key_format', 'value_format', 'undecodable', 'max_attempts', 'state']) {
    if (body[name] === null) throw bad(`${name} must not be null`)
  }
  const callback = string(body, 'callback_url')
  if (callback === undefined) throw new ProxyError('invalidPayload', 'Payload error. callback_url is required.')
  const from = string(body, 'from') ?? 'latest'
  const format = choice(body, 'format', STREAM_FORMATS, true) ?? 'BINARY'
  const state = choice(body, 'state', ['active', 'paused'] as const) ?? 'active'
  return {
    callback_url: callback,
    secret: parseSecret(body) ?? null,
    from,
    startFrom: parseFrom(from),
    qos: choice(body, 'qos', QOS_LEVELS) ?? 'at-least-once',
    key: string(body, 'key') ?? null,
    headers: parseHeaders(body),
    key_format: choice(body, 'key_format', STREAM_FORMATS, true) ?? format,
    value_format: choice(body, 'value_format', STREAM_FORMATS, true) ?? format,
    undecodable: choice(body, 'undecodable', UNDECODABLE_POLICIES) ?? 'fail',
    batch: parseBatch(body) ?? null,
    max_attempts: integer(body, 'max_attempts', 1, MAX_ATTEMPTS) ?? defaultMaxAttempts,
    dead_letter_topic: parseDeadLetterTopic(body) ?? null,
    state
  }
}

export function parsePatch (body: Record<string, unknown>): SubscriptionPatch {
  for (const name of Object.keys(body)) {
    if (!(PATCH_FIELDS as readonly string[]).includes(name)) {
      if ((CREATE_FIELDS as readonly string[]).includes(name)) throw bad(`${name} cannot be changed; create a new subscription instead`)
      throw bad(`unknown field ${show(name)} in the change`)
    }
  }
  for (const name of ['callback_url', 'state', 'max_attempts']) {
    if (body[name] === null) throw bad(`${name} must not be null`)
  }
  const out: SubscriptionPatch = {}
  const callback = string(body, 'callback_url')
  if (callback !== undefined) out.callback_url = callback
  const secret = parseSecret(body)
  if (secret !== undefined) out.secret = secret
  const state = choice(body, 'state', ['active', 'paused'] as const)
  if (state !== undefined) out.state = state
  const attempts = integer(body, 'max_attempts', 1, MAX_ATTEMPTS)
  if (attempts !== undefined) out.max_attempts = attempts
  const batch = parseBatch(body)
  if (batch !== undefined) out.batch = batch
  const dlt = parseDeadLetterTopic(body)
  if (dlt !== undefined) out.dead_letter_topic = dlt
  return out
}

/** The subscription after `patch`; a resumed one loses the reason it stopped for. */
export function applyPatch (sub: Subscription, patch: SubscriptionPatch, now: number): Subscription {
  const next: Subscription = { ...sub, ...patch, updated_at: now }
  if (patch.state !== undefined && patch.state !== sub.state) next.state_reason = null
  return next
}

/** The consumer group holding a subscription's progress. */
export function groupId (clientId: string, subscriptionId: string): string {
  return `${clientId}-webhook-${subscriptionId}`
}

/** Reads a stored value; null for anything that is not a subscription this version understands. */
export function decodeSubscription (value: Buffer): Subscription | null {
  try {
    const v = JSON.parse(value.toString('utf8')) as Subscription & { type?: string }
    if (v.type !== 'subscription' || typeof v.subscription_id !== 'string' || typeof v.topic !== 'string') return null
    const { type: _, ...sub } = v
    return sub
  } catch {
    return null
  }
}

export function encodeSubscription (sub: Subscription): Buffer {
  return Buffer.from(JSON.stringify({ type: 'subscription', ...sub }))
}
