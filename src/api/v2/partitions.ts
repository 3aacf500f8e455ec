// v2 partition metadata: GET /topics/{topic}/partitions, .../partitions/{partition}
// and .../partitions/{partition}/offsets.
import fjs from 'fast-json-stringify'
import { ProxyError } from '../../errors.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply, type Ctx, type Handler } from '../../http/handler.js'
import type { ClusterMetadata, PartitionInfo, TopicInfo } from '../../kafka/metadata.js'
import type { KafkaProducer } from '../../kafka/producer.js'
import { partitionBody, partitionSchema } from './topics.js'
import { parsePartition } from './produce.js'

const serializePartitions = fjs({ type: 'array', items: partitionSchema })
const serializePartition = fjs(partitionSchema)
const serializeOffsets = fjs({
  type: 'object',
  properties: { beginning_offset: { type: 'integer' }, end_offset: { type: 'integer' } },
  required: ['beginning_offset', 'end_offset']
})

export function partitionHandlers (metadata: ClusterMetadata, producer: KafkaProducer, timeoutMs: number): { list: Handler, get: Handler, offsets: Handler } {
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
    async list (ctx) {
      const { type, topic } = await resolve(ctx)
      return reply(200, type, serializePartitions(topic.partitions.map(partitionBody)))
    },
    async get (ctx) {
      const { type, topic } = await resolve(ctx)
      return reply(200, type, serializePartition(partitionBody(partitionOf(ctx, topic))))
    },
    async offsets (ctx) {
      const { type, topic } = await resolve(ctx)
      const p = partitionOf(ctx, topic)
      const w = await producer.watermarks(topic.name, p.id, timeoutMs)
      return reply(200, type, serializeOffsets({ beginning_offset: w.low, end_offset: w.high }))
    }
  }
}
