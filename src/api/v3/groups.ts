// v3 consumer groups: the groups, their members and assignments, per-partition
// lags and the lag summary (spec §2.2), read with the binding's AdminClient
// (one per process, built by the server).
//
// A lag exists for each partition the group has a committed offset on:
// current_offset is that offset, log_end_offset the partition's last stable
// offset (ListOffsets, READ_COMMITTED), and the member is whoever the group's
// current assignment gives the partition to ("" when nobody holds it).
import { ProxyError } from '../../errors.js'
import type { Ctx, Handler } from '../../http/handler.js'
import { defineRoutes, type Access, type Handlers, type RouteSpec } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import { partitionKey, type ConsumerGroups, type GroupInfo, type GroupMember } from '../../kafka/groups.js'
import { intParam, json, type Related, type Resources } from './resource.js'
import { JSON_MEDIA, ref, V3_READ_ERRORS } from '../components.js'

export interface ConsumerGroupData {
  kind: 'KafkaConsumerGroup'
  metadata: { self: string, resource_name: string }
  cluster_id: string
  consumer_group_id: string
  is_simple: boolean
  partition_assignor: string
  state: string
  type: string
  is_mixed_consumer_group: boolean
  coordinator: Related
  consumers: Related
  lag_summary: Related
}

export interface ConsumerData {
  kind: 'KafkaConsumer'
  metadata: { self: string, resource_name: string }
  cluster_id: string
  consumer_group_id: string
  consumer_id: string
  instance_id: string | null
  client_id: string
  assignments: Related
}

export interface ConsumerAssignmentData {
  kind: 'KafkaConsumerAssignment'
  metadata: { self: string, resource_name: string }
  cluster_id: string
  consumer_group_id: string
  consumer_id: string
  topic_name: string
  partition_id: number
  partition: Related
  lag: Related
}

export interface ConsumerLagData {
  kind: 'KafkaConsumerLag'
  metadata: { self: string, resource_name: string }
  cluster_id: string
  consumer_group_id: string
  topic_name: string
  partition_id: number
  current_offset: number
  log_end_offset: number
  lag: number
  consumer_id: string
  instance_id: string | null
  client_id: string
}

/** One partition's lag before it is rendered. */
export interface Lag {
  topic: string
  partition: number
  currentOffset: number
  logEndOffset: number
  lag: number
  member: GroupMember | null
}

/** What the lag summary reports: the partition with the largest lag and the sum. */
export interface LagSummary {
  max: Lag
  total: number
}

/**
 * Lags of the partitions with both a committed and a log-end offset. Lag is
 * never negative: a committed offset beyond the last stable offset (records
 * of an open transaction) counts as caught up.
 */
export function computeLags (group: GroupInfo, committed: Array<{ topic: string, partition: number, offset: number }>, logEnd: Map<string, number>): Lag[] {
  const holder = new Map<string, GroupMember>()
  for (const m of group.members) {
    for (const a of m.assignments) holder.set(partitionKey(a.topic, a.partition), m)
  }
  const out: Lag[] = []
  for (const c of committed) {
    const key = partitionKey(c.topic, c.partition)
    const end = logEnd.get(key)
    if (end === undefined) continue
    out.push({
      topic: c.topic,
      partition: c.partition,
      currentOffset: c.offset,
      logEndOffset: end,
      lag: Math.max(0, end - c.offset),
      member: holder.get(key) ?? null
    })
  }
  return out
}

/** Largest lag first, then by topic and partition (Confluent's list order). */
export function sortLags (lags: Lag[]): Lag[] {
  return [...lags].sort((a, b) => b.lag - a.lag || compareStrings(a.topic, b.topic) || a.partition - b.partition)
}

/**
 * The maximum lag (ties go to the first partition by topic and partition id)
 * and the total; null without any lag.
 */
export function summarize (lags: Lag[]): LagSummary | null {
  let max: Lag | null = null
  let total = 0
  const ordered = [...lags].sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition)
  for (const l of ordered) {
    if (max === null || l.lag > max.lag) max = l
    total += l.lag
  }
  return max === null ? null : { max, total }
}

