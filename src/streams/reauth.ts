// Continuous re-authorization of streams (docs/security.md, "Streams and
// token expiry"). A stream opened with a JWT lives only as long as its token:
// auth.challenge_ahead_s before the token's exp the stream gets a challenge
// (SSE: `event: challenge`; WebSocket: a challenge frame) naming how to
// answer; the answer is a fresh token of the same principal (SSE: a POST to
// /v3/streams/{stream_id}/authorization carrying it, answered 204;
// WebSocket: a {"token":"…"} frame, answered by an `authorized` frame). The
// fresh token must still let the principal consume every topic of the
// stream; it moves the stream's deadline to its own exp. A stream whose
// deadline passes ends with a final event (40102) carrying the id to resume
// from. When the keys change (SIGHUP, or a JWKS fetched again), the token of
// every stream is verified again, and a stream whose token no longer
// verifies ends the same way: removing a key from the JWKS revokes its
// streams.
//
// Streams of Basic, certificate or anonymous principals have no deadline and
// take no part in this.
//
// The POST answering an SSE challenge may reach any worker process: a
// stream's id is claimed in the consumer directory (src/shards/directory.ts)
// under a group name no v2 consumer group can have, so a worker that does not
// hold the stream forwards the POST to the one that does, as it forwards a v2
// consumer call.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { ProxyError } from '../errors.js'
import type { Principal } from '../security/principal.js'
import type { ConsumerDirectory } from '../shards/directory.js'
import { MAX_TIMER_MS } from '../api/v3/record-stream.js'

/** What a challenged client is told: the stream, until when its token holds, and where to send a fresh one. */
export interface Challenge {
  stream_id: string
  expires_at: string
  /** SSE: the request that answers (the fresh token as a Bearer Authorization header, or the token query parameter). */
  method: 'POST'
  path: string
}

/** A sink that can carry a challenge (SSE and WebSocket). */
export interface Challengeable {
  challenge (c: Challenge): void
  /** The stream's deadline moved to `expiresAt` (WebSocket: an `authorized` frame; SSE: nothing, the POST had its 204). */
  authorized (expiresAt: number): void
  /** WebSocket: `listener` gets each {"token"} frame. */
  onToken?: (listener: (token: string) => void) => void
  /** WebSocket: a {"token"} frame that did not renew the stream (an error frame; the stream goes on until its deadline). */
  refused?: (err: ProxyError) => void
}

export interface AuthorityOptions {
  /** How long before a token's exp its streams are challenged. */
  aheadMs: number
  /** The principal of a fresh token; rejects with 401 (Unauthenticated). */
  verify: (token: string) => Promise<Principal>
  /** The bearer token a request authenticated with (header, query parameter or cookie); null when none. */
  tokenOf: (req: IncomingMessage, query: string) => string | null
  /** Whether `p` may consume `topic` (the authorization rules). */
  mayConsume: (p: Principal, topic: string) => boolean
  /** Where other processes find this process's streams; null: this process alone. */
  directory: ConsumerDirectory | null
}

/** The directory group of streams: a v2 group name cannot be empty. */
export const STREAM_GROUP = ''

/** A live stream under a token. */
export interface Grant {
  readonly id: string
  close (): void
}

class LiveGrant implements Grant {
  private challengeTimer: NodeJS.Timeout | null = null
  private deadlineTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor (readonly id: string, private principal: Principal, private token: string, private readonly authority: StreamAuthority,
    private readonly sink: Challengeable, private readonly topics: () => readonly string[], private readonly end: (err: ProxyError) => void) {
    this.schedule()
  }

  get name (): string {
    return this.principal.name
  }

  get currentToken (): string {
    return this.token
  }

  /** Takes a fresh token's principal: same name, allowed every topic of the stream, expiring later. */
  renew (p: Principal, token: string): void {
    if (this.closed) throw new ProxyError('streamNotFound')
    if (p.name !== this.principal.name || p.expiresAt === null) throw new ProxyError('forbidden', 'Not allowed to renew another principal\'s stream')
    for (const topic of this.topics()) {
      if (!this.authority.opts.mayConsume(p, topic)) throw new ProxyError('forbidden', `Not allowed to consume topic ${topic}`)
    }
    this.principal = p
    this.token = token
    this.schedule()
    this.sink.authorized(p.expiresAt)
  }

  revoke (message: string): void {
    this.stop(new ProxyError('credentialsExpired', message))
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.clear()
    this.authority.forget(this)
  }

