// v3 configs of the cluster (dynamic broker defaults, …/broker-configs), of one
// broker (…/brokers/{broker_id}/configs) or all (…/brokers/-/configs), and of
// topics (…/topics/{topic}/configs, …/topics/-/configs): list, get, set
// (PUT), reset (DELETE) and batch alter (…:alter) through DescribeConfigs and
// IncrementalAlterConfigs (KIP-339).
import { ProxyError } from '../../errors.js'
import { NO_CONTENT, type Ctx, type Handler } from '../../http/handler.js'
import { defineRoutes, type Handlers, type RouteSpec } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic, type ClusterMetadata } from '../../kafka/metadata.js'
import type { AlterConfigOp, ConfigEntry, ConfigResource, KafkaProtocolError, KafkaAdmin } from '../../kafka/admin.js'
import { json, type Resources } from './resource.js'
import { describeCluster, resolveBroker } from './brokers.js'
import { bad, optionalBool } from './topics.js'
import { JSON_MEDIA, NO_CONTENT_RESPONSE, ref, V3_READ_ERRORS, V3_WRITE_ERRORS } from '../components.js'

const C = '/v3/clusters/{cluster_id}'

/** Where a config lives and how its resources are named. */
interface Scope {
  kind: string
  resource: ConfigResource
  /** Fields naming the owner (topic_name, broker_id, config_type), after cluster_id. */
  fields: Record<string, unknown>
  listSelf: string
  self (name: string): string
  crn (name: string): string
  /** For messages: "topic t", "broker 1", "the cluster". */
  what: string
}

function clusterScope (ctx: Ctx, resources: Resources, cid: string): Scope {
  return {
    kind: 'KafkaClusterConfig',
    // The empty broker name is the cluster-wide default (KIP-226).
    resource: { type: 'BROKER', name: '' },
    fields: { config_type: 'BROKER' },
    listSelf: resources.url(ctx, cid, 'broker-configs'),
    self: (name) => resources.url(ctx, cid, 'broker-configs', name),
    crn: (name) => resources.crn(cid, ['broker-config', name]),
    what: `cluster ${cid}`
  }
}

function brokerScope (ctx: Ctx, resources: Resources, cid: string, id: number): Scope {
  return {
    kind: 'KafkaBrokerConfig',
    resource: { type: 'BROKER', name: String(id) },
    fields: { broker_id: id },
    listSelf: resources.url(ctx, cid, 'brokers', id, 'configs'),
    self: (name) => resources.url(ctx, cid, 'brokers', id, 'configs', name),
    crn: (name) => resources.crn(cid, ['broker', id], ['config', name]),
    what: `broker ${id}`
  }
}

function topicScope (ctx: Ctx, resources: Resources, cid: string, topic: string): Scope {
  return {
    kind: 'KafkaTopicConfig',
    resource: { type: 'TOPIC', name: topic },
    fields: { topic_name: topic },
    listSelf: resources.url(ctx, cid, 'topics', topic, 'configs'),
    self: (name) => resources.url(ctx, cid, 'topics', topic, 'configs', name),
    crn: (name) => resources.crn(cid, ['topic', topic], ['config', name]),
    what: `topic ${topic}`
  }
}

function configData (scope: Scope, cid: string, e: ConfigEntry): Record<string, unknown> {
  return {
    kind: scope.kind,
    metadata: { self: scope.self(e.name), resource_name: scope.crn(e.name) },
    cluster_id: cid,
    ...scope.fields,
    name: e.name,
    value: e.value,
    is_default: e.isDefault,
    is_read_only: e.isReadOnly,
    is_sensitive: e.isSensitive,
    source: e.source,
    synonyms: e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source }))
  }
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

async function describe (admin: KafkaAdmin, resource: ConfigResource): Promise<ConfigEntry[]> {
  try {
    return (await admin.describeConfigs(resource)).sort(byName)
  } catch (err) {
    throw adminError(err)
  }
}

