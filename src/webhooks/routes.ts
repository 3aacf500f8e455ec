// Webhook subscriptions as v3 resources (docs/webhooks.md):
//   POST   /v3/clusters/{cluster_id}/topics/{topic}/subscriptions
//   GET    /v3/clusters/{cluster_id}/topics/{topic}/subscriptions
//   GET    /v3/clusters/{cluster_id}/topics/-/subscriptions
//   GET    /v3/clusters/{cluster_id}/topics/{topic}/subscriptions/{subscription_id}
//   PATCH  /v3/clusters/{cluster_id}/topics/{topic}/subscriptions/{subscription_id}
//   DELETE /v3/clusters/{cluster_id}/topics/{topic}/subscriptions/{subscription_id}
// A subscription renders with Confluent's resource envelope (kind,
// metadata.self, resource_name, related links), its settings without the
// secret, its state, and its progress: the consumer group's committed offset
// of each partition against the partition's end, and the delivery statistics
// the delivering processes recorded.
import { randomUUID } from 'node:crypto'
import { ProxyError } from '../errors.js'
import { NO_CONTENT, type Ctx } from '../http/handler.js'
import { defineRoutes, type Handlers, type JsonObject } from '../http/route.js'
import { adminError } from '../kafka/errors.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import { partitionKey, type ConsumerGroups } from '../kafka/groups.js'
import type { Logger } from '../logger.js'
import { arrayOf, BOOL, EXTENSION_TAGS, INT, INT64, JSON_MEDIA, NO_CONTENT_RESPONSE, object, ref, resource, STRING, V3_READ_ERRORS, V3_WRITE_ERRORS } from '../api/components.js'
import { json, type ListEnvelope, type Resources } from '../api/v3/resource.js'
import { resolveTopic } from '../api/v3/topics.js'
import { CallbackRefused, checkCallback, type HostRules } from './safety.js'
import { emptyStatus, type DeliveryStatus, type SubscriptionStore } from './store.js'
import {
  applyPatch, groupId, MAX_BATCH_RECORDS, MAX_BATCH_WAIT_MS, parseCreate, parsePatch, QOS_LEVELS, STATES,
  type Subscription
} from './subscription.js'

const SUBSCRIPTIONS = '/v3/clusters/{cluster_id}/topics/{topic}/subscriptions'
const SUBSCRIPTION = `${SUBSCRIPTIONS}/{subscription_id}`
const ALL_SUBSCRIPTIONS = '/v3/clusters/{cluster_id}/topics/-/subscriptions'
// Committed offsets and log ends of a listing are asked for this many subscriptions at a time.
const LIST_CONCURRENCY = 8

const FORMATS = ['BINARY', 'STRING', 'JSON', 'AVRO', 'JSONSCHEMA', 'PROTOBUF']
const FORMAT: JsonObject = { type: 'string', enum: [...FORMATS, ...FORMATS.map((f) => f.toLowerCase())] }
const TOPIC_NAME: JsonObject = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' }
const SECRET: JsonObject = {
  type: 'string',
  pattern: '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$',
  description: 'The signing secret, Standard Webhooks style: `whsec_` followed by the base64 of 24 to 64 random bytes. Never returned. Without one, deliveries are not signed.'
}
const BATCH: JsonObject = {
  ...object({
    max_records: { type: 'integer', minimum: 1, maximum: MAX_BATCH_RECORDS, description: 'Most records in one delivery (default 100).' },
    max_wait_ms: { type: 'integer', minimum: 0, maximum: MAX_BATCH_WAIT_MS, description: 'Longest wait for a delivery to fill up (default 1000).' }
  }),
  nullable: true,
  description: 'Deliver records in batches: the body is a JSON array of records (per partition, in order). Absent or null: one record per delivery.'
}
const NULLABLE_STRING: JsonObject = { type: 'string', nullable: true }
const TIME: JsonObject = { type: 'string', format: 'date-time', nullable: true }

