// The HTTP side of one process: the public listener and the loopback one for
// calls relayed from other workers, dispatch of each request to its route,
// writing replies, the upload deadline, the connection limit, and the steps
// of a drain. It knows routes (http/route.ts), not what they do.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type { AddressInfo, Server, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { performance } from 'node:perf_hooks'
import type { Duplex } from 'node:stream'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Ctx, Reply } from './handler.js'
import { rawErrorResponse, sendError } from './error-response.js'
import { loggedUrl } from './access-log.js'
import type { RequestSecurity } from '../security/guard.js'
import type { BoundRoute } from './route.js'
import type { TlsServerOptions } from '../security/tls.js'
import { Router, type RouteMatch } from './router.js'

export interface ListenerOptions {
  host: string
  port: number
  keepAliveTimeoutMs: number
  headersTimeoutMs: number
  maxHeaderBytes: number
  maxUrlBytes: number
  /** Connections over this many are answered 503 and closed; 0: no limit. */
  maxConnections: number
  /** server.request_timeout_ms: how long a request body may take to arrive; 0: no limit. */
  uploadDeadlineMs: number
  /** Open connections allowed from one client address; over it a retriable 429; 0: no limit. */
  maxConnectionsPerAddress?: number
  /** Requests one HTTP/1.1 connection may carry (node:http maxRequestsPerSocket); 0: no limit. */
  maxRequestsPerConnection?: number
  /** TLS on the public listener (src/security/tls.ts); absent: plain HTTP. */
  tls?: TlsServerOptions | null
  /** With TLS: HTTP/2 negotiated by ALPN, HTTP/1.1 for clients that do not offer h2. */
  http2?: boolean
}

/**
 * Runs before a routed request reaches its handler (authentication and
 * authorization, src/security/guard.ts); rejects with the refusal. Resolves
 * to what the handler's context carries of it.
 */
export type RequestGuard = (req: IncomingMessage, route: BoundRoute, ctx: Ctx, internal: boolean) => void | Promise<void>

// Set on an accepted socket over a connection limit: the error its first
// request is answered with. A property rather than a WeakSet entry because an
// HTTP/2 request's `socket` is a proxy of the session's socket that forwards
// property reads, but is not the socket itself.
const kRefusal = Symbol('kafka-proxy.refusal')
type Accepted = Socket & { [kRefusal]?: ProxyError }

type ClientError = NodeJS.ErrnoException & { rawPacket?: unknown, reason?: unknown }

/**
 * Told of every request of the public listener once it is answered (a
 * stream: once it ended), for metrics and access logs. `route` is null when
 * no route matched; `startedAt` is performance.now() at its arrival.
 * Relayed calls on the loopback listener are not reported: the process that
 * accepted them reports them.
 */
export interface RequestObserver {
  answered (req: IncomingMessage, res: ServerResponse, route: BoundRoute | null, startedAt: number): void
}

/**
 * Takes a WebSocket upgrade request (RFC 6455 §4.1) and its socket; false
 * when it does not serve the request's path, which is then answered as an
 * ordinary request.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, security: RequestSecurity | undefined) => boolean

/**
 * The error a socket error of node's HTTP parser stands for (node:http
 * `clientError`). `rawPacket` is the chunk being parsed: when it starts a
 * request whose first line alone is over `maxUrlBytes`, the URL is what
 * overflowed the header limit, so the answer is 414, not 431.
 */
export function clientErrorOf (err: ClientError, maxUrlBytes: number): ProxyError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': {
      const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : null
      if (raw !== null && /^[A-Z]+ /.test(raw.subarray(0, 16).toString('latin1'))) {
        const eol = raw.indexOf('\r\n')
        if (eol === -1 || eol > maxUrlBytes) return new ProxyError('uriTooLong')
      }
      return new ProxyError('headersTooLarge')
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProxyError('requestTimeout', 'The request headers were not received in time')
    default:
      return new ProxyError('malformedRequest', typeof err.reason === 'string' && err.reason !== ''
        ? `Malformed HTTP request: ${err.reason}`
        : undefined)
  }
}

function listening (server: Server, port: number, host: string, exclusive = false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, host, exclusive }, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref())

