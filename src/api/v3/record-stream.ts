// One v3 streaming produce request: POST /v3/clusters/{cluster_id}/topics/{topic}/records.
//
// The endpoint is full duplex: the request body is a stream of concatenated
// record objects, each record is handed to the producer as soon as its
// closing brace arrives, and each result line goes out as soon as that
// record and every record before it has a result. The HTTP status is 200 from
// the first byte on; per-record failures are result lines, never a status.
//
// Per record, in Confluent's order: the size limit (in the splitter), the
// stream's age (408 once past streaming max duration), JSON parsing, the
// produce rate limits (429), validation and the schemaless encoding, then the
// schema types' registry work and an explicit partition's check. Then the
// proxy's own: the identity headers (422 for a forged one, at validation)
// and the principal's quotas (429, last, on the bytes that go to Kafka). The
// registry, the partition check and a quota lease may wait for I/O; records
// behind such a record wait too, so a stream reaches Kafka in request order.
// BINARY/JSON/STRING records with a known partition and quota tokens at hand
// never wait: no promise per record.
//
// The request is one RecordStream: one method per event of the request, the
// response and the producer, its state in fields. Everything runs on the
// event loop, so no field needs more than the order of these calls.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ProxyError } from '../../errors.js'
import { MEDIA } from '../../http/media.js'
import { HANDLED, type Ctx, type Reply } from '../../http/handler.js'
import { errorJson } from '../../http/error-response.js'
import type { BatchOutcome } from '../../kafka/producer.js'
import type { JsonObjectSplitter } from '../../json/object-splitter.js'
import { parseV3Record, type DataSummary, type V3Record } from '../../produce/v3-record.js'
import type { IdentityHeaders } from '../../security/identity.js'
import type { PrincipalQuota } from '../../security/quotas.js'
import { asProxyError, notWritten, produceQuota, type Encoding, type ProduceRoute } from './produce-common.js'

// Records of one stream whose result line is not written yet. Beyond this the
// request is paused, so a fast uploader cannot queue unbounded memory behind a
// slow broker; reading resumes once half of them are answered.
export const MAX_PENDING_RECORDS = 10_000
const RESUME_BELOW = MAX_PENDING_RECORDS / 2

// Longest setTimeout node takes; a longer delay would fire at once.
export const MAX_TIMER_MS = 2 ** 31 - 1
// After a stream is closed for its age the socket is half-closed; a client
// that keeps uploading anyway is cut off after this.
const CLOSE_LINGER_MS = 5000

// Every record of an expired stream gets this same line.
const UNREACHABLE = new ProxyError('clusterUnreachable', undefined, { persisted: 'no' })
const EXPIRED_LINE = errorJson(new ProxyError('streamExpired', undefined, { persisted: 'no' })) + '\r\n'

/** A record's place in the response; its line is null until the record has a result. */
interface Slot {
  line: string | null
}

interface Taken {
  slot: Slot
  rec: V3Record
}

// A stream's success lines differ only in partition, offset, timestamp and
// summaries, so they are concatenated rather than built as two objects each
// for the serializer (measured: those objects and the per-record Date were
// among the largest costs of a busy stream). Same fields, same order as
// the batch's compiled serializer; a test compares the two.
export function successPrefix (clusterId: string, topic: string): string {
  return '{"error_code":200,"cluster_id":' + JSON.stringify(clusterId) + ',"topic_name":' + JSON.stringify(topic) + ',"partition_id":'
}

export function successLine (prefix: string, rec: V3Record, partition: number, offset: number): string {
  let line = prefix + String(partition) + ',"offset":' + String(offset) + ',"timestamp":"' + isoTime(rec.record.timestamp) + '"'
  if (rec.key !== null) line += ',"key":' + summaryJson(rec.key)
  if (rec.value !== null) line += ',"value":' + summaryJson(rec.value)
  return line + '}\r\n'
}

function summaryJson (s: DataSummary): string {
  // The serializer writes required properties first.
  let out = '{"type":' + JSON.stringify(s.type) + ',"size":' + String(s.size)
  if (s.subject !== undefined) out += ',"subject":' + JSON.stringify(s.subject)
  if (s.schema_id !== undefined) out += ',"schema_id":' + String(s.schema_id)
  if (s.schema_version !== undefined) out += ',"schema_version":' + String(s.schema_version)
  return out + '}'
}

