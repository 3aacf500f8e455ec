// Access logs: one structured line per answered request (a RequestObserver of
// the listener, src/http/listener.ts). What a line holds is fixed here and
// never includes a body, a header value or a query string (a stream's key
// filter is in its query), so record contents cannot reach the log.
//
// log.access: "off"; "errors" (status >= 400); "sampled" (every error, other
// requests at log.access_sample_rate); "all".
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { Logger } from '../logger.js'
import type { RequestObserver } from './listener.js'
import type { BoundRoute } from './route.js'

export type AccessLogMode = 'off' | 'errors' | 'sampled' | 'all'

export interface AccessLogOptions {
  mode: AccessLogMode
  /** For "sampled": the share (0 to 1) of requests without an error that are logged. */
  sampleRate: number
  /**
   * The authenticated principal of a request, when security is on (filled in
   * by the security subsystem); absent: the field is left out.
   */
  principal?: (req: IncomingMessage) => string | undefined
}

/**
 * A request URL as logs may show it: the path without its query, which may
 * hold a stream's filters or a bearer token (auth.jwt.query_parameter).
 */
export function loggedUrl (url: string | undefined): string {
  const u = url ?? '/'
  const q = u.indexOf('?')
  return q === -1 ? u : `${u.slice(0, q)}?…`
}

/** The access log's observer, or null when it is off. */
export function accessLog (opts: AccessLogOptions, log: Logger): RequestObserver | null {
  if (opts.mode === 'off') return null
  const errorsOnly = opts.mode === 'errors'
  const rate = opts.mode === 'all' ? 1 : opts.mode === 'errors' ? 0 : opts.sampleRate
  const access = log.child({ log: 'access' })
  return {
    answered (req: IncomingMessage, res: ServerResponse, route: BoundRoute | null, startedAt: number): void {
      const status = res.headersSent ? res.statusCode : 499
      if (status < 400 && (errorsOnly || (rate < 1 && Math.random() >= rate))) return
      const url = req.url ?? '/'
      const q = url.indexOf('?')
      const length = res.getHeader('content-length')
      access.info({
        method: req.method,
        path: q === -1 ? url : url.slice(0, q),
        route: route?.spec.path ?? null,
        status,
        duration_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
        bytes_in: req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']),
        bytes_out: typeof length === 'number' ? length : typeof length === 'string' ? Number(length) : null,
        remote: req.socket.remoteAddress ?? null,
        http: req.httpVersion,
        principal: opts.principal?.(req) ?? null
      }, 'request')
    }
  }
}
