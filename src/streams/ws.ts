// WebSocket delivery (RFC 6455, with the `ws` package) on the stream path.
//
// Server to client, one text frame each:
//   {"id":"<position after>","topic":…,"partition":…,"offset":…,…}   a record
//   {"event":"start","id":"<position>"}                              first, before any record
//   {"event":"reset","topic":…,"partition":…,"requested":…,"offset":…,"reason":…,"message":…}
//   {"event":"position","id":…}      idle, after records a filter passed over
//   {"event":"result","correlation":…,"error_code":200,…}            a produced record's result
//   {"event":"error","error_code":…,"message":…,"retriable":…[,"id":…]}
//   {"event":"challenge","stream_id":…,"expires_at":…,…}   a JWT about to expire
//   {"event":"authorized","expires_at":…}                   a {"token"} frame renewed it
// Client to server, text frames of JSON:
//   a record to produce, in the v3 produce record shape, with an optional
//   `correlation` (any JSON value) echoed in its result; {"ack":"<id>"}; or
//   {"token":"<a fresh JWT>"} answering a challenge (src/streams/reauth.ts).
//
// Frames the proxy cannot take get an error frame; where going on makes no
// sense, the socket then closes with the status code that says why: 1003 for a
// binary frame (text only), 1009 for a frame over streams.max_frame_bytes.
// Invalid JSON or an invalid record only gets the error (or result) frame.
// Violations of the WebSocket protocol itself (an unmasked frame, invalid
// UTF-8 in a text frame, a frame far over the limit) are closed by `ws` with
// the code RFC 6455 §7.4.1 gives them. Nothing a client sends can throw out of
// a handler here.
import type { WebSocket } from 'ws'
import { errorBody, ProxyError } from '../errors.js'
import { parseJson, isObject, type JsonLimits } from '../json/parse.js'
import type { KafkaProducer } from '../kafka/producer.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import type { Logger } from '../logger.js'
import { parseV3Record, type V3Record, type V3SchemaEncoder } from '../produce/v3-record.js'
import { MAX_PENDING_RECORDS, successLine, successPrefix } from '../api/v3/record-stream.js'
import { produceQuota } from '../api/v3/produce-common.js'
import type { Duplex } from 'node:stream'
import type { StreamEvent } from './delivery.js'
import { parsePosition, type StreamPosition } from './position.js'
import type { Sink } from './pump.js'
import type { Challenge } from './reauth.js'
import type { IdentityHeaders, IdentityInjector } from '../security/identity.js'
import type { Principal } from '../security/principal.js'
import type { PrincipalQuota, Quotas } from '../security/quotas.js'
import type { ProduceRateLimiter } from '../api/v3/rate-limit.js'
import { describeReset, type Reset } from './start.js'

/** RFC 6455 §7.4.1 status codes. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013
} as const

/**
 * Records of the client in flight (produced, their result not yet written)
 * at which the proxy stops reading its frames, and below which it reads on:
 * the v3 streaming produce's bound. At 1,000 one socket was capped at 1,000
 * records per broker round trip (ws-produce 0.07x native, the workers 15%
 * busy).
 */
const MAX_PENDING_RESULTS = MAX_PENDING_RECORDS
const RESUME_BELOW = MAX_PENDING_RESULTS / 2
/** Bytes buffered for the client (records and results) above which its frames are not read. */
const MAX_BUFFERED_BYTES = 4 << 20
/** How long a closing handshake may take before the socket is cut. */
const CLOSE_TIMEOUT_MS = 2000

export interface WsProduceDeps {
  producer: KafkaProducer
  metadata: ClusterMetadata
  schemas: V3SchemaEncoder
  json: JsonLimits
  log: Logger
  /** The principals' quotas; null when [quotas] sets none. */
  quotas?: Quotas | null
  /** Identity headers (identity.confluent_api); null when off. */
  identity?: IdentityInjector | null
  /** v3.rate_limit, shared with the v3 produce endpoints (each frame counts as a record of its bytes); null when off. */
  rateLimiter?: ProduceRateLimiter | null
}

