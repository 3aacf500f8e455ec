// v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic}/records (streaming)
// and …/records:batch.
//
// The streaming endpoint is full duplex: the request body is a stream of
// concatenated record objects, each record is handed to the producer as soon
// as its closing brace arrives, and each result line goes out as soon as that
// record and every record before it has a result. The HTTP status is 200 from
// the first byte on; per-record failures are result lines, never a status.
import fjs from 'fast-json-stringify'
import { ProxyError, errorBody } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { MEDIA, negotiator, requestMedia } from '../../http/media.js'
import { HANDLED, reply, type Ctx, type Handler, type Reply } from '../../http/handler.js'
import type { KafkaProducer, RecordResult } from '../../kafka/producer.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import { JsonObjectSplitter } from '../../serdes/json-stream.js'
import { parseV3Record, type V3Record } from '../../serdes/v3-produce.js'
import type { V3Module } from './index.js'

export interface V3ProduceDeps {
  producer: KafkaProducer
  metadata: ClusterMetadata
  /** Bounds the batch body and each record object of a stream. */
  maxBodyBytes: number
}

/** Confluent's api.v3.produce.batch.maximum.entries default. */
export const BATCH_MAX_ENTRIES = 10

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

const summary = {
  type: 'object' as const,
  properties: { type: { type: 'string' as const }, size: { type: 'integer' as const } },
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

const serializeSuccess = fjs({
  type: 'object',
  properties: { error_code: { type: 'integer' }, ...successProperties },
  required: ['error_code', ...successRequired]
})

const serializeFailure = fjs({
  type: 'object',
  properties: failureProperties,
  required: ['error_code', 'message', 'retriable']
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

interface Slot {
  line: string | null
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

/** Failures before a record reaches the producer leave Kafka untouched: say so. */
function notWritten (err: unknown): ProxyError {
  if (!(err instanceof ProxyError)) return new ProxyError('internal', undefined, { persisted: 'no', cause: err })
  if (err.persisted !== undefined) return err
  return new ProxyError(err.key, err.message, { persisted: 'no', cause: err.cause })
}

function asProxyError (err: unknown): ProxyError {
  return err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
}

function success (clusterId: string, topic: string, rec: V3Record, r: RecordResult): Success {
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

function firstLine (s: string): string {
  const nl = s.indexOf('\n')
  return nl === -1 ? s : s.slice(0, nl)
}

export function v3ProduceHandlers (deps: V3ProduceDeps): { stream: Handler, batch: Handler } {
  async function requireTopic (name: string): Promise<TopicInfo> {
    const topic = await deps.metadata.topic(name)
    if (topic === null) throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
    return topic
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

  function runStream (ctx: Ctx, topic: TopicInfo, encoding: 'utf8' | 'latin1'): Promise<Reply> {
    const { req, res } = ctx
    const clusterId = ctx.params.cluster_id as string
    const checkPartition = partitionChecker(topic)
    const splitter = new JsonObjectSplitter(deps.maxBodyBytes, encoding)
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
        if (out !== '' && !res.write(out)) writeBlocked = true
        if (head === lines.length) {
          lines.length = 0
          head = 0
        } else if (head >= 1024 && head * 2 >= lines.length) {
          lines.splice(0, head)
          head = 0
        }
        if (inputDone && lines.length === 0) {
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
        slot.line = serializeFailure(errorBody(err)) + '\r\n'
      }

      function take (): Slot {
        const slot: Slot = { line: null }
        lines.push(slot)
        return slot
      }

      // The records of one incoming chunk go to the producer as one batch:
      // one result promise per chunk instead of per record, in stream order.
      let chunk: Array<{ slot: Slot, rec: V3Record }> = []

      function produce (slot: Slot, rec: V3Record): void {
        chunk.push({ slot, rec })
      }

      function produceChunk (): void {
        if (chunk.length === 0) return
        const items = chunk
        chunk = []
        deps.producer.produce(topic.name, items.map((i) => i.rec.record)).then((results) => {
          for (let i = 0; i < items.length; i++) {
            const { slot, rec } = items[i] as { slot: Slot, rec: V3Record }
            const r = results[i] as RecordResult
            if (r.error !== null) fail(slot, r.error)
            else slot.line = serializeSuccess({ error_code: 200, ...success(clusterId, topic.name, rec, r) }) + '\r\n'
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

      /** Takes one record object; false when it was malformed and the stream must stop. */
      function accept (text: string): boolean {
        const slot = take()
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch (err) {
          fail(slot, new ProxyError('badRequest', `Bad Request: ${firstLine((err as Error).message)}`, { persisted: 'no' }))
          return false
        }
        let rec: V3Record
        try {
          rec = parseV3Record(parsed, Date.now())
        } catch (err) {
          fail(slot, notWritten(err))
          return true
        }
        const pending = checkPartition(rec.record.partition)
        if (pending === undefined) {
          produce(slot, rec)
        } else {
          // Earlier records of this chunk go first; this one waits for the partition check.
          produceChunk()
          pending.then(() => { produce(slot, rec); produceChunk() }, (err: unknown) => { fail(slot, notWritten(err)); flush() })
        }
        return true
      }

      function onData (chunk: Buffer): void {
        const { objects, error } = splitter.push(chunk)
        if (splitter.sawInput) begin()
        for (const text of objects) {
          if (!accept(text)) {
            stopInput()
            break
          }
        }
        produceChunk()
        if (error !== null && !inputDone) {
          fail(take(), new ProxyError('badRequest', `Bad Request: ${error}`, { persisted: 'no' }))
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
    const topic = await requireTopic(ctx.params.topic as string)
    return await runStream(ctx, topic, encoding)
  }

  async function batch (ctx: Ctx): Promise<Reply> {
    const encoding = requestEncoding(ctx)
    const body = (await readBody(ctx.req, deps.maxBodyBytes)).toString(encoding)
    if (body.trim() === '') throw new ProxyError('batchValidation', 'Request body is empty. Data is required.')
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch (err) {
      throw new ProxyError('malformedJson', `Bad Request: ${firstLine((err as Error).message)}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProxyError('badRequest', 'Bad Request: the body must be a JSON object {"entries": […]}.')
    for (const k of Object.keys(parsed)) {
      if (k !== 'entries') throw new ProxyError('badRequest', `Bad Request: Unrecognized field "${k}" in the batch.`)
    }
    const entries = (parsed as { entries?: unknown }).entries
    if (entries === undefined || entries === null || (Array.isArray(entries) && entries.length === 0)) {
      throw new ProxyError('batchValidation', 'Empty batch.')
    }
    if (!Array.isArray(entries)) throw new ProxyError('badRequest', 'Bad Request: entries must be an array.')
    if (entries.length > BATCH_MAX_ENTRIES) throw new ProxyError('batchValidation', 'Too many entries in batch.')
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
    const topic = await requireTopic(topicName)
    const checkPartition = partitionChecker(topic)
    const now = Date.now()
    const outcomes = new Array<V3Record | ProxyError>(entries.length)
    for (let i = 0; i < entries.length; i++) {
      try {
        const rec = parseV3Record(entries[i], now, 'id')
        await checkPartition(rec.record.partition)
        outcomes[i] = rec
      } catch (err) {
        outcomes[i] = notWritten(err)
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

    const clusterId = ctx.params.cluster_id as string
    const successes: Array<Success & { id: string }> = []
    const failures: Array<ReturnType<typeof errorBody> & { id: string }> = []
    let next = 0
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i] as V3Record | ProxyError
      const id = ids[i] as string
      if (o instanceof ProxyError) {
        failures.push({ id, ...errorBody(o) })
        continue
      }
      const r = results[next++] as RecordResult
      if (r.error !== null) failures.push({ id, ...errorBody(r.error) })
      else successes.push({ id, ...success(clusterId, topicName, o, r) })
    }
    return reply(207, MEDIA.json, serializeBatch({ successes, failures }))
  }

  return { stream, batch }
}

export const registerRecords: V3Module = (router, deps) => {
  const handlers = v3ProduceHandlers({ producer: deps.producer, metadata: deps.metadata, maxBodyBytes: deps.config.server.max_body_bytes })
  router
    .add('POST', '/v3/clusters/{cluster_id}/topics/{topic}/records', handlers.stream)
    .add('POST', '/v3/clusters/{cluster_id}/topics/{topic}/records:batch', handlers.batch)
  return undefined
}
