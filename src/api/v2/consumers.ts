// v2 consumer instances: /consumers/{group} and /consumers/{group}/instances/{instance}/...
// An instance lives in the process that created it. A call that reaches
// another process is forwarded to the owner (see src/cluster/), so clients
// need no sticky load balancing.
import fjs from 'fast-json-stringify'
import { ProxyError } from '../../errors.js'
import { acceptable, MEDIA, negotiator, versionedNegotiator, type Offer } from '../../http/media.js'
import { reply, listenerBase, NO_CONTENT, HANDLED, type Ctx, type Handler, type Reply } from '../../http/handler.js'
import type { ConsumerManager, CreateRequest } from '../../kafka/consumers.js'
import type { ConsumerFormat, ConsumerInstance, OffsetRequest } from '../../kafka/consumer.js'
import type { ConsumerConfig } from '../../config/schema.js'
import { renderDecoded, renderRecords, type RenderedBatch } from '../../serdes/v2-consume.js'
import { decodeForRead, isSchemaFormat } from '../../serdes/schema-formats.js'
import { undecodableError, undecodableParam, type UndecodablePolicy } from '../../serdes/undecodable.js'
import type { SchemaRegistryClient } from '../../serdes/registry.js'
import type { ConsumerMessage } from '../../kafka/client.js'
import type { ClusterMetadata } from '../../kafka/metadata.js'
import type { SubscriptionWatch } from '../../kafka/subscription-watch.js'
import { groupName, instanceName, jsonBody, nonNegativeInt, queryInt, requiredArray, topicName, topicPartitions, type JsonObject } from './validate.js'
import { isObject, type JsonLimits } from '../../serdes/json-input.js'

/** Finds the process that owns an instance this process does not have. */
export interface InstanceRouting {
  /** The owner's internal base URL, or null when no process has the instance. */
  locate (group: string, name: string): Promise<string | null>
  selfUrl: string
  /** True when the request was already forwarded once (it must not travel again). */
  isForwarded (ctx: Ctx): boolean
  forward (ctx: Ctx, ownerUrl: string): Promise<void>
}

export interface ConsumerDeps {
  manager: ConsumerManager
  consumer: ConsumerConfig
  registry: SchemaRegistryClient
  maxBodyBytes: number
  /** Limits of the strict JSON body parser (server.max_json_*). */
  json?: JsonLimits
  /** Base URL for base_uri; empty means the listener that accepted the request. */
  advertisedUrl: string
  routing: InstanceRouting | null
  /** Subscribing to missing topics: created when auto-creation allows, else watched until they appear. */
  topics?: { metadata: ClusterMetadata, watch: SubscriptionWatch }
}

const serializeCreated = fjs({
  type: 'object',
  properties: { instance_id: { type: 'string' }, base_uri: { type: 'string' } },
  required: ['instance_id', 'base_uri']
})
const serializeTopics = fjs({
  type: 'object',
  properties: { topics: { type: 'array', items: { type: 'string' } } },
  required: ['topics']
})
const serializePartitions = fjs({
  type: 'object',
  properties: {
    partitions: {
      type: 'array',
      items: { type: 'object', properties: { topic: { type: 'string' }, partition: { type: 'integer' } }, required: ['topic', 'partition'] }
    }
  },
  required: ['partitions']
})
// Confluent's v1 commit answers one entry per committed partition, with the
// offset of the last record consumed (the v1 consumer committed exactly that).
const serializeV1Commit = fjs({
  type: 'array',
  items: {
    type: 'object',
    properties: { topic: { type: 'string' }, partition: { type: 'integer' }, consumed: { type: 'integer' }, committed: { type: 'integer' } },
    required: ['topic', 'partition', 'consumed', 'committed']
  }
})
const serializeCommitted = fjs({
  type: 'object',
  properties: {
    offsets: {
      type: 'array',
      items: {
        type: 'object',
        properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' }, metadata: { type: 'string' } },
        required: ['topic', 'partition', 'offset', 'metadata']
      }
    }
  },
  required: ['offsets']
})

const KNOWN_FORMATS = new Set(['binary', 'json', 'avro', 'jsonschema', 'protobuf'])
const RESET: Record<string, CreateRequest['autoOffsetReset']> = {
  earliest: 'earliest', latest: 'latest', none: 'none', smallest: 'earliest', largest: 'latest'
}

function stringOrNull (body: JsonObject, field: string): string | null {
  const v = body[field]
  if (v === undefined || v === null) return null
  if (typeof v !== 'string') throw new ProxyError('badRequest', `${field} must be a string`)
  return v
}