/** What the socket's principal brings to the records it produces: its quotas and identity headers. */
export interface WsProducer {
  quota: PrincipalQuota | null
  identity: IdentityHeaders | null
}

/** The quotas and identity headers of a socket's principal (undefined without authentication). */
export function wsProducer (deps: WsProduceDeps, principal: Principal | undefined): WsProducer {
  return {
    quota: deps.quotas?.of(principal) ?? null,
    identity: deps.identity?.headersFor(principal) ?? null
  }
}

function closeCode (err: ProxyError | null): number {
  if (err === null) return CLOSE.normal
  if (err.key === 'shuttingDown') return CLOSE.goingAway
  // The stream's credentials ran out (src/streams/reauth.ts).
  if (err.status === 401) return CLOSE.policyViolation
  if (err.retriable) return CLOSE.tryAgainLater
  return CLOSE.internal
}

export class WsSink implements Sink {
  private waiting: (() => void) | null = null
  private readonly acks: Array<(position: StreamPosition) => void> = []
  private tokens: ((token: string) => void) | null = null
  private corked = false
  /** Records ready for the producer, sent together at the end of this turn of the event loop. */
  private ready: Ready[] = []
  private flushing = false
  private pending = 0
  private readonly successPrefix: string

  /** `topic`: where records the client sends go; null for a pattern stream, which takes none. */
  constructor (private readonly ws: WebSocket, private readonly maxFrameBytes: number,
    private readonly topic: string | null, private readonly clusterId: string, private readonly produce: WsProduceDeps,
    private readonly producer: WsProducer = { quota: null, identity: null }, private readonly socket: Duplex | null = null) {
    this.successPrefix = successPrefix(clusterId, topic ?? '')
    ws.on('message', (data, isBinary) => this.message(data as Buffer | Buffer[] | ArrayBuffer, isBinary))
    ws.on('close', () => this.wake())
    // ws reports protocol violations here after closing with their code; nothing to add.
    ws.on('error', (err) => produce.log.debug({ err: { message: err.message } }, 'websocket client error'))
  }

  get closed (): boolean {
    return this.ws.readyState !== this.ws.OPEN
  }

  /** Called with the position of each valid `{"ack"}` frame (QoS at-least-once commits up to it). */
  onAck (listener: (position: StreamPosition) => void): void {
    this.acks.push(listener)
  }

  start (id: string, resets: readonly Reset[]): void {
    this.send(`{"event":"start","id":${JSON.stringify(id)}}`)
    for (const r of resets) this.send(JSON.stringify({ event: 'reset', ...r, message: describeReset(r) }))
  }

  async events (events: readonly StreamEvent[]): Promise<void> {
    let last: Promise<void> | null = null
    for (const e of events) {
      if (this.closed) return
      last = this.sendAsync(`{"id":${JSON.stringify(e.id)},${e.json.slice(1)}`)
    }
    if (last !== null) await this.until(last)
  }

  heartbeat (id: string | null): void {
    if (this.closed) return
    this.ws.ping()
    if (id !== null) this.send(`{"event":"position","id":${JSON.stringify(id)}}`)
  }

  async end (err: ProxyError | null, id: string): Promise<void> {
    if (this.closed) return
    if (err !== null) this.send(JSON.stringify({ event: 'error', ...errorBody(err), id }))
    await this.close(closeCode(err))
  }

  abort (): void {
    this.wake()
  }