async function alter (admin: KafkaAdmin, resource: ConfigResource, ops: AlterConfigOp[], validateOnly: boolean): Promise<void> {
  if (ops.length === 0) return
  try {
    await admin.alterConfigs(resource, ops, validateOnly)
  } catch (err) {
    throw adminError(err)
  }
}

async function findEntry (admin: KafkaAdmin, scope: Scope, name: string): Promise<ConfigEntry> {
  const entry = (await describe(admin, scope.resource)).find((e) => e.name === name)
  if (entry === undefined) throw new ProxyError('notFound', `Config ${name} cannot be found for ${scope.what}.`)
  return entry
}

// Dynamic broker configs that IncrementalAlterConfigs accepts but DescribeConfigs
// lists only once they are set: the replication throttles (Kafka's
// QuotaConfig.brokerQuotaConfigs; KIP-73, KIP-113).
const BROKER_QUOTA_CONFIGS: ReadonlySet<string> = new Set([
  'leader.replication.throttled.rate',
  'follower.replication.throttled.rate',
  'replica.alter.log.dirs.io.max.bytes.per.second'
])

/**
 * Whether `name` is a broker config Kafka knows: one DescribeConfigs lists
 * (every config of the broker, defaults included), a replication throttle, or
 * a listed config scoped to a listener as KIP-103 allows
 * (`listener.name.<listener>.<config>`, SASL ones also per mechanism:
 * `listener.name.<listener>.<mechanism>.sasl.<…>`). Kafka stores any other
 * name at the cluster level without complaint, where nothing reads it.
 */
export function isKnownBrokerConfig (name: string, listed: ReadonlySet<string>): boolean {
  if (listed.has(name) || BROKER_QUOTA_CONFIGS.has(name)) return true
  const scoped = /^listener\.name\.[^.]+\.(.+)$/.exec(name)?.[1]
  if (scoped === undefined) return false
  if (listed.has(scoped)) return true
  const perMechanism = /^[^.]+\.(sasl\..+)$/.exec(scoped)?.[1]
  return perMechanism !== undefined && listed.has(perMechanism)
}

/**
 * The names a PUT, DELETE or :alter may touch in `scope`; anything else is a
 * 404 before Kafka is asked to write. A topic has exactly the configs
 * DescribeConfigs lists for it; a broker and the cluster-wide defaults take
 * the broker configs `isKnownBrokerConfig` accepts, the cluster's read from
 * one broker (the defaults resource lists only what is already set there).
 */
async function knownNames (admin: KafkaAdmin, scope: Scope): Promise<(name: string) => boolean> {
  const listed = new Set((await describe(admin, scope.resource)).map((e) => e.name))
  if (scope.resource.type === 'TOPIC') return (name) => listed.has(name)
  if (scope.resource.name === '') {
    const broker = (await describeCluster(admin)).brokers[0]
    if (broker !== undefined) for (const e of await describe(admin, { type: 'BROKER', name: String(broker.id) })) listed.add(e.name)
  }
  return (name) => isKnownBrokerConfig(name, listed)
}

async function requireKnown (admin: KafkaAdmin, scope: Scope, names: string[]): Promise<void> {
  if (names.length === 0) return
  const known = await knownNames(admin, scope)
  const missing = names.find((n) => !known(n))
  if (missing !== undefined) throw new ProxyError('notFound', `Config ${missing} cannot be found for ${scope.what}.`)
}

export interface AlterBatch {
  ops: AlterConfigOp[]
  validateOnly: boolean
}

// Kafka's protocol readers refuse a string field longer than 32767 bytes
// (Short.MAX_VALUE, even in compact strings) and drop the connection, so a
// longer config name or value is refused here, before it is sent.
const KAFKA_STRING_MAX_BYTES = 0x7fff

function checkProtocolLength (name: string, value: unknown): void {
  if (Buffer.byteLength(name) > KAFKA_STRING_MAX_BYTES || (typeof value === 'string' && Buffer.byteLength(value) > KAFKA_STRING_MAX_BYTES)) {
    throw bad(`config names and values are at most ${KAFKA_STRING_MAX_BYTES} bytes, Kafka's limit for a string`)
  }
}

