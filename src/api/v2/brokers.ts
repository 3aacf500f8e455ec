// v2 GET /brokers: the ids of the brokers in the cluster.
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import type { ClusterMetadata } from '../../kafka/metadata.js'
import { ref, serializer, V2_MEDIA, V2_TAGS } from '../components.js'

export const BROKER_ROUTES = defineRoutes({
  v2ListBrokers: {
    method: 'GET',
    path: '/brokers',
    summary: 'List broker IDs',
    tags: V2_TAGS,
    access: [{ operation: 'Describe', resource: 'cluster' }],
    produces: V2_MEDIA,
    responses: { 200: { description: 'Broker IDs.', schema: ref('V2Brokers') } },
    errors: [406, '5XX']
  }
})

const serializeBrokers = serializer(BROKER_ROUTES.v2ListBrokers, 200)

export function brokerHandlers (metadata: ClusterMetadata): Handlers<typeof BROKER_ROUTES> {
  const negotiate = negotiator(V2_OFFERS)
  return {
    async v2ListBrokers (ctx) {
      const type = acceptable(negotiate(ctx.req.headers.accept))
      const view = await metadata.current()
      return reply(200, type, serializeBrokers({ brokers: view.brokers.map((b) => b.id) }))
    }
  }
}
