// The per-process composition root: the only module that knows every
// subsystem. It builds them from the frozen config, compiles the routes, and
// owns the HTTP server's lifecycle (listen, dispatch, drain).
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import type { Config } from './config/schema.js'
import type { Logger } from './logger.js'
import { ProxyError } from './errors.js'
import { Router } from './http/router.js'
import { isWriter, streamsBody, writesRecords, type Ctx, type Handler, type Reply } from './http/handler.js'
import { rawErrorResponse, sendError } from './http/error-response.js'
import { KafkaProducer } from './kafka/producer.js'
import { ClusterMetadata } from './kafka/metadata.js'
import { producerProperties } from './kafka/options.js'
import { TaskPool } from './pool/pool.js'
import { jsonLimits } from './serdes/json-input.js'
import { produceHandlers } from './api/v2/produce.js'
import { topicHandlers } from './api/v2/topics.js'
import { partitionHandlers } from './api/v2/partitions.js'
import { brokerHandlers } from './api/v2/brokers.js'
import { rootHandlers } from './api/v2/root.js'
import { healthHandlers } from './api/health.js'
import { openapiHandler } from './api/openapi.js'
import { consumerHandlers } from './api/v2/consumers.js'
import { registerV3 } from './api/v3/index.js'
import { Resources } from './api/v3/resource.js'
import { createProtocolAdmin } from './kafka/protocol/client.js'
import { TopicAutoCreate } from './kafka/auto-create.js'
import { SubscriptionWatch } from './kafka/subscription-watch.js'
import { ConsumerManager } from './kafka/consumers.js'
import { createDirectory } from './cluster/directory.js'
import { SchemaRegistryClient } from './serdes/registry.js'
import { forward, isForwarded } from './cluster/forward.js'

export interface ProxyServer {
  readonly port: number
  readonly metadata: ClusterMetadata
  /** Stops accepting, finishes in-flight requests, flushes the producer, closes everything. */
  shutdown (): Promise<void>
}

export interface ServerOptions {
  config: Config
  log: Logger
  /** Worker processes sharing the port; used to size the pool. */
  workers: number
}

/**
 * The error a socket error of node's HTTP parser stands for (node:http
 * `clientError`). `rawPacket` is the chunk being parsed: when it starts a
 * request whose first line alone is over `maxUrlBytes`, the URL is what
 * overflowed the header limit, so the answer is 414, not 431.
 */
export function clientErrorOf (err: NodeJS.ErrnoException & { rawPacket?: unknown, reason?: unknown }, maxUrlBytes: number): ProxyError {
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

export function poolThreads (configured: number, workers: number): number {
  if (configured > 0) return configured
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, workers)))
}