/** Parses the entries of an AlterConfigBatchRequest `data` array (or of one topic's `configs`). */
export function parseAlterOps (raw: unknown, field = 'data'): AlterConfigOp[] {
  if (raw === undefined || raw === null) throw new ProxyError('invalidPayload', `Payload error. ${field} is required.`)
  if (!Array.isArray(raw)) throw bad(`${field} must be an array of {name, value, operation}`)
  return (raw as unknown[]).map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad(`${field} must be an array of {name, value, operation}`)
    const { name, value, operation } = item as Record<string, unknown>
    if (typeof name !== 'string' || name === '') throw bad('every config needs a name')
    if (value !== undefined && value !== null && typeof value !== 'string') throw bad(`config ${name}: value must be a string or null`)
    checkProtocolLength(name, value)
    let op: AlterConfigOp['operation'] = 'SET'
    if (operation !== undefined && operation !== null) {
      const upper = typeof operation === 'string' ? operation.toUpperCase() : ''
      if (upper !== 'SET' && upper !== 'DELETE') throw bad(`config ${name}: operation must be SET or DELETE`)
      op = upper
    }
    return { name, operation: op, value: op === 'DELETE' || typeof value !== 'string' ? null : value }
  })
}

/** Parses an AlterConfigBatchRequest: `{"data":[{name, value?, operation?}], "validate_only"?}`. */
export function parseAlterBatch (body: Record<string, unknown>): AlterBatch {
  return { ops: parseAlterOps(body.data), validateOnly: optionalBool(body.validate_only, 'validate_only') }
}

/** Parses the multi-topic batch: `{"data":[{"topic_name", "configs":[…]}], "validate_only"?}`. */
export function parseTopicsAlterBatch (body: Record<string, unknown>): { changes: Array<{ topic: string, ops: AlterConfigOp[] }>, validateOnly: boolean } {
  const data = body.data
  if (data === undefined || data === null) throw new ProxyError('invalidPayload', 'Payload error. data is required.')
  if (!Array.isArray(data)) throw bad('data must be an array of {topic_name, configs}')
  const changes = (data as unknown[]).map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw bad('data must be an array of {topic_name, configs}')
    const { topic_name: topic, configs } = item as Record<string, unknown>
    if (typeof topic !== 'string' || topic === '') throw new ProxyError('invalidPayload', 'Payload error. topic_name is required.')
    return { topic, ops: parseAlterOps(configs, 'configs') }
  })
  return { changes, validateOnly: optionalBool(body.validate_only, 'validate_only') }
}

const CONFIG_TAGS = ['Configs (v3)']
type Owner = 'cluster' | 'topic'

// The list, get, set, reset and batch alter routes of the three config scopes
// (the cluster, a broker, a topic) differ only in path, words and schema.
function listConfigs (path: string, summary: string, schema: string, owner: Owner): RouteSpec {
  return { method: 'GET', path, summary, tags: CONFIG_TAGS, access: [{ operation: 'DescribeConfigs', resource: owner }], produces: JSON_MEDIA, responses: { 200: { description: 'The configs.', schema: ref(schema) } }, errors: V3_READ_ERRORS }
}
function getConfig (path: string, summary: string, schema: string, owner: Owner): RouteSpec {
  return { method: 'GET', path, summary, tags: CONFIG_TAGS, access: [{ operation: 'DescribeConfigs', resource: owner }], produces: JSON_MEDIA, responses: { 200: { description: 'The config.', schema: ref(schema) } }, errors: V3_READ_ERRORS }
}
function alterConfigs (method: 'POST' | 'PUT', path: string, summary: string, body: string, owner: Owner): RouteSpec {
  return { method, path, summary, tags: CONFIG_TAGS, access: [{ operation: 'AlterConfigs', resource: owner }], consumes: JSON_MEDIA, body: { required: true, schema: ref(body) }, produces: JSON_MEDIA, responses: { 204: NO_CONTENT_RESPONSE }, errors: V3_WRITE_ERRORS }
}
function resetConfig (path: string, summary: string, owner: Owner): RouteSpec {
  return { method: 'DELETE', path, summary, tags: CONFIG_TAGS, access: [{ operation: 'AlterConfigs', resource: owner }], produces: JSON_MEDIA, responses: { 204: NO_CONTENT_RESPONSE }, errors: V3_READ_ERRORS }
}