  private schedule (): void {
    this.clear()
    const expiresAt = this.principal.expiresAt as number
    const now = Date.now()
    const challengeAt = expiresAt - this.authority.opts.aheadMs
    this.challengeTimer = setTimeout(() => {
      this.challengeTimer = null
      this.sink.challenge({ stream_id: this.id, expires_at: new Date(expiresAt).toISOString(), method: 'POST', path: `/v3/streams/${this.id}/authorization` })
    }, Math.min(MAX_TIMER_MS, Math.max(0, challengeAt - now)))
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null
      this.stop(new ProxyError('credentialsExpired'))
    }, Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - now)))
    this.challengeTimer.unref()
    this.deadlineTimer.unref()
  }

  private stop (err: ProxyError): void {
    if (this.closed) return
    this.close()
    this.end(err)
  }

  private clear (): void {
    if (this.challengeTimer !== null) clearTimeout(this.challengeTimer)
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer)
    this.challengeTimer = null
    this.deadlineTimer = null
  }
}

/** The streams of one process that live under a token. */
export class StreamAuthority {
  private readonly grants = new Map<string, LiveGrant>()
  private revalidating: Promise<void> | null = null

  constructor (readonly opts: AuthorityOptions) {}

  get size (): number {
    return this.grants.size
  }

  /**
   * Puts a starting stream under its token's deadline; null when its
   * principal has none (Basic, certificate, anonymous) or no token is found.
   * `end` ends the stream with a final event carrying its id.
   */
  open (p: Principal, req: IncomingMessage, query: string, sink: Challengeable, topics: () => readonly string[], end: (err: ProxyError) => void): Grant | null {
    if (p.method !== 'jwt' || p.expiresAt === null) return null
    const token = this.opts.tokenOf(req, query)
    if (token === null) return null
    const grant = new LiveGrant(randomUUID(), p, token, this, sink, topics, end)
    this.grants.set(grant.id, grant)
    sink.onToken?.((fresh) => {
      this.opts.verify(fresh).then((fp) => grant.renew(fp, fresh)).catch((err: unknown) => {
        sink.refused?.(err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err }))
      })
    })
    // Nobody waits for the claim: a POST arriving before it lands is a 404 its client retries.
    this.opts.directory?.claim(STREAM_GROUP, grant.id).catch(() => {})
    return grant
  }

  /** Whether this process holds the stream. */
  holds (id: string): boolean {
    return this.grants.has(id)
  }

  /** The POST answering an SSE challenge, on the process that holds the stream. */
  renew (id: string, p: Principal, req: IncomingMessage, query: string): void {
    const grant = this.grants.get(id)
    if (grant === undefined) throw new ProxyError('streamNotFound')
    const token = this.opts.tokenOf(req, query)
    if (token === null || p.method !== 'jwt') throw new ProxyError('forbidden', 'A stream is renewed with a fresh bearer token')
    grant.renew(p, token)
  }

  /**
   * Before a renewal is forwarded to the process holding the stream: a token
   * that came in the query parameter left the URL once verified, so it goes
   * along as the Authorization header of the hop.
   */
  carryToken (req: IncomingMessage, query: string): void {
    const token = this.opts.tokenOf(req, query)
    if (token !== null && req.headers.authorization === undefined) req.headers.authorization = `Bearer ${token}`
  }

  /** The owner of a stream this process does not hold; null when none. */
  async locate (id: string): Promise<string | null> {
    return await (this.opts.directory?.locate(STREAM_GROUP, id) ?? Promise.resolve(null))
  }

  /**
   * The keys changed: verifies every stream's token again, one at a time,
   * and ends the streams whose token no longer verifies.
   */
  revalidate (): Promise<void> {
    this.revalidating ??= (async () => {
      for (const grant of [...this.grants.values()]) {
        try {
          const p = await this.opts.verify(grant.currentToken)
          if (p.name !== grant.name) grant.revoke('The credentials of this stream no longer name its principal')
        } catch (err) {
          if (err instanceof ProxyError && err.status === 401) grant.revoke('The credentials of this stream are no longer valid')
        }
      }
    })().finally(() => { this.revalidating = null })
    return this.revalidating
  }

  forget (grant: LiveGrant): void {
    if (this.grants.get(grant.id) !== grant) return
    this.grants.delete(grant.id)
    this.opts.directory?.release(STREAM_GROUP, grant.id).catch(() => {})
  }
}
