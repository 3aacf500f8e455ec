// v3 partitions, their offsets, replicas and ongoing reassignments:
// …/topics/{topic}/partitions[/{partition}[/offset|/replicas[/{broker_id}]|/reassignment]]
// and the reassignment listings …/topics/-/partitions/-/reassignment and
// …/topics/{topic}/partitions/-/reassignment.
import { ProxyError } from '../../errors.js'
import type { Ctx } from '../../http/handler.js'
import { defineRoutes, type Access, type Handlers, type RouteSpec } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import type { ClusterMetadata, PartitionInfo, TopicInfo } from '../../kafka/metadata.js'
import type { KafkaProducer } from '../../kafka/producer.js'
import type { KafkaAdmin, PartitionReassignment } from '../../kafka/admin.js'
import { enumParam, json, type Resources } from './resource.js'
import { resolveTopic } from './topics.js'
import { JSON_MEDIA, queryParam, ref, V3_READ_ERRORS } from '../components.js'

const PARTITIONS = '/v3/clusters/{cluster_id}/topics/{topic}/partitions'
const PARTITION = `${PARTITIONS}/{partition}`

// The only offset type Confluent implements (ListPartitionOffsetsAction).
const OFFSET_TYPES = ['EARLIEST_AND_LATEST'] as const

/**
 * The partition named by `{partition}`: 404/40402 "Partition not found." for
 * an id the topic does not have (negative ids included), plain 404 for a
 * segment that is not a number.
 */
export function resolvePartition (ctx: Ctx, topic: TopicInfo): PartitionInfo {
  const raw = ctx.params.partition as string
  if (!/^-?\d{1,10}$/.test(raw)) throw new ProxyError('notFound')
  const p = topic.partitions[Number(raw)]
  if (p === undefined) throw new ProxyError('partitionNotFound')
  return p
}

export function partitionData (ctx: Ctx, resources: Resources, cid: string, topic: string, p: PartitionInfo): Record<string, unknown> {
  const base = ['topics', topic, 'partitions', p.id] as const
  const out: Record<string, unknown> = {
    kind: 'KafkaPartition',
    metadata: { self: resources.url(ctx, cid, ...base), resource_name: resources.crn(cid, ['topic', topic], ['partition', p.id]) },
    cluster_id: cid,
    topic_name: topic,
    partition_id: p.id
  }
  // No leader (-1) while the partition is offline: the link is omitted.
  if (p.leader >= 0) out.leader = resources.related(resources.url(ctx, cid, ...base, 'replicas', p.leader))
  out.replicas = resources.related(resources.url(ctx, cid, ...base, 'replicas'))
  out.reassignment = resources.related(resources.url(ctx, cid, ...base, 'reassignment'))
  return out
}

export function replicaData (ctx: Ctx, resources: Resources, cid: string, topic: string, p: PartitionInfo, broker: number): Record<string, unknown> {
  return {
    kind: 'KafkaReplica',
    metadata: {
      self: resources.url(ctx, cid, 'topics', topic, 'partitions', p.id, 'replicas', broker),
      resource_name: resources.crn(cid, ['topic', topic], ['partition', p.id], ['replica', broker])
    },
    cluster_id: cid,
    topic_name: topic,
    partition_id: p.id,
    broker_id: broker,
    is_leader: broker === p.leader,
    is_in_sync: p.isrs.includes(broker),
    broker: resources.related(resources.url(ctx, cid, 'brokers', broker))
  }
}

function reassignmentData (ctx: Ctx, resources: Resources, cid: string, r: PartitionReassignment): Record<string, unknown> {
  return {
    kind: 'KafkaReassignment',
    metadata: {
      self: resources.url(ctx, cid, 'topics', r.topic, 'partitions', r.partition, 'reassignment'),
      resource_name: `${resources.crn(cid, ['topic', r.topic], ['partition', r.partition])}/reassignment`
    },
    cluster_id: cid,
    topic_name: r.topic,
    partition_id: r.partition,
    adding_replicas: r.addingReplicas,
    removing_replicas: r.removingReplicas,
    replicas: resources.related(resources.url(ctx, cid, 'topics', r.topic, 'partitions', r.partition, 'replicas'))
  }
}

function byPartition (a: PartitionReassignment, b: PartitionReassignment): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition
}

const PARTITION_TAGS = ['Partition (v3)']
const DESCRIBE_TOPIC: Access = { operation: 'Describe', resource: 'topic' }
// ListPartitionReassignments is authorized as Describe on the cluster.
const DESCRIBE_CLUSTER: Access = { operation: 'Describe', resource: 'cluster' }

function lookup (path: string, summary: string, access: Access, description: string, schema: string): RouteSpec {
  return { method: 'GET', path, summary, tags: PARTITION_TAGS, access: [access], produces: JSON_MEDIA, responses: { 200: { description, schema: ref(schema) } }, errors: V3_READ_ERRORS }
}

