// SASL/OAUTHBEARER tokens for the admin client (./admin.ts), obtained the two
// ways librdkafka obtains them without an application callback, so the same
// [kafka.admin] properties work for both admin clients:
// - sasl.oauthbearer.method=oidc: the OAuth 2.0 client credentials grant
//   (RFC 6749 §4.4) at a token endpoint (KIP-768);
// - enable.sasl.oauthbearer.unsecure.jwt=true: an unsecured JWT (RFC 7515
//   "alg":"none") built from sasl.oauthbearer.config, which Kafka's default
//   OAuthBearerUnsecuredValidatorCallbackHandler accepts (KIP-255).

/** Returns a token valid now; providers cache it and renew it before it expires. */
export type TokenProvider = () => Promise<string>

// librdkafka renews a token at 80% of its lifetime.
const RENEW_AT = 0.8

export interface OidcOptions {
  tokenEndpoint: string
  clientId: string
  clientSecret: string
  /** Space-separated scopes, or undefined for the endpoint's default. */
  scope: string | undefined
  /** Bound of one token request. */
  timeoutMs: number
}

function cached (fetchToken: () => Promise<{ token: string, lifetimeMs: number }>): TokenProvider {
  let current: { token: string, renewAt: number } | null = null
  let pending: Promise<string> | null = null
  return async () => {
    if (current !== null && Date.now() < current.renewAt) return current.token
    pending ??= fetchToken().then(({ token, lifetimeMs }) => {
      current = { token, renewAt: Date.now() + lifetimeMs * RENEW_AT }
      return token
    }).finally(() => { pending = null })
    return await pending
  }
}

export function oidcTokenProvider (opts: OidcOptions): TokenProvider {
  return cached(async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    if (opts.scope !== undefined && opts.scope !== '') body.set('scope', opts.scope)
    // RFC 6749 §2.3.1: client credentials in HTTP Basic authentication, form-encoded first.
    const basic = Buffer.from(`${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`).toString('base64')
    const res = await fetch(opts.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs)
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`token endpoint ${opts.tokenEndpoint} answered ${res.status}: ${text.slice(0, 200)}`)
    const answer = JSON.parse(text) as { access_token?: unknown, expires_in?: unknown }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') {
      throw new Error(`token endpoint ${opts.tokenEndpoint} answered without an access_token`)
    }
    // RFC 6749 §5.1: expires_in is RECOMMENDED; without it the token's own exp claim says.
    const seconds = typeof answer.expires_in === 'number' ? answer.expires_in : jwtLifetimeSeconds(answer.access_token)
    return { token: answer.access_token, lifetimeMs: seconds * 1000 }
  })
}

function jwtLifetimeSeconds (token: string): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown }
    if (typeof claims.exp === 'number') return Math.max(1, claims.exp - Date.now() / 1000)
  } catch {}
  // Opaque token without a lifetime: renewed every minute.
  return 60
}

export interface UnsecuredJwtOptions {
  principal: string
  /** Claim name for the principal (librdkafka principalClaimName, default "sub"). */
  principalClaim: string
  scopes: string[]
  /** Claim name for the scopes (librdkafka scopeClaimName, default "scope"). */
  scopeClaim: string
  lifetimeSeconds: number
}

export function unsecuredJwtProvider (opts: UnsecuredJwtOptions): TokenProvider {
  return cached(async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = { [opts.principalClaim]: opts.principal, iat: now, exp: now + opts.lifetimeSeconds }
    if (opts.scopes.length > 0) claims[opts.scopeClaim] = opts.scopes
    const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    return { token: `${part({ alg: 'none' })}.${part(claims)}.`, lifetimeMs: opts.lifetimeSeconds * 1000 }
  })
}
