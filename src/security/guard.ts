// The request guard: authenticates every routed request (JWT, Basic, a
// client certificate, or anonymous) and authorizes it from its route's
// `access` list before the handler runs. Handlers whose resources are named
// in the body or that list resources get `ctx.security` to check or filter
// with. Built only when [auth] or [[authorization.rules]] configure
// something; otherwise the listener has no guard (one null check).
//
// Kafka ACL operations of the route table map to the rule words so:
//   Write -> produce; Read -> consume; Describe, DescribeConfigs -> describe;
//   Create -> create; Delete -> delete; Alter, AlterConfigs -> alter, but
//   Alter on the cluster (ACLs) -> admin; ClusterAction, IdempotentWrite -> admin.
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { AuthConfig, AuthorizationConfig } from '../config/schema.js'
import { ProxyError } from '../errors.js'
import type { Ctx } from '../http/handler.js'
import type { RequestGuard } from '../http/listener.js'
import type { Access, BoundRoute } from '../http/route.js'
import type { Logger } from '../logger.js'
import { Authorizer, type Operation, type ResourceKind } from './authorize.js'
import { JwtVerifier, TokenError } from './jwt.js'
import { readRolesFile, readUsersFile, verifyPassword } from './passwords.js'
import { ANONYMOUS, principal, type Principal } from './principal.js'
import { certificateIdentity } from './tls.js'

/** What a handler may ask of the request's security: who, and whether they may. */
export interface RequestSecurity {
  readonly principal: Principal
  allows (op: Operation, kind: ResourceKind, name: string): boolean
  /** Throws 403 unless allowed. */
  require (op: Operation, kind: ResourceKind, name: string): void
}

/** Carries the principal of a relayed v2 consumer call to the owning process (trusted only on the loopback listener). */
export const PRINCIPAL_HEADER = 'x-kafka-proxy-principal'

/** A 401 with its WWW-Authenticate challenge (RFC 9110 §11.6.1, RFC 6750 §3). */
export class Unauthenticated extends ProxyError {
  readonly headers: Record<string, string>
  constructor (message: string, challenge: string) {
    super('unauthenticated', message)
    this.headers = { 'www-authenticate': challenge }
  }
}

export function forbidden (op: Operation, kind: ResourceKind, name: string): ProxyError {
  return new ProxyError('forbidden', kind === 'cluster' || kind === 'route'
    ? `Not allowed to ${op} on this ${kind}`
    : `Not allowed to ${op} ${kind} ${name}`)
}

export function operationOf (access: Access): Operation {
  switch (access.operation) {
    case 'Write': return 'produce'
    case 'Read': return 'consume'
    case 'Describe': case 'DescribeConfigs': return 'describe'
    case 'Create': return 'create'
    case 'Delete': return 'delete'
    case 'Alter': return access.resource === 'cluster' ? 'admin' : 'alter'
    case 'AlterConfigs': return 'alter'
    default: return 'admin'
  }
}

interface Check {
  op: Operation
  kind: ResourceKind
  /** The path parameter naming the resource; null for the cluster. */
  param: string | null
  /** Only for requests that may write (not a plain GET: a stream's WebSocket may produce). */
  writes: boolean
}

function checksOf (route: BoundRoute): Check[] {
  const out: Check[] = []
  for (const a of route.spec.access) {
    if (a.resource !== 'topic' && a.resource !== 'group' && a.resource !== 'cluster') continue
    out.push({ op: operationOf(a), kind: a.resource, param: a.resource === 'topic' ? 'topic' : a.resource === 'group' ? 'group' : null, writes: a.operation === 'Write' })
  }
  return out
}

/** An Authorization header's scheme (lower case) and credentials (RFC 9110 §11.4). */
function credentialsOf (header: string): { scheme: string, value: string } {
  const space = header.indexOf(' ')
  return {
    scheme: (space === -1 ? header : header.slice(0, space)).toLowerCase(),
    value: space === -1 ? '' : header.slice(space + 1).trim()
  }
}

const BASIC_CACHE_ENTRIES = 10_000
const TOKEN_CACHE_ENTRIES = 10_000

export interface GuardOptions {
  auth: AuthConfig
  authorization: AuthorizationConfig
  /** Client certificates identify principals (server.tls.client_auth is not "none"). */
  mtls: boolean
  log: Logger
}

