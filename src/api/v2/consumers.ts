// v2 consumer instances: /consumers/{group} and /consumers/{group}/instances/{instance}/...
// An instance lives in the process that created it. A call that reaches
// another process is forwarded to the owner (see src/shards/), so clients
// need no sticky load balancing.
import { ProxyError } from '../../errors.js'
import { acceptable, MEDIA, negotiator, versionedNegotiator, type Offer } from '../../http/media.js'
import { reply, listenerBase, NO_CONTENT, HANDLED, type Ctx, type Reply } from '../../http/handler.js'
import { defineRoutes, type Access, type ErrorStatus, type Handlers, type RouteSpec } from '../../http/route.js'
import type { ConsumerManager, CreateRequest } from '../../kafka/consumer-manager.js'
import type { ConsumerFormat, ConsumerInstance, OffsetRequest } from '../../kafka/consumer-instance.js'
import type { ConsumerConfig } from '../../config/schema.js'
import { renderDecoded, renderRecords, type RenderedBatch } from '../../render/v2-records.js'
import { decodeForRead, isSchemaFormat } from '../../formats/schema-formats.js'
import { undecodableError, undecodableParam, type UndecodablePolicy } from '../../render/undecodable.js'
import { framingStrip } from '../../render/framing.js'
import type { SchemaRegistryClient } from '../../registry/client.js'
import type { ConsumerMessage } from '../../kafka/binding.js'
import type { ClusterMetadata } from '../../kafka/metadata.js'
import type { SubscriptionWatch } from '../../kafka/subscription-watch.js'
import { groupName, instanceName, jsonBody, nonNegativeInt, queryInt, requiredArray, topicName, topicPartitions, type JsonObject } from './validate.js'
import { isObject, type JsonLimits } from '../../json/parse.js'
import { enforce, recordBytes, type Quotas } from '../../security/quotas.js'
import { arrayOf, INT, INT32, INT64, NO_CONTENT_RESPONSE, object, queryParam, ref, serializer, STRING, UNDECODABLE_PARAM, V2_CONSUMER_ERRORS, V2_CONSUMER_TAGS, V2_MEDIA } from '../components.js'

/** Finds the process that owns an instance this process does not have. */
export interface InstanceRouting {
  /** The owner's internal base URL, or null when no process has the instance. */
  locate (group: string, name: string): Promise<string | null>
  selfUrl: string
  /** True when the request was already forwarded once (it must not travel again). */
  isForwarded (ctx: Ctx): boolean
  forward (ctx: Ctx, ownerUrl: string): Promise<void>
  /** The other proxy instances (src/shards/peers.ts); absent with a single instance. */
  peers?: PeerRouting
}

/** Finds and reaches an instance another proxy instance holds. */
export interface PeerRouting {
  /** The base URL of the proxy instance that holds it, or null; `fresh` skips cached answers. */
  locate (group: string, name: string, fresh?: boolean): Promise<string | null>
  /** True when another instance relayed the request (it must not travel on to a third). */
  isRelayed (ctx: Ctx): boolean
  relay (ctx: Ctx, instanceUrl: string): Promise<void>
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
  /** Null when [quotas] sets no limit (one null check per read). */
  quotas: Quotas | null
}

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

const I = '/consumers/{group}/instances/{instance}'

const readResponses: RouteSpec['responses'] = {
  200: {
    description: 'The records read, in the consumer\'s format (the Accept header picks it and must match the instance\'s). `timestamp` and `headers` are extensions.',
    content: Object.fromEntries(READ_OFFERS.map((o) => [o.type, arrayOf(ref(formatOfType(o.type) === 'binary' ? 'V2BinaryRecord' : 'V2ConsumedRecord'))]))
  }
}
const READ_ERRORS: readonly ErrorStatus[] = [400, 404, 406, 408, 409, 429, '5XX']

// Kafka's authorizer: a member reads its group (JoinGroup, OffsetCommit) and
// the topics it fetches; positions and lookups describe them.
const READ_GROUP: Access = { operation: 'Read', resource: 'group' }
const DESCRIBE_GROUP: Access = { operation: 'Describe', resource: 'group' }
const READ_TOPIC: Access = { operation: 'Read', resource: 'topic' }
const DESCRIBE_TOPIC: Access = { operation: 'Describe', resource: 'topic' }