const CALLBACK_URL: JsonObject = { type: 'string', description: 'The http or https URL deliveries are POSTed to; checked against webhooks.allowed_hosts and webhooks.denied_networks.' }

const CREATE_BODY: JsonObject = object({
  callback_url: CALLBACK_URL,
  secret: SECRET,
  from: {
    description: 'Where delivery starts on each partition: `latest` (default: records produced after the subscription was made), `earliest`, or an ISO-8601 date and time (the first record at or after it).',
    anyOf: [{ type: 'string', enum: ['latest', 'earliest'] }, { type: 'string', format: 'date-time' }]
  },
  qos: { type: 'string', enum: [...QOS_LEVELS], description: 'at-least-once (default): a partition\'s position is committed after the callback accepted a delivery; at-most-once: before it is sent; auto: periodically, by the consumer\'s auto-commit.' },
  key: { type: 'string', description: 'Deliver only records whose key is exactly these bytes (UTF-8).' },
  headers: { type: 'object', additionalProperties: STRING, description: 'Deliver only records that have each of these headers with exactly this value.' },
  format: { ...FORMAT, description: 'How keys and values are rendered (default BINARY), as in the v3 read and SSE.' },
  key_format: { ...FORMAT, description: 'How keys are rendered; default: format.' },
  value_format: { ...FORMAT, description: 'How values are rendered; default: format.' },
  undecodable: { type: 'string', enum: ['fail', 'raw'], description: 'A record that does not fit the format: fail (default) dead-letters it, or stops the subscription; raw delivers its bytes and the reason.' },
  batch: BATCH,
  max_attempts: { type: 'integer', minimum: 1, maximum: 1000, description: 'Attempts per delivery before it is dead-lettered or the subscription fails (default webhooks.max_attempts).' },
  dead_letter_topic: { ...TOPIC_NAME, nullable: true, description: 'Where records no attempt delivered go, with headers saying why and where they came from. Absent or null: the subscription stops in state failed instead.' },
  state: { type: 'string', enum: ['active', 'paused'], description: 'active (default) or paused.' }
}, ['callback_url'])

const PATCH_BODY: JsonObject = object({
  callback_url: CALLBACK_URL,
  secret: { ...SECRET, nullable: true },
  state: { type: 'string', enum: ['active', 'paused'], description: 'Pause or resume; resuming a failed or cancelled subscription retries from its committed position.' },
  max_attempts: { type: 'integer', minimum: 1, maximum: 1000 },
  batch: BATCH,
  dead_letter_topic: { ...TOPIC_NAME, nullable: true }
})

const PARTITION_PROGRESS: JsonObject = object({
  partition_id: INT,
  next_offset: { type: 'integer', format: 'int64', nullable: true, description: 'The offset delivery continues at: the committed offset of the subscription\'s group, else where the subscription started.' },
  log_end_offset: { type: 'integer', format: 'int64', nullable: true },
  lag: { type: 'integer', format: 'int64', nullable: true, description: 'Records behind.' }
}, ['partition_id', 'next_offset', 'log_end_offset', 'lag'])

const DELIVERIES: JsonObject = object({
  delivered: { ...INT64, description: 'Deliveries the callback accepted (2xx); a batch counts once.' },
  delivered_records: INT64,
  attempts: INT64,
  failed_attempts: INT64,
  dead_lettered: { ...INT64, description: 'Records sent to the dead-letter topic.' },
  last_status: { type: 'integer', nullable: true, description: 'HTTP status of the last attempt; null when it got none.' },
  last_error: NULLABLE_STRING,
  last_attempt_at: TIME,
  last_delivered_at: TIME
}, ['delivered', 'delivered_records', 'attempts', 'failed_attempts', 'dead_lettered', 'last_status', 'last_error', 'last_attempt_at', 'last_delivered_at'])

