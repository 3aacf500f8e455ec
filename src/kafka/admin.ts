// The admin operations the v3 API and topic auto-creation need and the
// librdkafka binding does not expose (DescribeCluster, DescribeConfigs,
// IncrementalAlterConfigs, CreateTopics with validate_only, CreatePartitions,
// DeleteTopics, partition reassignments, ACLs), over @platformatic/kafka:
// its Admin where it answers what the v3 API needs, and its protocol layer
// (the library's request/response codecs, sent on the Admin's connections,
// with its ApiVersions negotiation and SASL/TLS) where it does not:
// - DescribeCluster and ListPartitionReassignments: the Admin has no method;
// - CreateTopics: the Admin sends validate_only=false and keeps only each
//   config's value, where the v3 API validates and reports each config's
//   source and flags;
// - DescribeConfigs and IncrementalAlterConfigs: the Admin sends a BROKER
//   resource to the broker whose id is its name, so the cluster-wide default
//   (name '', KIP-226) goes to broker 0, and it answers one error for many
//   resources, where the v3 batch routes report each resource's result.
// Handlers depend on the KafkaAdmin interface only. Enum values are the Java
// client's names, the same strings the v3 API uses.
import {
  AclOperations, AclPermissionTypes, Admin, AuthenticationError, ConfigResourceTypes, ConfigSources,
  IncrementalAlterConfigOperationTypes, MultipleErrors, NetworkError, ProtocolError, ResourcePatternTypes,
  ResourceTypes, TimeoutError, UnsupportedApiError, kGetApi, kGetBootstrapConnection, kGetConnection,
  protocolErrors, protocolErrorsCodesById,
  type API, type Acl, type Connection, type createAclsV3, type createTopicsV7, type deleteAclsV3,
  type describeClusterV1, type describeConfigsV4, type incrementalAlterConfigsV1, type listPartitionReassignmentsV0
} from '@platformatic/kafka'
import type { Logger } from '../logger.js'
import { KAFKA, KafkaProtocolError, KafkaTransportError, RD } from './errors.js'
import { adminSecurity, parseBootstrapServers, type AdminSecurity, type ClientProperties } from './options.js'

export { KafkaProtocolError } from './errors.js'

export type ConfigResourceType = 'TOPIC' | 'BROKER' | 'BROKER_LOGGER'

/** `name` is a topic name or a broker id; '' with BROKER means the cluster-wide default. */
export interface ConfigResource {
  type: ConfigResourceType
  name: string
}

export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'UNKNOWN'

export interface ConfigSynonym {
  name: string
  value: string | null
  source: ConfigSource
}

export interface ConfigEntry {
  name: string
  /** null for sensitive values and unset ones. */
  value: string | null
  isDefault: boolean
  isReadOnly: boolean
  isSensitive: boolean
  source: ConfigSource
  synonyms: ConfigSynonym[]
}

export type AlterConfigOperation = 'SET' | 'DELETE' | 'APPEND' | 'SUBTRACT'

export interface AlterConfigOp {
  name: string
  operation: AlterConfigOperation
  /** Ignored (sent as null) for DELETE. */
  value: string | null
}

export interface BrokerNode {
  id: number
  host: string
  port: number
  rack: string | null
}

export interface ClusterDescription {
  clusterId: string
  /** -1 when the cluster reports none. */
  controllerId: number
  brokers: BrokerNode[]
}

export interface NewTopic {
  name: string
  /** -1: the broker's default (also when assignments are given). */
  numPartitions: number
  /** -1: the broker's default (also when assignments are given). */
  replicationFactor: number
  /** Explicit replica lists by partition id; empty for none. */
  assignments: Array<{ partition: number, brokers: number[] }>
  configs: Array<{ name: string, value: string | null }>
}

export interface CreatedTopic {
  numPartitions: number
  replicationFactor: number
  configs: Array<{ name: string, value: string | null, isReadOnly: boolean, isSensitive: boolean, source: ConfigSource }>
}

