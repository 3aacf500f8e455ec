// v3 produce: POST /v3/clusters/{cluster_id}/topics/{topic}/records (streaming,
// one RecordStream per request, in record-stream.ts) and …/records:batch.
import fjs from 'fast-json-stringify'
import { ProxyError, errorBody } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { MEDIA, acceptable, negotiator, requestMedia } from '../../http/media.js'
import { reply, type Ctx, type Handler, type Reply } from '../../http/handler.js'
import { defineRoutes, type ErrorStatus, type Handlers } from '../../http/route.js'
import type { RecordResult } from '../../kafka/producer.js'
import { parseV3Record, type V3Record } from '../../produce/v3-record.js'
import { QuotaExceeded } from '../../security/quotas.js'
import { ProduceRoute, RECORD_TOO_LARGE, asProxyError, notWritten, produceQuota, type Encoding, type V3ProduceDeps } from './produce-common.js'
import { RecordStream } from './record-stream.js'
import { JSON_MEDIA, ref } from '../components.js'

// Batch entry ids (Confluent's ProduceBatchRequestEntry).
const ENTRY_ID_RE = /^[0-9a-zA-Z_-]{1,80}$/

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
function requestEncoding (ctx: Ctx): Encoding {
  const header = ctx.req.headers['content-type']
  const media = requestMedia(header)
  if (media === null || media.vendor) throw new ProxyError('unsupportedMediaType')
  acceptable(negotiate(ctx.req.headers.accept))
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

export function v3ProduceHandlers (deps: V3ProduceDeps): { stream: Handler, batch: Handler } {
  const route = new ProduceRoute(deps)

  async function stream (ctx: Ctx): Promise<Reply> {
    const encoding = requestEncoding(ctx)
    return await RecordStream.run(route, ctx, ctx.params.topic as string, encoding)
  }

  async function batch (ctx: Ctx): Promise<Reply> {
    const encoding = requestEncoding(ctx)
    const body = await readBody(ctx.req, deps.maxBodyBytes)
    if (isBlank(body)) throw new ProxyError('batchValidation', 'Request body is empty. Data is required.')
    const parsed = route.parseBody(body, encoding)
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
    const identity = route.identityOf(ctx)
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
        const rec = parseV3Record(entries[i], now, 'id')
        if (identity !== null) route.stamp(rec, identity)
        outcomes[i] = rec
      } catch (err) {
        outcomes[i] = notWritten(err)
      }
    }
    // Entries are validated before the topic is looked up (and perhaps
    // created); a batch with no valid entry needs no topic.
    if (outcomes.some((o) => !(o instanceof ProxyError))) {
      const checkPartition = route.partitionChecker(await route.requireTopic(topicName))
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
    // Last, so that only records about to be produced count against the principal's quota.
    const quota = route.quotaOf(ctx)
    let retryAfterS = 0
    if (quota !== null) {
      for (let i = 0; i < outcomes.length; i++) {
        const rec = outcomes[i]
        if (rec instanceof ProxyError || rec === undefined) continue
        let v = produceQuota(quota, rec)
        if (v instanceof Promise) v = await v
        if (v === null) continue
        outcomes[i] = v
        if (v instanceof QuotaExceeded) retryAfterS = Math.max(retryAfterS, v.retryAfterS)
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
        route.logInternal(o, topicName)
        failures.push({ id, ...errorBody(o) })
        continue
      }
      const r = results[next++] as RecordResult
      if (r.error !== null) failures.push({ id, ...errorBody(r.error) })
      else successes.push({ id, ...success(clusterId, topicName, o, r) })
    }
    const answer = reply(207, MEDIA.json, serializeBatch({ successes, failures }))
    // Entries refused by a quota: when to send them again.
    if (retryAfterS > 0) answer.headers = { 'retry-after': String(retryAfterS) }
    return answer
  }

  // Every error answer of a produce request says whether anything was
  // written; those thrown before a record reached the producer say "no".
  return {
    stream: (ctx) => stream(ctx).catch((err: unknown) => { throw notWritten(err) }),
    batch: (ctx) => batch(ctx).catch((err: unknown) => { throw notWritten(err) })
  }
}

const RECORD_TAGS = ['Records (v3)']
const PRODUCE_ERRORS: readonly ErrorStatus[] = [400, 404, 406, 413, 415, 422, 429, '5XX']

export const RECORD_ROUTES = defineRoutes({
  produceRecord: {
    method: 'POST',
    path: '/v3/clusters/{cluster_id}/topics/{topic}/records',
    summary: 'Produce records (streaming)',
    description: 'The body is a stream of concatenated ProduceRequest objects; the answer is HTTP 200 at once and one result object per record, in order, each followed by CRLF: a ProduceResponse (`error_code` 200) or an Error. `cluster_id` is not checked.',
    tags: RECORD_TAGS,
    access: [{ operation: 'Write', resource: 'topic' }],
    consumes: JSON_MEDIA,
    body: { required: true, description: 'One or more concatenated ProduceRequest objects.', schema: ref('ProduceRequest') },
    produces: JSON_MEDIA,
    responses: {
      200: { description: 'One result per record, concatenated.', schema: { anyOf: [ref('ProduceResponse'), ref('Error')] }, extensions: { 'x-stream': 'concatenated-json' } }
    },
    errors: PRODUCE_ERRORS,
    writes: true,
    streams: true
  },
  produceRecordsBatch: {
    method: 'POST',
    path: '/v3/clusters/{cluster_id}/topics/{topic}/records:batch',
    summary: 'Produce a batch of records',
    tags: RECORD_TAGS,
    access: [{ operation: 'Write', resource: 'topic' }],
    consumes: JSON_MEDIA,
    body: { required: true, schema: ref('ProduceBatchRequest') },
    produces: JSON_MEDIA,
    responses: { 207: { description: 'Successes and failures, each in request order.', schema: ref('ProduceBatchResponse') } },
    errors: PRODUCE_ERRORS,
    writes: true
  }
})

export function recordHandlers (deps: V3ProduceDeps): Handlers<typeof RECORD_ROUTES> {
  const handlers = v3ProduceHandlers(deps)
  return { produceRecord: handlers.stream, produceRecordsBatch: handlers.batch }
}
