// Consumer-group admin calls over the librdkafka binding's AdminClient:
// ListGroups, DescribeGroups, OffsetFetch (committed offsets) and ListOffsets
// (log-end offsets). One client, created on first use and closed with close().
// Every method rejects with the binding's error (numeric `code`), which
// kafka/errors.ts `adminError` maps.
import { createRequire } from 'node:module'
import type {
  DeleteGroupsResult,
  GroupDescription,
  GroupOverview,
  GroupResults,
  IAdminClient,
  ListOffsetsResult,
  OffsetSpec
} from '@confluentinc/kafka-javascript'
import { AdminClient } from './binding.js'
import { KAFKA, RD } from './errors.js'
import type { ClientProperties } from './options.js'

// The binding's enum objects (name -> number) exist at runtime only; its type
// declarations do not put them on the default export.
const binding = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as {
  ConsumerGroupStates: Readonly<Record<string, number>>
  ConsumerGroupTypes: Readonly<Record<string, number>>
  OffsetSpec: { LATEST: OffsetSpec, EARLIEST: OffsetSpec, new (timestamp: number): OffsetSpec }
  IsolationLevel: { READ_COMMITTED: number }
}

/** Group states as the v3 API names them (Java's GroupState names). */
export type GroupState =
  | 'UNKNOWN' | 'PREPARING_REBALANCE' | 'COMPLETING_REBALANCE' | 'ASSIGNING' | 'RECONCILING'
  | 'STABLE' | 'DEAD' | 'EMPTY'
export type GroupType = 'UNKNOWN' | 'CLASSIC' | 'CONSUMER' | 'SHARE'

const STATES: readonly GroupState[] = ['UNKNOWN', 'PREPARING_REBALANCE', 'COMPLETING_REBALANCE', 'ASSIGNING', 'RECONCILING', 'STABLE', 'DEAD', 'EMPTY']
const TYPES: readonly GroupType[] = ['UNKNOWN', 'CLASSIC', 'CONSUMER', 'SHARE']

function invert<T extends string> (table: Readonly<Record<string, number>>, known: readonly T[]): Map<number, T> {
  const out = new Map<number, T>()
  for (const [name, value] of Object.entries(table)) {
    const k = known.find((x) => x === name)
    if (k !== undefined) out.set(value, k)
  }
  return out
}
const STATE_NAMES = invert(binding.ConsumerGroupStates, STATES)
const TYPE_NAMES = invert(binding.ConsumerGroupTypes, TYPES)

export interface TopicPartitionRef {
  topic: string
  partition: number
}

export interface GroupMember {
  /** The member id the coordinator assigned. */
  consumerId: string
  /** group.instance.id (KIP-345 static membership); null when dynamic. */
  instanceId: string | null
  clientId: string
  clientHost: string
  assignments: TopicPartitionRef[]
}

export interface GroupInfo {
  groupId: string
  isSimple: boolean
  partitionAssignor: string
  state: GroupState
  type: GroupType
  /** Broker id of the group coordinator. */
  coordinatorId: number
  members: GroupMember[]
}

export interface CommittedOffset extends TopicPartitionRef {
  offset: number
}

export interface ConsumerGroupsOptions {
  /** From options.ts adminProperties(). */
  properties: ClientProperties
  /** Bound of each admin call (kafka.request_timeout_ms). */
  timeoutMs: number
}

export class ConsumerGroups {
  private client: IAdminClient | null = null

  constructor (private readonly opts: ConsumerGroupsOptions) {}

  private admin (): IAdminClient {
    this.client ??= AdminClient.create(this.opts.properties)
    return this.client
  }

  /** Ids of the groups using the consumer protocol (and simple groups that only commit offsets). */
  async list (): Promise<string[]> {
    // Java's Admin.listConsumerGroups keeps protocol type "consumer" and ""
    // (groups with committed offsets and no members); connect and share
    // groups use other protocol types.
    return (await this.listed())
      .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
      .map((g) => g.groupId)
  }