export const CONSUMER_ROUTES = defineRoutes({
  v2CreateConsumer: {
    method: 'POST',
    path: '/consumers/{group}',
    summary: 'Create a consumer instance in a group',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP],
    consumes: V2_MEDIA,
    body: { required: false, schema: ref('V2CreateConsumerRequest') },
    produces: V2_MEDIA,
    responses: { 200: { description: 'The instance and its URL.', schema: ref('V2CreateConsumerResponse') } },
    errors: V2_CONSUMER_ERRORS
  },
  v2DeleteConsumer: {
    method: 'DELETE',
    path: I,
    summary: 'Close a consumer instance (it leaves its group)',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP],
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2Subscribe: {
    method: 'POST',
    path: `${I}/subscription`,
    summary: 'Subscribe to topics or a topic pattern',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2Subscription') },
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2GetSubscription: {
    method: 'GET',
    path: `${I}/subscription`,
    summary: 'Current subscription',
    tags: V2_CONSUMER_TAGS,
    access: [DESCRIBE_GROUP],
    produces: V2_MEDIA,
    responses: { 200: { description: 'Subscribed topics.', schema: ref('V2Topics') } },
    errors: V2_CONSUMER_ERRORS
  },
  v2Unsubscribe: {
    method: 'DELETE',
    path: `${I}/subscription`,
    summary: 'Unsubscribe',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP],
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2Assign: {
    method: 'POST',
    path: `${I}/assignments`,
    summary: 'Assign partitions manually',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2Partitions') },
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2GetAssignments: {
    method: 'GET',
    path: `${I}/assignments`,
    summary: 'Current assignment',
    tags: V2_CONSUMER_TAGS,
    access: [DESCRIBE_GROUP],
    produces: V2_MEDIA,
    responses: { 200: { description: 'Assigned partitions.', schema: ref('V2Partitions') } },
    errors: V2_CONSUMER_ERRORS
  },
  v2ReadRecords: {
    method: 'GET',
    path: `${I}/records`,
    summary: 'Read records',
    description: 'A long poll: waits up to the instance\'s consumer.request.timeout.ms (shortened by `timeout`) unless more than fetch.min.bytes arrived or `max_bytes` is reached. Records carry `timestamp` and `headers` (extensions).',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, READ_TOPIC],
    query: [
      queryParam('timeout', 'Maximum wait in ms (values ≤ 0: the instance\'s).', INT),
      queryParam('max_bytes', 'Maximum raw key + value bytes (values ≤ 0: the configured cap).', INT),
      UNDECODABLE_PARAM
    ],
    produces: V2_MEDIA,
    responses: readResponses,
    errors: READ_ERRORS,
    // A read moves the consumer's position: a HEAD would drop what it read.
    head: false
  },
  v2ReadTopic: {
    method: 'GET',
    path: `${I}/topics/{topic}`,
    summary: 'Read records of one topic (v1 form)',
    description: 'Subscribes the instance to the topic on first use, then reads as `…/records` does.',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, READ_TOPIC],
    query: [
      queryParam('timeout', 'Maximum wait in ms.', INT),
      queryParam('max_bytes', 'Maximum raw key + value bytes.', INT),
      UNDECODABLE_PARAM
    ],
    produces: V2_MEDIA,
    responses: readResponses,
    errors: READ_ERRORS,
    head: false
  },
  v2CommitOffsets: {
    method: 'POST',
    path: `${I}/offsets`,
    summary: 'Commit offsets',
    description: 'With a body, commits offset + 1 of each entry (the last offset consumed); without one, commits what was delivered.',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, READ_TOPIC],
    query: [queryParam('async', 'Accepted for compatibility; commits always wait for the coordinator.', STRING)],
    consumes: V2_MEDIA,
    body: { required: false, schema: ref('V2OffsetCommitRequest') },
    produces: V2_MEDIA,
    responses: {
      // Confluent's v1 commit answers one entry per committed partition, with
      // the offset of the last record consumed (the v1 consumer committed exactly that).
      200: {
        description: 'v2: `[]`; v1 (Accept application/vnd.kafka.v1+json): one entry per committed partition, as Confluent\'s v1 answers.',
        schema: arrayOf(object({ topic: STRING, partition: INT32, consumed: INT64, committed: INT64 }, ['topic', 'partition', 'consumed', 'committed']))
      }
    },
    errors: V2_CONSUMER_ERRORS
  },
  v2GetCommittedOffsets: {
    method: 'GET',
    path: `${I}/offsets`,
    summary: 'Committed offsets (a GET with a JSON body)',
    tags: V2_CONSUMER_TAGS,
    access: [DESCRIBE_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2Partitions') },
    produces: V2_MEDIA,
    responses: { 200: { description: 'Committed offsets.', schema: ref('V2CommittedOffsets') } },
    errors: V2_CONSUMER_ERRORS
  },
  v2Seek: {
    method: 'POST',
    path: `${I}/positions`,
    summary: 'Seek to offsets and/or timestamps',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2SeekRequest') },
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2SeekToBeginning: {
    method: 'POST',
    path: `${I}/positions/beginning`,
    summary: 'Seek to the beginning of partitions',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2Partitions') },
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  },
  v2SeekToEnd: {
    method: 'POST',
    path: `${I}/positions/end`,
    summary: 'Seek to the end of partitions',
    tags: V2_CONSUMER_TAGS,
    access: [READ_GROUP, DESCRIBE_TOPIC],
    consumes: V2_MEDIA,
    body: { required: true, schema: ref('V2Partitions') },
    produces: V2_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V2_CONSUMER_ERRORS
  }
})