export class SecurityGuard {
  private readonly jwt: JwtVerifier | null
  private users: Map<string, string> | null = null
  private roles = new Map<string, string[]>()
  // A Basic header that verified -> its principal: scrypt costs tens of ms,
  // far too much to pay per request. In memory only (the header is in each
  // request's memory anyway); cleared on reload.
  private readonly basicCache = new Map<string, Principal>()
  // A token that verified -> its principal, until the token's exp: a
  // signature check (RS256 about 50 µs) is paid once per token, not per
  // request. Cleared on reload, so a key removed from the JWKS file stops
  // its tokens at once.
  private readonly tokenCache = new Map<string, Principal>()
  private readonly authorizer: Authorizer | null
  private readonly checks = new WeakMap<BoundRoute, Check[]>()
  private readonly views = new WeakMap<Principal, RequestSecurity>()
  private readonly certPrincipals = new Map<string, Principal>()
  // Tokens taken out of a request's query (withoutQueryToken), for bearerToken().
  private readonly queryTokens = new WeakMap<IncomingMessage, string>()
  /** True when requests without credentials are refused. */
  private readonly authenticates: boolean
  private readonly challenge: string

  constructor (private readonly opts: GuardOptions) {
    const { auth } = opts
    this.jwt = auth.jwt.jwks_url !== '' || auth.jwt.jwks_file !== '' ? new JwtVerifier(auth.jwt, opts.log) : null
    this.authorizer = opts.authorization.rules.length > 0 ? new Authorizer(opts.authorization.rules, opts.authorization.cache_entries) : null
    this.authenticates = (this.jwt !== null || auth.basic.users_file !== '' || opts.mtls) && !auth.anonymous
    const realm = JSON.stringify(auth.realm)
    this.challenge = [this.jwt !== null ? `Bearer realm=${realm}` : '', auth.basic.users_file !== '' ? `Basic realm=${realm}, charset="UTF-8"` : ''].filter((c) => c !== '').join(', ') || `Bearer realm=${realm}`
    this.reload()
  }

  /** True when the configuration asks for a guard at all. */
  static needed (auth: AuthConfig, authorization: AuthorizationConfig, mtls: boolean): boolean {
    return auth.jwt.jwks_url !== '' || auth.jwt.jwks_file !== '' || auth.basic.users_file !== '' || mtls || authorization.rules.length > 0
  }

  async start (): Promise<void> {
    await this.jwt?.start()
  }

  /** True when bearer tokens are taken (auth.jwt has keys). */
  get takesTokens (): boolean {
    return this.jwt !== null
  }

  /**
   * Calls `listener` when the JWT keys changed (a JWKS fetched again with
   * other keys, SIGHUP), after forgetting every token verified before: a
   * token whose key left the set stops at its next request.
   */
  onKeysChanged (listener: () => void): void {
    const jwt = this.jwt
    if (jwt === null) return
    jwt.keysChanged = () => {
      this.tokenCache.clear()
      listener()
    }
  }

  /** The principal of a bearer token (a stream's renewal); rejects with 401. */
  async verifyToken (token: string): Promise<Principal> {
    if (this.jwt === null) throw new Unauthenticated('Authentication failed: bearer tokens are not accepted here', this.challenge)
    return await this.bearer(token)
  }

  /** The bearer token a request carries (Authorization header, query parameter or cookie); null when none. */
  bearerToken (req: IncomingMessage, query: string): string | null {
    const taken = this.queryTokens.get(req)
    if (taken !== undefined) return taken
    const header = req.headers.authorization
    if (header !== undefined && header !== '') {
      const { scheme, value } = credentialsOf(header)
      return scheme === 'bearer' && value !== '' ? value : null
    }
    return this.jwt === null ? null : this.tokenOutsideHeader(req, query)
  }

  /** Reads the users, roles and JWKS files again (SIGHUP). */
  reload (): void {
    const { basic } = this.opts.auth
    if (basic.users_file !== '') this.users = readUsersFile(basic.users_file)
    if (basic.roles_file !== '') this.roles = readRolesFile(basic.roles_file)
    this.basicCache.clear()
    this.tokenCache.clear()
    this.jwt?.reload()
  }

  close (): void {
    this.jwt?.close()
  }

