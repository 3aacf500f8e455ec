// The ProtocolAdmin over the Kafka wire protocol: one lazily opened
// connection per broker address, brokers learnt from DescribeCluster, and
// every call bounded by requestTimeoutMs, connecting included.
import type { Logger } from '../../logger.js'
import type {
  AclBinding, AclFilter, AclOperation, AclPatternType, AclPermission, AclResourceType, AlterConfigOperation,
  ClusterDescription, ConfigEntry, ConfigResource, ConfigResourceType, ConfigSource, CreatedTopic,
  NewTopic, PartitionReassignment, ProtocolAdmin
} from './admin.js'
import { KafkaProtocolError } from './admin.js'
import {
  CreateAcls, CreatePartitions, CreateTopics, DeleteAcls, DeleteTopics, DescribeAcls, DescribeCluster, DescribeConfigs,
  IncrementalAlterConfigs, ListPartitionReassignments, type ApiSpec, type WireAcl, type WireCluster, type WireConfigResult,
  type WireResourceResult, type WireTopicResult
} from './apis.js'
import { BrokerConnection } from './connection.js'
import { ERR, KafkaTransportError, protocolError, timeoutError, transportError } from './error-codes.js'
import { RD } from '../errors.js'
import { parseSecurity, parseServers, type Address, type Security } from './security.js'

export interface ProtocolClientOptions {
  /** Comma-separated host:port list (kafka.bootstrap_servers). */
  bootstrapServers: string
  /** client.id sent with every request. */
  clientId: string
  /** Bound of one admin call, connection included (kafka.request_timeout_ms). */
  requestTimeoutMs: number
  /**
   * The operator's librdkafka admin pass-through properties (kafka.admin);
   * the security ones (security.protocol, ssl.*, sasl.*) apply here too.
   */
  properties: Readonly<Record<string, string | number | boolean>>
  log: Logger
}

// Wire codes (org.apache.kafka.common.config.ConfigResource.Type and friends).
const RESOURCE_CODE: Record<ConfigResourceType, number> = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 }
const ALTER_OP_CODE: Record<AlterConfigOperation, number> = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 }
// DescribeConfigsResponse ConfigSource values (ConfigEntry.ConfigSource in the Java client).
const CONFIG_SOURCES: readonly ConfigSource[] = [
  'UNKNOWN', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG'
]
// org.apache.kafka.common.resource.ResourceType / PatternType,
// org.apache.kafka.common.acl.AclOperation / AclPermissionType: index = code.
const ACL_RESOURCE_TYPES: readonly AclResourceType[] = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN']
const ACL_PATTERN_TYPES: readonly AclPatternType[] = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED']
const ACL_OPERATIONS: readonly AclOperation[] = [
  'UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE',
  'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'
]
const ACL_PERMISSIONS: readonly AclPermission[] = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW']
const NOT_CONTROLLER = 41

export function configSource (code: number): ConfigSource {
  return CONFIG_SOURCES[code] ?? 'UNKNOWN'
}

function codeOf<T> (table: readonly T[], value: T): number {
  const i = table.indexOf(value)
  return i === -1 ? 0 : i
}

function nameOf<T extends string> (table: readonly T[], code: number): T {
  return table[code] ?? ('UNKNOWN' as T)
}

export function aclToWire (acl: AclBinding | AclFilter): WireAcl {
  return {
    resourceType: codeOf(ACL_RESOURCE_TYPES, acl.resourceType),
    resourceName: acl.resourceName,
    patternType: codeOf(ACL_PATTERN_TYPES, acl.patternType),
    principal: acl.principal,
    host: acl.host,
    operation: codeOf(ACL_OPERATIONS, acl.operation),
    permission: codeOf(ACL_PERMISSIONS, acl.permission)
  }
}

export function aclFromWire (acl: WireAcl): AclBinding {
  return {
    resourceType: nameOf(ACL_RESOURCE_TYPES, acl.resourceType),
    resourceName: acl.resourceName ?? '',
    patternType: nameOf(ACL_PATTERN_TYPES, acl.patternType),
    principal: acl.principal ?? '',
    host: acl.host ?? '',
    operation: nameOf(ACL_OPERATIONS, acl.operation),
    permission: nameOf(ACL_PERMISSIONS, acl.permission)
  }
}

