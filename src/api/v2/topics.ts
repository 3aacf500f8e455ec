// v2 topic metadata: GET /topics and GET /topics/{topic}.
import { ProxyError } from '../../errors.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import { adminError } from '../../kafka/errors.js'
import { isInternalTopic, type ClusterMetadata, type PartitionInfo } from '../../kafka/metadata.js'
import type { KafkaAdmin } from '../../kafka/admin.js'
import { arrayOf, ref, serializer, STRING, V2_MEDIA, V2_METADATA_ERRORS, V2_TAGS } from '../components.js'

export const TOPIC_ROUTES = defineRoutes({
  v2ListTopics: {
    method: 'GET',
    path: '/topics',
    summary: 'List topic names (sorted, internal topics excluded)',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'Topic names.', schema: arrayOf(STRING) } },
    errors: V2_METADATA_ERRORS
  },
  v2GetTopic: {
    method: 'GET',
    path: '/topics/{topic}',
    summary: 'Get a topic',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'topic' }, { operation: 'DescribeConfigs', resource: 'topic' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'The topic.', schema: ref('V2Topic') } },
    errors: V2_METADATA_ERRORS
  }
})

const serializeNames = serializer(TOPIC_ROUTES.v2ListTopics, 200)
const serializeTopic = serializer(TOPIC_ROUTES.v2GetTopic, 200)

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
export function topicHandlers (metadata: ClusterMetadata, admin?: KafkaAdmin): Handlers<typeof TOPIC_ROUTES> {
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
    async v2ListTopics (ctx) {
      const type = accept(ctx.req.headers.accept)
      const view = await metadata.current()
      const names = [...view.topics.keys()].filter((n) => !isInternalTopic(n) && ctx.security?.allows('describe', 'topic', n) !== false).sort()
      return reply(200, type, serializeNames(names))
    },
    async v2GetTopic (ctx) {
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