export class HttpListener {
  // draining: new requests are refused with 50303. closing: the drain wait is
  // over and subsystems are closing; whatever a request still in flight
  // fails with is the shutdown's doing, so it answers 50303 too.
  private draining = false
  private closing = false
  private inflight = 0
  private idle: (() => void) | null = null
  // startedAt: performance.now() at arrival; -1 when not observed (relayed calls, no observer).
  private readonly running = new Map<ServerResponse, { req: IncomingMessage, route: BoundRoute, startedAt: number }>()
  // Until serve() is given the routes, nothing is routed (404).
  private router: Router<BoundRoute> = new Router()
  private connections = 0
  // Open connections per client address, for maxConnectionsPerAddress.
  private readonly perAddress = new Map<string, number>()
  // HTTP/2 sessions: drained with GOAWAY, closed at the end (an HTTP/2 server
  // has no closeIdleConnections/closeAllConnections).
  private readonly sessions = new Set<http2.Http2Session>()
  // HTTP/1.1 connections of a server that also speaks HTTP/2, closed at the end.
  private readonly h1Sockets = new Set<Socket>()
  private guard: RequestGuard | null = null
  // node's requestTimeout would also cut off v3 produce streams, which live up
  // to v3.stream_max_duration_ms, so the proxy enforces the upload deadline
  // itself, for every other route: one sweep a second over the requests whose
  // body is still arriving (a Map entry per such request, no timer each).
  private readonly uploads = new Map<IncomingMessage, { res: ServerResponse, startedAt: number }>()
  private sweep: NodeJS.Timeout | undefined
  private readonly server: http.Server | https.Server | http2.Http2SecureServer
  private readonly h2: boolean
  private readonly internal: http.Server
  private closed: Promise<void> | null = null
  private upgrades: UpgradeHandler | null = null
  // The [[routes]] of the config (src/routes/), consulted before the router; null when none are configured.
  private appRoutes: ((method: string, path: string) => RouteMatch<BoundRoute> | null) | null = null
  private observer: RequestObserver | null = null

