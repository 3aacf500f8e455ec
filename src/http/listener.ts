// The HTTP side of one process: the public listener and the loopback one for
// calls relayed from other workers, dispatch of each request to its route,
// writing replies, the upload deadline, the connection limit, and the steps
// of a drain. It knows routes (http/route.ts), not what they do.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Ctx, Reply } from './handler.js'
import { rawErrorResponse, sendError } from './error-response.js'
import type { BoundRoute } from './route.js'
import { Router } from './router.js'

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
}

type ClientError = NodeJS.ErrnoException & { rawPacket?: unknown, reason?: unknown }

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

function listening (server: http.Server, port: number, host: string, exclusive = false): Promise<void> {
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
  private readonly running = new Map<ServerResponse, { req: IncomingMessage, route: BoundRoute }>()
  // Until serve() is given the routes, nothing is routed (404).
  private router: Router<BoundRoute> = new Router()
  // Sockets accepted over maxConnections.
  private readonly refused = new WeakSet<object>()
  private connections = 0
  // node's requestTimeout would also cut off v3 produce streams, which live up
  // to v3.stream_max_duration_ms, so the proxy enforces the upload deadline
  // itself, for every other route: one sweep a second over the requests whose
  // body is still arriving (a Map entry per such request, no timer each).
  private readonly uploads = new Map<IncomingMessage, { res: ServerResponse, startedAt: number }>()
  private sweep: NodeJS.Timeout | undefined
  private readonly server: http.Server
  private readonly internal: http.Server
  private closed: Promise<void> | null = null

  constructor (private readonly opts: ListenerOptions, private readonly log: Logger) {
    // Forwarded consumer calls arrive on a loopback port of this process alone.
    this.internal = http.createServer({ keepAliveTimeout: opts.keepAliveTimeoutMs }, (req, res) => this.dispatch(req, res, true))
    this.server = http.createServer({
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      // node checks headersTimeout on this interval (30 s by default), so a
      // short limit would otherwise fire up to 30 s late.
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(opts.headersTimeoutMs / 4))),
      maxHeaderSize: opts.maxHeaderBytes,
      requestTimeout: 0
    }, (req, res) => this.dispatch(req, res, false))
    this.server.on('clientError', (err: ClientError, socket) => this.clientError(err, socket))
    // Connections beyond maxConnections are answered, not dropped: the
    // first request on one gets a retriable 503 and the connection closes.
    this.server.on('connection', (socket) => {
      this.connections++
      socket.once('close', () => { this.connections-- })
      if (opts.maxConnections > 0 && this.connections > opts.maxConnections) this.refused.add(socket)
    })
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
    this.server.closeIdleConnections()
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
    this.server.closeAllConnections()
    await Promise.race([this.closed ?? new Promise<void>((resolve) => this.server.close(() => resolve())), wait(1000)])
    clearInterval(this.sweep)
  }

  private write (req: IncomingMessage, res: ServerResponse, r: Reply): void {
    if (r.handled === true || res.headersSent || res.destroyed) return
    const headers: Record<string, string | number> = r.headers === undefined ? {} : { ...r.headers }
    if (r.type !== undefined) headers['content-type'] = r.type
    if (this.draining) headers.connection = 'close'
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
    if (e.key === 'internal') this.log.error({ err: e.cause ?? e, method: req.method, url: req.url }, 'request failed')
    else if (e.status >= 500) this.log.warn({ code: e.errorCode, msg: e.message, url: req.url }, 'request failed')
    const headers: Record<string, string> = { ...extraHeaders }
    // The unread rest of an oversized body is still on the wire.
    if (e.key === 'payloadTooLarge' || this.draining) headers.connection = 'close'
    sendError(req, res, e, headers)
  }

  private done (res: ServerResponse): void {
    this.running.delete(res)
    if (--this.inflight === 0 && this.idle !== null) this.idle()
  }

  /** `internal`: the loopback listener of calls relayed from other workers. */
  private dispatch (req: IncomingMessage, res: ServerResponse, internal: boolean): void {
    const url = req.url ?? '/'
    const maxUrlBytes = this.opts.maxUrlBytes
    if (url.length > maxUrlBytes) {
      this.fail(req, res, new ProxyError('uriTooLong', `Request URI is longer than the limit of ${maxUrlBytes} bytes`))
      return
    }
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (this.refused.has(req.socket)) {
      this.fail(req, res, new ProxyError('tooManyConnections'), { connection: 'close' })
      return
    }
    const match = this.router.match(req.method ?? 'GET', path)
    // A draining process answers its probes and, until its consumers close,
    // calls relayed to the instances it still owns; everything else is told
    // to go elsewhere, with nothing done.
    if ((this.closing || (this.draining && !internal)) && !path.startsWith('/health/')) {
      const writer = match.kind === 'found' && match.handler.writes
      this.fail(req, res, new ProxyError('shuttingDown', undefined, writer ? { persisted: 'no' } : undefined))
      return
    }
    if (match.kind !== 'found') {
      if (match.kind === 'options') this.write(req, res, { status: 204, body: null, headers: { allow: match.allow } })
      else if (match.kind === 'method-not-allowed') this.fail(req, res, new ProxyError('methodNotAllowed'), { allow: match.allow })
      else this.fail(req, res, new ProxyError('notFound'))
      return
    }
    const route = match.handler
    const ctx: Ctx = { req, res, params: match.params, path, query: q === -1 ? '' : url.slice(q + 1) }
    if (this.opts.uploadDeadlineMs > 0 && !req.complete && !route.streams) this.uploads.set(req, { res, startedAt: Date.now() })
    this.inflight++
    this.running.set(res, { req, route })
    let result: Reply | Promise<Reply>
    try {
      result = route.handler(ctx)
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

  private sweepUploads (): void {
    const now = Date.now()
    const deadline = this.opts.uploadDeadlineMs
    for (const [req, { res, startedAt }] of this.uploads) {
      if (req.complete || req.destroyed) this.uploads.delete(req)
      else if (now - startedAt > deadline) {
        this.uploads.delete(req)
        this.log.warn({ method: req.method, url: req.url, ms: now - startedAt }, 'request body not received in time; closing the connection')
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