const serializeCreated = serializer(CONSUMER_ROUTES.v2CreateConsumer, 200)
const serializeTopics = serializer(CONSUMER_ROUTES.v2GetSubscription, 200)
const serializePartitions = serializer(CONSUMER_ROUTES.v2GetAssignments, 200)
const serializeV1Commit = serializer(CONSUMER_ROUTES.v2CommitOffsets, 200)
const serializeCommitted = serializer(CONSUMER_ROUTES.v2GetCommittedOffsets, 200)

// The principal that created each instance (when security is on): only it reaches the instance.
const owners = new WeakMap<ConsumerInstance, string>()

export function consumerHandlers (deps: ConsumerDeps): Handlers<typeof CONSUMER_ROUTES> {
  const negotiate = versionedNegotiator()
  const negotiateRead = negotiator(READ_OFFERS)
  const { manager, consumer } = deps
  const strip = framingStrip(consumer.strip_schema_framing)

  const accept = (ctx: Ctx): string => acceptable(negotiate(ctx.req.headers.accept, ctx.req.headers['content-type']))

  /**
   * Runs `fn` on the local instance, or forwards the request to the process
   * that owns it. Forwarding happens before the body is read so it streams.
   */
  async function onInstance (ctx: Ctx, fn: (instance: ConsumerInstance) => Promise<Reply>): Promise<Reply> {
    const group = ctx.params.group as string
    const name = ctx.params.instance as string
    const local = manager.get(group, name)
    if (local !== null) {
      // Another principal's instance is answered as if it did not exist.
      if (ctx.security !== undefined && owners.get(local) !== ctx.security.principal.name) throw new ProxyError('consumerNotFound')
      return await fn(local)
    }
    const routing = deps.routing
    if (routing !== null && !routing.isForwarded(ctx)) {
      const owner = await routing.locate(group, name)
      if (owner !== null && owner !== routing.selfUrl) {
        await routing.forward(ctx, owner)
        return HANDLED
      }
      const peers = routing.peers
      if (peers !== undefined && !peers.isRelayed(ctx)) {
        const instance = await peers.locate(group, name)
        if (instance !== null) {
          await peers.relay(ctx, instance)
          return HANDLED
        }
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
    // The principal's consume quota admits the read before anything is taken from Kafka, and counts what it returned after.
    const quota = deps.quotas === null ? null : deps.quotas.of(ctx.security?.principal)
    if (quota !== null) {
      const waiting = enforce(quota.admitRead())
      if (waiting !== undefined) await waiting
    }
    const maxBytes = maxBytesParam > 0 ? Math.min(maxBytesParam, consumer.request_max_bytes) : consumer.request_max_bytes
    let bytes = 0
    const rendered = await instance.read({
      timeoutMs: timeoutParam > 0 ? Math.min(timeoutParam, instanceTimeout) : instanceTimeout,
      maxBytes: quota === null ? maxBytes : Math.min(maxBytes, quota.readLimit),
      minBytes: instance.fetchMinBytes ?? consumer.fetch_min_bytes,
      acquireThread: manager.acquireThread,
      releaseThread: manager.releaseThread
    }, quota === null
      ? (records) => render(instance.format, records, policy)
      : async (records) => {
        const out = await render(instance.format, records, policy)
        for (let i = 0; i < out.count; i++) bytes += recordBytes((records[i] as ConsumerMessage).key, (records[i] as ConsumerMessage).value)
        return out
      }, (r) => r.count)
    quota?.consumed(bytes)
    return reply(200, type, rendered.body)
  }

  // A response ends before a record it cannot render, and the records after
  // it wait for the next read; a read that starts with it fails with 50002
  // naming it, so the client can seek past it (see src/render/undecodable.ts).
  async function render (format: ConsumerFormat, records: ConsumerMessage[], policy: UndecodablePolicy): Promise<RenderedBatch> {
    let out: RenderedBatch
    if (!isSchemaFormat(format)) {
      out = renderRecords(format, records, policy, strip)
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
    async v2CreateConsumer (ctx) {
      const type = accept(ctx)
      const group = groupName(ctx.params.group as string)
      const request = parseCreate(await jsonBody(ctx, deps.maxBodyBytes, deps.json))
      // A name is one instance across every proxy instance, as within one.
      const peers = deps.routing?.peers
      if (request.name !== null && peers !== undefined && await peers.locate(group, request.name, true) !== null) throw new ProxyError('consumerExists')
      const instance = await manager.create(group, request)
      if (ctx.security !== undefined) owners.set(instance, ctx.security.principal.name)
      return reply(200, type, serializeCreated({ instance_id: instance.name, base_uri: baseUri(ctx, group, instance.name) }))
    },

    v2DeleteConsumer: (ctx) => onInstance(ctx, async (instance) => {
      await manager.delete(instance.group, instance.name)
      return NO_CONTENT
    }),

    v2Subscribe: (ctx) => onInstance(ctx, async (instance) => {
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      const topics = body?.topics
      const pattern = body?.topic_pattern
      const hasTopics = topics !== undefined && topics !== null
      const hasPattern = pattern !== undefined && pattern !== null
      if (hasTopics === hasPattern) throw new ProxyError('unprocessable', 'A subscription needs exactly one of topics and topic_pattern')
      if (hasPattern) {
        if (typeof pattern !== 'string' || pattern === '') throw new ProxyError('badRequest', 'topic_pattern must be a non-empty string')
        // A pattern names topics not known yet, which no rule can be checked for.
        if (ctx.security !== undefined && !ctx.security.allows('consume', 'topic', '*')) throw new ProxyError('forbidden', 'A topic_pattern subscription needs consume on every topic (topics = ["*"])')
        await instance.subscribe(null, pattern)
      } else {
        // A topic listed twice is one subscription, as in Java's subscribe(Collection).
        const list = [...new Set(requiredArray(body, 'topics').map((t, i) => topicName(t, `topics[${i}]`)))]
        if (list.length === 0) throw new ProxyError('unprocessable', 'topics may not be empty')
        for (const t of list) ctx.security?.require('consume', 'topic', t)
        await subscribeTopics(instance, list)
      }
      return NO_CONTENT
    }),

    v2GetSubscription: (ctx) => onInstance(ctx, async (instance) => reply(200, accept(ctx), serializeTopics({ topics: instance.subscription() }))),

    v2Unsubscribe: (ctx) => onInstance(ctx, async (instance) => {
      await instance.unsubscribe()
      return NO_CONTENT
    }),

    v2Assign: (ctx) => onInstance(ctx, async (instance) => {
      const partitions = topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json))
      for (const p of partitions) ctx.security?.require('consume', 'topic', p.topic)
      await instance.assign(partitions)
      return NO_CONTENT
    }),

    v2GetAssignments: (ctx) => onInstance(ctx, async (instance) => reply(200, accept(ctx), serializePartitions({ partitions: instance.currentAssignment() }))),

    v2ReadRecords: (ctx) => onInstance(ctx, (instance) => read(ctx, instance)),

    // The v1 read form: reading a topic subscribes to it on first use.
    v2ReadTopic: (ctx) => onInstance(ctx, async (instance) => {
      const topic = ctx.params.topic as string
      const current = instance.subscription()
      if (!current.includes(topic)) await subscribeTopics(instance, [...current, topic])
      return await read(ctx, instance)
    }),

    v2CommitOffsets: (ctx) => onInstance(ctx, async (instance) => {
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

    v2GetCommittedOffsets: (ctx) => onInstance(ctx, async (instance) => {
      const type = accept(ctx)
      const body = await jsonBody(ctx, deps.maxBodyBytes, deps.json)
      if (body === null) throw new ProxyError('partitionNotFound', 'The request must name partitions in a JSON body')
      const offsets = await instance.committed(topicPartitions(body))
      return reply(200, type, serializeCommitted({ offsets }))
    }),

    v2Seek: (ctx) => onInstance(ctx, async (instance) => {
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

    v2SeekToBeginning: (ctx) => onInstance(ctx, async (instance) => {
      await instance.seekToBeginning(topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json)))
      return NO_CONTENT
    }),

    v2SeekToEnd: (ctx) => onInstance(ctx, async (instance) => {
      await instance.seekToEnd(topicPartitions(await jsonBody(ctx, deps.maxBodyBytes, deps.json)))
      return NO_CONTENT
    })
  }
}
