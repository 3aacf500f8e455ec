// v3 brokers: GET /v3/clusters/{cluster_id}/brokers[/{broker_id}] and the
// replicas a broker hosts, …/brokers/{broker_id}/partition-replicas. Brokers
// (with rack) come from DescribeCluster, asked fresh so membership changes
// show at once.
import { ProxyError } from '../../errors.js'
import type { Ctx } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic, type ClusterMetadata } from '../../kafka/metadata.js'
import type { BrokerNode, ClusterDescription, KafkaAdmin } from '../../kafka/admin.js'
import { json, type Resources } from './resource.js'
import { replicaData } from './partitions.js'
import { JSON_MEDIA, ref, V3_READ_ERRORS } from '../components.js'

const BROKER = '/v3/clusters/{cluster_id}/brokers/{broker_id}'

export async function describeCluster (admin: KafkaAdmin): Promise<ClusterDescription> {
  try {
    return await admin.describeCluster()
  } catch (err) {
    throw adminError(err)
  }
}

/** The broker named by `{broker_id}`; 404 "Broker <id> cannot be found." otherwise. */
export async function resolveBroker (ctx: Ctx, admin: KafkaAdmin): Promise<BrokerNode> {
  const raw = ctx.params.broker_id as string
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : -1
  const broker = (await describeCluster(admin)).brokers.find((b) => b.id === id)
  if (broker === undefined) throw new ProxyError('notFound', `Broker ${raw} cannot be found.`)
  return broker
}

export function brokerData (ctx: Ctx, resources: Resources, cid: string, b: BrokerNode): Record<string, unknown> {
  return {
    kind: 'KafkaBroker',
    metadata: { self: resources.url(ctx, cid, 'brokers', b.id), resource_name: resources.crn(cid, ['broker', b.id]) },
    cluster_id: cid,
    broker_id: b.id,
    host: b.host,
    port: b.port,
    rack: b.rack,
    configs: resources.related(resources.url(ctx, cid, 'brokers', b.id, 'configs')),
    partition_replicas: resources.related(resources.url(ctx, cid, 'brokers', b.id, 'partition-replicas'))
  }
}

const BROKER_TAGS = ['Broker (v3)']
const DESCRIBE_CLUSTER = { operation: 'Describe', resource: 'cluster' } as const

export const V3_BROKER_ROUTES = defineRoutes({
  listKafkaV3Brokers: {
    method: 'GET',
    path: '/v3/clusters/{cluster_id}/brokers',
    summary: 'List Brokers',
    tags: BROKER_TAGS,
    access: [DESCRIBE_CLUSTER],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The brokers.', schema: ref('BrokerDataList') } },
    errors: V3_READ_ERRORS
  },
  getKafkaV3Broker: {
    method: 'GET',
    path: BROKER,
    summary: 'Get Broker',
    tags: BROKER_TAGS,
    access: [DESCRIBE_CLUSTER],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The broker.', schema: ref('BrokerData') } },
    errors: V3_READ_ERRORS
  },
  searchKafkaV3ReplicasByBroker: {
    method: 'GET',
    path: `${BROKER}/partition-replicas`,
    summary: 'Search Replicas by Broker',
    tags: BROKER_TAGS,
    access: [DESCRIBE_CLUSTER, { operation: 'Describe', resource: 'topic' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The replicas.', schema: ref('ReplicaDataList') } },
    errors: V3_READ_ERRORS
  }
})

export function v3BrokerHandlers (deps: { resources: Resources, admin: KafkaAdmin, metadata: ClusterMetadata }): Handlers<typeof V3_BROKER_ROUTES> {
  const { resources, admin, metadata } = deps
  return {
    async listKafkaV3Brokers (ctx) {
      const cid = await resources.cluster(ctx)
      const brokers = [...(await describeCluster(admin)).brokers].sort((a, b) => a.id - b.id)
      return json(200, resources.list('KafkaBrokerList', resources.url(ctx, cid, 'brokers'), brokers.map((b) => brokerData(ctx, resources, cid, b))))
    },
    async getKafkaV3Broker (ctx) {
      const cid = await resources.cluster(ctx)
      return json(200, brokerData(ctx, resources, cid, await resolveBroker(ctx, admin)))
    },
    async searchKafkaV3ReplicasByBroker (ctx) {
      const cid = await resources.cluster(ctx)
      const broker = await resolveBroker(ctx, admin)
      const view = await metadata.current()
      const data: Array<Record<string, unknown>> = []
      const topics = [...view.topics.values()]
        .filter((t) => !isInternalTopic(t.name))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      for (const t of topics) {
        for (const p of t.partitions) {
          if (p !== undefined && p.replicas.includes(broker.id)) data.push(replicaData(ctx, resources, cid, t.name, p, broker.id))
        }
      }
      return json(200, resources.list('KafkaReplicaList', resources.url(ctx, cid, 'brokers', broker.id, 'partition-replicas'), data))
    }
  }
}
