// The route other proxy instances ask to find a v2 consumer instance
// (src/shards/peers.ts): 204 when a process of this instance holds it, 404
// otherwise, and 404 to anything without a valid peer signature. Between
// instances only: internal, left out of the OpenAPI document.
import { ProxyError } from '../errors.js'
import { NO_CONTENT } from '../http/handler.js'
import { defineRoutes, type Handlers } from '../http/route.js'
import { LOCATE_PATH, type PeerDirectory } from '../shards/peers.js'

export const PEER_ROUTES = defineRoutes({
  peerLocateConsumer: {
    method: 'GET',
    path: LOCATE_PATH,
    summary: 'Whether this proxy instance holds a v2 consumer instance (asked by the other instances)',
    tags: [],
    internal: true,
    access: [],
    produces: ['application/json'],
    responses: { 204: { description: 'A process of this instance holds it.' } },
    head: false
  }
})

export interface PeerLocateDeps {
  /** Null with a single instance: the route answers 404. */
  peers: PeerDirectory | null
  /** True when a process of this instance holds (group, name). */
  holds (group: string, name: string): Promise<boolean>
}

export function peerHandlers (deps: PeerLocateDeps): Handlers<typeof PEER_ROUTES> {
  return {
    async peerLocateConsumer (ctx) {
      if (deps.peers === null || !deps.peers.verify(ctx.req)) throw new ProxyError('notFound')
      if (!await deps.holds(ctx.params.group as string, ctx.params.instance as string)) throw new ProxyError('consumerNotFound')
      return NO_CONTENT
    }
  }
}