/** Confluent takes these settings as strings or numbers. */
function intSetting (body: JsonObject, fields: string[], min: number, max: number): number | null {
  for (const field of fields) {
    const v = body[field]
    if (v === undefined || v === null) continue
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new ProxyError('invalidConsumerConfig', `${field} must be an integer between ${min} and ${max}`)
    }
    return n
  }
  return null
}

export function parseCreate (body: JsonObject | null): CreateRequest {
  const b = body ?? {}
  // Both are checked, though id wins: a malformed field is never ignored.
  const id = stringOrNull(b, 'id')
  const given = stringOrNull(b, 'name')
  if (given !== null) instanceName(given)
  const name = id ?? given
  if (name !== null) instanceName(name)
  const format = (stringOrNull(b, 'format') ?? 'binary').toLowerCase()
  if (!KNOWN_FORMATS.has(format)) throw new ProxyError('unprocessable', 'Invalid format type.')
  const resetRaw = stringOrNull(b, 'auto.offset.reset')
  const reset = resetRaw === null ? 'latest' : RESET[resetRaw.toLowerCase()]
  if (reset === undefined) throw new ProxyError('kafkaConsumerConfig', `Invalid value ${resetRaw} for configuration auto.offset.reset`)
  const commitRaw = b['auto.commit.enable']
  let autoCommit: boolean | null = null
  if (commitRaw !== undefined && commitRaw !== null) {
    const text = String(commitRaw).toLowerCase()
    if (text !== 'true' && text !== 'false') throw new ProxyError('kafkaConsumerConfig', `Invalid value ${String(commitRaw)} for configuration auto.commit.enable`)
    autoCommit = text === 'true'
  }
  return {
    name,
    format: format as ConsumerFormat,
    autoOffsetReset: reset,
    autoCommit,
    fetchMinBytes: intSetting(b, ['fetch.min.bytes', 'responseMinBytes'], -1, 10_000_000),
    requestTimeoutMs: intSetting(b, ['consumer.request.timeout.ms', 'requestWaitMs'], 0, 2_147_483_647)
  }
}

// A records read is answered by the method of the embedded format the Accept
// header picks (Confluent: binary preferred, the others weighted low); plain
// v2/JSON types and */* mean binary.
const READ_OFFERS: readonly Offer[] = [
  { type: 'application/vnd.kafka.binary.v2+json', qs: 1 },
  { type: 'application/vnd.kafka.binary.v1+json', qs: 1 },
  { type: MEDIA.v2, qs: 0.9 },
  { type: MEDIA.v1, qs: 0.9 },
  { type: MEDIA.json, qs: 0.9 },
  ...['json', 'avro', 'jsonschema', 'protobuf'].flatMap((f) => [
    { type: `application/vnd.kafka.${f}.v2+json`, qs: 0.1 },
    { type: `application/vnd.kafka.${f}.v1+json`, qs: 0.1 }
  ])
]

function formatOfType (type: string): string {
  const m = /^application\/vnd\.kafka\.([a-z]+)\.v[12]\+json$/.exec(type)
  return m?.[1] ?? 'binary'
}