function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

const GROUP_TAGS = ['Consumer Group (v3)']
const GROUPS = '/v3/clusters/{cluster_id}/consumer-groups'
const CONSUMER = `${GROUPS}/{group}/consumers/{consumer}`
const DESCRIBE_GROUP: Access = { operation: 'Describe', resource: 'group' }
// Lags also read the committed offsets (OffsetFetch) and log ends (ListOffsets) of topics.
const DESCRIBE_TOPIC: Access = { operation: 'Describe', resource: 'topic' }

function lookup (path: string, summary: string, description: string, schema: string, access: Access[] = [DESCRIBE_GROUP]): RouteSpec {
  return { method: 'GET', path, summary, tags: GROUP_TAGS, access, produces: JSON_MEDIA, responses: { 200: { description, schema: ref(schema) } }, errors: V3_READ_ERRORS }
}

export const GROUP_ROUTES = defineRoutes({
  listKafkaV3ConsumerGroups: lookup(GROUPS, 'List Consumer Groups', 'The groups.', 'ConsumerGroupDataList'),
  getKafkaV3ConsumerGroup: lookup(`${GROUPS}/{group}`, 'Get Consumer Group', 'The group.', 'ConsumerGroupData'),
  listKafkaV3Consumers: lookup(`${GROUPS}/{group}/consumers`, 'List Consumers', 'The group\'s members.', 'ConsumerDataList'),
  getKafkaV3Consumer: lookup(CONSUMER, 'Get Consumer', 'The member.', 'ConsumerData'),
  listKafkaV3ConsumerAssignment: lookup(`${CONSUMER}/assignments`, 'List Consumer Assignments', 'The member\'s partitions.', 'ConsumerAssignmentDataList'),
  getKafkaV3ConsumerAssignment: lookup(`${CONSUMER}/assignments/{topic}/partitions/{partition}`, 'Get Consumer Assignment', 'The assignment.', 'ConsumerAssignmentData'),
  listKafkaV3ConsumerLags: lookup(`${GROUPS}/{group}/lags`, 'List Consumer Lags', 'Lag per assigned partition.', 'ConsumerLagDataList', [DESCRIBE_GROUP, DESCRIBE_TOPIC]),
  getKafkaV3ConsumerLag: lookup(`${GROUPS}/{group}/lags/{topic}/partitions/{partition}`, 'Get Consumer Lag', 'The lag.', 'ConsumerLagData', [DESCRIBE_GROUP, DESCRIBE_TOPIC]),
  getKafkaV3ConsumerGroupLagSummary: lookup(`${GROUPS}/{group}/lag-summary`, 'Get Consumer Group Lag Summary', 'Max and total lag.', 'ConsumerGroupLagSummaryData', [DESCRIBE_GROUP, DESCRIBE_TOPIC])
})

