// GET /metrics: the whole instance's metrics (every process, merged by the
// primary: src/metrics/cluster.ts) in Prometheus text format, or in
// OpenMetrics 1.0 when the scraper's Accept prefers it (Prometheus sends
// `application/openmetrics-text` first). An operations endpoint, not part of
// the Kafka API: left out of the OpenAPI document.
import { ProxyError } from '../errors.js'
import { reply } from '../http/handler.js'
import { acceptable, negotiator } from '../http/media.js'
import { defineRoutes, type Handlers } from '../http/route.js'
import { OPENMETRICS_TYPE, PROMETHEUS_TYPE, type MetricsSource } from '../metrics/cluster.js'

export const METRICS_PATH = '/metrics'

const OPENMETRICS = 'application/openmetrics-text'
const TEXT = 'text/plain'

export const METRICS_ROUTES = defineRoutes({
  metrics: {
    method: 'GET',
    path: METRICS_PATH,
    summary: 'Prometheus metrics of the whole instance',
    tags: [],
    internal: true,
    access: [],
    produces: [TEXT, OPENMETRICS],
    responses: { 200: { description: 'Prometheus text format 0.0.4, or OpenMetrics 1.0 by Accept.' } }
  }
})

/** `source` null: metrics.enabled is off and the route answers 404. */
export function metricsHandlers (source: MetricsSource | null): Handlers<typeof METRICS_ROUTES> {
  // Plain text first: a client without a preference gets the classic format.
  const negotiate = negotiator([{ type: TEXT, qs: 1 }, { type: OPENMETRICS, qs: 1 }])
  return {
    metrics: async (ctx) => {
      if (source === null) throw new ProxyError('notFound')
      const openMetrics = acceptable(negotiate(ctx.req.headers.accept)) === OPENMETRICS
      const body = await source.scrape(openMetrics)
      return { ...reply(200, openMetrics ? OPENMETRICS_TYPE : PROMETHEUS_TYPE, body), headers: { 'cache-control': 'no-store' } }
    }
  }
}
