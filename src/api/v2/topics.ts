// v2 topic metadata: GET /topics and GET /topics/{topic}.
import fjs, { type ObjectSchema } from 'fast-json-stringify'
import { ProxyError } from '../../errors.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply, type Handler } from '../../http/handler.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic, type ClusterMetadata, type PartitionInfo } from '../../kafka/metadata.js'
import type { ProtocolAdmin } from '../../kafka/protocol/admin.js'

const serializeNames = fjs({ type: 'array', items: { type: 'string' } })

export const partitionSchema: ObjectSchema = {
  type: 'object',
  properties: {
    partition: { type: 'integer' },
    leader: { type: 'integer' },
    replicas: {
      type: 'array',
      items: {
        type: 'object',
        properties: { broker: { type: 'integer' }, leader: { type: 'boolean' }, in_sync: { type: 'boolean' } },
        required: ['broker', 'leader', 'in_sync']
      }
    }
  },
  required: ['partition', 'leader', 'replicas']
}

const serializeTopic = fjs({
  type: 'object',
  properties: {
    name: { type: 'string' },
    configs: { type: 'object', additionalProperties: { type: 'string', nullable: true } },
    partitions: { type: 'array', items: partitionSchema }
  },
  required: ['name', 'configs', 'partitions']
})

export function partitionBody (p: PartitionInfo): { partition: number, leader: number, replicas: Array<{ broker: number, leader: boolean, in_sync: boolean }> } {
  return {
    partition: p.id,
    leader: p.leader,
    replicas: p.replicas.map((broker) => ({ broker, leader: broker === p.leader, in_sync: p.isrs.includes(broker) }))
  }
}

/**
 * `admin` reads the topic's configs (DescribeConfigs); without it `configs`
 * stays empty.
 */
export function topicHandlers (metadata: ClusterMetadata, admin?: ProtocolAdmin): { list: Handler, get: Handler } {
  async function configsOf (name: string): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {}
    if (admin === undefined) return out
    let entries
    try {
      entries = await admin.describeConfigs({ type: 'TOPIC', name })
    } catch (err) {
      const e = adminError(err)
      // Deleted between the metadata answer and DescribeConfigs.
      if (e.key === 'unknownTopicOrPartition') throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
      throw e
    }
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) out[e.name] = e.value
    return out
  }

  const negotiate = negotiator(V2_OFFERS)
  const accept = (header: string | undefined): string => acceptable(negotiate(header))
  return {
    async list (ctx) {
      const type = accept(ctx.req.headers.accept)
      const view = await metadata.current()
      const names = [...view.topics.keys()].filter((n) => !isInternalTopic(n)).sort()
      return reply(200, type, serializeNames(names))
    },
    async get (ctx) {
      const type = accept(ctx.req.headers.accept)
      const name = ctx.params.topic as string
      const view = await metadata.current()
      const topic = view.topics.get(name)
      if (topic === undefined) throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
      return reply(200, type, serializeTopic({
        name,
        configs: await configsOf(name),
        partitions: topic.partitions.map(partitionBody)
      }))
    }
  }
}