const CLUSTER_CONFIGS = `${C}/broker-configs`
const BROKER_CONFIGS = `${C}/brokers/{broker_id}/configs`
const TOPIC_CONFIGS = `${C}/topics/{topic}/configs`

export const CONFIG_ROUTES = defineRoutes({
  listKafkaV3ClusterConfigs: listConfigs(CLUSTER_CONFIGS, 'List Cluster Configs (dynamic cluster-wide broker configs)', 'ClusterConfigDataList', 'cluster'),
  updateKafkaV3ClusterConfigs: alterConfigs('POST', `${CLUSTER_CONFIGS}:alter`, 'Batch Alter Cluster Configs', 'AlterConfigBatchRequestData', 'cluster'),
  getKafkaV3ClusterConfig: getConfig(`${CLUSTER_CONFIGS}/{name}`, 'Get Cluster Config', 'ClusterConfigData', 'cluster'),
  updateKafkaV3ClusterConfig: alterConfigs('PUT', `${CLUSTER_CONFIGS}/{name}`, 'Update Cluster Config', 'UpdateConfigRequestData', 'cluster'),
  deleteKafkaV3ClusterConfig: resetConfig(`${CLUSTER_CONFIGS}/{name}`, 'Reset Cluster Config', 'cluster'),
  listKafkaV3AllBrokerConfigs: listConfigs(`${C}/brokers/-/configs`, 'List Dynamic Broker Configs of every broker', 'BrokerConfigDataList', 'cluster'),
  listKafkaV3BrokerConfigs: listConfigs(BROKER_CONFIGS, 'List Broker Configs', 'BrokerConfigDataList', 'cluster'),
  updateKafkaV3BrokerConfigs: alterConfigs('POST', `${BROKER_CONFIGS}:alter`, 'Batch Alter Broker Configs', 'AlterConfigBatchRequestData', 'cluster'),
  getKafkaV3BrokerConfig: getConfig(`${BROKER_CONFIGS}/{name}`, 'Get Broker Config', 'BrokerConfigData', 'cluster'),
  updateKafkaV3BrokerConfig: alterConfigs('PUT', `${BROKER_CONFIGS}/{name}`, 'Update Broker Config', 'UpdateConfigRequestData', 'cluster'),
  deleteKafkaV3BrokerConfig: resetConfig(`${BROKER_CONFIGS}/{name}`, 'Reset Broker Config', 'cluster'),
  listKafkaV3AllTopicConfigs: {
    ...listConfigs(`${C}/topics/-/configs`, 'Get All Topic Configs', 'TopicConfigDataList', 'topic'),
    responses: { 200: { description: 'Every topic\'s configs.', schema: ref('TopicConfigDataList') } }
  },
  updateKafkaV3TopicsConfigsBatch: {
    ...alterConfigs('POST', `${C}/topics/-/configs:alter`, 'Batch Alter the Configs of several Topics', 'AlterTopicsConfigsBatchRequestData', 'topic'),
    description: 'In Confluent\'s code, not in its document.',
    responses: {
      204: NO_CONTENT_RESPONSE,
      207: { description: 'Some topics failed; one entry per failed topic.', schema: ref('AlterTopicsConfigsFailures') }
    }
  },
  listKafkaV3TopicConfigs: listConfigs(TOPIC_CONFIGS, 'List Topic Configs', 'TopicConfigDataList', 'topic'),
  updateKafkaV3TopicConfigBatch: alterConfigs('POST', `${TOPIC_CONFIGS}:alter`, 'Batch Alter Topic Configs', 'AlterConfigBatchRequestData', 'topic'),
  getKafkaV3TopicConfig: getConfig(`${TOPIC_CONFIGS}/{name}`, 'Get Topic Config', 'TopicConfigData', 'topic'),
  updateKafkaV3TopicConfig: alterConfigs('PUT', `${TOPIC_CONFIGS}/{name}`, 'Update Topic Config', 'UpdateConfigRequestData', 'topic'),
  deleteKafkaV3TopicConfig: resetConfig(`${TOPIC_CONFIGS}/{name}`, 'Reset Topic Config', 'topic')
})