  constructor (private readonly opts: ListenerOptions, private readonly log: Logger) {
    // Forwarded consumer calls arrive on a loopback port of this process alone.
    this.internal = http.createServer({ keepAliveTimeout: opts.keepAliveTimeoutMs }, (req, res) => this.dispatch(req, res, true))
    const h1 = {
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      // node checks headersTimeout on this interval (30 s by default), so a
      // short limit would otherwise fire up to 30 s late.
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(opts.headersTimeoutMs / 4))),
      maxHeaderSize: opts.maxHeaderBytes,
      requestTimeout: 0
    }
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.dispatch(req, res, false)
    const tls = opts.tls ?? null
    this.h2 = tls !== null && opts.http2 === true
    if (tls === null) {
      this.server = http.createServer(h1, onRequest)
    } else if (opts.http2 === true) {
      // HTTP/2 only over TLS (ALPN h2, RFC 9113 §3.2); clients that offer
      // only http/1.1 (curl --http1.1, WebSocket clients) get HTTP/1.1 from
      // the same port. Many SSE streams then share one connection.
      this.server = http2.createSecureServer({
        ...tls,
        allowHTTP1: true,
        settings: { maxHeaderListSize: opts.maxHeaderBytes },
        maxSendHeaderBlockLength: opts.maxHeaderBytes
      }, onRequest as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
      this.server.on('session', (session: http2.Http2Session) => {
        this.sessions.add(session)
        session.once('close', () => this.sessions.delete(session))
        session.on('error', () => {})
      })
      this.server.setTimeout(opts.keepAliveTimeoutMs)
    } else {
      this.server = https.createServer({ ...h1, ...tls }, onRequest)
    }
    this.server.on('clientError', (err: ClientError, socket: Duplex) => this.clientError(err, socket))
    // With an 'upgrade' listener node hands every request carrying an
    // Upgrade header here instead of to dispatch.
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
    if (opts.maxRequestsPerConnection !== undefined && opts.maxRequestsPerConnection > 0 && !this.h2) {
      // node answers the last allowed request with `connection: close` and any after it with 503.
      (this.server as http.Server).maxRequestsPerSocket = opts.maxRequestsPerConnection
    }
    // The socket requests see: the TLS one once the handshake is done.
    this.server.on(tls === null ? 'connection' : 'secureConnection', (socket: Accepted) => this.accept(socket))
    if (tls !== null) {
      // A client that refuses the certificate (or sends none under
      // client_auth = "required") fails its handshake; nothing to answer.
      this.server.on('tlsClientError', (err: NodeJS.ErrnoException) => this.log.debug({ code: err.code }, 'TLS handshake failed'))
    }
  }

  // Connections beyond maxConnections (or maxConnectionsPerAddress) are
  // answered, not dropped: the first request on one gets a retriable 503
  // (429 per address) and the connection closes.
  private accept (socket: Accepted): void {
    this.connections++
    const address = socket.remoteAddress ?? ''
    const fromAddress = (this.perAddress.get(address) ?? 0) + 1
    this.perAddress.set(address, fromAddress)
    const h1 = this.h2 && (socket as unknown as TLSSocket).alpnProtocol !== 'h2'
    if (h1) this.h1Sockets.add(socket)
    socket.once('close', () => {
      this.connections--
      const left = (this.perAddress.get(address) ?? 1) - 1
      if (left === 0) this.perAddress.delete(address)
      else this.perAddress.set(address, left)
      if (h1) this.h1Sockets.delete(socket)
    })
    const opts = this.opts
    if (opts.maxConnections > 0 && this.connections > opts.maxConnections) socket[kRefusal] = new ProxyError('tooManyConnections')
    else if ((opts.maxConnectionsPerAddress ?? 0) > 0 && fromAddress > (opts.maxConnectionsPerAddress ?? 0)) socket[kRefusal] = new ProxyError('tooManyConnectionsFromAddress')
  }

  /** Runs `guard` before every routed request of the public and loopback listeners. */
  setGuard (guard: RequestGuard | null): void {
    this.guard = guard
  }

  /**
   * Serves `tls` to connections accepted from now on (a renewed certificate,
   * on SIGHUP); open connections keep the context they were accepted with.
   */
  reloadTls (tls: TlsServerOptions): void {
    if (!('setSecureContext' in this.server)) throw new Error('the listener does not use TLS')
    this.server.setSecureContext(tls)
  }

  /** Matches requests against `match` first; a null match goes on to the router. */
  setAppRoutes (match: ((method: string, path: string) => RouteMatch<BoundRoute> | null) | null): void {
    this.appRoutes = match
  }

  /** Hands WebSocket upgrade requests to `handler` (the streams of src/streams/). */
  acceptUpgrades (handler: UpgradeHandler): void {
    this.upgrades = handler
  }

  /** Reports every answered request to `observer` (src/metrics/requests.ts). */
  observeRequests (observer: RequestObserver): void {
    this.observer = observer
  }

  /** True once a drain began: readiness answers 503 from then on. */
  get isDraining (): boolean {
    return this.draining
  }

  /**
   * Starts the loopback listener of calls relayed from other workers;
   * resolves to its base URL. Exclusive: cluster workers would otherwise
   * share one port.
   */
  async listenInternal (): Promise<string> {
    await listening(this.internal, 0, '127.0.0.1', true)
    return `http://127.0.0.1:${(this.internal.address() as AddressInfo).port}`
  }

  /** Routes requests with `router` and starts the public listener; resolves to its port. */
  async serve (router: Router<BoundRoute>): Promise<number> {
    this.router = router
    const deadline = this.opts.uploadDeadlineMs
    if (deadline > 0) {
      this.sweep = setInterval(() => this.sweepUploads(), Math.min(1000, Math.max(50, Math.floor(deadline / 4))))
      this.sweep.unref()
    }
    await listening(this.server, this.opts.port, this.opts.host)
    // After listening, a server error is an accept that failed (EMFILE when the
    // descriptor limit is below server.max_connections): the listener goes on,
    // so it is logged rather than left to crash the process.
    this.server.on('error', (err) => this.log.error({ err }, 'http server error'))
    return (this.server.address() as AddressInfo).port
  }

  /**
   * Stops accepting: new requests are refused with 50303 while those in
   * flight finish, for at most `deadlineMs`.
   */
  async drain (deadlineMs: number): Promise<void> {
    this.draining = true
    this.closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    if (this.h2) {
      // GOAWAY: the streams open go on, no new ones start.
      for (const session of this.sessions) session.close()
    } else {
      (this.server as http.Server).closeIdleConnections()
    }
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve
        setTimeout(resolve, deadlineMs).unref()
      })
    }
    if (this.inflight > 0) this.log.warn({ inflight: this.inflight }, 'shutdown timeout: requests still in flight')
  }

  /**
   * The drain wait is over: from now on every failure answers 50303, and the
   * requests still open that do not write records (reads, admin calls) are
   * answered so now, before their subsystems close under them.
   */
  async stopReads (): Promise<void> {
    this.closing = true
    await this.cutOff((route) => !route.writes)
  }

  /** Closes the loopback listener: no more relayed calls. */
  closeInternal (): void {
    this.internal.close()
    this.internal.closeAllConnections()
  }

  /** Answers every request still open, closes every connection. */
  async close (): Promise<void> {
    this.closing = true
    await this.cutOff(() => true)
    if (this.h2) {
      for (const session of this.sessions) session.destroy()
      for (const socket of this.h1Sockets) socket.destroy()
    } else {
      (this.server as http.Server).closeAllConnections()
    }
    await Promise.race([this.closed ?? new Promise<void>((resolve) => this.server.close(() => resolve())), wait(1000)])
    clearInterval(this.sweep)
  }

  private write (req: IncomingMessage, res: ServerResponse, r: Reply): void {
    if (r.handled === true || res.headersSent || res.destroyed) return
    const headers: Record<string, string | number> = r.headers === undefined ? {} : { ...r.headers }
    if (r.type !== undefined) headers['content-type'] = r.type
    // HTTP/2 has no connection header (RFC 9113 §8.2.2); a drain ends its sessions with GOAWAY.
    if (this.draining && req.httpVersionMajor !== 2) headers.connection = 'close'
    if (r.body === null) {
      res.writeHead(r.status, headers)
      res.end()
      return
    }
    headers['content-length'] = Buffer.byteLength(r.body)
    res.writeHead(r.status, headers)
    res.end(req.method === 'HEAD' ? undefined : r.body)
  }

  private fail (req: IncomingMessage, res: ServerResponse, err: unknown, extraHeaders?: Record<string, string>): void {
    let e = err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
    if (this.closing && e.key !== 'shuttingDown') e = new ProxyError('shuttingDown', undefined, { persisted: e.persisted, cause: e })
    if (e.key === 'internal') this.log.error({ err: e.cause ?? e, method: req.method, url: loggedUrl(req.url) }, 'request failed')
    else if (e.status >= 500) this.log.warn({ code: e.errorCode, msg: e.message, url: loggedUrl(req.url) }, 'request failed')
    // A 401 carries its WWW-Authenticate challenge (src/security/guard.ts).
    const headers: Record<string, string> = { ...(err as { headers?: Record<string, string> }).headers, ...extraHeaders }
    // The unread rest of an oversized body is still on the wire.
    if (e.key === 'payloadTooLarge' || this.draining) headers.connection = 'close'
    if (req.httpVersionMajor === 2) delete headers.connection
    sendError(req, res, e, headers)
  }

  private done (res: ServerResponse): void {
    const entry = this.running.get(res)
    if (entry !== undefined) this.answered(entry.req, res, entry.route, entry.startedAt)
    this.running.delete(res)
    if (--this.inflight === 0 && this.idle !== null) this.idle()
  }

  /** `internal`: the loopback listener of calls relayed from other workers. */
  private dispatch (req: IncomingMessage, res: ServerResponse, internal: boolean): void {
    const startedAt = internal || this.observer === null ? -1 : performance.now()
    const url = req.url ?? '/'
    const maxUrlBytes = this.opts.maxUrlBytes
    if (url.length > maxUrlBytes) {
      this.fail(req, res, new ProxyError('uriTooLong', `Request URI is longer than the limit of ${maxUrlBytes} bytes`))
      this.answered(req, res, null, startedAt)
      return
    }
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const refusal = (req.socket as Accepted)[kRefusal]
    if (refusal !== undefined) {
      this.fail(req, res, refusal, { connection: 'close' })
      this.answered(req, res, null, startedAt)
      return
    }
    const method = req.method ?? 'GET'
    const match = (this.appRoutes === null ? null : this.appRoutes(method, path)) ?? this.router.match(method, path)
    // A draining process answers its probes and, until its consumers close,
    // calls relayed to the instances it still owns; everything else is told
    // to go elsewhere, with nothing done.
    if ((this.closing || (this.draining && !internal)) && !path.startsWith('/health/')) {
      const writer = match.kind === 'found' && match.handler.writes
      this.fail(req, res, new ProxyError('shuttingDown', undefined, writer ? { persisted: 'no' } : undefined))
      this.answered(req, res, match.kind === 'found' ? match.handler : null, startedAt)
      return
    }
    if (match.kind !== 'found') {
      if (match.kind === 'options') this.write(req, res, { status: 204, body: null, headers: { allow: match.allow } })
      else if (match.kind === 'method-not-allowed') this.fail(req, res, new ProxyError('methodNotAllowed'), { allow: match.allow })
      else this.fail(req, res, new ProxyError('notFound'))
      this.answered(req, res, null, startedAt)
      return
    }
    const route = match.handler
    const ctx: Ctx = { req, res, params: match.params, path, query: q === -1 ? '' : url.slice(q + 1) }
    if (this.opts.uploadDeadlineMs > 0 && !req.complete && !route.streams) this.uploads.set(req, { res, startedAt: Date.now() })
    this.inflight++
    this.running.set(res, { req, route, startedAt })
    let result: Reply | Promise<Reply>
    try {
      // One null check when no authentication or authorization is configured.
      if (this.guard !== null) {
        const guarded = this.guard(req, route, ctx, internal)
        result = guarded instanceof Promise ? guarded.then(() => route.handler(ctx)) : route.handler(ctx)
      } else {
        result = route.handler(ctx)
      }
    } catch (err) {
      this.fail(req, res, err)
      this.done(res)
      return
    }
    if (result instanceof Promise) {
      result.then((r) => this.write(req, res, r), (err: unknown) => this.fail(req, res, err)).finally(() => this.done(res))
    } else {
      this.write(req, res, result)
      this.done(res)
    }
  }

  /**
   * A request with an Upgrade header. A WebSocket upgrade the handler takes
   * is its own from here on; any other is answered as an ordinary request,
   * since a server may ignore Upgrade (RFC 9110 §7.8): e.g. curl's h2c
   * upgrade attempt. The HTTP parser has let go of the socket by now, so
   * such a request cannot have its body read: one that has a body is a 400.
   */
  private upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {})
    const websocket = req.headers.upgrade?.toLowerCase() === 'websocket'
    if (websocket && this.upgrades !== null && (req.url ?? '/').length <= this.opts.maxUrlBytes) {
      let refusal: ProxyError | null = null
      const over = (socket as Accepted)[kRefusal]
      if (over !== undefined) refusal = over
      else if (this.draining || this.closing) refusal = new ProxyError('shuttingDown')
      if (refusal !== null) {
        socket.end(rawErrorResponse(refusal))
        return
      }
      if (this.guard === null) {
        if (this.upgrades(req, socket, head, undefined)) return
      } else if (this.guardedUpgrade(req, socket, head, this.upgrades, this.guard)) {
        return
      }
    }
    this.answerWithoutUpgrade(req, socket)
  }

  /** An upgrade request no upgrade handler takes, answered as an ordinary request on its socket. */
  private answerWithoutUpgrade (req: IncomingMessage, socket: Duplex): void {
    const length = req.headers['content-length']
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      socket.end(rawErrorResponse(new ProxyError('malformedRequest', `Malformed HTTP request: an upgrade to ${String(req.headers.upgrade)} is not offered here, and a request asking for one cannot have a body`)))
      return
    }
    const res = new http.ServerResponse(req)
    res.shouldKeepAlive = false
    res.assignSocket(socket as Socket)
    res.once('finish', () => {
      res.detachSocket(socket as Socket)
      socket.end()
    })
    this.dispatch(req, res, false)
  }

  /**
   * A WebSocket upgrade on a route passes the same guard as any request on
   * it (authentication, then authorization for its route: a stream's Read,
   * and Write since its socket may produce) before the upgrade handler sees
   * it; a refusal is the 401/403 in our error body, and the socket closes.
   * A path no route serves (false), or no upgrade handler takes, is answered
   * as an ordinary request, as without a guard.
   */
  private guardedUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer, upgrades: UpgradeHandler, guard: RequestGuard): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const match = this.router.match(req.method ?? 'GET', path)
    if (match.kind !== 'found') return false
    // The guard reads the request and its parameters, and sets ctx.security;
    // no handler runs, so no response object is needed.
    const ctx: Ctx = { req, res: undefined as unknown as ServerResponse, params: match.params, path, query: q === -1 ? '' : url.slice(q + 1) }
    const refuse = (err: unknown): void => {
      const e = err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
      if (e.key === 'internal') this.log.error({ err: e.cause ?? e, url: loggedUrl(url) }, 'websocket authentication failed')
      if (socket.writable) socket.end(rawErrorResponse(e))
      else socket.destroy()
    }
    const hand = (): void => {
      if (!upgrades(req, socket, head, ctx.security)) this.answerWithoutUpgrade(req, socket)
    }
    try {
      const guarded = guard(req, match.handler, ctx, false)
      if (guarded instanceof Promise) guarded.then(hand, refuse)
      else hand()
    } catch (err) {
      refuse(err)
    }
    return true
  }

  private answered (req: IncomingMessage, res: ServerResponse, route: BoundRoute | null, startedAt: number): void {
    if (startedAt >= 0) this.observer?.answered(req, res, route, startedAt)
  }

  private sweepUploads (): void {
    const now = Date.now()
    const deadline = this.opts.uploadDeadlineMs
    for (const [req, { res, startedAt }] of this.uploads) {
      if (req.complete || req.destroyed) this.uploads.delete(req)
      else if (now - startedAt > deadline) {
        this.uploads.delete(req)
        this.log.warn({ method: req.method, url: loggedUrl(req.url), ms: now - startedAt }, 'request body not received in time; closing the connection')
        this.timedOut(req, res)
      }
    }
  }

  // 408 with our body, then the connection closes: the rest of the body is
  // still on the wire. The unread input is drained for a moment first, since
  // closing a socket with unread input resets it and the client could lose
  // the answer.
  private timedOut (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    const e = new ProxyError('requestTimeout', `The request body was not received within ${this.opts.uploadDeadlineMs} ms`)
    sendError(req, res, e, { connection: 'close' })
    req.resume()
    socket.end()
    // Once answered, node detaches the request from its socket, so closing
    // the socket no longer ends it: end it here, or a handler still reading
    // the body would wait forever (and hold up a drain).
    setTimeout(() => {
      socket.destroy()
      req.destroy(e)
    }, 1000).unref()
  }

  private clientError (err: ClientError, socket: Duplex): void {
    // Malformed HTTP never reaches dispatch; answer it in our error body, without a stack.
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    // A response already under way on this connection cannot be followed by another.
    const current = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (current?.headersSent === true) {
      socket.destroy()
      return
    }
    const e = clientErrorOf(err, this.opts.maxUrlBytes)
    this.log.debug({ code: err.code, status: e.status }, 'malformed HTTP request')
    socket.end(rawErrorResponse(e))
  }

  /**
   * Answers every request still without a response before its connection is
   * closed: a retriable 50303 instead of a reset. Records of a produce cut off
   * here may already be in Kafka.
   */
  private async cutOff (which: (route: BoundRoute) => boolean): Promise<void> {
    const answered: Array<Promise<void>> = []
    for (const [res, { req, route }] of this.running) {
      if (res.headersSent || res.destroyed || !which(route)) continue
      this.fail(req, res, new ProxyError('shuttingDown', undefined, route.writes ? { persisted: 'unknown' } : undefined))
      answered.push(new Promise((resolve) => res.once('close', () => resolve())))
    }
    if (answered.length > 0) await Promise.race([Promise.all(answered), wait(1000)])
  }
}
