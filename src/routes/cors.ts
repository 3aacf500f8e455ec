// CORS of [[routes]] (the Fetch standard's CORS protocol): the global [cors]
// table, replaced by a route's own `cors` table. A preflight (OPTIONS with
// Origin and Access-Control-Request-Method) is answered here, without Kafka.
// Answers to allowed origins, errors included, carry the CORS headers so a
// script can read them; without allowed origins nothing is added.
import type { Ctx, Handler, Reply } from '../http/handler.js'
import { ProxyError } from '../errors.js'
import { errorJson } from '../http/error-response.js'
import type { CorsConfig } from '../config/schema.js'
import type { CorsPolicy } from './config.js'
import { POSITION_HEADER } from './request.js'

export function corsPolicyOf (c: CorsConfig): CorsPolicy {
  return Object.freeze({
    allowedOrigins: c.allowed_origins,
    allowedMethods: c.allowed_methods.map((m) => m.toUpperCase()),
    allowedHeaders: c.allowed_headers.map((h) => h.toLowerCase()),
    exposedHeaders: c.exposed_headers.map((h) => h.toLowerCase()),
    credentials: c.credentials,
    maxAgeS: c.max_age_s
  })
}

export function enabled (policy: CorsPolicy): boolean {
  return policy.allowedOrigins.length > 0
}

/** The Access-Control-Allow-Origin value for `origin`, or null when it is not allowed. */
function allowOrigin (policy: CorsPolicy, origin: string | undefined): string | null {
  if (origin === undefined) return null
  if (policy.allowedOrigins.includes(origin)) return origin
  // A credentialed answer cannot say `*` (Fetch standard, CORS check): it echoes the origin.
  if (policy.allowedOrigins.includes('*')) return policy.credentials ? origin : '*'
  return null
}

function base (policy: CorsPolicy, allowed: string): Record<string, string> {
  const out: Record<string, string> = { 'access-control-allow-origin': allowed, vary: 'Origin' }
  if (policy.credentials) out['access-control-allow-credentials'] = 'true'
  return out
}

/** Adds the CORS headers to every answer of `handler` to an allowed origin, error answers included. */
export function withCors (handler: Handler, policy: CorsPolicy, correlationHeader: string): Handler {
  const expose = [...new Set(['etag', 'location', POSITION_HEADER, correlationHeader, 'idempotent-replayed', ...policy.exposedHeaders])].join(', ')
  const decorate = (ctx: Ctx, r: Reply): Reply => {
    const allowed = allowOrigin(policy, ctx.req.headers.origin)
    if (allowed === null) return r
    return { ...r, headers: { ...r.headers, ...base(policy, allowed), 'access-control-expose-headers': expose } }
  }
  return async (ctx) => {
    try {
      return decorate(ctx, await handler(ctx))
    } catch (err) {
      if (!(err instanceof ProxyError) || allowOrigin(policy, ctx.req.headers.origin) === null) throw err
      const headers: Record<string, string> = {}
      if (err.key === 'payloadTooLarge') headers.connection = 'close'
      return decorate(ctx, { status: err.status, type: 'application/json', body: errorJson(err), headers })
    }
  }
}

/**
 * OPTIONS on a route path: a preflight is answered with the policy of the
 * route serving the method it asks about; any other OPTIONS with Allow.
 */
export function preflightHandler (policies: ReadonlyMap<string, CorsPolicy>, allow: string): Handler {
  return (ctx) => {
    const origin = ctx.req.headers.origin
    const asked = ctx.req.headers['access-control-request-method']?.toUpperCase()
    const policy = asked === undefined ? undefined : policies.get(asked === 'HEAD' ? 'GET' : asked)
    const allowed = policy === undefined ? null : allowOrigin(policy, origin)
    if (policy === undefined || allowed === null || asked === undefined) return { status: 204, body: null, headers: { allow } }
    const methods = policy.allowedMethods.length > 0 ? policy.allowedMethods.join(', ') : allow
    const requested = ctx.req.headers['access-control-request-headers']
    const headers = policy.allowedHeaders.length > 0 ? policy.allowedHeaders.join(', ') : requested
    const out: Record<string, string> = {
      ...base(policy, allowed),
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'access-control-allow-methods': methods,
      'access-control-max-age': String(policy.maxAgeS),
      allow
    }
    if (headers !== undefined && headers !== '') out['access-control-allow-headers'] = headers
    return { status: 204, body: null, headers: out }
  }
}
