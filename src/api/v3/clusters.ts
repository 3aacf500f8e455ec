// v3 clusters: GET /v3/clusters (the one cluster bootstrap.servers names) and
// GET /v3/clusters/{cluster_id}: links to everything below the cluster.
import { accept, json, type Resources } from './resource.js'
import type { Ctx } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import type { ClusterDescription, KafkaAdmin } from '../../kafka/admin.js'
import { describeCluster } from './brokers.js'
import { JSON_MEDIA, ref, V3_READ_ERRORS } from '../components.js'

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

const CLUSTER_TAGS = ['Cluster (v3)']

export const CLUSTER_ROUTES = defineRoutes({
  listKafkaV3Clusters: {
    method: 'GET',
    path: '/v3/clusters',
    summary: 'List Clusters (only the bootstrap.servers cluster)',
    tags: CLUSTER_TAGS,
    access: [{ operation: 'Describe', resource: 'cluster' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The clusters.', schema: ref('ClusterDataList') } },
    errors: V3_READ_ERRORS
  },
  getKafkaV3Cluster: {
    method: 'GET',
    path: '/v3/clusters/{cluster_id}',
    summary: 'Get Cluster',
    tags: CLUSTER_TAGS,
    access: [{ operation: 'Describe', resource: 'cluster' }],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The cluster.', schema: ref('ClusterData') } },
    errors: V3_READ_ERRORS
  }
})

export function clusterHandlers (deps: { resources: Resources, admin: KafkaAdmin }): Handlers<typeof CLUSTER_ROUTES> {
  const { resources, admin } = deps
  return {
    async listKafkaV3Clusters (ctx) {
      accept(ctx)
      const c = await describeCluster(admin)
      return json(200, resources.list('KafkaClusterList', `${resources.base(ctx)}/v3/clusters`, [clusterData(ctx, resources, c)]))
    },
    async getKafkaV3Cluster (ctx) {
      await resources.cluster(ctx)
      // Asked fresh: the cluster id is cached, the controller is not stable.
      return json(200, clusterData(ctx, resources, await describeCluster(admin)))
    }
  }
}