  /** Every group the coordinators have loaded (ListGroups asks every broker). */
  private listed (): Promise<GroupOverview[]> {
    return new Promise<{ groups: GroupOverview[] }>((resolve, reject) => {
      this.admin().listGroups({ timeout: this.opts.timeoutMs }, (err, r) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve(r)
      })
    }).then((r) => r.groups)
  }

  /**
   * One entry per requested id, in order; null for a group that does not
   * exist. DescribeGroups answers an unknown id with a placeholder in state
   * DEAD, marked simple, which is what "not found" looks like here.
   * `skipUnauthorized` also gives null for groups the principal may not
   * describe (a listing leaves them out, as Confluent's does).
   */
  async describe (ids: string[], opts: { skipUnauthorized?: boolean } = {}): Promise<Array<GroupInfo | null>> {
    // librdkafka takes group ids as C strings: the binding's DescribeGroups
    // crashes the process (SIGSEGV) on "" (which "\0…" also becomes), and
    // "a\0b" would describe group "a". No such id names a group here.
    //
    // And only groups a coordinator lists are described: the binding turns a
    // group described with an error into an object and reads its assignor
    // name, which librdkafka leaves NULL when the group's coordinator is not
    // available or still loading, and strlen(NULL) ended the process
    // (SIGSEGV: the first describes on a fresh cluster, before
    // __consumer_offsets was loaded, found by test/faults/fuzz.test.ts).
    // A group its coordinator lists is loaded there; one nobody lists does
    // not exist. A coordinator lost between the two requests is not covered.
    const listed = new Set((await this.listed()).map((g) => g.groupId))
    const asked = ids.filter((id) => id !== '' && !id.includes('\0') && listed.has(id))
    if (asked.length === 0) return ids.map(() => null)
    const result = await new Promise<{ groups: GroupDescription[] }>((resolve, reject) => {
      this.admin().describeGroups(asked, { timeout: this.opts.timeoutMs }, (err, r) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve(r)
      })
    })
    const byId = new Map(result.groups.map((g) => [g.groupId, g]))
    return ids.map((id) => {
      const g = byId.get(id)
      if (g === undefined) return null
      if (g.error !== undefined && g.error !== null) {
        // GROUP_ID_NOT_FOUND: the KIP-848 describe path's answer for an unknown group.
        if (g.error.code === KAFKA.GROUP_ID_NOT_FOUND) return null
        if (g.error.code === KAFKA.GROUP_AUTHORIZATION_FAILED && opts.skipUnauthorized === true) return null
        throw g.error
      }
      const state = STATE_NAMES.get(g.state) ?? 'UNKNOWN'
      if (g.isSimpleConsumerGroup && state === 'DEAD') return null
      return toGroupInfo(g, state)
    })
  }

  /** Committed offsets of a group; partitions without a committed offset are left out. */
  async committed (groupId: string): Promise<CommittedOffset[]> {
    const result = await new Promise<GroupResults[]>((resolve, reject) => {
      this.admin().listConsumerGroupOffsets([{ groupId }], { timeout: this.opts.timeoutMs }, (err, r) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve(r)
      })
    })
    const group = result.find((g) => g.groupId === groupId)
    if (group === undefined) return []
    if (group.error !== undefined && group.error !== null) throw group.error
    const out: CommittedOffset[] = []
    for (const p of group.partitions) {
      if (p.error !== undefined && p.error !== null) throw p.error
      if (p.offset >= 0) out.push({ topic: p.topic, partition: p.partition, offset: p.offset })
    }
    return out
  }

  /**
   * Log-end offsets, read with READ_COMMITTED isolation (the last stable
   * offset), as Confluent's lag computation does. Keyed `${topic}\0${partition}`
   * (see partitionKey); partitions whose offset could not be read are absent.
   */
  async logEndOffsets (partitions: TopicPartitionRef[]): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (partitions.length === 0) return out
    const result = await this.listOffsets(partitions, binding.OffsetSpec.LATEST, binding.IsolationLevel.READ_COMMITTED)
    for (const r of result) {
      if ((r.error === undefined || r.error === null) && r.offset >= 0) out.set(partitionKey(r.topic, r.partition), r.offset)
    }
    return out
  }

  /**
   * The offset of each partition at its start, its end (the high watermark),
   * or the first record at or after a timestamp (the end where there is
   * none), as ListOffsets answers; keyed as logEndOffsets.
   */
  async offsetsAt (partitions: TopicPartitionRef[], at: 'earliest' | 'latest' | { timestamp: number }): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    if (partitions.length === 0) return out
    const spec = at === 'earliest' ? binding.OffsetSpec.EARLIEST : at === 'latest' ? binding.OffsetSpec.LATEST : new binding.OffsetSpec(at.timestamp)
    const result = await this.listOffsets(partitions, spec)
    for (const r of result) {
      if (r.error !== undefined && r.error !== null) throw r.error
      out.set(partitionKey(r.topic, r.partition), r.offset)
    }
    return out
  }

  /**
   * ListOffsets. librdkafka finds the partitions' leaders in the admin
   * client's metadata cache, which learns of partitions added since it was
   * filled only when asked: a partition it does not know answers
   * UNKNOWN_PARTITION, so the topics are described (which refreshes the
   * cache) and the call made once more.
   */
  private async listOffsets (partitions: TopicPartitionRef[], spec: OffsetSpec, isolationLevel?: number): Promise<ListOffsetsResult[]> {
    const call = (): Promise<ListOffsetsResult[]> => new Promise((resolve, reject) => {
      const options = isolationLevel === undefined ? { timeout: this.opts.timeoutMs } : { timeout: this.opts.timeoutMs, isolationLevel }
      this.admin().listOffsets(partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: spec })), options, (err, r) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve(r)
      })
    })
    const first = await call()
    const stale = [...new Set(first.filter((r) => r.error?.code === RD.UNKNOWN_PARTITION).map((r) => r.topic))]
    if (stale.length === 0) return first
    await new Promise<void>((resolve) => {
      this.admin().describeTopics(stale, { timeout: this.opts.timeoutMs }, () => resolve())
    })
    return await call()
  }

  /** Deletes a group without members (DeleteGroups); rejects with the group's error (NON_EMPTY_GROUP while it has members). */
  async deleteGroup (groupId: string): Promise<void> {
    const reports = await new Promise<DeleteGroupsResult[]>((resolve, reject) => {
      this.admin().deleteGroups([groupId], { timeout: this.opts.timeoutMs }, (err, r) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve(r)
      })
    })
    const report = reports.find((r) => r.groupId === groupId)
    if (report?.error !== undefined && report.error !== null) throw report.error
  }

  async close (): Promise<void> {
    const c = this.client
    this.client = null
    c?.disconnect()
  }
}

export function partitionKey (topic: string, partition: number): string {
  return `${topic}\0${partition}`
}

function toGroupInfo (g: GroupDescription, state: GroupState): GroupInfo {
  return {
    groupId: g.groupId,
    isSimple: g.isSimpleConsumerGroup,
    partitionAssignor: g.partitionAssignor ?? '',
    state,
    type: TYPE_NAMES.get(g.type) ?? 'UNKNOWN',
    coordinatorId: g.coordinator?.id ?? -1,
    members: g.members.map((m) => ({
      consumerId: m.memberId,
      instanceId: m.groupInstanceId === undefined || m.groupInstanceId === null || m.groupInstanceId === '' ? null : m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignments: (m.assignment?.topicPartitions ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition }))
    }))
  }
}
