// v2 produce: POST /topics/{topic} and POST /topics/{topic}/partitions/{partition}.
// The request's Content-Type names the embedded format; the response has one
// `offsets` entry per record, in request order, and is 200 even when some
// records failed (each failure carries its own error_code).
import { ProxyError } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { acceptable, EMBEDDED_FORMATS, isV1GenericProduce, negotiator, requestMedia, V1_GENERIC_PRODUCE_TYPES, V1_OFFERS, versionedNegotiator } from '../../http/media.js'
import { reply, type Ctx, type Reply } from '../../http/handler.js'
import { defineRoutes, type ErrorStatus, type Handlers, type JsonObject, type RouteBody, type RouteSpec } from '../../http/route.js'
import { decodeProduceBody, parseProduceBody, unpackBatch, type DecodedBatch, type PlainFormat } from '../../produce/v2-body.js'
import { encodeRecords, encodeRecordsInPool, isSchemaFormat, type SchemaFormat, type SubjectStrategies } from '../../formats/schema-formats.js'
import type { SchemaRegistryClient } from '../../registry/client.js'
import { transferableCopy, type TaskPool } from '../../pool/pool.js'
import type { BatchTaskResult, Header, ProduceTask } from '../../produce/v2-body.js'
import { resultAt, type BatchOutcome, type KafkaProducer, type RecordResult } from '../../kafka/producer.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import { rehydrateError } from '../../errors.js'
import type { JsonLimits } from '../../json/parse.js'
import { componentSerializer, ref, V2_MEDIA, V2_TAGS, vendorTypes } from '../components.js'
import type { IdentityInjector } from '../../security/identity.js'
import { enforce, recordBytes, type Quotas } from '../../security/quotas.js'

export interface ProduceDeps {
  producer: KafkaProducer
  metadata: ClusterMetadata
  pool: TaskPool
  maxBodyBytes: number
  json: JsonLimits
  offloadThresholdBytes: number
  registry: SchemaRegistryClient
  strategies: SubjectStrategies
  /** Null when [quotas] sets no limit (one null check per request). */
  quotas: Quotas | null
  /** Null unless identity.confluent_api writes identity headers. */
  identity: IdentityInjector | null
}

interface OffsetEntry {
  partition: number | null
  offset: number | null
  error_code: number | null
  error: string | null
  retriable?: boolean
  persisted?: string
}

// The request schema of each type the produce routes take: every vendor type
// with an embedded format, and Confluent's v1 generic types, which mean binary.
const PRODUCE_SCHEMAS: ReadonlyArray<readonly [string, JsonObject]> = [
  ...EMBEDDED_FORMATS.flatMap((f) => vendorTypes(f).map((type) => [type, ref(f === 'binary' ? 'V2BinaryProduceRequest' : f === 'json' ? 'V2JsonProduceRequest' : 'V2ProduceRequest')] as const)),
  ...V1_GENERIC_PRODUCE_TYPES.map((type) => [type, ref('V2BinaryProduceRequest')] as const)
]
const PRODUCE_TYPES = PRODUCE_SCHEMAS.map(([type]) => type)
const PRODUCE_BODY: RouteBody = {
  required: true,
  description: 'The Content-Type names the embedded format of keys and values (binary: base64 strings; json: any JSON; avro, jsonschema, protobuf: the JSON form of the schema, with key_schema/value_schema or *_schema_id). v1 types are aliases; as in Confluent\'s v1, application/vnd.kafka.v1+json, application/vnd.kafka+json and application/octet-stream mean binary.',
  content: Object.fromEntries(PRODUCE_SCHEMAS)
}

const PRODUCE_RESPONSES: RouteSpec['responses'] = {
  200: { description: 'One `offsets` entry per record, in request order; HTTP 200 even when some records failed.', schema: ref('V2ProduceResponse') }
}
const PRODUCE_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 406, 408, 413, 415, 422, 429, '5XX']

export const PRODUCE_ROUTES = defineRoutes({
  v2ProduceToTopic: {
    method: 'POST',
    path: '/topics/{topic}',
    summary: 'Produce records to a topic',
    tags: V2_TAGS,
    access: [{ operation: 'Write', resource: 'topic' }],
    consumes: PRODUCE_TYPES,
    body: PRODUCE_BODY,
    produces: V2_MEDIA,
    responses: PRODUCE_RESPONSES,
    errors: PRODUCE_ERRORS,
    writes: true
  },
  v2ProduceToPartition: {
    method: 'POST',
    path: '/topics/{topic}/partitions/{partition}',
    summary: 'Produce records to one partition',
    tags: V2_TAGS,
    access: [{ operation: 'Write', resource: 'topic' }],
    consumes: PRODUCE_TYPES,
    body: PRODUCE_BODY,
    produces: V2_MEDIA,
    responses: PRODUCE_RESPONSES,
    errors: PRODUCE_ERRORS,
    writes: true
  }
})