export function groupHandlers (deps: { resources: Resources, groups: ConsumerGroups }): Handlers<typeof GROUP_ROUTES> {
  const { resources: res, groups } = deps

  /** Maps whatever a handler throws to the proxy's errors, Kafka errors included. */
  function handle (fn: (ctx: Ctx) => Promise<ReturnType<typeof json>>): Handler {
    return async (ctx) => {
      try {
        return await fn(ctx)
      } catch (err) {
        throw adminError(err)
      }
    }
  }

  async function group (id: string): Promise<GroupInfo> {
    const [g] = await groups.describe([id])
    if (g === null || g === undefined) throw new ProxyError('notFound', `Consumer Group ${id} could not be found.`)
    return g
  }

  function member (g: GroupInfo, id: string): GroupMember {
    const m = g.members.find((x) => x.consumerId === id)
    if (m === undefined) throw new ProxyError('notFound', `Consumer ${id} could not be found in consumer group ${g.groupId}.`)
    return m
  }

  async function lagsOf (g: GroupInfo): Promise<Lag[]> {
    const committed = await groups.committed(g.groupId)
    const logEnd = await groups.logEndOffsets(committed)
    return computeLags(g, committed, logEnd)
  }

  function groupData (ctx: Ctx, cid: string, g: GroupInfo): ConsumerGroupData {
    return {
      kind: 'KafkaConsumerGroup',
      metadata: {
        self: res.url(ctx, cid, 'consumer-groups', g.groupId),
        resource_name: res.crn(cid, ['consumer-group', g.groupId])
      },
      cluster_id: cid,
      consumer_group_id: g.groupId,
      is_simple: g.isSimple,
      partition_assignor: g.partitionAssignor,
      state: g.state,
      type: g.type,
      // Classic members inside a KIP-848 group; DescribeGroups through the
      // binding does not say which protocol each member speaks.
      is_mixed_consumer_group: false,
      coordinator: res.related(res.url(ctx, cid, 'brokers', g.coordinatorId)),
      consumers: res.related(res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers')),
      lag_summary: res.related(res.url(ctx, cid, 'consumer-groups', g.groupId, 'lag-summary'))
    }
  }

  function consumerData (ctx: Ctx, cid: string, g: GroupInfo, m: GroupMember): ConsumerData {
    return {
      kind: 'KafkaConsumer',
      metadata: {
        self: res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers', m.consumerId),
        resource_name: res.crn(cid, ['consumer-group', g.groupId], ['consumer', m.consumerId])
      },
      cluster_id: cid,
      consumer_group_id: g.groupId,
      consumer_id: m.consumerId,
      instance_id: m.instanceId,
      client_id: m.clientId,
      assignments: res.related(res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers', m.consumerId, 'assignments'))
    }
  }

  function assignmentData (ctx: Ctx, cid: string, g: GroupInfo, m: GroupMember, topic: string, partition: number): ConsumerAssignmentData {
    return {
      kind: 'KafkaConsumerAssignment',
      metadata: {
        self: res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers', m.consumerId, 'assignments', topic, 'partitions', partition),
        resource_name: res.crn(cid, ['consumer-group', g.groupId], ['consumer', m.consumerId], ['assignment', topic], ['partition', partition])
      },
      cluster_id: cid,
      consumer_group_id: g.groupId,
      consumer_id: m.consumerId,
      topic_name: topic,
      partition_id: partition,
      partition: res.related(res.url(ctx, cid, 'topics', topic, 'partitions', partition)),
      lag: res.related(res.url(ctx, cid, 'consumer-groups', g.groupId, 'lags', topic, 'partitions', partition))
    }
  }

  function lagData (ctx: Ctx, cid: string, g: GroupInfo, l: Lag): ConsumerLagData {
    return {
      kind: 'KafkaConsumerLag',
      metadata: {
        self: res.url(ctx, cid, 'consumer-groups', g.groupId, 'lags', l.topic, 'partitions', l.partition),
        resource_name: res.crn(cid, ['consumer-group', g.groupId], ['lag', l.topic], ['partition', l.partition])
      },
      cluster_id: cid,
      consumer_group_id: g.groupId,
      topic_name: l.topic,
      partition_id: l.partition,
      current_offset: l.currentOffset,
      log_end_offset: l.logEndOffset,
      lag: l.lag,
      consumer_id: l.member?.consumerId ?? '',
      instance_id: l.member?.instanceId ?? null,
      client_id: l.member?.clientId ?? ''
    }
  }

  const listGroups = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const ids = await groups.list()
    const described = await groups.describe(ids, { skipUnauthorized: true })
    const data = described
      .filter((g): g is GroupInfo => g !== null && ctx.security?.allows('describe', 'group', g.groupId) !== false)
      .sort((a, b) => compareStrings(a.groupId, b.groupId))
      .map((g) => groupData(ctx, cid, g))
    return json(200, res.list('KafkaConsumerGroupList', res.url(ctx, cid, 'consumer-groups'), data))
  })

  const getGroup = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    return json(200, groupData(ctx, cid, await group(ctx.params.group as string)))
  })

  const listConsumers = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const g = await group(ctx.params.group as string)
    const data = [...g.members]
      .sort((a, b) => compareStrings(a.consumerId, b.consumerId))
      .map((m) => consumerData(ctx, cid, g, m))
    return json(200, res.list('KafkaConsumerList', res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers'), data))
  })

  const getConsumer = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const g = await group(ctx.params.group as string)
    return json(200, consumerData(ctx, cid, g, member(g, ctx.params.consumer as string)))
  })

  const listAssignments = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const g = await group(ctx.params.group as string)
    const m = member(g, ctx.params.consumer as string)
    const data = [...m.assignments]
      .sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition)
      .map((a) => assignmentData(ctx, cid, g, m, a.topic, a.partition))
    return json(200, res.list('KafkaConsumerAssignmentList', res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers', m.consumerId, 'assignments'), data))
  })

  const getAssignment = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const partition = intParam(ctx, 'partition')
    const topic = ctx.params.topic as string
    const g = await group(ctx.params.group as string)
    const m = member(g, ctx.params.consumer as string)
    if (!m.assignments.some((a) => a.topic === topic && a.partition === partition)) {
      throw new ProxyError('notFound', `Partition ${partition} of topic ${topic} is not assigned to consumer ${m.consumerId}.`)
    }
    return json(200, assignmentData(ctx, cid, g, m, topic, partition))
  })

  const listLags = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const g = await group(ctx.params.group as string)
    const lags = await lagsOf(g)
    if (lags.length === 0) throw new ProxyError('notFound', 'Consumer lags not found.')
    const data = sortLags(lags).map((l) => lagData(ctx, cid, g, l))
    return json(200, res.list('KafkaConsumerLagList', res.url(ctx, cid, 'consumer-groups', g.groupId, 'lags'), data))
  })

  const getLag = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const partition = intParam(ctx, 'partition')
    const topic = ctx.params.topic as string
    const g = await group(ctx.params.group as string)
    const lag = (await lagsOf(g)).find((l) => l.topic === topic && l.partition === partition)
    if (lag === undefined) throw new ProxyError('notFound', `Consumer lag of partition ${partition} of topic ${topic} not found.`)
    return json(200, lagData(ctx, cid, g, lag))
  })

  const getLagSummary = handle(async (ctx) => {
    const cid = await res.cluster(ctx)
    const g = await group(ctx.params.group as string)
    const summary = summarize(await lagsOf(g))
    if (summary === null) throw new ProxyError('notFound', 'Consumer group offsets could not be found.')
    const { max, total } = summary
    const consumerId = max.member?.consumerId ?? ''
    return json(200, {
      kind: 'KafkaConsumerGroupLagSummary',
      metadata: {
        self: res.url(ctx, cid, 'consumer-groups', g.groupId, 'lag-summary'),
        resource_name: `${res.crn(cid, ['consumer-group', g.groupId])}/lag-summary`
      },
      cluster_id: cid,
      consumer_group_id: g.groupId,
      max_lag_consumer_id: consumerId,
      max_lag_instance_id: max.member?.instanceId ?? null,
      max_lag_client_id: max.member?.clientId ?? '',
      max_lag_topic_name: max.topic,
      max_lag_partition_id: max.partition,
      max_lag: max.lag,
      total_lag: total,
      max_lag_consumer: res.related(res.url(ctx, cid, 'consumer-groups', g.groupId, 'consumers', consumerId)),
      max_lag_partition: res.related(res.url(ctx, cid, 'topics', max.topic, 'partitions', max.partition))
    })
  })

  return {
    listKafkaV3ConsumerGroups: listGroups,
    getKafkaV3ConsumerGroup: getGroup,
    listKafkaV3Consumers: listConsumers,
    getKafkaV3Consumer: getConsumer,
    listKafkaV3ConsumerAssignment: listAssignments,
    getKafkaV3ConsumerAssignment: getAssignment,
    listKafkaV3ConsumerLags: listLags,
    getKafkaV3ConsumerLag: getLag,
    getKafkaV3ConsumerGroupLagSummary: getLagSummary
  }
}
