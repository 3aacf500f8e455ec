// The streams of one process: the GET on a topic's records path in its
// representations (SSE by Accept: text/event-stream, a cursor page by
// application/json), the per-process limit and the principal's quotas
// (concurrent_streams, consume_bytes_per_s: src/security/quotas.ts), and the
// end of every stream when the process stops. Nothing about a stream
// outlives it: its position is in the ids the client holds.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { ProxyError } from '../errors.js'
import { rawErrorResponse } from '../http/error-response.js'
import { loggedUrl } from '../http/access-log.js'
import { HANDLED, NO_CONTENT, type Ctx, type Reply } from '../http/handler.js'
import { acceptable, MEDIA, negotiator } from '../http/media.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import type { Logger } from '../logger.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { StreamsConfig } from '../config/schema.js'
import type { Resources } from '../api/v3/resource.js'
import type { RequestSecurity } from '../security/guard.js'
import { cursorPage } from './cursor.js'
import { openTopicStream, partitionIds, type OpenedStream } from './open.js'
import { parseStreamParams, type ParamLimits, type StreamParams } from './params.js'
import type { StreamPosition } from './position.js'
import { Pump } from './pump.js'
import type { StreamReaders } from './reader.js'
import { SSE_MEDIA, SseSink } from './sse.js'
import type { Sink } from './pump.js'
import type { Challengeable, StreamAuthority } from './reauth.js'
import { forward, isForwarded } from '../shards/forward.js'
import { WsSink, wsProducer, type WsProduceDeps } from './ws.js'
import { Tails } from './tail.js'
import { GroupSource } from './group.js'
import { Delivery } from './delivery.js'
import { PositionTracker } from './tracker.js'
import type { ClientProperties } from '../kafka/options.js'
import { checkResume, topicOf } from './open.js'
import { gained, openPatternStream, parsePattern } from './pattern.js'
import type { Principal } from '../security/principal.js'
import type { Quotas } from '../security/quotas.js'
import type { FramingStrip } from '../render/framing.js'

export interface StreamsOptions {
  config: StreamsConfig
  metadata: ClusterMetadata
  registry: SchemaRegistryClient
  resources: Resources
  readers: StreamReaders
  /** Records per batch of a live stream (consumer.max_poll_records). */
  batchRecords: number
  /** What a WebSocket needs to produce the records its client sends. */
  produce: WsProduceDeps
  /** The client properties of a consumer group stream's consumer. */
  groupProperties: (group: string, autoOffsetReset: 'earliest' | 'latest', autoCommit: boolean) => { global: ClientProperties, topic: ClientProperties }
  callTimeoutMs: number
  /** Null when [quotas] sets no limit. */
  quotas: Quotas | null
  /** consumer.strip_schema_framing, for the BINARY, STRING and JSON sides of every stream. */
  strip: FramingStrip
  log: Logger
}

/** Record bytes per batch of a live stream: one socket write each. */
const BATCH_BYTES = 1 << 20
/** How long the end of the process waits for final events to reach slow clients. */
const FINAL_EVENT_MS = 2000

const negotiate = negotiator([{ type: MEDIA.json, qs: 1 }, { type: SSE_MEDIA, qs: 1 }])

const STREAM_PATH = /^\/v3\/clusters\/([^/]+)\/topics\/([^/]+)\/records$/