const SUBSCRIPTION_DATA: JsonObject = resource({
  cluster_id: STRING,
  topic_name: STRING,
  subscription_id: STRING,
  callback_url: STRING,
  signed: { ...BOOL, description: 'Whether deliveries are signed (a secret is set; it is never returned).' },
  from: STRING,
  qos: { type: 'string', enum: [...QOS_LEVELS] },
  key: NULLABLE_STRING,
  headers: { type: 'object', additionalProperties: STRING },
  key_format: STRING,
  value_format: STRING,
  undecodable: STRING,
  batch: object({ max_records: INT, max_wait_ms: INT }, ['max_records', 'max_wait_ms'], { nullable: true }),
  max_attempts: INT,
  dead_letter_topic: NULLABLE_STRING,
  state: { type: 'string', enum: [...STATES] },
  state_reason: { ...NULLABLE_STRING, description: 'Why a failed or cancelled subscription stopped.' },
  created_at: { type: 'string', format: 'date-time' },
  updated_at: { type: 'string', format: 'date-time' },
  consumer_group_id: STRING,
  lag: { type: 'integer', format: 'int64', description: 'Records behind, over every partition.' },
  partitions: arrayOf(PARTITION_PROGRESS),
  deliveries: DELIVERIES,
  topic: ref('Relationship'),
  consumer_group: ref('Relationship')
}, ['cluster_id', 'topic_name', 'subscription_id', 'callback_url', 'signed', 'from', 'qos', 'key', 'headers', 'key_format', 'value_format',
  'undecodable', 'batch', 'max_attempts', 'dead_letter_topic', 'state', 'state_reason', 'created_at', 'updated_at', 'consumer_group_id', 'lag',
  'partitions', 'deliveries', 'topic', 'consumer_group'])

const SUBSCRIPTION_LIST: JsonObject = { allOf: [ref('ResourceCollection'), object({ data: arrayOf(SUBSCRIPTION_DATA) }, ['data'])] }

const TAGS = [...EXTENSION_TAGS]
const DESCRIPTION = 'Webhook subscriptions (docs/webhooks.md): the records of a topic POSTed to a callback URL, each delivery signed per the Standard Webhooks convention (webhook-id, webhook-timestamp, webhook-signature), retried with exponential backoff up to max_attempts, then dead-lettered or the subscription fails; a 410 answer cancels it. Stored in a compacted topic, so a subscription made through any process or instance is delivered by all of them, each partition by one at a time.'

export const SUBSCRIPTION_ROUTES = defineRoutes({
  createKafkaV3TopicSubscription: {
    method: 'POST',
    path: SUBSCRIPTIONS,
    summary: 'Create a webhook subscription',
    description: DESCRIPTION,
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Read', resource: 'topic' }, { operation: 'Read', resource: 'group' }],
    consumes: JSON_MEDIA,
    body: { required: true, schema: CREATE_BODY },
    produces: JSON_MEDIA,
    responses: { 201: { description: 'The subscription; `Location` is its URL.', schema: SUBSCRIPTION_DATA, headers: { Location: STRING } } },
    errors: V3_WRITE_ERRORS
  },
  listKafkaV3TopicSubscriptions: {
    method: 'GET',
    path: SUBSCRIPTIONS,
    summary: 'List the webhook subscriptions of a topic',
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The subscriptions, oldest first.', schema: SUBSCRIPTION_LIST } },
    errors: V3_READ_ERRORS
  },
  listKafkaV3Subscriptions: {
    method: 'GET',
    path: ALL_SUBSCRIPTIONS,
    summary: 'List the webhook subscriptions of every topic',
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The subscriptions, by topic, oldest first.', schema: SUBSCRIPTION_LIST } },
    errors: V3_READ_ERRORS
  },
  getKafkaV3TopicSubscription: {
    method: 'GET',
    path: SUBSCRIPTION,
    summary: 'Get a webhook subscription',
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The subscription, its state and progress.', schema: SUBSCRIPTION_DATA } },
    errors: V3_READ_ERRORS
  },
  updateKafkaV3TopicSubscription: {
    method: 'PATCH',
    path: SUBSCRIPTION,
    summary: 'Pause, resume or change a webhook subscription',
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Read', resource: 'topic' }, { operation: 'Read', resource: 'group' }],
    consumes: JSON_MEDIA,
    body: { required: true, schema: PATCH_BODY },
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The changed subscription.', schema: SUBSCRIPTION_DATA } },
    errors: V3_WRITE_ERRORS
  },
  deleteKafkaV3TopicSubscription: {
    method: 'DELETE',
    path: SUBSCRIPTION,
    summary: 'Delete a webhook subscription',
    description: 'Deliveries stop on every process; the consumer group holding its progress is deleted once its members have left.',
    tags: TAGS,
    extension: true,
    access: [{ operation: 'Read', resource: 'topic' }, { operation: 'Delete', resource: 'group' }],
    produces: JSON_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V3_READ_ERRORS
  }
})