export async function startServer (opts: ServerOptions): Promise<ProxyServer> {
  const { config, log } = opts
  // draining: new requests are refused with 50303. closing: the drain wait is
  // over and subsystems are closing; whatever a request still in flight
  // fails with is the shutdown's doing, so it answers 50303 too.
  let draining = false
  let closing = false
  let inflight = 0
  let idle: (() => void) | null = null
  const running = new Map<ServerResponse, { req: IncomingMessage, handler: Handler }>()
  const maxUrlBytes = config.server.max_url_bytes
  // Sockets accepted over server.max_connections.
  const refused = new WeakSet<object>()

  const metadataRef: { current: ClusterMetadata | null } = { current: null }
  const producer = new KafkaProducer({
    properties: producerProperties(config.kafka, config.producer),
    connectTimeoutMs: config.kafka.request_timeout_ms,
    log,
    events: { onAllBrokersDown: () => metadataRef.current?.markDown() }
  })
  const metadata = new ClusterMetadata(producer, {
    refreshMs: config.kafka.metadata_refresh_ms,
    unreachableAfterMs: config.kafka.unreachable_after_ms,
    requestTimeoutMs: config.kafka.request_timeout_ms
  }, log)
  metadataRef.current = metadata
  const pool = new TaskPool({ threads: poolThreads(config.pool.threads, opts.workers), maxQueue: config.pool.max_queue })
  const registry = new SchemaRegistryClient(config.schema_registry)
  const strategies = { key: config.schema_registry.key_subject_strategy, value: config.schema_registry.value_subject_strategy }

  // Forwarded consumer calls arrive on a loopback port of this process alone
  // (exclusive: cluster workers would otherwise share one port).
  const internal = http.createServer({ keepAliveTimeout: config.server.keep_alive_timeout_ms }, (req, res) => dispatch(req, res, true))
  await new Promise<void>((resolve, reject) => {
    internal.once('error', reject)
    internal.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      internal.off('error', reject)
      resolve()
    })
  })
  const directory = createDirectory(`http://127.0.0.1:${(internal.address() as AddressInfo).port}`)
  const consumers = new ConsumerManager({
    kafka: config.kafka,
    consumer: config.consumer,
    callTimeoutMs: config.kafka.request_timeout_ms,
    log,
    claims: directory
  })

  const router = new Router<Handler>()
  const root = rootHandlers(config.server.max_body_bytes)
  const admin = createProtocolAdmin({
    bootstrapServers: config.kafka.bootstrap_servers,
    clientId: `${config.kafka.client_id}-admin`,
    requestTimeoutMs: config.kafka.request_timeout_ms,
    properties: config.kafka.admin,
    log
  })
  metadata.setAutoCreate(new TopicAutoCreate(admin, metadata, {
    mode: config.kafka.auto_create_topics,
    requestTimeoutMs: config.kafka.request_timeout_ms
  }, log))
  const topics = topicHandlers(metadata, admin)
  const brokers = brokerHandlers(metadata)
  const partitions = partitionHandlers(metadata, producer, config.kafka.request_timeout_ms)
  const produce = produceHandlers({
    producer,
    metadata,
    pool,
    maxBodyBytes: config.server.max_body_bytes,
    offloadThresholdBytes: config.pool.offload_threshold_bytes,
    json: jsonLimits(config.server),
    registry,
    strategies
  })
  const health = healthHandlers(metadata, () => draining)
  const watch = new SubscriptionWatch(metadata, config.kafka.metadata_refresh_ms, log)
  const consumer = consumerHandlers({
    topics: { metadata, watch },
    manager: consumers,
    consumer: config.consumer,
    registry,
    maxBodyBytes: config.server.max_body_bytes,
    json: jsonLimits(config.server),
    advertisedUrl: config.server.advertised_url,
    routing: {
      locate: (group, name) => directory.locate(group, name),
      selfUrl: directory.selfUrl,
      isForwarded: (ctx) => isForwarded(ctx.req),
      forward: (ctx, owner) => forward(ctx.req, ctx.res, owner)
    }
  })
  const instance = '/consumers/{group}/instances/{instance}'
  router
    .add('GET', '/', root.get)
    .add('POST', '/', root.post)
    .add('GET', '/topics', topics.list)
    .add('GET', '/topics/{topic}', topics.get)
    .add('POST', '/topics/{topic}', writesRecords(produce.toTopic))
    .add('GET', '/topics/{topic}/partitions', partitions.list)
    .add('GET', '/topics/{topic}/partitions/{partition}', partitions.get)
    .add('POST', '/topics/{topic}/partitions/{partition}', writesRecords(produce.toPartition))
    .add('GET', '/topics/{topic}/partitions/{partition}/offsets', partitions.offsets)
    .add('GET', '/brokers', brokers.list)
    .add('POST', '/consumers/{group}', consumer.create)
    .add('DELETE', instance, consumer.delete)
    .add('POST', `${instance}/subscription`, consumer.subscribe)
    .add('GET', `${instance}/subscription`, consumer.subscription)
    .add('DELETE', `${instance}/subscription`, consumer.unsubscribe)
    .add('POST', `${instance}/assignments`, consumer.assign)
    .add('GET', `${instance}/assignments`, consumer.assignments)
    .add('GET', `${instance}/records`, consumer.records, { head: false })
    .add('GET', `${instance}/topics/{topic}`, consumer.topicRecords, { head: false })
    .add('POST', `${instance}/offsets`, consumer.commit)
    .add('GET', `${instance}/offsets`, consumer.committed)
    .add('POST', `${instance}/positions`, consumer.seek)
    .add('POST', `${instance}/positions/beginning`, consumer.seekToBeginning)
    .add('POST', `${instance}/positions/end`, consumer.seekToEnd)
    .add('GET', '/health/live', health.live)
    .add('GET', '/health/ready', health.ready)
    .add('GET', '/openapi.json', openapiHandler())
  const resources = new Resources({
    advertisedUrl: config.server.advertised_url,
    authority: config.v3.resource_name_authority,
    admin,
    maxBodyBytes: config.server.max_body_bytes,
    json: jsonLimits(config.server)
  })
  const closeV3 = registerV3(router, { config, log, producer, metadata, admin, resources, registry, pool, workers: opts.workers })

  function write (req: IncomingMessage, res: ServerResponse, r: Reply): void {
    if (r.handled === true || res.headersSent || res.destroyed) return
    const headers: Record<string, string | number> = r.headers === undefined ? {} : { ...r.headers }
    if (r.type !== undefined) headers['content-type'] = r.type
    if (draining) headers.connection = 'close'
    if (r.body === null) {
      res.writeHead(r.status, headers)
      res.end()
      return
    }
    headers['content-length'] = Buffer.byteLength(r.body)
    res.writeHead(r.status, headers)
    res.end(req.method === 'HEAD' ? undefined : r.body)
  }

  function fail (req: IncomingMessage, res: ServerResponse, err: unknown, extraHeaders?: Record<string, string>): void {
    let e = err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
    if (closing && e.key !== 'shuttingDown') e = new ProxyError('shuttingDown', undefined, { persisted: e.persisted, cause: e })
    if (e.key === 'internal') log.error({ err: e.cause ?? e, method: req.method, url: req.url }, 'request failed')
    else if (e.status >= 500) log.warn({ code: e.errorCode, msg: e.message, url: req.url }, 'request failed')
    const headers: Record<string, string> = { ...extraHeaders }
    // The unread rest of an oversized body is still on the wire.
    if (e.key === 'payloadTooLarge' || draining) headers.connection = 'close'
    sendError(req, res, e, headers)
  }

  function done (res: ServerResponse): void {
    running.delete(res)
    if (--inflight === 0 && idle !== null) idle()
  }

  /** `internal`: the loopback listener of calls relayed from other workers. */
  function dispatch (req: IncomingMessage, res: ServerResponse, internal: boolean): void {
    const url = req.url ?? '/'
    if (url.length > maxUrlBytes) {
      fail(req, res, new ProxyError('uriTooLong', `Request URI is longer than the limit of ${maxUrlBytes} bytes`))
      return
    }
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (refused.has(req.socket)) {
      fail(req, res, new ProxyError('tooManyConnections'), { connection: 'close' })
      return
    }
    const match = router.match(req.method ?? 'GET', path)
    // A draining process answers its probes and, until its consumers close,
    // calls relayed to the instances it still owns; everything else is told
    // to go elsewhere, with nothing done.
    if ((closing || (draining && !internal)) && !path.startsWith('/health/')) {
      const writer = match.kind === 'found' && isWriter(match.handler)
      fail(req, res, new ProxyError('shuttingDown', undefined, writer ? { persisted: 'no' } : undefined))
      return
    }
    if (match.kind !== 'found') {
      if (match.kind === 'options') write(req, res, { status: 204, body: null, headers: { allow: match.allow } })
      else if (match.kind === 'method-not-allowed') fail(req, res, new ProxyError('methodNotAllowed'), { allow: match.allow })
      else fail(req, res, new ProxyError('notFound'))
      return
    }
    const ctx: Ctx = { req, res, params: match.params, path, query: q === -1 ? '' : url.slice(q + 1) }
    if (uploadDeadlineMs > 0 && !req.complete && !streamsBody(match.handler)) uploads.set(req, { res, startedAt: Date.now() })
    inflight++
    running.set(res, { req, handler: match.handler })
    let result: Reply | Promise<Reply>
    try {
      result = match.handler(ctx)
    } catch (err) {
      fail(req, res, err)
      done(res)
      return
    }
    if (result instanceof Promise) {
      result.then((r) => write(req, res, r), (err: unknown) => fail(req, res, err)).finally(() => done(res))
    } else {
      write(req, res, result)
      done(res)
    }
  }

  // node's requestTimeout would also cut off v3 produce streams, which live up
  // to v3.stream_max_duration_ms, so the proxy enforces the upload deadline
  // itself, for every other route: one sweep a second over the requests whose
  // body is still arriving (a Map entry per such request, no timer each).
  const uploadDeadlineMs = config.server.request_timeout_ms
  const uploads = new Map<IncomingMessage, { res: ServerResponse, startedAt: number }>()
  function sweepUploads (): void {
    const now = Date.now()
    for (const [req, { res, startedAt }] of uploads) {
      if (req.complete || req.destroyed) uploads.delete(req)
      else if (now - startedAt > uploadDeadlineMs) {
        uploads.delete(req)
        log.warn({ method: req.method, url: req.url, ms: now - startedAt }, 'request body not received in time; closing the connection')
        timedOut(req, res)
      }
    }
  }

  // 408 with our body, then the connection closes: the rest of the body is
  // still on the wire. The unread input is drained for a moment first, since
  // closing a socket with unread input resets it and the client could lose
  // the answer.
  function timedOut (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    const e = new ProxyError('requestTimeout', `The request body was not received within ${uploadDeadlineMs} ms`)
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
  const sweep = uploadDeadlineMs > 0 ? setInterval(sweepUploads, Math.min(1000, Math.max(50, Math.floor(uploadDeadlineMs / 4)))) : undefined
  sweep?.unref()

  const headersTimeoutMs = config.server.headers_timeout_ms
  const server = http.createServer({
    keepAliveTimeout: config.server.keep_alive_timeout_ms,
    headersTimeout: headersTimeoutMs,
    // node checks headersTimeout on this interval (30 s by default), so a
    // short limit would otherwise fire up to 30 s late.
    connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(headersTimeoutMs / 4))),
    maxHeaderSize: config.server.max_header_bytes,
    requestTimeout: 0
  }, (req, res) => dispatch(req, res, false))
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: unknown, reason?: unknown }, socket) => {
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
    const e = clientErrorOf(err, maxUrlBytes)
    log.debug({ code: err.code, status: e.status }, 'malformed HTTP request')
    socket.end(rawErrorResponse(e))
  })

  // Connections beyond server.max_connections are answered, not dropped: the
  // first request on one gets a retriable 503 and the connection closes.
  const maxConnections = config.server.max_connections
  let connections = 0
  server.on('connection', (socket) => {
    connections++
    socket.once('close', () => { connections-- })
    if (maxConnections > 0 && connections > maxConnections) refused.add(socket)
  })

  await producer.start()
  // Listen only after the first metadata answer (bounded by the request
  // timeout), so a fresh or replacement worker does not answer its first
  // requests with 503. An unreachable cluster still lets it start.
  if (producer.connected) await metadata.refresh().catch(() => {})
  metadata.start()
  consumers.startExpiry()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.server.port, config.server.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // After listening, a server error is an accept that failed (EMFILE when the
  // descriptor limit is below server.max_connections): the listener goes on,
  // so it is logged rather than left to crash the process.
  server.on('error', (err) => log.error({ err }, 'http server error'))
  const port = (server.address() as AddressInfo).port

  /**
   * Answers every request still without a response before its connection is
   * closed: a retriable 50303 instead of a reset. Records of a produce cut off
   * here may already be in Kafka.
   */
  async function cutOff (which: (handler: Handler) => boolean): Promise<void> {
    const answered: Array<Promise<void>> = []
    for (const [res, { req, handler }] of running) {
      if (res.headersSent || res.destroyed || !which(handler)) continue
      fail(req, res, new ProxyError('shuttingDown', undefined, isWriter(handler) ? { persisted: 'unknown' } : undefined))
      answered.push(new Promise((resolve) => res.once('close', () => resolve())))
    }
    if (answered.length > 0) await Promise.race([Promise.all(answered), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  }

  let shuttingDown: Promise<void> | null = null
  async function shutdown (): Promise<void> {
    draining = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const deadline = config.server.shutdown_timeout_ms
    const started = Date.now()
    if (inflight > 0) {
      await new Promise<void>((resolve) => {
        idle = resolve
        setTimeout(resolve, deadline).unref()
      })
    }
    if (inflight > 0) log.warn({ inflight }, 'shutdown timeout: requests still in flight')
    closing = true
    // Reads and admin calls are answered now, before their subsystems close
    // under them; produce requests get their results from the flush below.
    await cutOff((handler) => !isWriter(handler))
    // Consumers leave their groups now so their partitions move on at once.
    // A consumer closes only after its running fetch returns (up to its read
    // timeout), so the flush of records already queued runs beside it and
    // neither waits past the deadline.
    watch.stop()
    const remaining = Math.max(1000, deadline - (Date.now() - started))
    const bounded = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, new Promise((resolve) => setTimeout(resolve, remaining).unref())])
    await Promise.all([
      bounded(consumers.close()),
      bounded(closeV3().then(() => admin.close())),
      producer.close(remaining)
    ])
    internal.close()
    internal.closeAllConnections()
    metadata.stop()
    await cutOff(() => true)
    server.closeAllConnections()
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())])
    await pool.close()
    registry.close()
    clearInterval(sweep)
  }

  return {
    port,
    metadata,
    shutdown: () => {
      shuttingDown ??= shutdown()
      return shuttingDown
    }
  }
}
