// Shape checks for v2 JSON request bodies. As in Confluent's proxy, a value of
// the wrong JSON type is a 400 (a mapping error) and a missing or out-of-range
// required field is a 422.
import { ProxyError } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { requestMedia } from '../../http/media.js'
import type { Ctx } from '../../http/handler.js'
import { DEFAULT_JSON_LIMITS, isObject, parseJson, type JsonLimits } from '../../json/parse.js'

export type JsonObject = Record<string, unknown>

/**
 * Reads an optional JSON object body. Any Kafka vendor type or plain
 * application/json is accepted (the body's meaning does not depend on the
 * embedded format); an empty body is null. Parsed strictly (UTF-8, limits,
 * no repeated keys: see json/parse.ts).
 */
export async function jsonBody (ctx: Ctx, limit: number, json: JsonLimits = DEFAULT_JSON_LIMITS): Promise<JsonObject | null> {
  const raw = await readBody(ctx.req, limit)
  if (raw.length === 0) return null
  const type = ctx.req.headers['content-type']
  if (type !== undefined && requestMedia(type) === null) throw new ProxyError('unsupportedMediaType')
  const parsed = parseJson(raw, json, { prefix: 'Malformed JSON: ' })
  if (parsed === null) return null
  if (!isObject(parsed)) throw new ProxyError('badRequest', 'Request body must be a JSON object')
  return parsed
}

export function requiredArray (body: JsonObject | null, field: string): unknown[] {
  const v = body?.[field]
  if (v === undefined || v === null) throw new ProxyError('unprocessable', `${field} may not be null`)
  if (!Array.isArray(v)) throw new ProxyError('badRequest', `${field} must be an array`)
  return v
}

export function topicName (v: unknown, where: string): string {
  if (v === undefined || v === null) throw new ProxyError('unprocessable', `${where} may not be null`)
  if (typeof v !== 'string') throw new ProxyError('badRequest', `${where} must be a string`)
  if (v === '') throw new ProxyError('unprocessable', `${where} may not be empty`)
  if (v.length > TOPIC_MAX_LENGTH || !TOPIC_NAME.test(v) || v === '.' || v === '..') {
    // No topic can have such a name, so the client never reaches Kafka with it (and NUL or newlines never reach librdkafka).
    throw new ProxyError('invalidPayload', `${where} is not a valid topic name: 1 to ${TOPIC_MAX_LENGTH} characters from A-Z, a-z, 0-9, '.', '_' and '-'`)
  }
  return v
}

// Kafka's rule for topic names (org.apache.kafka.common.internals.Topic).
const TOPIC_MAX_LENGTH = 249
const TOPIC_NAME = /^[A-Za-z0-9._-]+$/

export function nonNegativeInt (v: unknown, where: string): number {
  if (v === undefined || v === null) throw new ProxyError('unprocessable', `${where} may not be null`)
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ProxyError('badRequest', `${where} must be an integer`)
  if (v < 0) throw new ProxyError('unprocessable', `${where} must not be negative`)
  return v
}

/** A partition list; a partition listed twice counts once, as in Java's assign(Collection). */
export function topicPartitions (body: JsonObject | null, field = 'partitions'): Array<{ topic: string, partition: number }> {
  const seen = new Set<string>()
  const out: Array<{ topic: string, partition: number }> = []
  requiredArray(body, field).forEach((p, i) => {
    if (!isObject(p)) throw new ProxyError('badRequest', `${field}[${i}] must be an object`)
    const tp = { topic: topicName(p.topic, `${field}[${i}].topic`), partition: nonNegativeInt(p.partition, `${field}[${i}].partition`) }
    const k = `${tp.partition}:${tp.topic}`
    if (seen.has(k)) return
    seen.add(k)
    out.push(tp)
  })
  return out
}

/** Parses an integer query parameter; absent gives `fallback`. */
export function queryInt (params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name)
  if (raw === null || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n)) throw new ProxyError('badRequest', `Query parameter ${name} must be an integer`)
  return n
}

// Consumer names reach places where any byte counts: the instance name becomes
// part of librdkafka's client.id (in broker logs, quotas and metrics), both
// names go into group.id, the proxy's logs and the URLs it hands out. Topic
// names' limits (Kafka: [A-Za-z0-9._-], at most 249) fit instance names, and
// every name the proxy generates (rest-consumer-<uuid>) meets them. Kafka
// itself puts no limit on group ids and existing groups often use ':' or '@'
// (e.g. "orders:eu", "billing@team"), so a group may be any printable ASCII
// except '/', which would split the path. Control characters (NUL, newlines)
// and non-ASCII never pass, so a name is never rewritten: invalid UTF-8
// decoded to U+FFFD is refused like any other character outside the set.
export const NAME_MAX_LENGTH = 249
const INSTANCE_NAME = /^[A-Za-z0-9._-]+$/
const GROUP_NAME = /^[\x21-\x2e\x30-\x7e]+$/

export function instanceName (v: string): string {
  if (v.length === 0 || v.length > NAME_MAX_LENGTH || !INSTANCE_NAME.test(v)) {
    throw new ProxyError('unprocessable', `A consumer instance name must be 1 to ${NAME_MAX_LENGTH} characters from A-Z, a-z, 0-9, '.', '_' and '-'`)
  }
  return v
}

export function groupName (v: string): string {
  if (v.length === 0 || v.length > NAME_MAX_LENGTH || !GROUP_NAME.test(v)) {
    throw new ProxyError('unprocessable', `A consumer group name must be 1 to ${NAME_MAX_LENGTH} printable ASCII characters other than '/' (no spaces or control characters)`)
  }
  return v
}