function segment (raw: string): string | null {
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

export class Streams {
  /** Live streams (SSE, WebSocket). */
  private readonly live = new Set<Pump>()
  /** Streams of every kind in progress, cursor reads included. */
  private active = 0
  private closed = false
  private readonly limits: ParamLimits
  // Handshakes only (noServer): the HTTP listener hands it upgraded sockets.
  // Frames up to twice max_frame_bytes are read and answered with an error
  // frame; ws refuses anything larger itself (1009) without buffering it.
  private readonly wss: WebSocketServer
  private readonly tails: Tails
  /** How each open stream gives back its principal's concurrent_streams slot. */
  private readonly releases = new WeakMap<OpenedStream, () => void>()
  private authority: StreamAuthority | null = null

  constructor (private readonly opts: StreamsOptions) {
    this.tails = new Tails(opts.readers, {
      windowBytes: opts.config.client_buffer_bytes,
      batchRecords: opts.batchRecords,
      idleMs: opts.config.reader_idle_ms,
      log: opts.log
    })
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 2 * opts.config.max_frame_bytes, perMessageDeflate: false, clientTracking: false })
    const c = opts.config
    this.limits = {
      cursorTimeoutMs: c.cursor_timeout_ms,
      cursorMaxTimeoutMs: c.cursor_max_timeout_ms,
      cursorMaxRecords: c.cursor_max_records,
      cursorMaxBytes: c.cursor_max_bytes,
      strip: opts.strip
    }
  }

  /** Streams in progress in this process. */
  get size (): number {
    return this.active
  }

  /** Records read from Kafka by the topic tails, by stream consumers (librdkafka's rxbytes, when statistics are on), and streams waiting on the tails. */
  stats (): { tailRecords: number, receivedBytes: number, tailWaiters: number } {
    return { tailRecords: this.tails.fetched, receivedBytes: this.opts.readers.receivedBytes, tailWaiters: this.tails.waiting }
  }

  /** GET /v3/clusters/{cluster_id}/topics/{topic}/records, and topics/-/records?topic_pattern= (no {topic}) */
  async records (ctx: Ctx): Promise<Reply> {
    const type = acceptable(negotiate(ctx.req.headers.accept))
    const params = parseStreamParams(ctx.query, ctx.req, this.limits)
    const topic = (ctx.params.topic as string | undefined) ?? '-'
    if (type === MEDIA.json && params.group !== null) throw new ProxyError('badRequest', 'Bad Request: cursor reads do not join consumer groups (each page would join and leave the group); use SSE or a WebSocket for group=, or a cursor.')
    const principal = ctx.security?.principal
    const opened = await this.open(ctx.params.cluster_id as string, topic, params, type === MEDIA.json ? 'cursor' : 'sse', principal)
    if (type === MEDIA.json) {
      try {
        const page = await cursorPage(opened, params, this.opts.config.encode_ids)
        // A page is a read like a v3 one: its bytes (the records' JSON, as streams measure them) count against the consume quota.
        if (this.opts.quotas !== null && typeof page.body === 'string') this.opts.quotas.of(principal)?.consumed(Buffer.byteLength(page.body))
        return page
      } finally {
        this.ended(opened)
      }
    }
    this.serve(opened, params, new SseSink(ctx.res, this.opts.config.retry_ms), ctx.security, ctx.req, ctx.query)
    return HANDLED
  }

  /** Puts streams opened with a JWT under its deadline (src/streams/reauth.ts); set once the guard exists. */
  useAuthority (authority: StreamAuthority): void {
    this.authority = authority
  }

  /** POST /v3/streams/{stream_id}/authorization: a fresh token for a challenged stream, on whichever process holds it. */
  async renew (ctx: Ctx): Promise<Reply> {
    const authority = this.authority
    const id = ctx.params.stream_id as string
    const security = ctx.security
    if (authority === null || security === undefined) throw new ProxyError('streamNotFound')
    if (authority.holds(id)) {
      authority.renew(id, security.principal, ctx.req, ctx.query)
      return NO_CONTENT
    }
    if (!isForwarded(ctx.req)) {
      const owner = await authority.locate(id)
      if (owner !== null) {
        authority.carryToken(ctx.req, ctx.query)
        await forward(ctx.req, ctx.res, owner)
        return HANDLED
      }
    }
    throw new ProxyError('streamNotFound')
  }

  /**
   * A WebSocket upgrade request (the HTTP listener's `upgrade` event). False
   * when its path is not a topic's records: the listener answers it. Every
   * failure before the handshake is an HTTP answer in our error body, as for
   * SSE; after it, an error frame.
   */
  upgrade (req: IncomingMessage, socket: Duplex, head: Buffer, security?: RequestSecurity): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const m = STREAM_PATH.exec(q === -1 ? url : url.slice(0, q))
    if (m === null || req.method !== 'GET') return false
    const clusterId = segment(m[1] as string)
    const topic = segment(m[2] as string)
    if (clusterId === null || topic === null) return false
    socket.on('error', () => {})
    const refuse = (err: unknown): void => {
      const e = err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
      if (e.key === 'internal') this.opts.log.error({ err: e.cause ?? e, url: loggedUrl(url) }, 'websocket stream failed to open')
      if (socket.writable) socket.end(rawErrorResponse(e))
      else socket.destroy()
    }
    let params: StreamParams
    try {
      params = parseStreamParams(q === -1 ? '' : url.slice(q + 1), req, this.limits)
    } catch (err) {
      refuse(err)
      return true
    }
    this.open(clusterId, topic, params, 'ws', security?.principal).then((opened) => {
      if (socket.destroyed) {
        opened.delivery.source.close(false)
        this.ended(opened)
        return
      }
      this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        const sink = new WsSink(ws, this.opts.config.max_frame_bytes, topic === '-' ? null : topic, clusterId, this.opts.produce, wsProducer(this.opts.produce, security?.principal), socket)
        this.serve(opened, params, sink, security, req, q === -1 ? '' : url.slice(q + 1))
      })
    }, refuse)
    return true
  }

  /** A stream is over: its count and its principal's slot are given back. */
  private ended (opened: OpenedStream): void {
    this.active--
    this.releases.get(opened)?.()
  }

  /**
   * Checks the cluster, counts the stream in (or refuses it: the process's
   * limit, then the principal's quotas) and opens it. Without a principal
   * (no authentication configured) no quota applies.
   */
  private async open (clusterId: string, topic: string, params: StreamParams, kind: 'sse' | 'cursor' | 'ws', principal?: Principal): Promise<OpenedStream> {
    // Resources.cluster() would also insist on Accept: application/json.
    if ((await this.opts.resources.describe()).clusterId !== clusterId) throw new ProxyError('clusterNotFound', `Cluster ${clusterId} cannot be found.`)
    if (this.closed) throw new ProxyError('shuttingDown')
    if (this.active >= this.opts.config.max_per_process) throw new ProxyError('tooManyStreams')
    // Counted before the quota's answer (which may wait for the primary), so that the process's limit holds meanwhile.
    this.active++
    let release: (() => void) | null = null
    if (this.opts.quotas !== null) {
      try {
        release = await this.opts.quotas.admitStream(principal)
      } catch (err) {
        this.active--
        throw err
      }
    }
    try {
      const opened = await this.openKind(topic, params)
      if (release !== null) this.releases.set(opened, release)
      this.opts.log.debug({ topic, kind, from: opened.delivery.tracker.id(), resets: opened.resets.length }, 'stream opened')
      return opened
    } catch (err) {
      this.active--
      release?.()
      throw err
    }
  }

  private async openKind (topic: string, params: StreamParams): Promise<OpenedStream> {
    if (topic === '-') {
      if (params.group !== null) throw new ProxyError('badRequest', 'Bad Request: a topic pattern stream cannot join a consumer group.')
      parsePattern(params.pattern)
    } else if (params.pattern !== null) {
      throw new ProxyError('badRequest', 'Bad Request: topic_pattern is for /v3/clusters/{cluster_id}/topics/-/records.')
    }
    return topic === '-'
      ? await openPatternStream({ metadata: this.opts.metadata, readers: this.opts.readers, registry: this.opts.registry, encodeIds: this.opts.config.encode_ids }, parsePattern(params.pattern), params)
      : params.group !== null
        ? await this.openGroup(topic, params)
        : await openTopicStream({
          metadata: this.opts.metadata,
          readers: this.opts.readers,
          registry: this.opts.registry,
          encodeIds: this.opts.config.encode_ids,
          tails: this.tails
        }, topic, params)
  }

  /** A stream that joins a consumer group: a consumer of its own, committing by its QoS. */
  private async openGroup (topic: string, params: StreamParams): Promise<OpenedStream> {
    const info = await topicOf(this.opts.metadata, topic)
    if (params.resume !== null) checkResume(params.resume, info)
    const resume = params.resume?.get(topic) ?? null
    const source = await GroupSource.open({
      properties: this.opts.groupProperties(params.group as string, params.from.kind === 'earliest' ? 'earliest' : 'latest', params.qos === 'auto'),
      topic,
      qos: params.qos as 'auto' | 'at-most-once' | 'at-least-once',
      resume,
      maxPollRecords: this.opts.batchRecords,
      callTimeoutMs: this.opts.callTimeoutMs,
      log: this.opts.log
    })
    const tracker = new PositionTracker(new Map([[topic, new Map(resume ?? [])]]), this.opts.config.encode_ids, true)
    const delivery = new Delivery(source, tracker, { filter: params.filter, render: params.render, registry: this.opts.registry })
    return { delivery, topic, partitions: [], resets: [] }
  }

  private serve (opened: OpenedStream, params: StreamParams, sink: Sink & Challengeable, security: RequestSecurity | undefined, req: IncomingMessage, query: string): void {
    // at-least-once over a WebSocket: an ack commits the position it names.
    const source = opened.delivery.source
    if (sink instanceof WsSink && source instanceof GroupSource && params.qos === 'at-least-once') {
      sink.onAck((position) => {
        source.commit(position).catch((err: unknown) => this.opts.log.warn({ err, topic: opened.topic }, 'committing an ack failed'))
      })
    }
    const pump = new Pump(opened.delivery, sink, {
      heartbeatMs: this.opts.config.heartbeat_ms,
      batchRecords: this.opts.batchRecords,
      batchBytes: BATCH_BYTES,
      encodeIds: this.opts.config.encode_ids,
      watch: this.watcher(opened, params),
      quota: this.opts.quotas?.of(security?.principal) ?? null
    }, opened.resets)
    this.live.add(pump)
    const topics = (): readonly string[] => opened.pattern === undefined ? [opened.topic] : [...opened.delivery.tracker.position().keys()]
    const grant = security === undefined || this.authority === null
      ? null
      : this.authority.open(security.principal, req, query, sink, topics, (err) => { pump.stop(err).catch(() => {}) })
    pump.run().catch((err: unknown) => this.opts.log.error({ err }, 'stream failed')).finally(() => {
      grant?.close()
      this.live.delete(pump)
      this.ended(opened)
    })
  }

  /**
   * At each heartbeat: a topic that is gone ends the stream (404/40403 as its
   * final event); a stream of every partition takes in partitions the topic
   * gained, from their start. An unreachable cluster changes nothing: the
   * stream waits for it.
   */
  private watcher (opened: OpenedStream, params: StreamParams): () => Promise<StreamPosition> {
    const pattern = opened.pattern
    if (pattern !== undefined) {
      const known = new Map([...opened.delivery.tracker.position()].map(([t, offsets]) => [t, new Set(offsets.keys())]))
      return async () => gained(this.opts.metadata.cached(), pattern, known)
    }
    const topic = opened.topic
    const known = new Set(opened.partitions)
    return async () => {
      let info
      try {
        info = await this.opts.metadata.topic(topic)
      } catch {
        return new Map()
      }
      if (info === null) throw new ProxyError('unknownTopicOrPartition', `Topic ${topic} was deleted.`)
      // A group's subscription takes in new partitions by itself.
      if (params.partitions !== null || params.group !== null) return new Map()
      const gained = partitionIds(info).filter((p) => !known.has(p))
      for (const p of gained) known.add(p)
      return gained.length === 0 ? new Map() : new Map([[topic, new Map(gained.map((p) => [p, 0]))]])
    }
  }

  /**
   * Ends every live stream with a final event carrying its id (50303:
   * retry elsewhere), waits a moment for those to be written, and refuses
   * new streams from now on.
   */
  async close (): Promise<void> {
    this.closed = true
    const err = new ProxyError('shuttingDown', 'This proxy process is shutting down; resume from this event id on another process or instance')
    const ended = [...this.live].map((p) => p.stop(err))
    await Promise.race([Promise.allSettled(ended), new Promise((resolve) => setTimeout(resolve, FINAL_EVENT_MS).unref())])
    await this.tails.close()
  }
}
