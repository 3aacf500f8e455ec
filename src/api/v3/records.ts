// v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic}/records (streaming)
// and …/records:batch.
//
// The streaming endpoint is full duplex: the request body is a stream of
// concatenated record objects, each record is handed to the producer as soon
// as its closing brace arrives, and each result line goes out as soon as that
// record and every record before it has a result. The HTTP status is 200 from
// the first byte on; per-record failures are result lines, never a status.
//
// Per record, in Confluent's order: the size limit (in the splitter), the
// stream's age (408 once past streaming max duration), JSON parsing, the
// produce rate limits (429), validation and the schemaless encoding, then the
// schema types' registry work and an explicit partition's check. The last two
// may wait for I/O; records behind such a record wait too, so a stream
// reaches Kafka in request order. BINARY/JSON/STRING records with a known
// partition never wait: no promise per record.
import fjs from 'fast-json-stringify'
import { ProxyError, errorBody } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { MEDIA, negotiator, requestMedia } from '../../http/media.js'
import { HANDLED, reply, streamingBody, writesRecords, type Ctx, type Handler, type Reply } from '../../http/handler.js'
import { errorJson } from '../../http/error-response.js'
import type { KafkaProducer, RecordResult } from '../../kafka/producer.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import { JsonObjectSplitter } from '../../serdes/json-stream.js'
import { jsonLimits, parseJson, type JsonLimits } from '../../serdes/json-input.js'
import type { Logger } from '../../logger.js'
import { parseV3Record, V3SchemaEncoder, type DataSummary, type V3Record } from '../../serdes/v3-produce.js'
import { ProduceRateLimiter } from './rate-limit.js'
import type { V3Module } from './index.js'

export interface V3ProduceDeps {
  producer: KafkaProducer
  metadata: ClusterMetadata
  /** Bounds the batch body and each record object of a stream. */
  maxBodyBytes: number
  /** Largest record object (stream) or entry (batch); 0 = only maxBodyBytes. */
  recordMaxBytes: number
  batchMaxEntries: number
  /** Age of a stream after which its records get 408 results. */
  streamMaxDurationMs: number
  /** Time from a stream's first 408 result to its connection being closed. */
  streamGracePeriodMs: number
  /** Null when the produce rate limits are off: then they cost one null check per record. */
  rateLimiter: ProduceRateLimiter | null
  schemas: V3SchemaEncoder
  json: JsonLimits
  /** Per-record internal failures are logged here; they never reach the HTTP status. */
  log: Logger
}

// Records of one stream whose result line is not written yet. Beyond this the
// request is paused, so a fast uploader cannot queue unbounded memory behind a
// slow broker; reading resumes once half of them are answered.
export const MAX_PENDING_RECORDS = 10_000
const RESUME_BELOW = MAX_PENDING_RECORDS / 2

// Records naming a partition above the cached count trigger at most one
// metadata refresh per stream in this window.
const PARTITION_REFRESH_MS = 1000

// Batch entry ids (Confluent's ProduceBatchRequestEntry).
const ENTRY_ID_RE = /^[0-9a-zA-Z_-]{1,80}$/

// Confluent's message for api.v3.produce.request.size.limit.max.bytes, after "Bad Request: ".
const RECORD_TOO_LARGE = 'Error processing message: Produce request size is larger than allowed threshold'

// Longest setTimeout node takes; a longer delay would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1
// After a stream is closed for its age the socket is half-closed; a client
// that keeps uploading anyway is cut off after this.
const CLOSE_LINGER_MS = 5000

const summary = {
  type: 'object' as const,
  properties: {
    type: { type: 'string' as const },
    subject: { type: 'string' as const },
    schema_id: { type: 'integer' as const },
    schema_version: { type: 'integer' as const },
    size: { type: 'integer' as const }
  },
  required: ['type', 'size']
}

const successProperties = {
  cluster_id: { type: 'string' },
  topic_name: { type: 'string' },
  partition_id: { type: 'integer' },
  offset: { type: 'integer' },
  timestamp: { type: 'string' },
  key: summary,
  value: summary
} as const
const successRequired = ['cluster_id', 'topic_name', 'partition_id', 'offset', 'timestamp']