function configEntries (result: WireConfigResult): ConfigEntry[] {
  return result.configs.map((c) => {
    const source = configSource(c.source)
    return {
      name: c.name,
      value: c.value,
      isDefault: source === 'DEFAULT_CONFIG',
      isReadOnly: c.readOnly,
      isSensitive: c.sensitive,
      source,
      synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: configSource(s.source) }))
    }
  })
}

/** Where a request goes: any broker, or one broker by id. */
type Target = 'any' | number

/** A BROKER or BROKER_LOGGER resource naming a broker id must go to that broker. */
export function configTarget (resource: ConfigResource): Target {
  if (resource.type !== 'TOPIC' && /^\d+$/.test(resource.name)) return Number(resource.name)
  return 'any'
}

function resultFor<T extends { resourceType: number, resourceName: string }> (results: T[], resource: ConfigResource, index: number): T | undefined {
  const code = RESOURCE_CODE[resource.type]
  return results.find((r) => r.resourceType === code && r.resourceName === resource.name) ?? results[index]
}

function topicResult (results: WireTopicResult[], name: string): void {
  const r = results.find((x) => x.name === name) ?? results[0]
  if (r === undefined) throw protocolError(ERR.UNKNOWN_SERVER_ERROR, `no result for topic ${name}`)
  if (r.errorCode !== 0) throw protocolError(r.errorCode, r.errorMessage)
}

interface Cluster {
  brokers: Map<number, Address>
  controllerId: number
}