export interface PartitionReassignment {
  topic: string
  partition: number
  replicas: number[]
  addingReplicas: number[]
  removingReplicas: number[]
}

export type AclResourceType = 'UNKNOWN' | 'ANY' | 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID' | 'DELEGATION_TOKEN'
export type AclPatternType = 'UNKNOWN' | 'ANY' | 'MATCH' | 'LITERAL' | 'PREFIXED'
export type AclOperation =
  | 'UNKNOWN' | 'ANY' | 'ALL' | 'READ' | 'WRITE' | 'CREATE' | 'DELETE' | 'ALTER' | 'DESCRIBE'
  | 'CLUSTER_ACTION' | 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS' | 'IDEMPOTENT_WRITE'
export type AclPermission = 'UNKNOWN' | 'ANY' | 'DENY' | 'ALLOW'

/** A concrete ACL: no ANY/MATCH/UNKNOWN values. */
export interface AclBinding {
  resourceType: AclResourceType
  resourceName: string
  patternType: AclPatternType
  principal: string
  host: string
  operation: AclOperation
  permission: AclPermission
}

/** An ACL filter: ANY (and MATCH for patterns) allowed; null strings match anything. */
export interface AclFilter {
  resourceType: AclResourceType
  resourceName: string | null
  patternType: AclPatternType
  principal: string | null
  host: string | null
  operation: AclOperation
  permission: AclPermission
}

/**
 * Every method rejects with a KafkaProtocolError for an error the cluster
 * answered, or with a KafkaTransportError (RD.TRANSPORT, RD.TIMED_OUT) when
 * no broker could be reached or a request timed out, so kafka/errors.ts
 * `adminError` maps both.
 */
export interface KafkaAdmin {
  describeCluster (): Promise<ClusterDescription>
  /** All entries of one resource, with synonyms, without documentation. */
  describeConfigs (resource: ConfigResource): Promise<ConfigEntry[]>
  /** One round trip per target broker for many resources; a failed resource carries its error. */
  describeConfigsMany (resources: ConfigResource[]): Promise<Array<{ resource: ConfigResource, entries: ConfigEntry[] } | { resource: ConfigResource, error: KafkaProtocolError }>>
  alterConfigs (resource: ConfigResource, ops: AlterConfigOp[], validateOnly: boolean): Promise<void>
  alterConfigsMany (changes: Array<{ resource: ConfigResource, ops: AlterConfigOp[] }>, validateOnly: boolean): Promise<Array<{ resource: ConfigResource, error: KafkaProtocolError | null }>>
  createTopic (topic: NewTopic, validateOnly: boolean): Promise<CreatedTopic>
  deleteTopic (name: string): Promise<void>
  createPartitions (topic: string, totalCount: number, validateOnly: boolean): Promise<void>
  /** null: every partition being reassigned. */
  listPartitionReassignments (partitions: Array<{ topic: string, partitions: number[] }> | null): Promise<PartitionReassignment[]>
  describeAcls (filter: AclFilter): Promise<AclBinding[]>
  /** Per binding, in order: null when created. */
  createAcls (bindings: AclBinding[]): Promise<Array<KafkaProtocolError | null>>
  /** Per filter, in order: the ACLs it deleted, or its error. */
  deleteAcls (filters: AclFilter[]): Promise<Array<{ error: KafkaProtocolError | null, deleted: AclBinding[] }>>
  close (): Promise<void>
}

export interface KafkaAdminOptions {
  /** Comma-separated host:port list (kafka.bootstrap_servers). */
  bootstrapServers: string
  /** client.id sent with every request. */
  clientId: string
  /** Bound of one admin call, connecting included (kafka.request_timeout_ms). */
  requestTimeoutMs: number
  /**
   * The operator's librdkafka admin pass-through properties (kafka.admin);
   * the security ones (security.protocol, ssl.*, sasl.*) apply here too.
   */
  properties: Readonly<ClientProperties>
  log: Logger
}