export interface SubscriptionDeps {
  resources: Resources
  metadata: ClusterMetadata
  store: SubscriptionStore
  groups: ConsumerGroups
  rules: HostRules
  /** kafka.client_id: the prefix of the subscriptions' group ids. */
  clientId: string
  defaultMaxAttempts: number
  /** Bound of the broker calls a request makes (kafka.request_timeout_ms). */
  requestTimeoutMs: number
  /** Deletes a deleted subscription's group once its members have left. */
  forgetGroup: (groupId: string) => void
  log: Logger
}

interface Progress {
  partitions: Array<{ partition_id: number, next_offset: number | null, log_end_offset: number | null, lag: number | null }>
  lag: number
}

function iso (ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/** Every partition's statistics as one: counts summed, the last attempt and delivery the latest of any partition. */
export function totalStatus (statuses: Iterable<DeliveryStatus>): DeliveryStatus {
  const out = emptyStatus()
  for (const s of statuses) {
    out.delivered += s.delivered
    out.delivered_records += s.delivered_records
    out.attempts += s.attempts
    out.failed_attempts += s.failed_attempts
    out.dead_lettered += s.dead_lettered
    if (s.last_attempt_at !== null && (out.last_attempt_at === null || s.last_attempt_at > out.last_attempt_at)) {
      out.last_attempt_at = s.last_attempt_at
      out.last_status = s.last_status
      out.last_error = s.last_error
    }
    if (s.last_delivered_at !== null && (out.last_delivered_at === null || s.last_delivered_at > out.last_delivered_at)) out.last_delivered_at = s.last_delivered_at
  }
  return out
}

async function mapLimited<T, R> (items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** Whether the request's principal may see `sub`: its owner, or anyone for a subscription without one. */
function visible (ctx: Ctx, sub: Subscription): boolean {
  return sub.owner === undefined || ctx.security === undefined || sub.owner === ctx.security.principal.name
}

export function subscriptionHandlers (deps: SubscriptionDeps): Handlers<typeof SUBSCRIPTION_ROUTES> {
  const { resources, metadata, store, groups, rules } = deps

  async function progress (sub: Subscription): Promise<Progress> {
    const topic = metadata.cached()?.topics.get(sub.topic) ?? await metadata.topic(sub.topic)
    const partitions = topic === null ? [] : topic.partitions.map((p) => p.id)
    const refs = partitions.map((partition) => ({ topic: sub.topic, partition }))
    let committed
    let ends
    try {
      [committed, ends] = await Promise.all([groups.committed(groupId(deps.clientId, sub.subscription_id)), groups.logEndOffsets(refs)])
    } catch (err) {
      throw adminError(err)
    }
    const byPartition = new Map(committed.filter((c) => c.topic === sub.topic).map((c) => [c.partition, c.offset]))
    let lag = 0
    const out = partitions.map((partition) => {
      const next = byPartition.get(partition) ?? sub.start[String(partition)] ?? null
      const end = ends.get(partitionKey(sub.topic, partition)) ?? null
      const behind = next === null || end === null ? null : Math.max(0, end - next)
      lag += behind ?? 0
      return { partition_id: partition, next_offset: next, log_end_offset: end, lag: behind }
    })
    return { partitions: out, lag }
  }

  function render (ctx: Ctx, cid: string, sub: Subscription, p: Progress): Record<string, unknown> {
    const group = groupId(deps.clientId, sub.subscription_id)
    const d = totalStatus(store.status(sub.subscription_id).values())
    return {
      kind: 'KafkaWebhookSubscription',
      metadata: {
        self: resources.url(ctx, cid, 'topics', sub.topic, 'subscriptions', sub.subscription_id),
        resource_name: resources.crn(cid, ['topic', sub.topic], ['subscription', sub.subscription_id])
      },
      cluster_id: cid,
      topic_name: sub.topic,
      subscription_id: sub.subscription_id,
      callback_url: sub.callback_url,
      signed: sub.secret !== null,
      from: sub.from,
      qos: sub.qos,
      key: sub.key,
      headers: sub.headers,
      key_format: sub.key_format,
      value_format: sub.value_format,
      undecodable: sub.undecodable,
      batch: sub.batch,
      max_attempts: sub.max_attempts,
      dead_letter_topic: sub.dead_letter_topic,
      state: sub.state,
      state_reason: sub.state_reason,
      created_at: iso(sub.created_at),
      updated_at: iso(sub.updated_at),
      consumer_group_id: group,
      lag: p.lag,
      partitions: p.partitions,
      deliveries: {
        ...d,
        last_attempt_at: iso(d.last_attempt_at),
        last_delivered_at: iso(d.last_delivered_at)
      },
      topic: resources.related(resources.url(ctx, cid, 'topics', sub.topic)),
      consumer_group: resources.related(resources.url(ctx, cid, 'consumer-groups', group))
    }
  }

  async function checkUrl (raw: string): Promise<void> {
    try {
      await checkCallback(rules, raw)
    } catch (err) {
      if (!(err instanceof CallbackRefused)) throw err
      if (err.code === 'url') throw new ProxyError('badRequest', `Bad Request: ${err.message}`)
      throw new ProxyError('callbackRefused', `The callback URL is not allowed: ${err.message}`)
    }
  }

  async function checkDeadLetterTopic (name: string | null, source: string): Promise<void> {
    if (name === null) return
    if (name === source) throw new ProxyError('badRequest', 'Bad Request: dead_letter_topic must not be the subscribed topic (its records would be delivered again)')
    if (await metadata.topic(name) === null) throw new ProxyError('unprocessable', `Unprocessable Entity: dead_letter_topic ${name} does not exist`)
  }

  // A partition added a moment ago may not be known to the admin client's
  // metadata yet (Local: Unknown partition): retriable errors are retried
  // within the request timeout.
  async function startOffsets (refs: Array<{ topic: string, partition: number }>, at: Parameters<ConsumerGroups['offsetsAt']>[1]): Promise<Map<string, number>> {
    const deadline = Date.now() + deps.requestTimeoutMs
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      try {
        return await groups.offsetsAt(refs, at)
      } catch (err) {
        const mapped = adminError(err)
        if (!mapped.retriable || Date.now() + wait >= deadline) throw mapped
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  /** The subscription named by the path, read up to date; 404 when it is not one of this topic's. */
  async function find (ctx: Ctx): Promise<Subscription> {
    await store.sync()
    const sub = store.get(ctx.params.subscription_id as string)
    // Another principal's subscription is answered as if it did not exist.
    if (sub === undefined || sub.topic !== ctx.params.topic || !visible(ctx, sub)) throw new ProxyError('subscriptionNotFound', `Subscription ${String(ctx.params.subscription_id)} of topic ${String(ctx.params.topic)} not found.`)
    return sub
  }

  async function listOf (ctx: Ctx, cid: string, all: Subscription[], self: string): Promise<ListEnvelope<Record<string, unknown>>> {
    const subs = all.filter((s) => visible(ctx, s))
    subs.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.created_at - b.created_at))
    const data = await mapLimited(subs, LIST_CONCURRENCY, async (s) => render(ctx, cid, s, await progress(s)))
    return resources.list('KafkaWebhookSubscriptionList', self, data)
  }

  return {
    async createKafkaV3TopicSubscription (ctx) {
      const cid = await resources.cluster(ctx)
      const req = parseCreate(await resources.body(ctx), deps.defaultMaxAttempts)
      const topic = await resolveTopic(ctx, metadata)
      await checkUrl(req.callback_url)
      await checkDeadLetterTopic(req.dead_letter_topic, topic.name)
      const refs = topic.partitions.map((p) => ({ topic: topic.name, partition: p.id }))
      const from = req.startFrom
      const offsets = await startOffsets(refs, from.kind === 'time' ? { timestamp: from.ms } : from.kind)
      if (from.kind === 'time') {
        // No record at or after the time: the partition starts at its end.
        const ends = await startOffsets(refs, 'latest')
        for (const [k, v] of offsets) if (v < 0) offsets.set(k, ends.get(k) ?? 0)
      }
      const start: Record<string, number> = {}
      for (const r of refs) start[String(r.partition)] = offsets.get(partitionKey(r.topic, r.partition)) ?? 0
      const now = Date.now()
      const { startFrom: _, ...settings } = req
      const sub: Subscription = {
        ...settings,
        subscription_id: randomUUID(),
        topic: topic.name,
        start,
        state_reason: null,
        created_at: now,
        updated_at: now,
        ...(ctx.security === undefined ? {} : { owner: ctx.security.principal.name })
      }
      await store.put(sub)
      deps.log.info({ subscription_id: sub.subscription_id, topic: sub.topic, qos: sub.qos }, 'webhook subscription created')
      const url = resources.url(ctx, cid, 'topics', sub.topic, 'subscriptions', sub.subscription_id)
      return { ...json(201, render(ctx, cid, sub, await progress(sub))), headers: { location: url } }
    },
    async listKafkaV3TopicSubscriptions (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      await store.sync()
      const subs = store.list().filter((s) => s.topic === topic.name)
      return json(200, await listOf(ctx, cid, subs, resources.url(ctx, cid, 'topics', topic.name, 'subscriptions')))
    },
    async listKafkaV3Subscriptions (ctx) {
      const cid = await resources.cluster(ctx)
      await store.sync()
      return json(200, await listOf(ctx, cid, store.list(), resources.url(ctx, cid, 'topics', '-', 'subscriptions')))
    },
    async getKafkaV3TopicSubscription (ctx) {
      const cid = await resources.cluster(ctx)
      const sub = await find(ctx)
      return json(200, render(ctx, cid, sub, await progress(sub)))
    },
    async updateKafkaV3TopicSubscription (ctx) {
      const cid = await resources.cluster(ctx)
      const patch = parsePatch(await resources.body(ctx))
      const sub = await find(ctx)
      if (patch.callback_url !== undefined) await checkUrl(patch.callback_url)
      if (patch.dead_letter_topic !== undefined) await checkDeadLetterTopic(patch.dead_letter_topic, sub.topic)
      const next = applyPatch(sub, patch, Date.now())
      await store.put(next)
      deps.log.info({ subscription_id: sub.subscription_id, state: next.state, fields: Object.keys(patch) }, 'webhook subscription changed')
      return json(200, render(ctx, cid, next, await progress(next)))
    },
    async deleteKafkaV3TopicSubscription (ctx) {
      await resources.cluster(ctx)
      const sub = await find(ctx)
      await store.remove(sub.subscription_id)
      deps.log.info({ subscription_id: sub.subscription_id }, 'webhook subscription deleted')
      deps.forgetGroup(groupId(deps.clientId, sub.subscription_id))
      return NO_CONTENT
    }
  }
}
