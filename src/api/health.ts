// Liveness and readiness for orchestrators and load balancers. Liveness says
// the process serves HTTP; readiness says it can reach the Kafka cluster and
// is not draining, so traffic only goes where produce can succeed.
import { reply } from '../http/handler.js'
import { defineRoutes, type Handlers } from '../http/route.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import { EXTENSION_TAGS, JSON_MEDIA, ref } from './components.js'

const LIVE = '{"status":"ok"}'
const READY = '{"status":"ready"}'
const DRAINING = '{"status":"draining"}'
const UNREACHABLE = '{"status":"kafka unreachable"}'

export const HEALTH_ROUTES = defineRoutes({
  healthLive: {
    method: 'GET',
    path: '/health/live',
    summary: 'Liveness: 200 while the process serves HTTP',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [],
    produces: JSON_MEDIA,
    responses: { 200: { description: '`{"status":"ok"}`', schema: ref('Health') } }
  },
  healthReady: {
    method: 'GET',
    path: '/health/ready',
    summary: 'Readiness: 200 while the Kafka cluster is reachable and the process is not draining',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [],
    produces: JSON_MEDIA,
    responses: {
      200: { description: '`{"status":"ready"}`', schema: ref('Health') },
      503: { description: '`{"status":"draining"}` or `{"status":"kafka unreachable"}`', schema: ref('Health') }
    }
  }
})

export function healthHandlers (metadata: ClusterMetadata, isDraining: () => boolean): Handlers<typeof HEALTH_ROUTES> {
  return {
    healthLive: () => reply(200, 'application/json', LIVE),
    healthReady: () => {
      if (isDraining()) return reply(503, 'application/json', DRAINING)
      return metadata.reachable() ? reply(200, 'application/json', READY) : reply(503, 'application/json', UNREACHABLE)
    }
  }
}
