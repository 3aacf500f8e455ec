// v3 topics: GET/POST /v3/clusters/{cluster_id}/topics and
// GET/PATCH/DELETE …/topics/{topic}. Topic shapes come from the cluster
// metadata (partitions, replicas); creation, deletion and partition increases
// go through the protocol admin client.
import { setTimeout as sleep } from 'node:timers/promises'
import { ProxyError } from '../../errors.js'
import { NO_CONTENT, type Ctx } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic, type ClusterMetadata, type ClusterView, type TopicInfo } from '../../kafka/metadata.js'
import type { KafkaAdmin, NewTopic } from '../../kafka/admin.js'
import { boolParam, json, type Resources } from './resource.js'
import { BOOL, JSON_MEDIA, NO_CONTENT_RESPONSE, queryParam, ref, STRING, V3_READ_ERRORS, V3_WRITE_ERRORS } from '../components.js'

const TOPICS = '/v3/clusters/{cluster_id}/topics'
const TOPIC = `${TOPICS}/{topic}`

// Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic).
const TOPIC_NAME_RE = /^[a-zA-Z0-9._-]{1,249}$/

// How long a create/patch/delete waits for the cluster metadata to show the
// change, so the next request (and produce) sees it. The admin call already
// succeeded; after this bound the response goes out regardless.
const PROPAGATION_MS = 5000
const PROPAGATION_POLL_MS = 50

export function isValidTopicName (name: string): boolean {
  return TOPIC_NAME_RE.test(name) && name !== '.' && name !== '..'
}

/** The TopicData of one topic as the metadata shows it. */
export function topicData (ctx: Ctx, resources: Resources, clusterId: string, topic: TopicInfo): Record<string, unknown> {
  return topicBody(ctx, resources, clusterId, topic.name, replicationFactor(topic), topic.partitions.length)
}

function topicBody (ctx: Ctx, resources: Resources, clusterId: string, name: string, rf: number, count: number): Record<string, unknown> {
  return {
    kind: 'KafkaTopic',
    metadata: { self: resources.url(ctx, clusterId, 'topics', name), resource_name: resources.crn(clusterId, ['topic', name]) },
    cluster_id: clusterId,
    topic_name: name,
    is_internal: isInternalTopic(name),
    replication_factor: rf,
    partitions_count: count,
    partitions: resources.related(resources.url(ctx, clusterId, 'topics', name, 'partitions')),
    configs: resources.related(resources.url(ctx, clusterId, 'topics', name, 'configs')),
    partition_reassignments: resources.related(resources.url(ctx, clusterId, 'topics', name, 'partitions', '-', 'reassignment'))
  }
}

// Confluent reports the replica count of the first partition.
function replicationFactor (topic: TopicInfo): number {
  return topic.partitions[0]?.replicas.length ?? 0
}

/**
 * The topic named by `{topic}`, from a fresh metadata view; 404/40403 as
 * Kafka's UnknownTopicOrPartition (what Confluent answers) when it does not exist.
 */
export async function resolveTopic (ctx: Ctx, metadata: ClusterMetadata): Promise<TopicInfo> {
  const name = ctx.params.topic as string
  const topic = (await metadata.current()).topics.get(name)
  if (topic === undefined) throw new ProxyError('unknownTopicOrPartition')
  return topic
}

/** Refreshes the metadata until `done` holds for the view or the bound passes. */
export async function awaitMetadata (metadata: ClusterMetadata, done: (view: ClusterView) => boolean): Promise<void> {
  const deadline = Date.now() + PROPAGATION_MS
  while (true) {
    const view = await metadata.refresh().catch(() => null)
    if ((view !== null && done(view)) || Date.now() >= deadline) return
    await sleep(PROPAGATION_POLL_MS)
  }
}

export interface CreateTopicRequest {
  topic: NewTopic
  validateOnly: boolean
}

/**
 * Parses a CreateTopicRequest body. `replicas_assignments` is accepted as
 * Confluent's code reads it (`{"0":[1,2]}`) and as its OpenAPI schema
 * declares it (`[{"partition_id":0,"broker_ids":[1,2]}]`); explicit
 * assignments override partitions_count and replication_factor.
 */
