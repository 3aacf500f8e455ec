// v2 GET /brokers: the ids of the brokers in the cluster.
import fjs from 'fast-json-stringify'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply, type Handler } from '../../http/handler.js'
import type { ClusterMetadata } from '../../kafka/metadata.js'

const serializeBrokers = fjs({
  type: 'object',
  properties: { brokers: { type: 'array', items: { type: 'integer' } } },
  required: ['brokers']
})

export function brokerHandlers (metadata: ClusterMetadata): { list: Handler } {
  const negotiate = negotiator(V2_OFFERS)
  return {
    async list (ctx) {
      const type = acceptable(negotiate(ctx.req.headers.accept))
      const view = await metadata.current()
      return reply(200, type, serializeBrokers({ brokers: view.brokers.map((b) => b.id) }))
    }
  }
}