const failureProperties = {
  error_code: { type: 'integer' },
  message: { type: 'string' },
  retriable: { type: 'boolean' },
  persisted: { type: 'string' }
} as const

export const serializeSuccess = fjs({
  type: 'object',
  properties: { error_code: { type: 'integer' }, ...successProperties },
  required: ['error_code', ...successRequired]
})

const serializeBatch = fjs({
  type: 'object',
  properties: {
    successes: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, ...successProperties }, required: ['id', ...successRequired] }
    },
    failures: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, ...failureProperties }, required: ['id', 'error_code', 'message', 'retriable'] }
    }
  },
  required: ['successes', 'failures']
})

const negotiate = negotiator([{ type: MEDIA.json, qs: 1 }])

// Every record of an expired stream gets this same line.
const EXPIRED_LINE = errorJson(new ProxyError('streamExpired', undefined, { persisted: 'no' })) + '\r\n'

interface Slot {
  line: string | null
}

interface Taken {
  slot: Slot
  rec: V3Record
}

interface Success {
  cluster_id: string
  topic_name: string
  partition_id: number
  offset: number
  timestamp: string
  key?: V3Record['key']
  value?: V3Record['value']
}

/** The request's charset as a Buffer encoding; v3 takes only `application/json`. */
function requestEncoding (ctx: Ctx): 'utf8' | 'latin1' {
  const header = ctx.req.headers['content-type']
  const media = requestMedia(header)
  if (media === null || media.vendor) throw new ProxyError('unsupportedMediaType')
  if (negotiate(ctx.req.headers.accept) === null) throw new ProxyError('notAcceptable')
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header ?? '')?.[1]?.toLowerCase()
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return 'utf8'
  if (charset === 'iso-8859-1' || charset === 'latin1') return 'latin1'
  throw new ProxyError('badRequest', `Bad Request: unsupported charset ${charset}; use UTF-8.`)
}

function isBlank (b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false
  }
  return true
}

/** Failures before a record reaches the producer leave Kafka untouched: say so. */
function notWritten (err: unknown): ProxyError {
  if (!(err instanceof ProxyError)) return new ProxyError('internal', undefined, { persisted: 'no', cause: err })
  if (err.persisted !== undefined) return err
  return new ProxyError(err.key, err.message, { persisted: 'no', cause: err.cause })
}

function asProxyError (err: unknown): ProxyError {
  return err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
}

export function success (clusterId: string, topic: string, rec: V3Record, r: RecordResult): Success {
  const s: Success = {
    cluster_id: clusterId,
    topic_name: topic,
    partition_id: r.partition as number,
    offset: r.offset as number,
    // The proxy always sets the record's CreateTime itself, so this is the
    // timestamp stored in Kafka (unless the topic uses LogAppendTime).
    timestamp: new Date(rec.record.timestamp).toISOString()
  }
  if (rec.key !== null) s.key = rec.key
  if (rec.value !== null) s.value = rec.value
  return s
}

// A stream's success lines differ only in partition, offset, timestamp and
// summaries, so they are concatenated rather than built as two objects each
// for the serializer (measured: those objects and the per-record Date were
// among the largest costs of a busy stream). Same fields, same order as
// serializeSuccess; a test compares the two.
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