export function parseCreateTopic (body: Record<string, unknown>): CreateTopicRequest {
  const name = body.topic_name
  if (typeof name !== 'string' || name === '') throw new ProxyError('invalidPayload', 'Payload error. topic_name is required.')
  if (!isValidTopicName(name)) {
    throw new ProxyError('invalidPayload', `Payload error. Invalid topic name ${JSON.stringify(name)}: topic names are 1 to 249 of [a-zA-Z0-9._-], not '.' or '..'.`)
  }
  // Null is not "absent": the document declares none of these nullable, and
  // a client that sends null meant something the proxy cannot guess.
  for (const field of ['partitions_count', 'replication_factor', 'replicas_assignments', 'configs', 'validate_only']) {
    if (body[field] === null) throw bad(`${field} must not be null`)
  }
  const assignments = parseAssignments(body.replicas_assignments)
  const configs: NewTopic['configs'] = []
  if (body.configs !== undefined) {
    if (!Array.isArray(body.configs)) throw bad('configs must be an array of {name, value}')
    for (const c of body.configs as unknown[]) {
      if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad('configs must be an array of {name, value}')
      const { name: cn, value } = c as Record<string, unknown>
      if (typeof cn !== 'string' || cn === '') throw bad('every config needs a name')
      if (value !== undefined && value !== null && typeof value !== 'string') throw bad(`config ${cn}: value must be a string or null`)
      configs.push({ name: cn, value: typeof value === 'string' ? value : null })
    }
  }
  const explicit = assignments.length > 0
  return {
    topic: {
      name,
      numPartitions: explicit ? -1 : optionalInt(body.partitions_count, 'partitions_count', 1),
      replicationFactor: explicit ? -1 : optionalInt(body.replication_factor, 'replication_factor', 1, 32767),
      assignments,
      configs
    },
    validateOnly: optionalBool(body.validate_only, 'validate_only')
  }
}

function parseAssignments (raw: unknown): NewTopic['assignments'] {
  if (raw === undefined || raw === null) return []
  const out: NewTopic['assignments'] = []
  const add = (partition: unknown, brokers: unknown): void => {
    const p = typeof partition === 'string' && /^\d+$/.test(partition) ? Number(partition) : partition
    if (!Number.isSafeInteger(p) || (p as number) < 0) throw bad('replicas_assignments: partition ids must be non-negative integers')
    if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => Number.isSafeInteger(b))) {
      throw bad(`replicas_assignments: partition ${String(p)} needs a non-empty array of broker ids`)
    }
    out.push({ partition: p as number, brokers: brokers as number[] })
  }
  if (Array.isArray(raw)) {
    for (const item of raw as unknown[]) {
      if (typeof item !== 'object' || item === null) throw bad('replicas_assignments must map partition ids to broker ids')
      const o = item as Record<string, unknown>
      if ('partition_id' in o) add(o.partition_id, o.broker_ids)
      else for (const [k, v] of Object.entries(o)) add(k, v)
    }
  } else if (typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) add(k, v)
  } else {
    throw bad('replicas_assignments must map partition ids to broker ids')
  }
  return out.sort((a, b) => a.partition - b.partition)
}

// `max`: CreateTopics carries partition counts as int32, replication factors as int16.
function optionalInt (raw: unknown, name: string, min: number, max = 2147483647): number {
  if (raw === undefined) return -1
  if (!Number.isSafeInteger(raw) || (raw as number) < min || (raw as number) > max) {
    throw bad(`${name} must be an integer from ${min} to ${max}`)
  }
  return raw as number
}

/** An optional boolean body field; null is refused like any other non-boolean. */
export function optionalBool (raw: unknown, name: string): boolean {
  if (raw === undefined) return false
  if (typeof raw !== 'boolean') throw bad(`${name} must be a boolean`)
  return raw
}

