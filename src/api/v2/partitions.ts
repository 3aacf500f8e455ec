// v2 partition metadata: GET /topics/{topic}/partitions, .../partitions/{partition}
// and .../partitions/{partition}/offsets.
import { ProxyError } from '../../errors.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply, type Ctx } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import type { ClusterMetadata, PartitionInfo, TopicInfo } from '../../kafka/metadata.js'
import type { KafkaProducer } from '../../kafka/producer.js'
import { partitionBody } from './topics.js'
import { parsePartition } from './produce.js'
import { arrayOf, ref, serializer, V2_MEDIA, V2_METADATA_ERRORS, V2_TAGS } from '../components.js'

export const PARTITION_ROUTES = defineRoutes({
  v2ListPartitions: {
    method: 'GET',
    path: '/topics/{topic}/partitions',
    summary: 'List a topic\'s partitions',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'The partitions.', schema: arrayOf(ref('V2Partition')) } },
    errors: V2_METADATA_ERRORS
  },
  v2GetPartition: {
    method: 'GET',
    path: '/topics/{topic}/partitions/{partition}',
    summary: 'Get a partition',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'The partition.', schema: ref('V2Partition') } },
    errors: V2_METADATA_ERRORS
  },
  v2GetPartitionOffsets: {
    method: 'GET',
    path: '/topics/{topic}/partitions/{partition}/offsets',
    summary: 'Beginning and end offsets of a partition',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'The offsets.', schema: ref('V2PartitionOffsets') } },
    errors: V2_METADATA_ERRORS
  }
})

const serializePartitions = serializer(PARTITION_ROUTES.v2ListPartitions, 200)
const serializePartition = serializer(PARTITION_ROUTES.v2GetPartition, 200)
const serializeOffsets = serializer(PARTITION_ROUTES.v2GetPartitionOffsets, 200)

export function partitionHandlers (metadata: ClusterMetadata, producer: KafkaProducer, timeoutMs: number): Handlers<typeof PARTITION_ROUTES> {
  const negotiate = negotiator(V2_OFFERS)

  async function resolve (ctx: Ctx): Promise<{ type: string, topic: TopicInfo }> {
    const type = acceptable(negotiate(ctx.req.headers.accept))
    const name = ctx.params.topic as string
    const topic = (await metadata.current()).topics.get(name)
    if (topic === undefined) throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
    return { type, topic }
  }

  function partitionOf (ctx: Ctx, topic: TopicInfo): PartitionInfo {
    const id = parsePartition(ctx.params.partition as string)
    const p = topic.partitions[id]
    if (p === undefined) throw new ProxyError('partitionNotFound', `Partition ${id} of topic ${topic.name} not found.`)
    return p
  }

  return {
    async v2ListPartitions (ctx) {
      const { type, topic } = await resolve(ctx)
      return reply(200, type, serializePartitions(topic.partitions.map(partitionBody)))
    },
    async v2GetPartition (ctx) {
      const { type, topic } = await resolve(ctx)
      return reply(200, type, serializePartition(partitionBody(partitionOf(ctx, topic))))
    },
    async v2GetPartitionOffsets (ctx) {
      const { type, topic } = await resolve(ctx)
      const p = partitionOf(ctx, topic)
      const w = await producer.watermarks(topic.name, p.id, timeoutMs)
      return reply(200, type, serializeOffsets({ beginning_offset: w.low, end_offset: w.high }))
    }
  }
}