export const V3_PARTITION_ROUTES = defineRoutes({
  listKafkaV3Partitions: lookup(PARTITIONS, 'List Partitions', DESCRIBE_TOPIC, 'The partitions.', 'PartitionDataList'),
  getKafkaV3Partition: lookup(PARTITION, 'Get Partition', DESCRIBE_TOPIC, 'The partition.', 'PartitionData'),
  getKafkaV3PartitionOffsets: {
    ...lookup(`${PARTITION}/offset`, 'Get Partition with its earliest and latest offsets', DESCRIBE_TOPIC, 'The partition and its offsets.', 'PartitionWithOffsetsData'),
    query: [queryParam('offset_type', 'Only `earliest_and_latest` (the default).', { type: 'string', 'x-extensible-enum': ['earliest_and_latest'] })]
  },
  listKafkaV3AllReplicaReassignments: lookup('/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment', 'List All Replica Reassignments', DESCRIBE_CLUSTER, 'Ongoing reassignments.', 'ReassignmentDataList'),
  searchKafkaV3ReplicaReassignmentsByTopic: lookup(`${PARTITIONS}/-/reassignment`, 'Search Replica Reassignments By Topic', DESCRIBE_CLUSTER, 'Ongoing reassignments of the topic.', 'ReassignmentDataList'),
  getKafkaV3ReplicaReassignment: lookup(`${PARTITION}/reassignment`, 'Get Replica Reassignment', DESCRIBE_CLUSTER, 'The partition\'s reassignment.', 'ReassignmentData'),
  listKafkaV3Replicas: lookup(`${PARTITION}/replicas`, 'List Replicas', DESCRIBE_TOPIC, 'The replicas.', 'ReplicaDataList'),
  getKafkaV3Replica: lookup(`${PARTITION}/replicas/{broker_id}`, 'Get Replica', DESCRIBE_TOPIC, 'The replica.', 'ReplicaData')
})

export interface V3PartitionDeps {
  resources: Resources
  metadata: ClusterMetadata
  admin: KafkaAdmin
  producer: KafkaProducer
  /** kafka.request_timeout_ms: bounds the watermark lookup. */
  requestTimeoutMs: number
}

export function v3PartitionHandlers (deps: V3PartitionDeps): Handlers<typeof V3_PARTITION_ROUTES> {
  const { resources, metadata, admin, producer } = deps
  const timeoutMs = deps.requestTimeoutMs

  async function reassignments (partitions: Array<{ topic: string, partitions: number[] }> | null): Promise<PartitionReassignment[]> {
    try {
      return (await admin.listPartitionReassignments(partitions)).sort(byPartition)
    } catch (err) {
      throw adminError(err)
    }
  }

  return {
    async listKafkaV3Partitions (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      const data = topic.partitions.map((p) => partitionData(ctx, resources, cid, topic.name, p))
      return json(200, resources.list('KafkaPartitionList', resources.url(ctx, cid, 'topics', topic.name, 'partitions'), data))
    },
    async getKafkaV3Partition (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      return json(200, partitionData(ctx, resources, cid, topic.name, resolvePartition(ctx, topic)))
    },
    async getKafkaV3PartitionOffsets (ctx) {
      const cid = await resources.cluster(ctx)
      const type = enumParam(new URLSearchParams(ctx.query).get('offset_type'), OFFSET_TYPES, 'offset_type', 'EARLIEST_AND_LATEST')
      const topic = await resolveTopic(ctx, metadata)
      const p = resolvePartition(ctx, topic)
      const w = await producer.watermarks(topic.name, p.id, timeoutMs)
      return json(200, {
        kind: 'KafkaPartitionWithOffsets',
        metadata: {
          self: resources.url(ctx, cid, 'topics', topic.name, 'partitions', p.id, 'offset'),
          resource_name: resources.crn(cid, ['topic', topic.name], ['partition', p.id], ['offset_type', type.toLowerCase()])
        },
        cluster_id: cid,
        topic_name: topic.name,
        partition_id: p.id,
        earliest_offset: w.low,
        latest_offset: w.high
      })
    },
    async listKafkaV3Replicas (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      const p = resolvePartition(ctx, topic)
      const data = p.replicas.map((b) => replicaData(ctx, resources, cid, topic.name, p, b))
      return json(200, resources.list('KafkaReplicaList', resources.url(ctx, cid, 'topics', topic.name, 'partitions', p.id, 'replicas'), data))
    },
    async getKafkaV3Replica (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      const p = resolvePartition(ctx, topic)
      const raw = ctx.params.broker_id as string
      const broker = /^\d{1,10}$/.test(raw) ? Number(raw) : -1
      if (!p.replicas.includes(broker)) {
        throw new ProxyError('notFound', `Replica ${raw} of partition ${p.id} of topic ${topic.name} cannot be found.`)
      }
      return json(200, replicaData(ctx, resources, cid, topic.name, p, broker))
    },
    async getKafkaV3ReplicaReassignment (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      const p = resolvePartition(ctx, topic)
      const found = (await reassignments([{ topic: topic.name, partitions: [p.id] }]))
        .find((r) => r.topic === topic.name && r.partition === p.id)
      // Confluent answers 404 when the partition is not being reassigned.
      if (found === undefined) throw new ProxyError('notFound', `No ongoing reassignment of partition ${p.id} of topic ${topic.name}.`)
      return json(200, reassignmentData(ctx, resources, cid, found))
    },
    async searchKafkaV3ReplicaReassignmentsByTopic (ctx) {
      const cid = await resources.cluster(ctx)
      const topic = await resolveTopic(ctx, metadata)
      const data = (await reassignments([{ topic: topic.name, partitions: topic.partitions.map((p) => p.id) }]))
        .filter((r) => r.topic === topic.name)
        .map((r) => reassignmentData(ctx, resources, cid, r))
      return json(200, resources.list('KafkaReassignmentList', resources.url(ctx, cid, 'topics', topic.name, 'partitions', '-', 'reassignment'), data))
    },
    async listKafkaV3AllReplicaReassignments (ctx) {
      const cid = await resources.cluster(ctx)
      const data = (await reassignments(null)).map((r) => reassignmentData(ctx, resources, cid, r))
      return json(200, resources.list('KafkaReassignmentList', resources.url(ctx, cid, 'topics', '-', 'partitions', '-', 'reassignment'), data))
    }
  }
}