export function v3ProduceHandlers (deps: V3ProduceDeps): { stream: Handler, batch: Handler } {
  async function requireTopic (name: string): Promise<TopicInfo> {
    const topic = await deps.metadata.writableTopic(name)
    if (topic === null) throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
    return topic
  }

  // A record larger than record_max_bytes gets Confluent's message; one
  // larger than the body limit (when that is the smaller) the splitter's own.
  const splitLimit = deps.recordMaxBytes > 0 ? Math.min(deps.recordMaxBytes, deps.maxBodyBytes) : deps.maxBodyBytes
  const splitMessage = deps.recordMaxBytes > 0 && deps.recordMaxBytes <= deps.maxBodyBytes ? RECORD_TOO_LARGE : undefined
  function recordSplitter (): JsonObjectSplitter {
    return new JsonObjectSplitter(splitLimit, splitMessage)
  }

  /** One record object or batch body, parsed strictly (json-input.ts) in the request's charset. */
  function parseBody (bytes: Buffer, encoding: 'utf8' | 'latin1'): unknown {
    return parseJson(bytes, deps.json, { prefix: 'Bad Request: ', latin1: encoding === 'latin1' })
  }

  function logInternal (err: ProxyError, topic: string): void {
    if (err.key === 'internal') deps.log.error({ err: err.cause ?? err, topic }, 'v3 produce record failed')
  }

  /** Checks an explicit partition against the topic, refreshing metadata at most once per window. */
  function partitionChecker (initial: TopicInfo): (partition: number) => Promise<void> | undefined {
    let count = initial.partitions.length
    let refreshedAt = 0
    async function slow (partition: number): Promise<void> {
      if (Date.now() - refreshedAt >= PARTITION_REFRESH_MS) {
        refreshedAt = Date.now()
        // Partitions may have been added since the cached view.
        const fresh = await deps.metadata.refresh().catch(() => null)
        count = fresh?.topics.get(initial.name)?.partitions.length ?? count
      }
      if (partition >= count) throw new ProxyError('partitionNotFound', `Partition ${partition} of topic ${initial.name} not found.`)
    }
    // No promise on the common path, so records reach the producer in arrival order.
    return (partition) => partition < count ? undefined : slow(partition)
  }

  // The topic is looked up (and perhaps created) when the first valid record
  // needs it, as Confluent validates the body first: a stream that starts
  // with a malformed record answers that record's 400, not the topic's 404,
  // and creates nothing. Until then no status is sent; a lookup that fails
  // before any line went out is the status of the whole request.
  function runStream (ctx: Ctx, topicName: string, encoding: 'utf8' | 'latin1'): Promise<Reply> {
    const { req, res } = ctx
    const clusterId = ctx.params.cluster_id as string
    let topicKnown = false
    let topicError: ProxyError | null = null
    let checkPartition: (partition: number) => Promise<void> | undefined = () => undefined
    const splitter = recordSplitter()
    const limiter = deps.rateLimiter
    const expiresAt = Date.now() + deps.streamMaxDurationMs
    let closeTimer: NodeJS.Timeout | null = null
    let closing = false
    // One slot per record in request order; its line is null until the
    // record has a result. Slots, not indexes, because the queue is compacted.
    const lines: Slot[] = []
    let head = 0
    let inputDone = false
    let paused = false
    let writeBlocked = false
    let settled = false

    return new Promise<Reply>((resolve, reject) => {
      function settle (err?: ProxyError): void {
        if (settled) return
        settled = true
        if (closeTimer !== null) clearTimeout(closeTimer)
        req.off('data', onData)
        req.off('end', onEnd)
        req.off('error', onRequestError)
        res.off('drain', onDrain)
        res.off('close', onClose)
        if (err === undefined) resolve(HANDLED)
        else reject(err)
      }

      function begin (): void {
        if (res.headersSent) return
        res.writeHead(200, { 'content-type': MEDIA.json })
        // Headers go out now, not with the first result, so the client sees
        // the 200 while it is still uploading.
        res.flushHeaders()
      }

      function flush (): void {
        if (settled) return
        // One write for every result that is ready: a write per line made
        // socket writes most of the cost of a busy stream.
        let out = ''
        while (head < lines.length) {
          const line = (lines[head] as Slot).line
          if (line === null) break
          out += line
          head++
        }
        if (out !== '') {
          begin()
          if (!res.write(out)) writeBlocked = true
        }
        if (head === lines.length) {
          lines.length = 0
          head = 0
        } else if (head >= 1024 && head * 2 >= lines.length) {
          lines.splice(0, head)
          head = 0
        }
        if (inputDone && lines.length === 0) {
          if (closing) closeConnection()
          res.end()
          settle()
          return
        }
        flow()
      }

      function flow (): void {
        if (inputDone) return
        const pending = lines.length - head
        if (!paused && (writeBlocked || pending >= MAX_PENDING_RECORDS)) {
          paused = true
          req.pause()
        } else if (paused && !writeBlocked && pending <= RESUME_BELOW) {
          paused = false
          req.resume()
        }
      }

      /** Stops taking records; those already taken still get their results. */
      function stopInput (): void {
        inputDone = true
        req.off('data', onData)
        // The unread rest of the body is discarded, so the connection can
        // carry a next request once it is through.
        req.resume()
      }

      function fail (slot: Slot, err: ProxyError): void {
        logInternal(err, topicName)
        slot.line = errorJson(err) + '\r\n'
      }

      function take (): Slot {
        const slot: Slot = { line: null }
        lines.push(slot)
        return slot
      }

      // The records of one incoming chunk go to the producer as one batch:
      // one result promise per chunk instead of per record, in stream order.
      let chunk: Taken[] = []
      // Records behind one that waits for I/O (a schema lookup, a partition
      // refresh), in order; null while nothing waits.
      let blocked: Taken[] | null = null

      function produceChunk (): void {
        if (chunk.length === 0) return
        const items = chunk
        chunk = []
        const records = new Array<V3Record['record']>(items.length)
        for (let i = 0; i < items.length; i++) records[i] = (items[i] as Taken).rec.record
        deps.producer.produceRecords(topicName, records).then((outcome) => {
          const prefix = successPrefix(clusterId, topicName)
          for (let i = 0; i < items.length; i++) {
            const { slot, rec } = items[i] as Taken
            const error = outcome.errors?.[i]
            if (error !== undefined) fail(slot, error)
            else slot.line = successLine(prefix, rec, outcome.partitions[i] as number, outcome.offsets[i] as number)
          }
        }, (err: unknown) => {
          const e = asProxyError(err)
          for (const { slot } of items) fail(slot, e)
        }).finally(scheduleFlush)
      }

      // Delivery reports arrive in bursts; their results go out together,
      // once per turn of the event loop.
      let flushScheduled = false
      function scheduleFlush (): void {
        if (flushScheduled) return
        flushScheduled = true
        setImmediate(() => {
          flushScheduled = false
          flush()
        })
      }

      /** Hands a parsed record on towards the producer, keeping stream order. */
      function route (slot: Slot, rec: V3Record): void {
        if (blocked !== null) {
          blocked.push({ slot, rec })
          return
        }
        if (!topicKnown) {
          if (topicError !== null) fail(slot, topicError)
          else lookUpTopic(slot, rec)
          return
        }
        let schemaPending: Promise<void> | undefined
        try {
          schemaPending = rec.schemas === null ? undefined : deps.schemas.encode(rec, topicName)
        } catch (err) {
          fail(slot, notWritten(err))
          return
        }
        const partitionPending = checkPartition(rec.record.partition)
        if (schemaPending === undefined && partitionPending === undefined) {
          chunk.push({ slot, rec })
          return
        }
        // Earlier records go first; later ones wait behind this one.
        produceChunk()
        blocked = []
        const pending = schemaPending === undefined
          ? partitionPending as Promise<void>
          : partitionPending === undefined ? schemaPending : Promise.all([schemaPending, partitionPending])
        pending.then(() => { chunk.push({ slot, rec }) }, (err: unknown) => { fail(slot, notWritten(err)) }).then(release)
      }

      /** The first valid record waits for the topic, and every record behind it. */
      function lookUpTopic (slot: Slot, rec: V3Record): void {
        blocked = [{ slot, rec }]
        requireTopic(topicName).then((topic) => {
          topicKnown = true
          checkPartition = partitionChecker(topic)
          begin()
        }, (err: unknown) => {
          const e = notWritten(err)
          if (!res.headersSent) {
            stopInput()
            settle(e)
            return
          }
          topicError = e
        }).then(() => {
          if (!settled) release()
        })
      }

      function release (): void {
        const waiting = blocked as Taken[]
        blocked = null
        // A record of these that waits again blocks the rest anew.
        for (const { slot, rec } of waiting) route(slot, rec)
        produceChunk()
        flush()
      }

      /** The first record past the stream's age starts the grace period; the connection closes after it. */
      function expired (slot: Slot): void {
        slot.line = EXPIRED_LINE
        if (closeTimer === null && !closing) closeTimer = setTimeout(closeStream, Math.min(deps.streamGracePeriodMs, MAX_TIMER_MS))
      }

      function closeStream (): void {
        closeTimer = null
        closing = true
        if (!inputDone) stopInput()
        flush()
      }

      function closeConnection (): void {
        // The client may still be uploading: the response ends, then the
        // socket is half-closed so the client sees the end, and cut off if
        // the client does not close its side.
        const socket = req.socket
        res.once('finish', () => {
          socket.end()
          setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref()
        })
      }

      /**
       * Takes one record object; false when it was malformed and the stream
       * must stop. Invalid UTF-8, nesting or numbers beyond the limits and
       * repeated keys are malformed JSON too: the stream stops at them.
       */
      function accept (bytes: Buffer): boolean {
        const slot = take()
        const now = Date.now()
        if (now >= expiresAt) {
          expired(slot)
          return true
        }
        let parsed: unknown
        try {
          parsed = parseBody(bytes, encoding)
        } catch (err) {
          fail(slot, notWritten(err))
          return false
        }
        if (limiter !== null) {
          const limited = limiter.check(clusterId, bytes.length)
          if (limited !== null) {
            fail(slot, limited)
            return true
          }
        }
        let rec: V3Record
        try {
          rec = parseV3Record(parsed, now)
        } catch (err) {
          fail(slot, notWritten(err))
          return true
        }
        route(slot, rec)
        return true
      }

      function onData (chunk: Buffer): void {
        const { objects, error } = splitter.push(chunk)
        for (const bytes of objects) {
          if (!accept(bytes)) {
            stopInput()
            break
          }
        }
        produceChunk()
        if (error !== null && !inputDone) {
          fail(take(), new ProxyError('badRequest', `Bad Request: ${error}`, { persisted: 'no' }))
          // Confluent stops the connection for an oversized record: the
          // rest of the upload is not worth receiving.
          if (splitter.overLimit) closing = true
          stopInput()
        }
        flush()
      }

      function onEnd (): void {
        if (inputDone) return
        if (!splitter.sawInput) {
          settle(new ProxyError('emptyPayload'))
          return
        }
        const error = splitter.end()
        if (error !== null) {
          fail(take(), new ProxyError('badRequest', `Bad Request: ${error}`, { persisted: 'no' }))
        }
        inputDone = true
        flush()
      }

      function onDrain (): void {
        writeBlocked = false
        flow()
      }

      function onRequestError (): void {
        // A broken upload; the socket is gone or going, and with it the client.
        stopInput()
        res.destroy()
        settle()
      }

      function onClose (): void {
        // The client went away before the last result; records already handed
        // to the producer still complete, their results have nowhere to go.
        if (!res.writableFinished) settle()
      }

      req.on('data', onData)
      req.on('end', onEnd)
      req.on('error', onRequestError)
      res.on('drain', onDrain)
      res.on('close', onClose)
    })
  }

  async function stream (ctx: Ctx): Promise<Reply> {
    const encoding = requestEncoding(ctx)
    return await runStream(ctx, ctx.params.topic as string, encoding)
  }

  async function batch (ctx: Ctx): Promise<Reply> {
    const encoding = requestEncoding(ctx)
    const body = await readBody(ctx.req, deps.maxBodyBytes)
    if (isBlank(body)) throw new ProxyError('batchValidation', 'Request body is empty. Data is required.')
    const parsed = parseBody(body, encoding)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProxyError('badRequest', 'Bad Request: the body must be a JSON object {"entries": […]}.')
    for (const k of Object.keys(parsed)) {
      if (k !== 'entries') throw new ProxyError('badRequest', `Bad Request: Unrecognized field "${k.length > 64 ? `${k.slice(0, 64)}…` : k}" in the batch.`)
    }
    const entries = (parsed as { entries?: unknown }).entries
    if (entries === undefined || entries === null || (Array.isArray(entries) && entries.length === 0)) {
      throw new ProxyError('batchValidation', 'Empty batch.')
    }
    if (!Array.isArray(entries)) throw new ProxyError('badRequest', 'Bad Request: entries must be an array.')
    if (entries.length > deps.batchMaxEntries) throw new ProxyError('batchValidation', 'Too many entries in batch.')
    const ids = new Array<string>(entries.length)
    const seen = new Set<string>()
    for (let i = 0; i < entries.length; i++) {
      const id = (entries[i] as { id?: unknown } | null)?.id
      if (typeof id !== 'string' || !ENTRY_ID_RE.test(id)) throw new ProxyError('batchValidation', 'Batch entry identifier is not a valid string.')
      if (seen.has(id)) throw new ProxyError('batchValidation', 'Batch entry IDs are not distinct.')
      seen.add(id)
      ids[i] = id
    }

    const topicName = ctx.params.topic as string
    const clusterId = ctx.params.cluster_id as string
    const limiter = deps.rateLimiter
    // An entry's size is that of its compact JSON text (the body's own
    // spacing is not attributable to one entry); measured only when needed.
    const measure = limiter !== null || deps.recordMaxBytes > 0
    const now = Date.now()
    const outcomes = new Array<V3Record | ProxyError>(entries.length)
    for (let i = 0; i < entries.length; i++) {
      try {
        if (measure) {
          const size = Buffer.byteLength(JSON.stringify(entries[i]))
          if (deps.recordMaxBytes > 0 && size > deps.recordMaxBytes) throw new ProxyError('badRequest', `Bad Request: ${RECORD_TOO_LARGE}`)
          const limited = limiter?.check(clusterId, size) ?? null
          if (limited !== null) throw limited
        }
        outcomes[i] = parseV3Record(entries[i], now, 'id')
      } catch (err) {
        outcomes[i] = notWritten(err)
      }
    }
    // Entries are validated before the topic is looked up (and perhaps
    // created); a batch with no valid entry needs no topic.
    if (outcomes.some((o) => !(o instanceof ProxyError))) {
      const checkPartition = partitionChecker(await requireTopic(topicName))
      for (let i = 0; i < outcomes.length; i++) {
        const rec = outcomes[i]
        if (rec instanceof ProxyError || rec === undefined) continue
        try {
          await deps.schemas.encode(rec, topicName)
          await checkPartition(rec.record.partition)
        } catch (err) {
          outcomes[i] = notWritten(err)
        }
      }
    }
    const valid = outcomes.filter((o): o is V3Record => !(o instanceof ProxyError))
    let results: RecordResult[]
    try {
      results = valid.length === 0 ? [] : await deps.producer.produce(topicName, valid.map((v) => v.record))
    } catch (err) {
      const e = asProxyError(err)
      results = valid.map(() => ({ partition: null, offset: null, error: e }))
    }

    const successes: Array<Success & { id: string }> = []
    const failures: Array<ReturnType<typeof errorBody> & { id: string }> = []
    let next = 0
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i] as V3Record | ProxyError
      const id = ids[i] as string
      if (o instanceof ProxyError) {
        logInternal(o, topicName)
        failures.push({ id, ...errorBody(o) })
        continue
      }
      const r = results[next++] as RecordResult
      if (r.error !== null) failures.push({ id, ...errorBody(r.error) })
      else successes.push({ id, ...success(clusterId, topicName, o, r) })
    }
    return reply(207, MEDIA.json, serializeBatch({ successes, failures }))
  }

  // Every error answer of a produce request says whether anything was
  // written; those thrown before a record reached the producer say "no".
  return {
    stream: (ctx) => stream(ctx).catch((err: unknown) => { throw notWritten(err) }),
    batch: (ctx) => batch(ctx).catch((err: unknown) => { throw notWritten(err) })
  }
}

export const registerRecords: V3Module = (router, deps) => {
  const { server, v3, schema_registry: registry } = deps.config
  const handlers = v3ProduceHandlers({
    producer: deps.producer,
    metadata: deps.metadata,
    maxBodyBytes: server.max_body_bytes,
    recordMaxBytes: v3.record_max_bytes,
    batchMaxEntries: v3.batch_max_entries,
    streamMaxDurationMs: v3.stream_max_duration_ms,
    streamGracePeriodMs: v3.stream_grace_period_ms,
    rateLimiter: v3.rate_limit.enabled ? new ProduceRateLimiter(v3.rate_limit, deps.workers) : null,
    schemas: new V3SchemaEncoder(deps.registry, { key: registry.key_subject_strategy, value: registry.value_subject_strategy }),
    json: jsonLimits(server),
    log: deps.log
  })
  router
    .add('POST', '/v3/clusters/{cluster_id}/topics/{topic}/records', writesRecords(streamingBody(handlers.stream)))
    .add('POST', '/v3/clusters/{cluster_id}/topics/{topic}/records:batch', writesRecords(handlers.batch))
  return undefined
}