// Wire values <-> the Java client's names (ConfigEntry.ConfigSource, ResourceType, …).
const RESOURCE_TYPE = { TOPIC: ConfigResourceTypes.TOPIC, BROKER: ConfigResourceTypes.BROKER, BROKER_LOGGER: ConfigResourceTypes.BROKER_LOGGER } as const
const CONFIG_SOURCE = new Map<number, ConfigSource>([
  [ConfigSources.TOPIC_CONFIG, 'DYNAMIC_TOPIC_CONFIG'],
  [ConfigSources.DYNAMIC_BROKER_CONFIG, 'DYNAMIC_BROKER_CONFIG'],
  [ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG, 'DYNAMIC_DEFAULT_BROKER_CONFIG'],
  [ConfigSources.STATIC_BROKER_CONFIG, 'STATIC_BROKER_CONFIG'],
  [ConfigSources.DEFAULT_CONFIG, 'DEFAULT_CONFIG'],
  [ConfigSources.DYNAMIC_BROKER_LOGGER_CONFIG, 'DYNAMIC_BROKER_LOGGER_CONFIG']
])
const ACL_RESOURCE_TYPES: readonly AclResourceType[] = ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN']
const ACL_PATTERN_TYPES: readonly AclPatternType[] = ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED']
const ACL_OPERATIONS: readonly AclOperation[] = [
  'UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE',
  'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'
]
const ACL_PERMISSIONS: readonly AclPermission[] = ['UNKNOWN', 'ANY', 'DENY', 'ALLOW']

/** The library's wire value for a name, UNKNOWN for one it lacks. */
function wire<N extends string> (values: Readonly<Record<string, number>>, name: N): number {
  return values[name] ?? 0
}

/** The name for a wire value, UNKNOWN for one the v3 API does not list. */
function named<N extends string> (names: readonly N[], values: Readonly<Record<string, number>>, code: number): N {
  return names.find((n) => values[n] === code) ?? ('UNKNOWN' as N)
}

export function configSource (code: number): ConfigSource {
  return CONFIG_SOURCE.get(code) ?? 'UNKNOWN'
}

function aclToLibrary (acl: AclBinding | AclFilter): Acl {
  return {
    resourceType: wire(ResourceTypes, acl.resourceType),
    // Null strings are filters' wildcards; the codec writes them as null.
    resourceName: acl.resourceName as string,
    resourcePatternType: wire(ResourcePatternTypes, acl.patternType),
    principal: acl.principal as string,
    host: acl.host as string,
    operation: wire(AclOperations, acl.operation),
    permissionType: wire(AclPermissionTypes, acl.permission)
  } as Acl
}

function aclFromLibrary (acl: Acl): AclBinding {
  return {
    resourceType: named(ACL_RESOURCE_TYPES, ResourceTypes, acl.resourceType),
    resourceName: acl.resourceName ?? '',
    patternType: named(ACL_PATTERN_TYPES, ResourcePatternTypes, acl.resourcePatternType),
    principal: acl.principal ?? '',
    host: acl.host ?? '',
    operation: named(ACL_OPERATIONS, AclOperations, acl.operation),
    permission: named(ACL_PERMISSIONS, AclPermissionTypes, acl.permissionType)
  }
}

function configEntries (result: describeConfigsV4.DescribeConfigsResponseResult): ConfigEntry[] {
  return result.configs.map((c) => {
    const source = configSource(c.configSource)
    return {
      name: c.name,
      value: c.value ?? null,
      isDefault: source === 'DEFAULT_CONFIG',
      isReadOnly: c.readOnly,
      isSensitive: c.isSensitive,
      source,
      synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value ?? null, source: configSource(s.source) }))
    }
  })
}

/** The error for a non-zero code a broker answered; an empty message falls back to the error's name. */
function protocolError (code: number, message?: string | null): KafkaProtocolError {
  const id = (protocolErrorsCodesById as Record<number, string | undefined>)[code]
  const known = id === undefined ? undefined : (protocolErrors as Record<string, { canRetry: boolean } | undefined>)[id]
  const text = message === undefined || message === null || message === '' ? (id ?? `KAFKA_ERROR_${code}`) : message
  return new KafkaProtocolError(code, text, known?.canRetry === true)
}