  /** Sends the close frame; cuts the socket if the client does not answer it in time. */
  close (code: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cut = setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS)
      cut.unref()
      this.ws.once('close', () => {
        clearTimeout(cut)
        resolve()
      })
      this.ws.close(code)
    })
  }

  private send (text: string): void {
    if (this.closed) return
    this.cork()
    this.ws.send(text)
  }

  /**
   * Frames sent in one turn of the event loop leave in one write: a batch of
   * records, the results of a batch of delivery reports (one writev
   * each, instead of one per frame, which was 29% of a worker's samples).
   */
  private cork (): void {
    const socket = this.socket
    if (this.corked || socket === null) return
    this.corked = true
    socket.cork()
    process.nextTick(() => {
      this.corked = false
      socket.uncork()
    })
  }

  private sendAsync (text: string): Promise<void> {
    this.cork()
    return new Promise<void>((resolve) => this.ws.send(text, () => resolve()))
  }

  /** Waits for `p`, or until the socket closes or the stream is stopped. */
  private until (p: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting = resolve
      p.then(() => this.wake(), () => this.wake())
    })
  }

  private wake (): void {
    const w = this.waiting
    this.waiting = null
    w?.()
  }

  private error (err: ProxyError, close?: number): void {
    this.send(JSON.stringify({ event: 'error', ...errorBody(err) }))
    if (close !== undefined) this.close(close).catch(() => {})
  }

  private message (data: Buffer | Buffer[] | ArrayBuffer, isBinary: boolean): void {
    try {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
      if (isBinary) {
        this.error(new ProxyError('badRequest', 'Bad Request: binary frames are not taken; send records and acks as text frames of JSON.'), CLOSE.unsupportedData)
        return
      }
      if (bytes.length > this.maxFrameBytes) {
        this.error(new ProxyError('payloadTooLarge', `A frame is larger than the limit of ${this.maxFrameBytes} bytes`), CLOSE.tooBig)
        return
      }
      let frame: unknown
      try {
        frame = parseJson(bytes, this.produce.json, { prefix: 'Bad Request: ' })
      } catch (err) {
        this.error(err instanceof ProxyError ? err : new ProxyError('malformedJson'))
        return
      }
      if (isObject(frame) && 'ack' in frame && Object.keys(frame).length === 1) {
        this.ack(frame.ack)
        return
      }
      if (isObject(frame) && 'token' in frame && Object.keys(frame).length === 1) {
        this.token(frame.token)
        return
      }
      this.produceRecord(frame, bytes.length).catch((err: unknown) => this.produce.log.error({ err }, 'websocket produce failed'))
    } catch (err) {
      this.produce.log.error({ err }, 'websocket frame failed')
      this.error(new ProxyError('internal'))
    }
  }

  challenge (c: Challenge): void {
    this.send(JSON.stringify({ event: 'challenge', ...c }))
  }

  authorized (expiresAt: number): void {
    this.send(`{"event":"authorized","expires_at":"${new Date(expiresAt).toISOString()}"}`)
  }

  onToken (listener: (token: string) => void): void {
    this.tokens = listener
  }

  refused (err: ProxyError): void {
    this.error(err)
  }

  private token (raw: unknown): void {
    if (this.tokens === null) {
      this.error(new ProxyError('badRequest', 'Bad Request: this stream was not opened with a bearer token; there is nothing to renew.'))
      return
    }
    if (typeof raw !== 'string' || raw === '') {
      this.error(new ProxyError('badRequest', 'Bad Request: a token frame is {"token":"<a JWT>"}.'))
      return
    }
    this.tokens(raw)
  }

  private ack (raw: unknown): void {
    if (typeof raw !== 'string') {
      this.error(new ProxyError('invalidEventId', 'Invalid ack: it must be an event id (a string).'))
      return
    }
    let position: StreamPosition
    try {
      position = parsePosition(raw, 'ack')
    } catch (err) {
      this.error(err as ProxyError)
      return
    }
    if (this.topic !== null && (position.size !== 1 || !position.has(this.topic))) {
      this.error(new ProxyError('invalidEventId', `Invalid ack: it must name topic ${this.topic} alone.`))
      return
    }
    for (const listener of this.acks) listener(position)
  }

  private async produceRecord (frame: unknown, frameBytes: number): Promise<void> {
    const correlation = isObject(frame) && 'correlation' in frame ? JSON.stringify(frame.correlation) : undefined
    const head = correlation === undefined ? '{"event":"result",' : `{"event":"result","correlation":${correlation},`
    this.pending++
    if (this.pending >= MAX_PENDING_RESULTS || this.ws.bufferedAmount > MAX_BUFFERED_BYTES) this.ws.pause()
    // Confluent's produce rate limits, as the v3 streaming produce applies them to each record's line.
    const limited = this.produce.rateLimiter?.check(this.clusterId, frameBytes) ?? null
    if (limited !== null) {
      this.answer(head, failureLine(limited, this.produce.log, this.topic))
      return
    }
    let rec: V3Record
    try {
      rec = await this.prepare(frame)
    } catch (err) {
      this.answer(head, failureLine(err, this.produce.log, this.topic))
      return
    }
    // Records that are ready in the same turn of the event loop (the frames
    // of one socket read) go to the producer in one call, as a v3 stream's
    // chunk does: one call and one delivery accounting per record made the
    // socket cost 37 us per record.
    this.ready.push({ rec, head })
    if (!this.flushing) {
      this.flushing = true
      setImmediate(this.flush)
    }
  }

  private readonly flush = (): void => {
    this.flushing = false
    const batch = this.ready
    this.ready = []
    if (batch.length === 0) return
    const topic = this.topic as string
    this.produce.producer.produce(topic, batch.map((b) => b.rec.record)).then((results) => {
      for (let i = 0; i < batch.length; i++) {
        const { rec, head } = batch[i] as Ready
        const result = results[i]
        const line = result === undefined
          ? failureLine(new ProxyError('internal'), this.produce.log, topic)
          : result.error !== null
            ? failureLine(result.error, this.produce.log, topic)
            : successLine(this.successPrefix, rec, result.partition as number, result.offset as number).slice(1, -2)
        this.answer(head, line)
      }
    }, (err: unknown) => {
      const line = failureLine(err, this.produce.log, topic)
      for (const { head } of batch) this.answer(head, line)
    })
  }

  /** Writes a record's result frame; the client's frames are read again once few results are pending. */
  private answer (head: string, line: string): void {
    if (this.closed) return
    this.cork()
    this.ws.send(head + line, () => {
      this.pending--
      if (this.pending < RESUME_BELOW && this.ws.bufferedAmount <= MAX_BUFFERED_BYTES) this.ws.resume()
    })
  }

  /** A record frame made ready for the producer: parsed, checked, encoded, stamped and counted; throws its failure, not written. */
  private async prepare (frame: unknown): Promise<V3Record> {
    const topic = this.topic
    if (topic === null) throw new ProxyError('badRequest', 'Bad Request: a topic pattern stream has no topic to produce to; open a stream of one topic.', { persisted: 'no' })
    let rec: V3Record
    try {
      rec = parseV3Record(frame, Date.now(), 'correlation')
      // -1: no partition_id, the partitioner chooses.
      const partition = rec.record.partition
      if (partition >= 0) {
        const info = await this.produce.metadata.topic(topic)
        if (info?.partitions[partition] === undefined) throw new ProxyError('partitionNotFound', `Partition ${partition} of topic ${topic} not found.`)
      }
      await this.produce.schemas.encode(rec, topic)
      // The identity headers (a client cannot send their names: 422), then
      // the principal's quota, last, on the bytes that go to Kafka (429), as
      // for the v3 produce endpoints.
      const { identity, quota } = this.producer
      if (identity !== null) this.produce.identity?.stamp(rec.record, identity)
      if (quota !== null) {
        const refused = await produceQuota(quota, rec)
        if (refused !== null) throw refused
      }
    } catch (err) {
      throw err instanceof ProxyError ? new ProxyError(err.key, err.message, { persisted: 'no', cause: err.cause }) : err
    }
    return rec
  }
}

interface Ready {
  rec: V3Record
  head: string
}

/** A failed record's result fields, without the opening brace; an unexpected failure is logged. */
function failureLine (err: unknown, log: Logger, topic: string | null): string {
  const e = err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
  if (e.key === 'internal') log.error({ err: e.cause ?? e, topic }, 'websocket produce record failed')
  return JSON.stringify({ ...errorBody(e), persisted: e.persisted ?? 'unknown' }).slice(1)
}