const serializeEntry = componentSerializer('V2ProduceOffset')

/**
 * The response body, built as one string: a written record's entry differs
 * from the next only in two integers, so it is concatenated directly instead
 * of becoming an object for a serializer (two objects per record, a large
 * share of the garbage at 100k+ records/s). Failed records, rare and carrying
 * client-visible text, go through the compiled serializer.
 */
function renderResponse (outcome: BatchOutcome, keySchemaId: number | null, valueSchemaId: number | null): string {
  const { partitions, offsets, errors } = outcome
  let out = '{"offsets":['
  for (let i = 0; i < outcome.count; i++) {
    if (i > 0) out += ','
    const error = errors?.[i]
    out += error === undefined
      ? '{"partition":' + String(partitions[i]) + ',"offset":' + String(offsets[i]) + ',"error_code":null,"error":null}'
      : serializeEntry(toEntry(resultAt(outcome, i)))
  }
  return out + '],"key_schema_id":' + String(keySchemaId) + ',"value_schema_id":' + String(valueSchemaId) + '}'
}

function toEntry (r: RecordResult): OffsetEntry {
  if (r.error === null) return { partition: r.partition, offset: r.offset, error_code: null, error: null }
  const entry: OffsetEntry = {
    partition: null,
    offset: null,
    error_code: r.error.errorCode,
    error: r.error.message,
    retriable: r.error.retriable
  }
  if (r.error.persisted !== undefined) entry.persisted = r.error.persisted
  return entry
}

/** Every failure before records reach the producer leaves Kafka untouched: say so. */
function notWritten (err: unknown): ProxyError {
  if (!(err instanceof ProxyError)) return new ProxyError('internal', undefined, { persisted: 'no', cause: err })
  if (err.persisted !== undefined) return err
  return new ProxyError(err.key, err.message, { persisted: 'no', cause: err.cause })
}

