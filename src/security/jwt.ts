// JWT bearer tokens (RFC 7519) verified with jose: the keys come from the
// issuer's JWKS (RFC 7517), fetched here so its Cache-Control max-age decides
// how long it is used, and fetched again when a token names a kid it does
// not have (a key rotation), at most once per cooldown so forged kids cannot
// make the proxy flood the issuer. A refusal says only a reason code.
import { readFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import type { AuthJwtConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'
import { principal, type Principal } from './principal.js'

/** Why a token was refused; the only detail a client is told. */
export type TokenRefusal = 'malformed' | 'expired' | 'not_yet_valid' | 'invalid_issuer' | 'invalid_audience' | 'invalid_claims' |
  'algorithm_not_allowed' | 'unknown_key' | 'invalid_signature' | 'no_identity' | 'keys_unavailable'

export class TokenError extends Error {
  constructor (readonly reason: TokenRefusal) {
    super(`token refused: ${reason}`)
    this.name = 'TokenError'
  }
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>

const MAX_AGE = /(?:^|,)\s*max-age\s*=\s*(\d+)/i

function reasonOf (err: unknown): TokenRefusal {
  if (err instanceof errors.JWTExpired) return 'expired'
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'invalid_issuer'
    if (err.claim === 'aud') return 'invalid_audience'
    if (err.claim === 'nbf' || err.claim === 'iat') return 'not_yet_valid'
    return 'invalid_claims'
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return 'algorithm_not_allowed'
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key'
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid_signature'
  return 'malformed'
}

export class JwtVerifier {
  private remote: { keys: KeyResolver, kids: Set<string>, expiresAt: number } | null = null
  private local: { keys: KeyResolver, kids: Set<string> } | null = null
  private fetching: Promise<void> | null = null
  private lastFetch = 0
  private readonly dispatcher: Agent | undefined
  private readonly algorithms: string[]

  constructor (private readonly cfg: AuthJwtConfig, private readonly log: Logger) {
    // `none` is no algorithm: never accepted, whatever the list says.
    this.algorithms = cfg.algorithms.filter((a) => a.toLowerCase() !== 'none')
    this.dispatcher = cfg.jwks_ca_file === '' ? undefined : new Agent({ connect: { ca: readFileSync(cfg.jwks_ca_file) } })
    this.reload()
  }

  /** Called when the keys changed (a JWKS fetched with other kids, jwks_file read again): tokens verified before may no longer verify. */
  keysChanged: (() => void) | null = null

  /** Reads jwks_file again (SIGHUP) and forgets the fetched JWKS, which is fetched on next use. */
  reload (): void {
    if (this.cfg.jwks_file !== '') {
      const jwks = JSON.parse(readFileSync(this.cfg.jwks_file, 'utf8')) as JSONWebKeySet
      const before = this.local?.kids
      this.local = { keys: createLocalJWKSet(jwks), kids: kidsOf(jwks) }
      if (before !== undefined) this.keysChanged?.()
    }
    if (this.remote !== null) this.remote.expiresAt = 0
  }

  /** Fetches the JWKS at start, so the first request does not wait for it; a failure is logged and retried on use. */
  async start (): Promise<void> {
    if (this.cfg.jwks_url === '') return
    await this.fetchKeys().catch((err: unknown) => this.log.warn({ err, url: this.cfg.jwks_url }, 'JWKS fetch failed; retried when a token arrives'))
  }

  /** The principal a token stands for; rejects with TokenError. */
  async verify (token: string): Promise<Principal> {
    const kid = kidOf(token)
    if (this.cfg.jwks_url !== '' && (this.remote === null || Date.now() >= this.remote.expiresAt ||
      (kid !== null && !this.remote.kids.has(kid) && this.local?.kids.has(kid) !== true && Date.now() - this.lastFetch >= this.cfg.jwks_cooldown_s * 1000))) {
      await this.fetchKeys().catch((err: unknown) => {
        if (this.remote === null) {
          this.log.warn({ err, url: this.cfg.jwks_url }, 'JWKS fetch failed')
          throw new TokenError('keys_unavailable')
        }
      })
    }
    const resolver = this.resolver(kid)
    if (resolver === null) throw new TokenError(this.cfg.jwks_url === '' && this.local === null ? 'keys_unavailable' : 'unknown_key')
    let payload: JWTPayload
    try {
      payload = (await jwtVerify(token, resolver, {
        algorithms: this.algorithms,
        clockTolerance: this.cfg.clock_skew_s,
        ...(this.cfg.issuer === '' ? {} : { issuer: this.cfg.issuer }),
        ...(this.cfg.audience === '' ? {} : { audience: this.cfg.audience })
      })).payload
    } catch (err) {
      throw new TokenError(reasonOf(err))
    }
    const name = payload[this.cfg.identity_claim]
    if (typeof name !== 'string' || name === '') throw new TokenError('no_identity')
    return principal(name, 'jwt', rolesOf(payload, this.cfg.roles_claim), payload as Record<string, unknown>, typeof payload.exp === 'number' ? payload.exp * 1000 : null)
  }

  close (): void {
    this.dispatcher?.close().catch(() => {})
  }

  private resolver (kid: string | null): KeyResolver | null {
    // A kid picks the set that has it; without one, the fetched set first.
    if (kid !== null && this.local?.kids.has(kid) === true) return this.local.keys
    if (this.remote !== null) return this.remote.keys
    return this.local?.keys ?? null
  }

  private async fetchKeys (): Promise<void> {
    this.fetching ??= (async () => {
      this.lastFetch = Date.now()
      const res = await request(this.cfg.jwks_url, {
        headers: { accept: 'application/json' },
        headersTimeout: this.cfg.jwks_timeout_ms,
        bodyTimeout: this.cfg.jwks_timeout_ms,
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher })
      })
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`JWKS answered ${res.statusCode}`)
      const jwks = JSON.parse(text) as JSONWebKeySet
      if (!Array.isArray(jwks.keys)) throw new Error('JWKS has no keys array')
      const cc = res.headers['cache-control']
      const maxAge = MAX_AGE.exec(Array.isArray(cc) ? cc.join(',') : cc ?? '')
      const ttl = maxAge === null || /no-cache|no-store/i.test(String(cc)) ? this.cfg.jwks_cache_s : Number(maxAge[1])
      const before = this.remote?.kids
      this.remote = { keys: createLocalJWKSet(jwks), kids: kidsOf(jwks), expiresAt: Date.now() + Math.max(1, ttl) * 1000 }
      if (before !== undefined && !sameKids(before, this.remote.kids)) this.keysChanged?.()
    })().finally(() => { this.fetching = null })
    await this.fetching
  }
}

function kidsOf (jwks: JSONWebKeySet): Set<string> {
  return new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'))
}

function sameKids (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false
  for (const k of a) if (!b.has(k)) return false
  return true
}

function kidOf (token: string): string | null {
  const dot = token.indexOf('.')
  if (dot <= 0) throw new TokenError('malformed')
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown }
    return typeof header.kid === 'string' ? header.kid : null
  } catch {
    throw new TokenError('malformed')
  }
}

function rolesOf (payload: JWTPayload, claim: string): string[] {
  if (claim === '') return []
  const value = payload[claim]
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string')
  if (typeof value === 'string') return value.split(' ').filter((r) => r !== '')
  return []
}