export function configHandlers (deps: { resources: Resources, admin: KafkaAdmin, metadata: ClusterMetadata }): Handlers<typeof CONFIG_ROUTES> {
  const { resources, admin, metadata } = deps

  type ScopeOf = (ctx: Ctx, cid: string) => Promise<Scope>

  const list = (scopeOf: ScopeOf): Handler => async (ctx) => {
    const cid = await resources.cluster(ctx)
    const scope = await scopeOf(ctx, cid)
    const data = (await describe(admin, scope.resource)).map((e) => configData(scope, cid, e))
    return json(200, resources.list(`${scope.kind}List`, scope.listSelf, data))
  }
  const get = (scopeOf: ScopeOf): Handler => async (ctx) => {
    const cid = await resources.cluster(ctx)
    const scope = await scopeOf(ctx, cid)
    return json(200, configData(scope, cid, await findEntry(admin, scope, ctx.params.name as string)))
  }
  const put = (scopeOf: ScopeOf): Handler => async (ctx) => {
    const cid = await resources.cluster(ctx)
    const body = await resources.body(ctx)
    const value = body.value
    if (value !== undefined && value !== null && typeof value !== 'string') throw bad('value must be a string or null')
    checkProtocolLength(ctx.params.name as string, value)
    const scope = await scopeOf(ctx, cid)
    const name = ctx.params.name as string
    await requireKnown(admin, scope, [name])
    await alter(admin, scope.resource, [{ name, operation: 'SET', value: typeof value === 'string' ? value : null }], false)
    return NO_CONTENT
  }
  const reset = (scopeOf: ScopeOf): Handler => async (ctx) => {
    const cid = await resources.cluster(ctx)
    const scope = await scopeOf(ctx, cid)
    const name = ctx.params.name as string
    await requireKnown(admin, scope, [name])
    await alter(admin, scope.resource, [{ name, operation: 'DELETE', value: null }], false)
    return NO_CONTENT
  }
  const alterBatch = (scopeOf: ScopeOf): Handler => async (ctx) => {
    const cid = await resources.cluster(ctx)
    const batch = parseAlterBatch(await resources.body(ctx))
    const scope = await scopeOf(ctx, cid)
    // As for PUT/DELETE, a name the resource does not have is a 404 before anything changes.
    await requireKnown(admin, scope, batch.ops.map((op) => op.name))
    await alter(admin, scope.resource, batch.ops, batch.validateOnly)
    return NO_CONTENT
  }

  const cluster: ScopeOf = async (ctx, cid) => clusterScope(ctx, resources, cid)
  const broker: ScopeOf = async (ctx, cid) => brokerScope(ctx, resources, cid, (await resolveBroker(ctx, admin)).id)
  const topic: ScopeOf = async (ctx, cid) => topicScope(ctx, resources, cid, ctx.params.topic as string)

  /** Describes many resources in one go; `skip` says which failures leave a resource out. */
  async function describeMany (resourcesToDescribe: ConfigResource[], skip: (err: KafkaProtocolError) => boolean): Promise<Array<{ resource: ConfigResource, entries: ConfigEntry[] }>> {
    if (resourcesToDescribe.length === 0) return []
    let results
    try {
      results = await admin.describeConfigsMany(resourcesToDescribe)
    } catch (err) {
      throw adminError(err)
    }
    const out: Array<{ resource: ConfigResource, entries: ConfigEntry[] }> = []
    for (const r of results) {
      if ('error' in r) {
        if (skip(r.error)) continue
        throw adminError(r.error)
      }
      out.push({ resource: r.resource, entries: [...r.entries].sort(byName) })
    }
    return out
  }

  return {
    listKafkaV3ClusterConfigs: list(cluster),
    updateKafkaV3ClusterConfigs: alterBatch(cluster),
    getKafkaV3ClusterConfig: get(cluster),
    updateKafkaV3ClusterConfig: put(cluster),
    deleteKafkaV3ClusterConfig: reset(cluster),
    listKafkaV3BrokerConfigs: list(broker),
    updateKafkaV3BrokerConfigs: alterBatch(broker),
    getKafkaV3BrokerConfig: get(broker),
    updateKafkaV3BrokerConfig: put(broker),
    deleteKafkaV3BrokerConfig: reset(broker),
    listKafkaV3TopicConfigs: list(topic),
    updateKafkaV3TopicConfigBatch: alterBatch(topic),
    getKafkaV3TopicConfig: get(topic),
    updateKafkaV3TopicConfig: put(topic),
    deleteKafkaV3TopicConfig: reset(topic),
    async listKafkaV3AllBrokerConfigs (ctx) {
      const cid = await resources.cluster(ctx)
      const ids = (await describeCluster(admin)).brokers.map((b) => b.id).sort((a, b) => a - b)
      const described = await describeMany(ids.map((id) => ({ type: 'BROKER', name: String(id) })), () => false)
      const data = described.flatMap((d) => {
        const scope = brokerScope(ctx, resources, cid, Number(d.resource.name))
        return d.entries.map((e) => configData(scope, cid, e))
      })
      return json(200, resources.list('KafkaBrokerConfigList', resources.url(ctx, cid, 'brokers', '-', 'configs'), data))
    },
    async listKafkaV3AllTopicConfigs (ctx) {
      const cid = await resources.cluster(ctx)
      const names = [...(await metadata.current()).topics.keys()].filter((n) => !isInternalTopic(n)).sort()
      // A topic deleted between the metadata and DescribeConfigs is left out.
      const unknown = (err: KafkaProtocolError): boolean => adminError(err).key === 'unknownTopicOrPartition'
      const described = await describeMany(names.map((name) => ({ type: 'TOPIC', name })), unknown)
      const data = described
        .sort((a, b) => byName(a.resource, b.resource))
        .flatMap((d) => {
          const scope = topicScope(ctx, resources, cid, d.resource.name)
          return d.entries.map((e) => configData(scope, cid, e))
        })
      return json(200, resources.list('KafkaTopicConfigList', resources.url(ctx, cid, 'topics', '-', 'configs'), data))
    },
    async updateKafkaV3TopicsConfigsBatch (ctx) {
      await resources.cluster(ctx)
      const batch = parseTopicsAlterBatch(await resources.body(ctx))
      const changes = batch.changes
        .filter((c) => c.ops.length > 0)
        .map((c) => ({ resource: { type: 'TOPIC' as const, name: c.topic }, ops: c.ops }))
      if (changes.length === 0) return NO_CONTENT
      let results
      try {
        results = await admin.alterConfigsMany(changes, batch.validateOnly)
      } catch (err) {
        throw adminError(err)
      }
      const failures = results
        .filter((r): r is { resource: ConfigResource, error: KafkaProtocolError } => r.error !== null)
        .map((r) => {
          const e = adminError(r.error)
          return { topic_name: r.resource.name, error_code: e.errorCode, message: e.message }
        })
      // Confluent's AlterMultipleTopicsConfigsBatchAction: 207 when some topics failed.
      return failures.length === 0 ? NO_CONTENT : json(207, { failures })
    }
  }
}