export function bad (detail: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${detail}`)
}

const TOPIC_TAGS = ['Topic (v3)']

export const V3_TOPIC_ROUTES = defineRoutes({
  listKafkaV3Topics: {
    method: 'GET',
    path: TOPICS,
    summary: 'List Topics',
    tags: TOPIC_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    query: [queryParam('includeAuthorizedOperations', 'Include each topic\'s authorized_operations (camelCase, as Confluent\'s code reads it).', BOOL)],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The topics, sorted by name.', schema: ref('TopicDataList') } },
    errors: V3_READ_ERRORS
  },
  createKafkaV3Topic: {
    method: 'POST',
    path: TOPICS,
    summary: 'Create Topic',
    tags: TOPIC_TAGS,
    access: [{ operation: 'Create', resource: 'topic' }],
    consumes: JSON_MEDIA,
    body: { required: true, schema: ref('CreateTopicRequestData') },
    produces: JSON_MEDIA,
    responses: {
      200: { description: 'validate_only: the topic that would be created.', schema: ref('TopicData') },
      201: { description: 'The created topic; `Location` is its URL.', schema: ref('TopicData'), headers: { Location: STRING } }
    },
    errors: V3_WRITE_ERRORS
  },
  getKafkaV3Topic: {
    method: 'GET',
    path: TOPIC,
    summary: 'Get Topic',
    tags: TOPIC_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    query: [queryParam('include_authorized_operations', 'Include authorized_operations.', BOOL)],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The topic.', schema: ref('TopicData') } },
    errors: V3_READ_ERRORS
  },
  updatePartitionCountKafkaV3Topic: {
    method: 'PATCH',
    path: TOPIC,
    summary: 'Increase the partition count',
    tags: TOPIC_TAGS,
    access: [{ operation: 'Alter', resource: 'topic' }],
    consumes: JSON_MEDIA,
    body: { required: true, schema: ref('UpdatePartitionCountRequestData') },
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The topic.', schema: ref('TopicData') } },
    errors: V3_WRITE_ERRORS
  },
  deleteKafkaV3Topic: {
    method: 'DELETE',
    path: TOPIC,
    summary: 'Delete Topic',
    tags: TOPIC_TAGS,
    access: [{ operation: 'Delete', resource: 'topic' }],
    produces: JSON_MEDIA,
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: V3_READ_ERRORS
  }
})

export function v3TopicHandlers (deps: { resources: Resources, metadata: ClusterMetadata, admin: KafkaAdmin }): Handlers<typeof V3_TOPIC_ROUTES> {
  const { resources, metadata, admin } = deps
  return {
    async listKafkaV3Topics (ctx) {
      const cid = await resources.cluster(ctx)
      // Checked so a typo is not a silent "no"; authorized_operations (optional
      // in TopicData) is not reported: that needs Metadata v10+, which the
      // protocol admin client does not speak.
      boolParam(ctx.query, 'includeAuthorizedOperations')
      const view = await metadata.current()
      const data = [...view.topics.values()]
        .filter((t) => !isInternalTopic(t.name) && ctx.security?.allows('describe', 'topic', t.name) !== false)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((t) => topicData(ctx, resources, cid, t))
      return json(200, resources.list('KafkaTopicList', resources.url(ctx, cid, 'topics'), data))
    },
    async createKafkaV3Topic (ctx) {
      const cid = await resources.cluster(ctx)
      const req = parseCreateTopic(await resources.body(ctx))
      const name = req.topic.name
      ctx.security?.require('create', 'topic', name)
      let created
      try {
        created = await admin.createTopic(req.topic, req.validateOnly)
      } catch (err) {
        throw adminError(err)
      }
      // CreateTopics v5+ answers the partition count and replication factor
      // the broker chose, defaults included; fall back to what was asked.
      const count = created.numPartitions > 0 ? created.numPartitions : req.topic.assignments.length > 0 ? req.topic.assignments.length : Math.max(0, req.topic.numPartitions)
      const rf = created.replicationFactor > 0 ? created.replicationFactor : req.topic.assignments[0]?.brokers.length ?? Math.max(0, req.topic.replicationFactor)
      const body = topicBody(ctx, resources, cid, name, rf, count)
      if (req.validateOnly) return json(200, body)
      await awaitMetadata(metadata, (v) => {
        const t = v.topics.get(name)
        return t !== undefined && t.partitions.length >= count && t.partitions.every((p) => p !== undefined && p.leader >= 0)
      })
      return { ...json(201, body), headers: { location: resources.url(ctx, cid, 'topics', name) } }
    },
    async getKafkaV3Topic (ctx) {
      const cid = await resources.cluster(ctx)
      boolParam(ctx.query, 'include_authorized_operations')
      return json(200, topicData(ctx, resources, cid, await resolveTopic(ctx, metadata)))
    },
    async updatePartitionCountKafkaV3Topic (ctx) {
      const cid = await resources.cluster(ctx)
      const body = await resources.body(ctx)
      const count = body.partitions_count
      if (count === undefined || count === null) throw new ProxyError('invalidPayload', 'Payload error. partitions_count is required.')
      if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > 2147483647) throw bad('partitions_count must be a positive integer')
      const topic = await resolveTopic(ctx, metadata)
      try {
        await admin.createPartitions(topic.name, count as number, false)
      } catch (err) {
        throw adminError(err)
      }
      await awaitMetadata(metadata, (v) => (v.topics.get(topic.name)?.partitions.length ?? 0) >= (count as number))
      const now = metadata.cached()?.topics.get(topic.name)
      const rf = now === undefined ? replicationFactor(topic) : replicationFactor(now)
      return json(200, topicBody(ctx, resources, cid, topic.name, rf, count as number))
    },
    async deleteKafkaV3Topic (ctx) {
      await resources.cluster(ctx)
      const name = ctx.params.topic as string
      try {
        await admin.deleteTopic(name)
      } catch (err) {
        throw adminError(err)
      }
      await awaitMetadata(metadata, (v) => !v.topics.has(name))
      return NO_CONTENT
    }
  }
}