  /**
   * The listener's hook. A credential verified before (a cached token or
   * Basic header) is judged without a promise, so the usual request pays a
   * few Map lookups (bench/micro/guard.ts).
   */
  readonly guard: RequestGuard = (req, route, ctx, internal) => {
    // Probes answer whoever asks: an orchestrator has no credentials. Nor
    // does a browser opening the web console, whose files hold no data.
    if (ctx.path.startsWith('/health/') || route.spec.anonymous === true) return
    const known = this.known(req)
    if (known !== null) {
      this.admit(known, req, route, ctx, internal)
      return
    }
    return this.authenticate(req, ctx, internal).then((p) => this.admit(p, req, route, ctx, internal))
  }

  /** The principal of an Authorization header verified before; null otherwise. */
  private known (req: IncomingMessage): Principal | null {
    const header = req.headers.authorization
    if (header === undefined) return null
    const basic = this.basicCache.get(header)
    if (basic !== undefined) return basic
    const p = this.tokenCache.get(header)
    return p !== undefined && (p.expiresAt === null || p.expiresAt > Date.now()) ? p : null
  }

  /** The principal of a request; rejects with 401. */
  async authenticate (req: IncomingMessage, ctx: { query: string }, internal: boolean): Promise<Principal> {
    const header = req.headers.authorization
    if (header !== undefined && header !== '') {
      const { scheme, value } = credentialsOf(header)
      if (scheme === 'bearer' && this.jwt !== null) return await this.bearer(value)
      if (scheme === 'basic' && this.users !== null) return await this.basic(header, value)
      throw new Unauthenticated(`Authentication failed: the ${scheme} scheme is not accepted here`, this.challenge)
    }
    if (this.jwt !== null) {
      const token = this.tokenOutsideHeader(req, ctx.query)
      if (token !== null) {
        const p = await this.bearer(token)
        this.withoutQueryToken(req, ctx)
        return p
      }
    }
    if (internal) {
      // A relayed call: the process that accepted it authenticated it.
      const relayed = req.headers[PRINCIPAL_HEADER]
      if (typeof relayed === 'string') {
        const p = JSON.parse(relayed) as { name: string, method: Principal['method'], roles: string[] }
        return principal(p.name, p.method, p.roles)
      }
    }
    if (this.opts.mtls) {
      const name = certificateIdentity(req.socket as TLSSocket, this.opts.auth.mtls.identity)
      if (name !== null) {
        // One object per certificate identity, so the authorizer's decisions for it are found again.
        let p = this.certPrincipals.get(name)
        if (p === undefined) {
          if (this.certPrincipals.size >= BASIC_CACHE_ENTRIES) this.certPrincipals.clear()
          p = principal(name, 'mtls')
          this.certPrincipals.set(name, p)
        }
        return p
      }
    }
    if (this.authenticates) throw new Unauthenticated('Authentication required', this.challenge)
    return ANONYMOUS
  }

  /** A handler-facing view of what `p` may do; one per principal object. */
  security (p: Principal): RequestSecurity {
    let view = this.views.get(p)
    if (view === undefined) {
      view = this.view(p)
      this.views.set(p, view)
    }
    return view
  }

  private view (p: Principal): RequestSecurity {
    const authorizer = this.authorizer
    const allows = authorizer === null ? () => true : (op: Operation, kind: ResourceKind, name: string) => authorizer.allows(p, op, kind, name)
    return {
      principal: p,
      allows,
      require: (op, kind, name) => {
        if (!allows(op, kind, name)) throw forbidden(op, kind, name)
      }
    }
  }