export function consumerHandlers (deps: ConsumerDeps): Record<string, Handler> {
  const negotiate = versionedNegotiator()
  const negotiateRead = negotiator(READ_OFFERS)
  const { manager, consumer } = deps

  const accept = (ctx: Ctx): string => acceptable(negotiate(ctx.req.headers.accept, ctx.req.headers['content-type']))

  /**
   * Runs `fn` on the local instance, or forwards the request to the process
   * that owns it. Forwarding happens before the body is read so it streams.
   */
  async function onInstance (ctx: Ctx, fn: (instance: ConsumerInstance) => Promise<Reply>): Promise<Reply> {
    const group = ctx.params.group as string
    const name = ctx.params.instance as string
    const local = manager.get(group, name)
    if (local !== null) return await fn(local)
    const routing = deps.routing
    if (routing !== null && !routing.isForwarded(ctx)) {
      const owner = await routing.locate(group, name)
      if (owner !== null && owner !== routing.selfUrl) {
        await routing.forward(ctx, owner)
        return HANDLED
      }
    }
    throw new ProxyError('consumerNotFound')
  }

  function baseUri (ctx: Ctx, group: string, name: string): string {
    const base = deps.advertisedUrl !== '' ? deps.advertisedUrl : listenerBase(ctx.req)
    return `${base}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`
  }

  async function read (ctx: Ctx, instance: ConsumerInstance): Promise<Reply> {
    const type = acceptable(negotiateRead(ctx.req.headers.accept))
    if (formatOfType(type) !== instance.format) throw new ProxyError('formatMismatch')
    const query = new URLSearchParams(ctx.query)
    const timeoutParam = queryInt(query, 'timeout', -1)
    const instanceTimeout = instance.requestTimeoutMs ?? consumer.request_timeout_ms
    const maxBytesParam = queryInt(query, 'max_bytes', -1)
    const policy = undecodableParam(query)
    const rendered = await instance.read({
      timeoutMs: timeoutParam > 0 ? Math.min(timeoutParam, instanceTimeout) : instanceTimeout,
      maxBytes: maxBytesParam > 0 ? Math.min(maxBytesParam, consumer.request_max_bytes) : consumer.request_max_bytes,
      minBytes: instance.fetchMinBytes ?? consumer.fetch_min_bytes,
      acquireThread: manager.acquireThread,
      releaseThread: manager.releaseThread
    }, (records) => render(instance.format, records, policy), (r) => r.count)
    return reply(200, type, rendered.body)
  }

  // A response ends before a record it cannot render, and the records after
  // it wait for the next read; a read that starts with it fails with 50002
  // naming it, so the client can seek past it (see src/serdes/undecodable.ts).
  async function render (format: ConsumerFormat, records: ConsumerMessage[], policy: UndecodablePolicy): Promise<RenderedBatch> {
    let out: RenderedBatch
    if (!isSchemaFormat(format)) {
      out = renderRecords(format, records, policy)
    } else {
      const decoded = await decodeForRead(format, deps.registry, records.map((m) => ({
        key: m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key),
        value: m.value
      })))
      out = renderDecoded(records, decoded, policy)
    }
    if (out.count === 0 && out.stopped !== null) throw undecodableError(out.stopped, `seek past offset ${out.stopped.offset}`)
    return out
  }

  /**
   * Subscribes to a topic list. A topic the cluster does not have is created
   * first when the auto-creation policy allows (as a Java consumer's
   * metadata request would have the broker do); otherwise the subscription
   * still stands, and is renewed once the topic appears (see
   * src/kafka/subscription-watch.ts).
   */
  async function subscribeTopics (instance: ConsumerInstance, list: string[]): Promise<void> {
    const topics = deps.topics
    const missing: string[] = []
    if (topics !== undefined) {
      for (const t of topics.watch.missing(list)) {
        const found = await topics.metadata.writableTopic(t).catch(() => null)
        if (found === null) missing.push(t)
      }
    }
    await instance.subscribe(list, null)
    topics?.watch.watch(instance, list, missing)
  }

  // An offset commit for a partition the cluster does not have is never
  // confirmed by the coordinator; it is refused up front instead of waiting
  // for the commit deadline.
  async function assertPartitionsExist (list: OffsetRequest[]): Promise<void> {
    const topics = deps.topics
    if (topics === undefined) return
    for (const o of list) {
      const info = await topics.metadata.topic(o.topic)
      if (info === null) throw new ProxyError('topicNotFound', `Topic ${o.topic} not found.`)
      if (info.partitions[o.partition] === undefined) throw new ProxyError('partitionNotFound', `Partition ${o.topic}-${o.partition} not found.`)
    }
  }

  function offsetRequests (body: JsonObject | null): OffsetRequest[] {
    return requiredArray(body, 'offsets').map((o, i) => {
      if (!isObject(o)) throw new ProxyError('badRequest', `offsets[${i}] must be an object`)
      // Stored with the commit as given: anything but a string (or null, none) is refused, never converted.
      if (o.metadata !== undefined && o.metadata !== null && typeof o.metadata !== 'string') throw new ProxyError('badRequest', `offsets[${i}].metadata must be a string`)
      const metadata = typeof o.metadata === 'string' ? o.metadata : undefined
      return {
        topic: topicName(o.topic, `offsets[${i}].topic`),
        partition: nonNegativeInt(o.partition, `offsets[${i}].partition`),
        offset: nonNegativeInt(o.offset, `offsets[${i}].offset`),
        metadata
      }
    })
  }

  return {
    async create (ctx) {
      const type = accept(ctx)
      const group = groupName(ctx.params.group as string)
      const request = parseCreate(await jsonBody(ctx, deps.maxBodyBytes, deps.json))
      const instance = await manager.create(group, request)
      return reply(200, type, serializeCreated({ instance_id: instance.name, base_uri: baseUri(ctx, group, instance.name) }))
    },

    delete: (ctx) => onInstance(ctx, async (instance) => {
      await manager.delete(instance.group, instance.name)
      return NO_CONTENT
    }),

    subscribe: (ctx) => onInstance(ctx, async (instance) => {
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      const topics = body?.topics
      const pattern = body?.topic_pattern
      const hasTopics = topics !== undefined && topics !== null
      const hasPattern = pattern !== undefined && pattern !== null
      if (hasTopics === hasPattern) throw new ProxyError('unprocessable', 'A subscription needs exactly one of topics and topic_pattern')
      if (hasPattern) {
        if (typeof pattern !== 'string' || pattern === '') throw new ProxyError('badRequest', 'topic_pattern must be a non-empty string')
        await instance.subscribe(null, pattern)
      } else {
        // A topic listed twice is one subscription, as in Java's subscribe(Collection).
        const list = [...new Set(requiredArray(body, 'topics').map((t, i) => topicName(t, `topics[${i}]`)))]
        if (list.length === 0) throw new ProxyError('unprocessable', 'topics may not be empty')
        await subscribeTopics(instance, list)
      }
      return NO_CONTENT
    }),

    subscription: (ctx) => onInstance(ctx, async (instance) => reply(200, accept(ctx), serializeTopics({ topics: instance.subscription() }))),

    unsubscribe: (ctx) => onInstance(ctx, async (instance) => {
      await instance.unsubscribe()
      return NO_CONTENT
    }),

    assign: (ctx) => onInstance(ctx, async (instance) => {
      await instance.assign(topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json)))
      return NO_CONTENT
    }),

    assignments: (ctx) => onInstance(ctx, async (instance) => reply(200, accept(ctx), serializePartitions({ partitions: instance.currentAssignment() }))),

    records: (ctx) => onInstance(ctx, (instance) => read(ctx, instance)),

    // The v1 read form: reading a topic subscribes to it on first use.
    topicRecords: (ctx) => onInstance(ctx, async (instance) => {
      const topic = ctx.params.topic as string
      const current = instance.subscription()
      if (!current.includes(topic)) await subscribeTopics(instance, [...current, topic])
      return await read(ctx, instance)
    }),

    commit: (ctx) => onInstance(ctx, async (instance) => {
      const type = accept(ctx)
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      // The client sends the last offset it consumed; Kafka stores the next one.
      const offsets = body === null || body.offsets === undefined || body.offsets === null
        ? null
        : offsetRequests(body).map((o) => ({ ...o, offset: o.offset + 1 }))
      if (offsets !== null) await assertPartitionsExist(offsets)
      const committed = await instance.commit(offsets)
      if (type !== MEDIA.v1) return reply(200, type, '[]')
      return reply(200, type, serializeV1Commit(committed.map((o) => ({ topic: o.topic, partition: o.partition, consumed: o.offset - 1, committed: o.offset - 1 }))))
    }),

    committed: (ctx) => onInstance(ctx, async (instance) => {
      const type = accept(ctx)
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      if (body === null) throw new ProxyError('partitionNotFound', 'The request must name partitions in a JSON body')
      const offsets = await instance.committed(topicPartitions(body))
      return reply(200, type, serializeCommitted({ offsets }))
    }),

    seek: (ctx) => onInstance(ctx, async (instance) => {
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      const hasOffsets = body?.offsets !== undefined && body.offsets !== null
      const hasTimestamps = body?.timestamps !== undefined && body.timestamps !== null
      if (!hasOffsets && !hasTimestamps) throw new ProxyError('unprocessable', 'offsets or timestamps must be given')
      const targets = hasOffsets ? offsetRequests(body) : []
      if (hasTimestamps) {
        const stamps = requiredArray(body, 'timestamps').map((t, i) => {
          if (!isObject(t)) throw new ProxyError('badRequest', `timestamps[${i}] must be an object`)
          const raw = t.timestamp
          const ms = typeof raw === 'string' ? Date.parse(raw) : typeof raw === 'number' ? raw : Number.NaN
          if (!Number.isFinite(ms)) throw new ProxyError('badRequest', `timestamps[${i}].timestamp must be an ISO-8601 date-time`)
          return { topic: topicName(t.topic, `timestamps[${i}].topic`), partition: nonNegativeInt(t.partition, `timestamps[${i}].partition`), timestamp: ms }
        })
        targets.push(...await instance.offsetsForTimes(stamps))
      }
      await instance.seek(targets)
      return NO_CONTENT
    }),

    seekToBeginning: (ctx) => onInstance(ctx, async (instance) => {
      await instance.seekToBeginning(topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json)))
      return NO_CONTENT
    }),

    seekToEnd: (ctx) => onInstance(ctx, async (instance) => {
      await instance.seekToEnd(topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json)))
      return NO_CONTENT
    })
  }
}