/** The fields of the library's errors read here (GenericError sets them as own properties). */
interface LibraryErrorFields {
  errors?: unknown[]
  cause?: unknown
  apiCode?: number
  serverErrorMessage?: string | null
  response?: unknown
}

/** The library's errors nest: MultipleErrors hold `errors`, connection failures a `cause`. */
function * nested (err: unknown): Generator<unknown> {
  if (typeof err !== 'object' || err === null) return
  yield err
  const e = err as LibraryErrorFields
  for (const inner of e.errors ?? []) yield * nested(inner)
  if (e.cause !== undefined) yield * nested(e.cause)
}

/**
 * The library's failure as the error this module promises: a broker answer
 * anywhere in it (a SASL refusal included) is final, then a failed
 * authentication, a missing API, a timeout, a lost connection.
 */
function translate (err: unknown): unknown {
  if (err instanceof KafkaProtocolError || err instanceof KafkaTransportError) return err
  const all = [...nested(err)]
  const answered = all.find((e) => e instanceof ProtocolError) as LibraryErrorFields | undefined
  if (answered !== undefined && typeof answered.apiCode === 'number') return protocolError(answered.apiCode, answered.serverErrorMessage)
  const auth = all.find((e) => e instanceof AuthenticationError)
  if (auth !== undefined) return new KafkaProtocolError(KAFKA.SASL_AUTHENTICATION_FAILED, (auth as Error).message, false)
  const unsupported = all.find((e) => e instanceof UnsupportedApiError)
  if (unsupported !== undefined) return new KafkaProtocolError(KAFKA.UNSUPPORTED_VERSION, (unsupported as Error).message, false)
  const transport = all.find((e) => e instanceof TimeoutError || e instanceof NetworkError)
  if (transport !== undefined) {
    return new KafkaTransportError(transport instanceof TimeoutError ? RD.TIMED_OUT : RD.TRANSPORT, (transport as Error).message, { cause: err })
  }
  return err
}

/**
 * What `pick` reads from the parsed response a ResponseError carries: the
 * library's codecs throw one for any non-zero error code, with every result
 * of the response, so results of many resources or bindings are read from
 * it. Connection-level responses (SASL) are `cause`s, never `errors`, and
 * are not looked at.
 */
function answeredResponse<T> (err: unknown, pick: (response: object) => T | undefined): T | undefined {
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.shift() as LibraryErrorFields | null | undefined
    if (typeof e !== 'object' || e === null) continue
    const picked = typeof e.response === 'object' && e.response !== null ? pick(e.response) : undefined
    if (picked !== undefined) return picked
    if (e instanceof MultipleErrors) queue.push(...(e.errors ?? []))
  }
  return undefined
}

/** Where a config request goes: any broker, or one broker by id. */
type Target = 'any' | number

/** A BROKER or BROKER_LOGGER resource naming a broker id must go to that broker. */
export function configTarget (resource: ConfigResource): Target {
  if (resource.type !== 'TOPIC' && /^\d+$/.test(resource.name)) return Number(resource.name)
  return 'any'
}

/** Groups items by target broker (resources any broker answers ride along with a broker-bound group). */
function byTarget<T extends { resource: ConfigResource }> (items: T[]): Map<Target, Array<{ item: T, index: number }>> {
  const groups = new Map<Target, Array<{ item: T, index: number }>>()
  items.forEach((item, index) => {
    const target = configTarget(item.resource)
    let g = groups.get(target)
    if (g === undefined) groups.set(target, g = [])
    g.push({ item, index })
  })
  const anyGroup = groups.get('any')
  const bound = [...groups.keys()].find((k) => k !== 'any')
  if (anyGroup !== undefined && bound !== undefined) {
    groups.get(bound)?.push(...anyGroup)
    groups.delete('any')
  }
  return groups
}