  private admit (p: Principal, req: IncomingMessage, route: BoundRoute, ctx: Ctx, internal: boolean): void {
    ctx.security = this.security(p)
    if (!internal && route.spec.path.startsWith('/consumers/')) {
      // Overwrites anything a client sent under this name.
      req.headers[PRINCIPAL_HEADER] = JSON.stringify({ name: p.name, method: p.method, roles: p.roles })
    }
    const authorizer = this.authorizer
    if (authorizer === null) return
    if (authorizer.gatesRoutes && !authorizer.allows(p, 'describe', 'route', route.operationId) && !authorizer.allows(p, 'describe', 'route', route.spec.path)) {
      throw forbidden('describe', 'route', route.operationId)
    }
    let checks = this.checks.get(route)
    if (checks === undefined) {
      checks = checksOf(route)
      this.checks.set(route, checks)
    }
    // A plain GET cannot write; a WebSocket upgrade on a stream route may.
    const upgrade = req.headers.upgrade !== undefined
    for (const c of checks) {
      if (c.writes && req.method === 'GET' && !upgrade) continue
      if (c.param === null) {
        if (!authorizer.allows(p, c.op, 'cluster', '')) throw forbidden(c.op, 'cluster', '')
        continue
      }
      const name = ctx.params[c.param]
      // No name in the path (a list, a body that names them): the handler
      // filters or checks each; here only whether any could be allowed.
      if (name === undefined || name === '-') {
        if (!authorizer.allowsAny(p, c.op, c.kind)) throw forbidden(c.op, c.kind, '*')
        continue
      }
      if (!authorizer.allows(p, c.op, c.kind, name)) throw forbidden(c.op, c.kind, name)
    }
  }

  /** Keyed by the header form, `Bearer <token>`, so known() finds header tokens with one lookup. */
  private async bearer (token: string): Promise<Principal> {
    const key = `Bearer ${token}`
    const cached = this.tokenCache.get(key)
    // The clock skew allowed at verification is not extended here: a cached token ends at its exp.
    if (cached !== undefined && (cached.expiresAt === null || cached.expiresAt > Date.now())) return cached
    if (cached !== undefined) this.tokenCache.delete(key)
    try {
      const p = await (this.jwt as JwtVerifier).verify(token)
      if (this.tokenCache.size >= TOKEN_CACHE_ENTRIES) this.tokenCache.clear()
      this.tokenCache.set(key, p)
      return p
    } catch (err) {
      if (!(err instanceof TokenError)) throw err
      throw new Unauthenticated(`Authentication failed: ${err.reason}`,
        `Bearer realm=${JSON.stringify(this.opts.auth.realm)}, error="invalid_token", error_description="${err.reason}"`)
    }
  }

  private async basic (header: string, value: string): Promise<Principal> {
    const key = header
    const cached = this.basicCache.get(key)
    if (cached !== undefined) return cached
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    const name = colon === -1 ? '' : decoded.slice(0, colon)
    const hash = (this.users as Map<string, string>).get(name)
    if (hash === undefined || !(await verifyPassword(decoded.slice(colon + 1), hash))) {
      throw new Unauthenticated('Authentication failed: invalid_credentials', this.challenge)
    }
    const p = principal(name, 'basic', this.roles.get(name) ?? [])
    if (this.basicCache.size >= BASIC_CACHE_ENTRIES) this.basicCache.clear()
    this.basicCache.set(key, p)
    return p
  }

  /**
   * A token that came in the query parameter leaves the query and the URL
   * once verified: handlers (a stream refuses parameters it does not know),
   * logs and relays to other processes never see it. bearerToken() still
   * finds it, for a stream's deadline.
   */
  private withoutQueryToken (req: IncomingMessage, ctx: { query: string }): void {
    const param = this.opts.auth.jwt.query_parameter
    if (param === '' || !ctx.query.includes(`${param}=`)) return
    const token = new URLSearchParams(ctx.query).get(param)
    if (token === null) return
    const kept = ctx.query.split('&').filter((part) => {
      const eq = part.indexOf('=')
      const name = eq === -1 ? part : part.slice(0, eq)
      try {
        return decodeURIComponent(name.replace(/\+/g, ' ')) !== param
      } catch {
        return true
      }
    }).join('&')
    this.queryTokens.set(req, token)
    ctx.query = kept
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    req.url = (q === -1 ? url : url.slice(0, q)) + (kept === '' ? '' : `?${kept}`)
  }

  private tokenOutsideHeader (req: IncomingMessage, query: string): string | null {
    const { query_parameter: param, cookie } = this.opts.auth.jwt
    if (param !== '' && query !== '' && query.includes(`${param}=`)) {
      const v = new URLSearchParams(query).get(param)
      if (v !== null && v !== '') return v
    }
    if (cookie !== '' && req.headers.cookie !== undefined) {
      for (const part of req.headers.cookie.split(';')) {
        const eq = part.indexOf('=')
        if (eq !== -1 && part.slice(0, eq).trim() === cookie) return decodeURIComponent(part.slice(eq + 1).trim())
      }
    }
    return null
  }
}