export function createProtocolAdmin (opts: ProtocolClientOptions): ProtocolAdmin {
  const log = opts.log
  const bootstrap = parseServers(opts.bootstrapServers)
  let security: Security | null = null
  let problem: Error | null = null
  try {
    security = parseSecurity(opts.properties)
  } catch (err) {
    // A configuration the client cannot honour fails each call, never the process.
    problem = err as Error
    log.warn({ err }, 'admin protocol client disabled by its security settings')
  }
  if (bootstrap.length === 0 && problem === null) problem = new Error(`no usable bootstrap server in "${opts.bootstrapServers}"`)

  const opening = new Map<string, Promise<BrokerConnection>>()
  const ready = new Map<string, BrokerConnection>()
  let cluster: Cluster | null = null
  let refreshing: Promise<Cluster> | null = null
  let closed = false

  function connect (address: Address, sec: Security): Promise<BrokerConnection> {
    const key = `${address.host}:${address.port}`
    const existing = opening.get(key)
    if (existing !== undefined) return existing
    const p = BrokerConnection.open({
      ...address,
      clientId: opts.clientId,
      tls: sec.tls,
      sasl: sec.sasl,
      timeoutMs: opts.requestTimeoutMs,
      log
    }).then((conn) => {
      if (closed) {
        conn.close()
        throw transportError('admin client closed')
      }
      ready.set(key, conn)
      conn.onClose = () => {
        if (ready.get(key) === conn) ready.delete(key)
        if (opening.get(key) === p) opening.delete(key)
        cluster = null
      }
      return conn
    }, (err: unknown) => {
      if (opening.get(key) === p) opening.delete(key)
      cluster = null
      throw err
    })
    opening.set(key, p)
    return p
  }

  /** An open connection if there is one, else the bootstrap servers and known brokers in turn. */
  async function anyConnection (sec: Security): Promise<BrokerConnection> {
    for (const conn of ready.values()) if (!conn.closed) return conn
    const candidates = new Map<string, Address>()
    for (const a of bootstrap) candidates.set(`${a.host}:${a.port}`, a)
    for (const a of cluster?.brokers.values() ?? []) candidates.set(`${a.host}:${a.port}`, a)
    let last: unknown = transportError('no bootstrap server')
    for (const address of candidates.values()) {
      try {
        return await connect(address, sec)
      } catch (err) {
        // Only a broker that cannot be reached is skipped; an answered error (authentication) is final.
        if (!(err instanceof KafkaTransportError)) throw err
        last = err
        log.debug({ err, broker: address }, 'admin protocol connection failed')
      }
    }
    throw last
  }

  /** Caches the broker addresses of a DescribeCluster answer; rejects its error. */
  function remember (res: WireCluster): WireCluster {
    if (res.errorCode !== 0) throw protocolError(res.errorCode, res.errorMessage)
    cluster = {
      brokers: new Map(res.brokers.map((b) => [b.id, { host: b.host, port: b.port }])),
      controllerId: res.controllerId
    }
    return res
  }

  async function knownCluster (sec: Security, deadline: number, fresh: boolean): Promise<Cluster> {
    if (cluster !== null && !fresh) return cluster
    refreshing ??= anyConnection(sec)
      .then(async (conn) => remember(await conn.request(DescribeCluster, {}, deadline)))
      .then(() => cluster as Cluster)
      .finally(() => { refreshing = null })
    return await refreshing
  }

  async function connectionFor (target: Target, sec: Security, deadline: number): Promise<BrokerConnection> {
    if (target === 'any') return await anyConnection(sec)
    let c = await knownCluster(sec, deadline, false)
    if (!c.brokers.has(target)) c = await knownCluster(sec, deadline, true)
    const address = c.brokers.get(target)
    // The broker itself answers INVALID_REQUEST for another broker's id.
    if (address === undefined) throw protocolError(ERR.INVALID_REQUEST, `broker ${target} is not in the cluster`)
    return await connect(address, sec)
  }

  interface Ctx {
    deadline: number
    send: <Req, Res>(target: Target, spec: ApiSpec<Req, Res>, req: Req) => Promise<Res>
    refresh: () => Promise<Cluster>
  }

  /**
   * Runs one admin call under one deadline. Idempotent calls are retried
   * once after a lost connection, which covers a broker closing an idle
   * connection (connections.max.idle.ms) just as it is reused.
   */
  async function call<T> (idempotent: boolean, run: (ctx: Ctx) => Promise<T>): Promise<T> {
    if (problem !== null) throw problem
    if (closed) throw transportError('admin client closed')
    const sec = security as Security
    const deadline = Date.now() + opts.requestTimeoutMs
    const ctx: Ctx = {
      deadline,
      send: async (target, spec, req) => await (await connectionFor(target, sec, deadline)).request(spec, req, deadline),
      refresh: async () => await knownCluster(sec, deadline, true)
    }
    const attempt = async (): Promise<T> => {
      try {
        return await run(ctx)
      } catch (err) {
        if (!idempotent || !(err instanceof KafkaTransportError) || err.code !== RD.TRANSPORT || closed) throw err
        if (Date.now() >= deadline) throw err
        return await run(ctx)
      }
    }
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError(`admin request timed out after ${opts.requestTimeoutMs} ms`)), opts.requestTimeoutMs)
      timer.unref()
    })
    try {
      return await Promise.race([attempt(), expired])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Topic-changing requests go to any broker (KRaft brokers forward them,
   * KIP-590); a ZooKeeper-mode broker that is not the controller answers
   * NOT_CONTROLLER, and the request is repeated at the controller.
   */
  async function toController<Req, R extends { errorCode: number }> (ctx: Ctx, spec: ApiSpec<Req, R[]>, req: Req): Promise<R[]> {
    const results = await ctx.send('any', spec, req)
    if (!results.some((r) => r.errorCode === NOT_CONTROLLER)) return results
    const c = await ctx.refresh()
    if (c.controllerId < 0) return results
    return await ctx.send(c.controllerId, spec, req)
  }

  function remainingMs (ctx: Ctx): number {
    return Math.max(1, ctx.deadline - Date.now())
  }

  /** Groups resources by target broker: one request per broker, in parallel. */
  async function perBroker<In extends { resource: ConfigResource }, Out> (
    items: In[],
    send: (target: Target, group: In[]) => Promise<Out[]>
  ): Promise<Out[]> {
    const groups = new Map<Target, Array<{ item: In, index: number }>>()
    items.forEach((item, index) => {
      const target = configTarget(item.resource)
      let g = groups.get(target)
      if (g === undefined) groups.set(target, g = [])
      g.push({ item, index })
    })
    // Resources any broker can answer ride along with a broker-bound group.
    const anyGroup = groups.get('any')
    const bound = [...groups.keys()].find((k) => k !== 'any')
    if (anyGroup !== undefined && bound !== undefined) {
      groups.get(bound)?.push(...anyGroup)
      groups.delete('any')
    }
    const out: Out[] = new Array(items.length)
    await Promise.all([...groups].map(async ([target, group]) => {
      const results = await send(target, group.map((g) => g.item))
      group.forEach((g, i) => { out[g.index] = results[i] as Out })
    }))
    return out
  }

  type Described = { resource: ConfigResource, entries: ConfigEntry[] } | { resource: ConfigResource, error: KafkaProtocolError }

  function describeMany (resources: ConfigResource[]): Promise<Described[]> {
    return call(true, async (ctx) => await perBroker(resources.map((resource) => ({ resource })), async (target, group): Promise<Described[]> => {
      let results: WireConfigResult[]
      try {
        results = await ctx.send(target, DescribeConfigs, {
          resources: group.map(({ resource }) => ({ type: RESOURCE_CODE[resource.type], name: resource.name }))
        })
      } catch (err) {
        // A broker's answered refusal belongs to its resources; a transport failure fails the call.
        if (!(err instanceof KafkaProtocolError)) throw err
        return group.map(({ resource }) => ({ resource, error: err }))
      }
      return group.map(({ resource }, i) => {
        const r = resultFor(results, resource, i)
        if (r === undefined) return { resource, error: protocolError(ERR.UNKNOWN_SERVER_ERROR, `no result for ${resource.type} ${resource.name}`) }
        if (r.errorCode !== 0) return { resource, error: protocolError(r.errorCode, r.errorMessage) }
        return { resource, entries: configEntries(r) }
      })
    }))
  }

  function alterMany (changes: Array<{ resource: ConfigResource, ops: Array<{ name: string, operation: AlterConfigOperation, value: string | null }> }>, validateOnly: boolean): Promise<Array<{ resource: ConfigResource, error: KafkaProtocolError | null }>> {
    // IncrementalAlterConfigs is not idempotent for APPEND/SUBTRACT: no retry.
    return call(false, async (ctx) => await perBroker(changes, async (target, group) => {
      let results: WireResourceResult[]
      try {
        results = await ctx.send(target, IncrementalAlterConfigs, {
          resources: group.map(({ resource, ops }) => ({
            type: RESOURCE_CODE[resource.type],
            name: resource.name,
            configs: ops.map((op) => ({ name: op.name, op: ALTER_OP_CODE[op.operation], value: op.operation === 'DELETE' ? null : op.value }))
          })),
          validateOnly
        })
      } catch (err) {
        if (!(err instanceof KafkaProtocolError)) throw err
        return group.map(({ resource }) => ({ resource, error: err }))
      }
      return group.map(({ resource }, i) => {
        const r = resultFor(results, resource, i)
        if (r === undefined) return { resource, error: protocolError(ERR.UNKNOWN_SERVER_ERROR, `no result for ${resource.type} ${resource.name}`) }
        return { resource, error: r.errorCode === 0 ? null : protocolError(r.errorCode, r.errorMessage) }
      })
    }))
  }

  return {
    describeCluster: () => call(true, async (ctx): Promise<ClusterDescription> => {
      const res = remember(await ctx.send('any', DescribeCluster, {}))
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port, rack: b.rack }))
      }
    }),

    describeConfigs: async (resource) => {
      const [result] = await describeMany([resource])
      if (result === undefined) throw protocolError(ERR.UNKNOWN_SERVER_ERROR)
      if ('error' in result) throw result.error
      return result.entries
    },

    describeConfigsMany: describeMany,

    alterConfigs: async (resource, ops, validateOnly) => {
      const [result] = await alterMany([{ resource, ops }], validateOnly)
      if (result?.error !== null && result?.error !== undefined) throw result.error
    },

    alterConfigsMany: alterMany,

    createTopic: (topic: NewTopic, validateOnly: boolean) => call(false, async (ctx): Promise<CreatedTopic> => {
      const explicit = topic.assignments.length > 0
      const results = await toController(ctx, CreateTopics, {
        topics: [{
          name: topic.name,
          // Kafka requires -1 for both when replica assignments are given.
          numPartitions: explicit ? -1 : topic.numPartitions,
          replicationFactor: explicit ? -1 : topic.replicationFactor,
          assignments: topic.assignments,
          configs: topic.configs
        }],
        timeoutMs: remainingMs(ctx),
        validateOnly
      })
      const r = results.find((x) => x.name === topic.name) ?? results[0]
      if (r === undefined) throw protocolError(ERR.UNKNOWN_SERVER_ERROR, `no result for topic ${topic.name}`)
      if (r.errorCode !== 0) throw protocolError(r.errorCode, r.errorMessage)
      return {
        numPartitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
        configs: (r.configs ?? []).map((c) => ({
          name: c.name, value: c.value, isReadOnly: c.readOnly, isSensitive: c.sensitive, source: configSource(c.source)
        }))
      }
    }),

    deleteTopic: (name) => call(false, async (ctx) => {
      topicResult(await toController(ctx, DeleteTopics, { names: [name], timeoutMs: remainingMs(ctx) }), name)
    }),

    createPartitions: (topic, totalCount, validateOnly) => call(false, async (ctx) => {
      topicResult(await toController(ctx, CreatePartitions, { topics: [{ name: topic, count: totalCount }], timeoutMs: remainingMs(ctx), validateOnly }), topic)
    }),

    listPartitionReassignments: (partitions) => call(true, async (ctx): Promise<PartitionReassignment[]> => {
      const req = { timeoutMs: remainingMs(ctx), topics: partitions?.map((t) => ({ name: t.topic, partitions: t.partitions })) ?? null }
      let res = await ctx.send('any', ListPartitionReassignments, req)
      if (res.errorCode === NOT_CONTROLLER) {
        const c = await ctx.refresh()
        if (c.controllerId >= 0) res = await ctx.send(c.controllerId, ListPartitionReassignments, { ...req, timeoutMs: remainingMs(ctx) })
      }
      if (res.errorCode !== 0) throw protocolError(res.errorCode, res.errorMessage)
      return res.topics.flatMap((t) => t.partitions.map((p) => ({
        topic: t.name, partition: p.partition, replicas: p.replicas, addingReplicas: p.adding, removingReplicas: p.removing
      })))
    }),

    describeAcls: (filter) => call(true, async (ctx) => {
      const res = await ctx.send('any', DescribeAcls, aclToWire(filter))
      if (res.errorCode !== 0) throw protocolError(res.errorCode, res.errorMessage)
      return res.acls.map(aclFromWire)
    }),

    createAcls: (bindings) => call(false, async (ctx) => {
      if (bindings.length === 0) return []
      const res = await ctx.send('any', CreateAcls, bindings.map(aclToWire))
      return bindings.map((_b, i) => {
        const r = res[i]
        if (r === undefined) return protocolError(ERR.UNKNOWN_SERVER_ERROR, 'no result for ACL')
        return r.errorCode === 0 ? null : protocolError(r.errorCode, r.errorMessage)
      })
    }),

    deleteAcls: (filters) => call(false, async (ctx) => {
      if (filters.length === 0) return []
      const res = await ctx.send('any', DeleteAcls, filters.map(aclToWire))
      return filters.map((_f, i) => {
        const r = res[i]
        if (r === undefined) return { error: protocolError(ERR.UNKNOWN_SERVER_ERROR, 'no result for ACL filter'), deleted: [] }
        if (r.errorCode !== 0) return { error: protocolError(r.errorCode, r.errorMessage), deleted: [] }
        const failed = r.matching.find((m) => m.errorCode !== 0)
        return {
          error: failed === undefined ? null : protocolError(failed.errorCode, failed.errorMessage),
          deleted: r.matching.filter((m) => m.errorCode === 0).map(aclFromWire)
        }
      })
    }),

    close: async () => {
      closed = true
      for (const conn of ready.values()) conn.close()
      ready.clear()
      const pending = [...opening.values()]
      opening.clear()
      await Promise.allSettled(pending)
    }
  }
}
