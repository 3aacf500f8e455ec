// v3 brokers: GET /v3/clusters/{cluster_id}/brokers[/{broker_id}] and the
// replicas a broker hosts, …/brokers/{broker_id}/partition-replicas. Brokers
// (with rack) come from DescribeCluster, asked fresh so membership changes
// show at once.
import { ProxyError } from '../../errors.js'
import type { Ctx } from '../../http/handler.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic } from '../../kafka/metadata.js'
import type { BrokerNode, ClusterDescription, ProtocolAdmin } from '../../kafka/protocol/admin.js'
import { json, type Resources } from './resource.js'
import { replicaData } from './partitions.js'
import type { V3Module } from './index.js'

const BROKER = '/v3/clusters/{cluster_id}/brokers/{broker_id}'

export async function describeCluster (admin: ProtocolAdmin): Promise<ClusterDescription> {
  try {
    return await admin.describeCluster()
  } catch (err) {
    throw adminError(err)
  }
}

/** The broker named by `{broker_id}`; 404 "Broker <id> cannot be found." otherwise. */
export async function resolveBroker (ctx: Ctx, admin: ProtocolAdmin): Promise<BrokerNode> {
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

export const registerBrokers: V3Module = (router, deps) => {
  const { resources, admin, metadata } = deps
  router
    .add('GET', '/v3/clusters/{cluster_id}/brokers', async (ctx) => {
      const cid = await resources.cluster(ctx)
      const brokers = [...(await describeCluster(admin)).brokers].sort((a, b) => a.id - b.id)
      return json(200, resources.list('KafkaBrokerList', resources.url(ctx, cid, 'brokers'), brokers.map((b) => brokerData(ctx, resources, cid, b))))
    })
    .add('GET', BROKER, async (ctx) => {
      const cid = await resources.cluster(ctx)
      return json(200, brokerData(ctx, resources, cid, await resolveBroker(ctx, admin)))
    })
    .add('GET', `${BROKER}/partition-replicas`, async (ctx) => {
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
    })
  return undefined
}