// The records of a chunk share their arrival time: one Date per distinct time.
let isoAt = Number.NaN
let isoText = ''
function isoTime (ms: number): string {
  if (ms !== isoAt) {
    isoText = new Date(ms).toISOString()
    isoAt = ms
  }
  return isoText
}

// The topic is looked up (and perhaps created) when the first valid record
// needs it, as Confluent validates the body first: a stream that starts
// with a malformed record answers that record's 400, not the topic's 404,
// and creates nothing. Until then no status is sent; a lookup that fails
// before any line went out is the status of the whole request.
export class RecordStream {
  /** Runs one streaming request; settles when its last result line is written or the client is gone. */
  static run (route: ProduceRoute, ctx: Ctx, topicName: string, encoding: Encoding): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const stream = new RecordStream(route, ctx, topicName, encoding, resolve, reject)
      stream.listen()
    })
  }

  private readonly route: ProduceRoute
  private readonly req: IncomingMessage
  private readonly res: ServerResponse
  private readonly topicName: string
  private readonly clusterId: string
  private readonly encoding: Encoding
  private readonly splitter: JsonObjectSplitter
  private readonly expiresAt: number
  /** The principal's quotas and identity headers; null when off. */
  private readonly quota: PrincipalQuota | null
  private readonly identity: IdentityHeaders | null
  private readonly resolve: (reply: Reply) => void
  private readonly reject: (err: ProxyError) => void

  private topicKnown = false
  private topicError: ProxyError | null = null
  private checkPartition: (partition: number) => Promise<void> | undefined = () => undefined
  private closeTimer: NodeJS.Timeout | null = null
  private closing = false
  // One slot per record in request order. Slots, not indexes, because the
  // queue is compacted.
  private lines: Slot[] = []
  private head = 0
  private inputDone = false
  private paused = false
  private writeBlocked = false
  private settled = false
  // The records of one incoming chunk go to the producer as one batch:
  // one result promise per chunk instead of per record, in stream order.
  private chunk: Taken[] = []
  // Records behind one that waits for I/O (a schema lookup, a partition
  // refresh), in order; null while nothing waits.
  private blocked: Taken[] | null = null
  private flushScheduled = false

  private constructor (route: ProduceRoute, ctx: Ctx, topicName: string, encoding: Encoding, resolve: (reply: Reply) => void, reject: (err: ProxyError) => void) {
    this.route = route
    this.req = ctx.req
    this.res = ctx.res
    this.topicName = topicName
    this.clusterId = ctx.params.cluster_id as string
    this.encoding = encoding
    this.splitter = route.recordSplitter()
    this.expiresAt = Date.now() + route.deps.streamMaxDurationMs
    this.quota = route.quotaOf(ctx)
    this.identity = route.identityOf(ctx)
    this.resolve = resolve
    this.reject = reject
  }

  private listen (): void {
    this.req.on('data', this.onData)
    this.req.on('end', this.onEnd)
    this.req.on('error', this.onRequestError)
    this.res.on('drain', this.onDrain)
    this.res.on('close', this.onClose)
  }

  // ---- request, response and producer events ----

  private readonly onData = (data: Buffer): void => {
    const { objects, error } = this.splitter.push(data)
    for (const bytes of objects) {
      if (!this.accept(bytes)) {
        this.stopInput()
        break
      }
    }
    this.produceChunk()
    if (error !== null && !this.inputDone) {
      this.fail(this.take(), new ProxyError('badRequest', `Bad Request: ${error}`, { persisted: 'no' }))
      // Confluent stops the connection for an oversized record: the
      // rest of the upload is not worth receiving.
      if (this.splitter.overLimit) this.closing = true
      this.stopInput()
    }
    this.flush()
  }

  private readonly onEnd = (): void => {
    if (this.inputDone) return
    if (!this.splitter.sawInput) {
      this.settle(new ProxyError('emptyPayload'))
      return
    }
    const error = this.splitter.end()
    if (error !== null) {
      this.fail(this.take(), new ProxyError('badRequest', `Bad Request: ${error}`, { persisted: 'no' }))
    }
    this.inputDone = true
    this.flush()
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false
    this.flow()
  }

  private readonly onRequestError = (): void => {
    // A broken upload; the socket is gone or going, and with it the client.
    this.stopInput()
    this.res.destroy()
    this.settle()
  }

  private readonly onClose = (): void => {
    // The client went away before the last result; records already handed
    // to the producer still complete, their results have nowhere to go.
    if (!this.res.writableFinished) this.settle()
  }

  /** The results of one chunk handed to the producer. */
  private onResults (items: Taken[], outcome: BatchOutcome): void {
    const prefix = successPrefix(this.clusterId, this.topicName)
    for (let i = 0; i < items.length; i++) {
      const { slot, rec } = items[i] as Taken
      const error = outcome.errors?.[i]
      if (error !== undefined) this.fail(slot, error)
      else slot.line = successLine(prefix, rec, outcome.partitions[i] as number, outcome.offsets[i] as number)
    }
  }

  /** The first record past the stream's age starts the grace period; the connection closes after it. */
  private readonly onGraceOver = (): void => {
    this.closeTimer = null
    this.closing = true
    if (!this.inputDone) this.stopInput()
    this.flush()
  }

  // ---- records ----

  /**
   * Takes one record object; false when it was malformed and the stream
   * must stop. Invalid UTF-8, nesting or numbers beyond the limits and
   * repeated keys are malformed JSON too: the stream stops at them.
   */
  private accept (bytes: Buffer): boolean {
    const slot = this.take()
    const now = Date.now()
    if (now >= this.expiresAt) {
      this.expired(slot)
      return true
    }
    let parsed: unknown
    try {
      parsed = this.route.parseBody(bytes, this.encoding)
    } catch (err) {
      this.fail(slot, notWritten(err))
      return false
    }
    const limiter = this.route.deps.rateLimiter
    if (limiter !== null) {
      const limited = limiter.check(this.clusterId, bytes.length)
      if (limited !== null) {
        this.fail(slot, limited)
        return true
      }
    }
    let rec: V3Record
    try {
      rec = parseV3Record(parsed, now)
      if (this.identity !== null) this.route.stamp(rec, this.identity)
    } catch (err) {
      this.fail(slot, notWritten(err))
      return true
    }
    this.forward(slot, rec)
    return true
  }

  /** Hands a parsed record on towards the producer, keeping stream order. */
  private forward (slot: Slot, rec: V3Record): void {
    if (this.blocked !== null) {
      this.blocked.push({ slot, rec })
      return
    }
    if (!this.topicKnown) {
      if (this.topicError !== null) this.fail(slot, this.topicError)
      else this.lookUpTopic(slot, rec)
      return
    }
    let schemaPending: Promise<void> | undefined
    try {
      schemaPending = rec.schemas === null ? undefined : this.route.deps.schemas.encode(rec, this.topicName)
    } catch (err) {
      this.fail(slot, notWritten(err))
      return
    }
    const partitionPending = this.checkPartition(rec.record.partition)
    if (schemaPending === undefined && partitionPending === undefined) {
      const waiting = this.enqueue(slot, rec)
      if (waiting !== undefined) this.wait(waiting)
      return
    }
    const pending = schemaPending === undefined
      ? partitionPending as Promise<void>
      : partitionPending === undefined ? schemaPending : Promise.all([schemaPending, partitionPending])
    this.wait(pending.then(() => this.enqueue(slot, rec), (err: unknown) => { this.fail(slot, notWritten(err)) }))
  }

  /** Records behind one that waits (`pending` settles once it is queued or failed) wait behind it. */
  private wait (pending: Promise<void>): void {
    // Earlier records go first; later ones wait behind this one.
    this.produceChunk()
    this.blocked = []
    pending.then(() => this.release())
  }

  /**
   * Queues a record for the producer once its principal's quota lets it
   * (else its 429 result); a promise while the quota asks the primary for
   * tokens, undefined when decided at once.
   */
  private enqueue (slot: Slot, rec: V3Record): Promise<void> | undefined {
    const quota = this.quota
    if (quota !== null) {
      const v = produceQuota(quota, rec)
      if (v instanceof Promise) {
        return v.then((e) => {
          if (e === null) this.chunk.push({ slot, rec })
          else this.fail(slot, e)
        })
      }
      if (v !== null) {
        this.fail(slot, v)
        return undefined
      }
    }
    this.chunk.push({ slot, rec })
    return undefined
  }

  /** The first valid record waits for the topic, and every record behind it. */
  private lookUpTopic (slot: Slot, rec: V3Record): void {
    this.blocked = [{ slot, rec }]
    this.route.requireTopic(this.topicName).then((topic) => {
      this.topicKnown = true
      this.checkPartition = this.route.partitionChecker(topic)
      this.begin()
    }, (err: unknown) => {
      const e = notWritten(err)
      if (!this.res.headersSent) {
        this.stopInput()
        this.settle(e)
        return
      }
      this.topicError = e
    }).then(() => {
      if (!this.settled) this.release()
    })
  }

  /** The records that waited go on, in order; one of them that waits again blocks the rest anew. */
  private release (): void {
    const waiting = this.blocked as Taken[]
    this.blocked = null
    for (const { slot, rec } of waiting) this.forward(slot, rec)
    this.produceChunk()
    this.flush()
  }

  private produceChunk (): void {
    if (this.chunk.length === 0) return
    const items = this.chunk
    this.chunk = []
    // A stream outlives the topic lookup that checked the cluster: while the
    // cluster is known to be unreachable its records are refused, not
    // written, as a v2 produce is (metadata.topic()), instead of queuing to
    // time out as "unknown".
    if (!this.route.deps.metadata.reachable()) {
      for (const { slot } of items) this.fail(slot, UNREACHABLE)
      this.scheduleFlush()
      return
    }
    const records = new Array<V3Record['record']>(items.length)
    for (let i = 0; i < items.length; i++) records[i] = (items[i] as Taken).rec.record
    this.route.deps.producer.produceRecords(this.topicName, records).then(
      (outcome) => this.onResults(items, outcome),
      (err: unknown) => {
        const e = asProxyError(err)
        for (const { slot } of items) this.fail(slot, e)
      }
    ).finally(this.scheduleFlush)
  }

  private take (): Slot {
    const slot: Slot = { line: null }
    this.lines.push(slot)
    return slot
  }

  private fail (slot: Slot, err: ProxyError): void {
    this.route.logInternal(err, this.topicName)
    slot.line = errorJson(err) + '\r\n'
  }

  private expired (slot: Slot): void {
    slot.line = EXPIRED_LINE
    if (this.closeTimer === null && !this.closing) {
      this.closeTimer = setTimeout(this.onGraceOver, Math.min(this.route.deps.streamGracePeriodMs, MAX_TIMER_MS))
    }
  }

  // ---- output and flow control ----

  private begin (): void {
    if (this.res.headersSent) return
    this.res.writeHead(200, { 'content-type': MEDIA.json })
    // Headers go out now, not with the first result, so the client sees
    // the 200 while it is still uploading.
    this.res.flushHeaders()
  }

  // Delivery reports arrive in bursts; their results go out together,
  // once per turn of the event loop.
  private readonly scheduleFlush = (): void => {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(this.flushNow)
  }

  private readonly flushNow = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  private flush (): void {
    if (this.settled) return
    // One write for every result that is ready: a write per line made
    // socket writes most of the cost of a busy stream.
    const lines = this.lines
    let out = ''
    while (this.head < lines.length) {
      const line = (lines[this.head] as Slot).line
      if (line === null) break
      out += line
      this.head++
    }
    if (out !== '') {
      this.begin()
      if (!this.res.write(out)) this.writeBlocked = true
    }
    if (this.head === lines.length) {
      lines.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= lines.length) {
      lines.splice(0, this.head)
      this.head = 0
    }
    if (this.inputDone && lines.length === 0) {
      if (this.closing) this.closeConnection()
      this.res.end()
      this.settle()
      return
    }
    this.flow()
  }

  private flow (): void {
    if (this.inputDone) return
    const pending = this.lines.length - this.head
    if (!this.paused && (this.writeBlocked || pending >= MAX_PENDING_RECORDS)) {
      this.paused = true
      this.req.pause()
    } else if (this.paused && !this.writeBlocked && pending <= RESUME_BELOW) {
      this.paused = false
      this.req.resume()
    }
  }

  /** Stops taking records; those already taken still get their results. */
  private stopInput (): void {
    this.inputDone = true
    this.req.off('data', this.onData)
    // The unread rest of the body is discarded, so the connection can
    // carry a next request once it is through.
    this.req.resume()
  }

  private closeConnection (): void {
    // The client may still be uploading: the response ends, then the
    // socket is half-closed so the client sees the end, and cut off if
    // the client does not close its side.
    const socket = this.req.socket
    this.res.once('finish', () => {
      socket.end()
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref()
    })
  }

  private settle (err?: ProxyError): void {
    if (this.settled) return
    this.settled = true
    if (this.closeTimer !== null) clearTimeout(this.closeTimer)
    this.req.off('data', this.onData)
    this.req.off('end', this.onEnd)
    this.req.off('error', this.onRequestError)
    this.res.off('drain', this.onDrain)
    this.res.off('close', this.onClose)
    if (err === undefined) this.resolve(HANDLED)
    else this.reject(err)
  }
}