export function produceHandlers (deps: ProduceDeps): Handlers<typeof PRODUCE_ROUTES> {
  const negotiate = versionedNegotiator()
  const negotiateV1 = negotiator(V1_OFFERS)

  async function decode (format: PlainFormat, body: Buffer): Promise<DecodedBatch> {
    if (body.length < deps.offloadThresholdBytes) return decodeProduceBody(format, body, deps.json)
    const bytes = transferableCopy(body)
    const task: ProduceTask = { format, body: bytes, limits: deps.json }
    const result = await deps.pool.run<BatchTaskResult>('produce', task, [bytes.buffer as ArrayBuffer])
    if (!result.ok) throw rehydrateError(result.error)
    return unpackBatch(result.batch)
  }

  async function partitionCount (topic: TopicInfo, wanted: number): Promise<number> {
    if (wanted < topic.partitions.length) return topic.partitions.length
    // Partitions may have been added since the cached view; ask once.
    const fresh = await deps.metadata.refresh().catch(() => null)
    return fresh?.topics.get(topic.name)?.partitions.length ?? topic.partitions.length
  }

  interface Prepared {
    batch: DecodedBatch
    topic: TopicInfo
    keySchemaId: number | null
    valueSchemaId: number | null
  }

  async function prepare (ctx: Ctx, format: string, topicName: string): Promise<Prepared> {
    const body = await readBody(ctx.req, deps.maxBodyBytes)
    // The body is checked before the topic is looked up, as Confluent's proxy
    // does: a malformed request to a missing topic is a 400, and never makes
    // the topic appear.
    const checked: { batch: DecodedBatch } | { format: SchemaFormat, parsed: Record<string, unknown> } = isSchemaFormat(format)
      ? { format, parsed: parseProduceBody(body, deps.json).parsed }
      : { batch: await decode(format as PlainFormat, body) }
    const topic = await deps.metadata.writableTopic(topicName)
    if (topic === null) throw new ProxyError('topicNotFound', `Topic ${topicName} not found.`)
    if ('batch' in checked) return { batch: checked.batch, topic, keySchemaId: null, valueSchemaId: null }
    // Schemas are resolved (registry I/O) on the event loop; encoding large batches happens in the pool.
    const encoded = body.length >= deps.offloadThresholdBytes
      ? await encodeRecordsInPool(deps.pool, checked.format, deps.registry, topicName, body, checked.parsed, deps.strategies)
      : await encodeRecords(checked.format, deps.registry, topicName, checked.parsed, deps.strategies)
    return { batch: encoded.batch, topic, keySchemaId: encoded.keySchemaId, valueSchemaId: encoded.valueSchemaId }
  }

  async function checkPartitions ({ batch, topic }: Prepared, pathPartition: number | null, topicName: string): Promise<void> {
    let highest = pathPartition ?? -1
    if (pathPartition === null) {
      for (let i = 0; i < batch.count; i++) highest = Math.max(highest, batch.partitions[i] as number)
    }
    if (highest >= 0 && highest >= await partitionCount(topic, highest)) {
      throw new ProxyError('partitionNotFound', `Partition ${highest} of topic ${topicName} not found.`)
    }
  }

  async function produce (ctx: Ctx, pathPartition: number | null): Promise<Reply> {
    const contentType = ctx.req.headers['content-type']
    const media = requestMedia(contentType)
    const v1Generic = isV1GenericProduce(contentType)
    const format = media !== null && media.vendor && media.format !== null ? media.format : v1Generic ? 'binary' : null
    if (format === null) throw new ProxyError('unsupportedMediaType')
    const type = acceptable(v1Generic ? negotiateV1(ctx.req.headers.accept) : negotiate(ctx.req.headers.accept, contentType))

    const topicName = ctx.params.topic as string
    let prepared: Prepared
    try {
      prepared = await prepare(ctx, format, topicName)
      await checkPartitions(prepared, pathPartition, topicName)
      if (deps.identity !== null) stamp(deps.identity, ctx, prepared.batch)
      if (deps.quotas !== null) {
        const waiting = admit(deps.quotas, ctx, prepared.batch)
        if (waiting !== undefined) await waiting
      }
    } catch (err) {
      throw notWritten(err)
    }
    const { batch } = prepared
    const outcome = await deps.producer.produceColumns(topicName, {
      count: batch.count,
      values: batch.values,
      keys: batch.keys,
      partitions: pathPartition ?? batch.partitions,
      headers: batch.headers
    })
    return reply(200, type, renderResponse(outcome, prepared.keySchemaId, prepared.valueSchemaId))
  }

  /** Every record gets the identity headers; a record sending one of their names refuses the request (422). */
  function stamp (injector: IdentityInjector, ctx: Ctx, batch: DecodedBatch): void {
    const own = batch.headers
    if (own !== null) {
      for (let i = 0; i < batch.count; i++) {
        const forged = injector.forged(own[i], `records[${i}].headers`)
        if (forged !== null) throw forged
      }
    }
    const identity = injector.headersFor(ctx.security?.principal)
    const headers = own ?? new Array<Header[] | undefined>(batch.count)
    for (let i = 0; i < batch.count; i++) headers[i] = injector.merge(own?.[i], identity)
    batch.headers = headers
  }

  /** The whole batch is admitted by the principal's quotas, or refused (429, nothing written); a promise only while the primary is asked. */
  function admit (quotas: Quotas, ctx: Ctx, batch: DecodedBatch): Promise<void> | undefined {
    const quota = quotas.of(ctx.security?.principal)
    if (quota === null) return undefined
    let bytes = 0
    if (quota.countsBytes) {
      for (let i = 0; i < batch.count; i++) bytes += recordBytes(batch.keys[i], batch.values[i])
    }
    return enforce(quota.produce(batch.count, bytes))
  }

  // Every error answer says whether anything was written: the media type
  // and path checks come before any record reaches the producer, and the
  // producer's own refusals carry their persisted state already.
  const written = (p: Promise<Reply>): Promise<Reply> => p.catch((err: unknown) => { throw notWritten(err) })
  return {
    v2ProduceToTopic: (ctx) => written(produce(ctx, null)),
    v2ProduceToPartition: (ctx) => written((async () => produce(ctx, parsePartition(ctx.params.partition as string)))())
  }
}

export function parsePartition (raw: string): number {
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n > 0x7fffffff) {
    throw new ProxyError('partitionNotFound', `Partition ${raw} not found.`)
  }
  return n
}
