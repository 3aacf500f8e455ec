// Liveness and readiness for orchestrators and load balancers. Liveness says
// the process serves HTTP; readiness says it can reach the Kafka cluster and
// is not draining, so traffic only goes where produce can succeed.
import { reply, type Handler } from '../http/handler.js'
import type { ClusterMetadata } from '../kafka/metadata.js'

const LIVE = '{"status":"ok"}'
const READY = '{"status":"ready"}'
const DRAINING = '{"status":"draining"}'
const UNREACHABLE = '{"status":"kafka unreachable"}'

export function healthHandlers (metadata: ClusterMetadata, isDraining: () => boolean): { live: Handler, ready: Handler } {
  return {
    live: () => reply(200, 'application/json', LIVE),
    ready: () => {
      if (isDraining()) return reply(503, 'application/json', DRAINING)
      return metadata.reachable() ? reply(200, 'application/json', READY) : reply(503, 'application/json', UNREACHABLE)
    }
  }
}