function resultFor<T extends { resourceType: number, resourceName: string }> (results: readonly T[], resource: ConfigResource, index: number): T | undefined {
  const type = RESOURCE_TYPE[resource.type]
  return results.find((r) => r.resourceType === type && r.resourceName === resource.name) ?? results[index]
}

/** The library's internal calls take node-style callbacks. */
function promised<T> (start: (cb: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => { if (err != null) reject(err); else resolve(value as T) }))
}

/** One of the library's API codecs (e.g. describeConfigsV4.api), for its request and response types. */
interface Codec { async: (conn: Connection, ...args: never[]) => Promise<unknown> }
type Args<T> = T extends { async: (conn: Connection, ...args: infer A) => Promise<unknown> } ? A : never
type Res<T> = T extends { async: (conn: Connection, ...args: never[]) => Promise<infer R> } ? R : never

export function createKafkaAdmin (opts: KafkaAdminOptions): KafkaAdmin {
  const log = opts.log
  const bootstrap = parseBootstrapServers(opts.bootstrapServers)
  let security: AdminSecurity | null = null
  let problem: Error | null = null
  try {
    security = adminSecurity(opts.properties, bootstrap, opts.requestTimeoutMs)
  } catch (err) {
    // A configuration the client cannot honour fails each call, never the process.
    problem = err as Error
    log.warn({ err }, 'admin client disabled by its security settings')
  }
  if (bootstrap.length === 0 && problem === null) problem = new Error(`no usable bootstrap server in "${opts.bootstrapServers}"`)

  const client = new Admin({
    clientId: opts.clientId,
    bootstrapBrokers: bootstrap.length > 0 ? bootstrap : [{ host: '127.0.0.1', port: 9092 }],
    connectTimeout: opts.requestTimeoutMs,
    requestTimeout: opts.requestTimeoutMs,
    // The broker-side bound of CreateTopics, DeleteTopics and CreatePartitions sent by the Admin.
    timeout: opts.requestTimeoutMs,
    // Retries are this module's (call() below): the library's would retry
    // answers such as UNKNOWN_TOPIC_OR_PARTITION for seconds.
    retries: 0,
    ...(security?.tls === undefined ? {} : { tls: security.tls, tlsServerName: security.tlsServerName }),
    ...(security?.sasl === undefined ? {} : { sasl: security.sasl })
  })
  // A connection's 'error' after it connected has no other listener; unheard, it would end the process.
  client.on('client:broker:connect', ({ connection }) => {
    connection.on('error', (err: Error) => log.debug({ err }, 'admin connection error'))
  })
  let closed = false
  // The Admin deduplicates concurrent createPartitions calls under one key
  // whatever their topics, so a second call would get the first one's answer.
  let partitionsQueue: Promise<unknown> = Promise.resolve()

  function closedError (): KafkaTransportError {
    return new KafkaTransportError(RD.TRANSPORT, 'admin client closed')
  }

  function bootstrapConnection (): Promise<Connection> {
    return promised((cb) => client[kGetBootstrapConnection](cb))
  }

  async function connectionTo (brokerId: number): Promise<Connection> {
    let metadata = await client.metadata({ topics: [] })
    if (!metadata.brokers.has(brokerId)) metadata = await client.metadata({ topics: [], forceUpdate: true })
    const broker = metadata.brokers.get(brokerId)
    // The broker itself answers INVALID_REQUEST for another broker's id.
    if (broker === undefined) throw protocolError(KAFKA.INVALID_REQUEST, `broker ${brokerId} is not in the cluster`)
    return await promised((cb) => client[kGetConnection](broker, cb))
  }

  async function controllerConnection (): Promise<Connection | null> {
    const metadata = await client.metadata({ topics: [], forceUpdate: true })
    return metadata.controllerId >= 0 && metadata.brokers.has(metadata.controllerId) ? await connectionTo(metadata.controllerId) : null
  }

  /** Sends one request with the highest version both the broker and the library speak. */
  async function request<T extends Codec> (conn: Connection, name: string, ...args: Args<T>): Promise<Res<T>> {
    const api = await promised<API<Args<T>, Res<T>>>((cb) => client[kGetApi](name, cb))
    return await api.async(conn, ...args)
  }

  function isNotController (err: unknown): boolean {
    const e = translate(err)
    return e instanceof KafkaProtocolError && e.code === KAFKA.NOT_CONTROLLER
  }

  /**
   * Topic-changing requests go to any broker (KRaft brokers forward them,
   * KIP-590); a ZooKeeper-mode broker that is not the controller answers
   * NOT_CONTROLLER, and the request is repeated at the controller (the
   * Admin's own methods learn it from that answer and use it next time).
   */
  async function atController<T> (send: (conn: Connection | null) => Promise<T>): Promise<T> {
    try {
      return await send(null)
    } catch (err) {
      if (!isNotController(err)) throw err
      const controller = await controllerConnection()
      if (controller === null) throw err
      return await send(controller)
    }
  }

  /**
   * Runs one admin call under one deadline, connecting included. Idempotent
   * calls are repeated once after a lost connection, which covers a broker
   * closing an idle connection (connections.max.idle.ms) just as it is reused.
   */
  async function call<T> (idempotent: boolean, run: (remainingMs: () => number) => Promise<T>): Promise<T> {
    if (problem !== null) throw problem
    if (closed) throw closedError()
    const deadline = Date.now() + opts.requestTimeoutMs
    const remainingMs = (): number => Math.max(1, deadline - Date.now())
    const attempt = async (): Promise<T> => {
      try {
        return await run(remainingMs)
      } catch (err) {
        const e = translate(err)
        if (!idempotent || !(e instanceof KafkaTransportError) || e.code !== RD.TRANSPORT || closed || Date.now() >= deadline) throw e
        log.debug({ err: e }, 'admin call repeated after a lost connection')
        return await run(remainingMs).catch((again: unknown) => { throw translate(again) })
      }
    }
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new KafkaTransportError(RD.TIMED_OUT, `admin request timed out after ${opts.requestTimeoutMs} ms`)), opts.requestTimeoutMs)
      timer.unref()
    })
    try {
      return await Promise.race([attempt(), expired])
    } finally {
      clearTimeout(timer)
    }
  }

  /** A config request's result for one resource, as the DescribeConfigs and IncrementalAlterConfigs codecs give it. */
  interface ResourceResult { resourceType: number, resourceName: string, errorCode: number, errorMessage?: string | null }

  /**
   * Sends one config request per target broker, in parallel, and gives each
   * resource its result, read from the answer or from the ResponseError that
   * carries it. A broker's answered refusal (or an unknown broker id) is the
   * error of each of its resources; a transport failure fails the call.
   */
  async function perBroker<In extends { resource: ConfigResource }, R extends ResourceResult> (
    items: In[],
    send: (conn: Connection, group: In[]) => Promise<R[]>,
    answered: (response: object) => R[] | undefined
  ): Promise<Array<{ resource: ConfigResource, result: R } | { resource: ConfigResource, error: KafkaProtocolError }>> {
    const out: Array<{ resource: ConfigResource, result: R } | { resource: ConfigResource, error: KafkaProtocolError }> = new Array(items.length)
    await Promise.all([...byTarget(items)].map(async ([target, group]) => {
      let results: R[]
      try {
        results = await send(target === 'any' ? await bootstrapConnection() : await connectionTo(target), group.map((g) => g.item))
      } catch (err) {
        const found = answeredResponse<R[]>(err, answered)
        if (found === undefined) {
          const e = translate(err)
          if (!(e instanceof KafkaProtocolError)) throw e
          for (const { item, index } of group) out[index] = { resource: item.resource, error: e }
          return
        }
        results = found
      }
      group.forEach(({ item: { resource }, index }, i) => {
        const r = resultFor(results, resource, i)
        if (r === undefined) out[index] = { resource, error: protocolError(KAFKA.UNKNOWN_SERVER_ERROR, `no result for ${resource.type} ${resource.name}`) }
        else if (r.errorCode !== 0) out[index] = { resource, error: protocolError(r.errorCode, r.errorMessage) }
        else out[index] = { resource, result: r }
      })
    }))
    return out
  }

  type Described = { resource: ConfigResource, entries: ConfigEntry[] } | { resource: ConfigResource, error: KafkaProtocolError }

  function describeMany (resources: ConfigResource[]): Promise<Described[]> {
    return call(true, async () => {
      const results = await perBroker(resources.map((resource) => ({ resource })), async (conn, group) => {
        const wanted = group.map(({ resource }) => ({ resourceType: RESOURCE_TYPE[resource.type], resourceName: resource.name, configurationKeys: null }))
        return (await request<typeof describeConfigsV4.api>(conn, 'DescribeConfigs', wanted, true, false)).results
      }, (r) => (r as Partial<describeConfigsV4.DescribeConfigsResponse>).results)
      return results.map((r) => 'error' in r ? r : { resource: r.resource, entries: configEntries(r.result) })
    })
  }

  function alterMany (changes: Array<{ resource: ConfigResource, ops: AlterConfigOp[] }>, validateOnly: boolean): Promise<Array<{ resource: ConfigResource, error: KafkaProtocolError | null }>> {
    // IncrementalAlterConfigs is not idempotent for APPEND/SUBTRACT: no repeat.
    return call(false, async () => {
      const results = await perBroker(changes, async (conn, group) => {
        const resources = group.map(({ resource, ops }) => ({
          resourceType: RESOURCE_TYPE[resource.type],
          resourceName: resource.name,
          configs: ops.map((op) => op.operation === 'DELETE'
            ? { name: op.name, configOperation: IncrementalAlterConfigOperationTypes.DELETE }
            : { name: op.name, configOperation: IncrementalAlterConfigOperationTypes[op.operation], value: op.value as string })
        }))
        return (await request<typeof incrementalAlterConfigsV1.api>(conn, 'IncrementalAlterConfigs', resources, validateOnly)).responses
      }, (r) => (r as Partial<incrementalAlterConfigsV1.IncrementalAlterConfigsResponse>).responses)
      return results.map((r) => ({ resource: r.resource, error: 'error' in r ? r.error : null }))
    })
  }

  async function deleteAclsOf (filter: AclFilter): Promise<{ error: KafkaProtocolError | null, deleted: AclBinding[] }> {
    try {
      const deleted = await client.deleteAcls({ filters: [aclToLibrary(filter)] })
      return { error: null, deleted: deleted.map(aclFromLibrary) }
    } catch (err) {
      const r = answeredResponse(err, (res) => (res as Partial<deleteAclsV3.DeleteAclsResponse>).filterResults?.[0])
      if (r === undefined) throw translate(err)
      if (r.errorCode !== 0) return { error: protocolError(r.errorCode, r.errorMessage), deleted: [] }
      const failed = r.matchingAcls.find((m) => m.errorCode !== 0)
      return {
        error: failed === undefined ? null : protocolError(failed.errorCode, failed.errorMessage),
        deleted: r.matchingAcls.filter((m) => m.errorCode === 0).map(aclFromLibrary)
      }
    }
  }

  return {
    describeCluster: () => call(true, async (): Promise<ClusterDescription> => {
      // endpoint_type 1: brokers (KIP-919); a v0 DescribeCluster ignores it.
      const res = await request<typeof describeClusterV1.api>(await bootstrapConnection(), 'DescribeCluster', false, 1)
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({ id: b.brokerId, host: b.host, port: b.port, rack: b.rack ?? null }))
      }
    }),

    describeConfigs: async (resource) => {
      const [result] = await describeMany([resource])
      if (result === undefined) throw protocolError(KAFKA.UNKNOWN_SERVER_ERROR)
      if ('error' in result) throw result.error
      return result.entries
    },

    describeConfigsMany: describeMany,

    alterConfigs: async (resource, ops, validateOnly) => {
      const [result] = await alterMany([{ resource, ops }], validateOnly)
      if (result?.error !== null && result?.error !== undefined) throw result.error
    },

    alterConfigsMany: alterMany,

    createTopic: (topic, validateOnly) => call(false, async (remainingMs): Promise<CreatedTopic> => {
      const explicit = topic.assignments.length > 0
      const wanted = [{
        name: topic.name,
        // Kafka requires -1 for both when replica assignments are given.
        numPartitions: explicit ? -1 : topic.numPartitions,
        replicationFactor: explicit ? -1 : topic.replicationFactor,
        assignments: topic.assignments.map((a) => ({ partitionIndex: a.partition, brokerIds: a.brokers })),
        configs: topic.configs.map((c) => ({ name: c.name, value: c.value ?? undefined }))
      }]
      const res = await atController(async (conn) =>
        await request<typeof createTopicsV7.api>(conn ?? await bootstrapConnection(), 'CreateTopics', wanted, remainingMs(), validateOnly))
      const r = res.topics.find((x) => x.name === topic.name) ?? res.topics[0]
      if (r === undefined) throw protocolError(KAFKA.UNKNOWN_SERVER_ERROR, `no result for topic ${topic.name}`)
      return {
        numPartitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
        configs: r.configs.map((c) => ({ name: c.name, value: c.value ?? null, isReadOnly: c.readOnly, isSensitive: c.isSensitive, source: configSource(c.configSource) }))
      }
    }),

    deleteTopic: (name) => call(false, async () => {
      await atController(async () => { await client.deleteTopics({ topics: [name] }) })
    }),

    createPartitions: (topic, totalCount, validateOnly) => call(false, async () => {
      const run = (): Promise<void> => atController(async () => {
        await client.createPartitions({ topics: [{ name: topic, count: totalCount }], validateOnly })
      })
      const mine = partitionsQueue.then(run, run)
      partitionsQueue = mine.catch(() => {})
      await mine
    }),

    listPartitionReassignments: (partitions) => call(true, async (remainingMs): Promise<PartitionReassignment[]> => {
      // A null topic list asks for every reassignment; the codec writes it as a null array.
      const topics = (partitions?.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })) ?? null) as listPartitionReassignmentsV0.ListPartitionReassignmentsRequestTopic[]
      const res = await atController(async (conn) =>
        await request<typeof listPartitionReassignmentsV0.api>(conn ?? await bootstrapConnection(), 'ListPartitionReassignments', remainingMs(), topics))
      return res.topics.flatMap((t) => t.partitions.map((p) => ({
        topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas
      })))
    }),

    describeAcls: (filter) => call(true, async () => {
      const resources = await client.describeAcls({ filter: aclToLibrary(filter) })
      return resources.flatMap((r) => r.acls.map((a) => aclFromLibrary({ ...r, ...a })))
    }),

    createAcls: (bindings) => call(false, async () => {
      if (bindings.length === 0) return []
      try {
        await client.createAcls({ creations: bindings.map(aclToLibrary) })
        return bindings.map(() => null)
      } catch (err) {
        const results = answeredResponse(err, (res) => (res as Partial<createAclsV3.CreateAclsResponse>).results)
        if (results === undefined) throw translate(err)
        return bindings.map((_b, i) => {
          const r = results[i]
          if (r === undefined) return protocolError(KAFKA.UNKNOWN_SERVER_ERROR, 'no result for ACL')
          return r.errorCode === 0 ? null : protocolError(r.errorCode, r.errorMessage)
        })
      }
    }),

    deleteAcls: (filters) => call(false, async () => await Promise.all(filters.map(deleteAclsOf))),

    close: async () => {
      closed = true
      await client.close().catch((err: unknown) => log.debug({ err }, 'admin client close failed'))
    }
  }
}
