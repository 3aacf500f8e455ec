// v3 clusters: GET /v3/clusters (the one cluster bootstrap.servers names) and
// GET /v3/clusters/{cluster_id}: links to everything below the cluster.
import { accept, json, type Resources } from './resource.js'
import type { Ctx } from '../../http/handler.js'
import type { ClusterDescription } from '../../kafka/protocol/admin.js'
import { describeCluster } from './brokers.js'
import type { V3Module } from './index.js'

function clusterData (ctx: Ctx, resources: Resources, c: ClusterDescription): Record<string, unknown> {
  const cid = c.clusterId
  const out: Record<string, unknown> = {
    kind: 'KafkaCluster',
    metadata: { self: resources.url(ctx, cid), resource_name: resources.crn(cid) },
    cluster_id: cid
  }
  // The controller is optional: omitted when the cluster reports none (-1).
  if (c.controllerId >= 0) out.controller = resources.related(resources.url(ctx, cid, 'brokers', c.controllerId))
  out.acls = resources.related(resources.url(ctx, cid, 'acls'))
  out.brokers = resources.related(resources.url(ctx, cid, 'brokers'))
  out.broker_configs = resources.related(resources.url(ctx, cid, 'broker-configs'))
  out.consumer_groups = resources.related(resources.url(ctx, cid, 'consumer-groups'))
  out.topics = resources.related(resources.url(ctx, cid, 'topics'))
  out.partition_reassignments = resources.related(resources.url(ctx, cid, 'topics', '-', 'partitions', '-', 'reassignment'))
  return out
}

export const registerClusters: V3Module = (router, deps) => {
  const { resources, admin } = deps
  router
    .add('GET', '/v3/clusters', async (ctx) => {
      accept(ctx)
      const c = await describeCluster(admin)
      return json(200, resources.list('KafkaClusterList', `${resources.base(ctx)}/v3/clusters`, [clusterData(ctx, resources, c)]))
    })
    .add('GET', '/v3/clusters/{cluster_id}', async (ctx) => {
      await resources.cluster(ctx)
      // Asked fresh: the cluster id is cached, the controller is not stable.
      return json(200, clusterData(ctx, resources, await describeCluster(admin)))
    })
  return undefined
}
