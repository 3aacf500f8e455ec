// Stateless partition read, an extension beyond Confluent's API:
// GET /v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records
// returns the records of one partition from `offset` on, and the offset to
// ask for next, with no consumer instance and no consumer group. See
// docs/stateless-read.md.
import { ProxyError } from '../../errors.js'
import { MEDIA } from '../../http/media.js'
import type { Ctx, Reply } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import type { PartitionPage, ReaderPool } from '../../kafka/reader.js'
import { renderPartitionRecords, V3_FORMATS, type V3RenderOptions } from '../../render/v3-records.js'
import { undecodableError, undecodableParam } from '../../render/undecodable.js'
import type { FramingStrip } from '../../render/framing.js'
import { enumParam, type Resources } from './resource.js'
import { countConsumed } from '../../metrics/registry.js'
import { enforce, type Quotas } from '../../security/quotas.js'
import { EXTENSION_TAGS, INT64, JSON_MEDIA, queryParam, ref, UNDECODABLE_PARAM, V3_READ_ERRORS } from '../components.js'

/** Partition reads that may run at once per process (each one librdkafka consumer), at most consumer.threads. */
export const READERS_PER_PROCESS = 8
/** A reader unused this long is closed (its prefetched records are dropped). */
export const READER_IDLE_MS = 30_000

interface Query extends V3RenderOptions {
  offset: number | null
  maxBytes: number
  timeoutMs: number
}

function badParam (name: string, rule: string, raw: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${name} must be ${rule} (got ${JSON.stringify(raw)}).`)
}

const DIGITS = /^\d{1,16}$/
const PARTITION_ID = /^-?\d{1,10}$/

/** A decimal integer query parameter from `min` to `max`; null when absent. */
function uint (q: URLSearchParams, name: string, min: number, max: number): number | null {
  const raw = q.get(name)
  if (raw === null || raw === '') return null
  const n = Number(raw)
  if (!DIGITS.test(raw) || n < min || n > max) {
    throw badParam(name, min > 0 ? `an integer of at least ${min}` : 'a non-negative integer', raw)
  }
  return n
}

function parseQuery (raw: string, maxBytes: number, timeoutMs: number): Query {
  const q = new URLSearchParams(raw)
  // Keys are often plain strings while values are JSON, so each may have its own format.
  const format = enumParam(q.get('format'), V3_FORMATS, 'format', 'BINARY')
  return {
    // Kafka offsets are int64; JSON numbers are exact up to 2^53.
    offset: uint(q, 'offset', 0, Number.MAX_SAFE_INTEGER),
    maxBytes: Math.min(uint(q, 'max_bytes', 1, Number.MAX_SAFE_INTEGER) ?? maxBytes, maxBytes),
    timeoutMs: Math.min(uint(q, 'timeout', 0, Number.MAX_SAFE_INTEGER) ?? timeoutMs, timeoutMs),
    keyFormat: enumParam(q.get('key_format'), V3_FORMATS, 'key_format', format),
    valueFormat: enumParam(q.get('value_format'), V3_FORMATS, 'value_format', format),
    policy: undecodableParam(q)
  }
}

/** The `{partition}` segment: plain 404 when not a number, 40402 for an id no topic can have (as v3 partitions). */
function partitionParam (ctx: Ctx): number {
  const raw = ctx.params.partition as string
  if (!PARTITION_ID.test(raw)) throw new ProxyError('notFound')
  const n = Number(raw)
  if (n < 0 || n > 2147483647) throw new ProxyError('partitionNotFound')
  return n
}

async function partitionOf (metadata: ClusterMetadata, topic: string, partition: number): Promise<void> {
  const info: TopicInfo | null = await metadata.topic(topic)
  if (info === null) throw new ProxyError('topicNotFound', `Topic ${topic} not found.`)
  if (info.partitions[partition] !== undefined) return
  // The cached view may predate added partitions; ask once before answering 404.
  let fresh: TopicInfo | undefined
  try {
    fresh = (await metadata.refresh()).topics.get(topic)
  } catch {
    throw new ProxyError('clusterUnreachable')
  }
  if (fresh?.partitions[partition] === undefined) throw new ProxyError('partitionNotFound')
}

const FORMAT_PARAM = { type: 'string', 'x-extensible-enum': ['BINARY', 'STRING', 'JSON'] }

export const READ_ROUTES = defineRoutes({
  readKafkaV3Records: {
    method: 'GET',
    path: '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records',
    summary: 'Stateless read of one partition',
    description: 'Reads the records of one partition from `offset` on, with no consumer instance and no consumer group, and answers the offset to ask for next; see docs/stateless-read.md.',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [{ operation: 'Read', resource: 'topic' }],
    query: [
      queryParam('offset', 'The first offset to read; absent: the beginning of the partition.', { ...INT64, minimum: 0 }),
      queryParam('max_bytes', 'At most this many record bytes (capped by consumer.request_max_bytes).', { ...INT64, minimum: 1 }),
      queryParam('timeout', 'Maximum wait in ms for records to arrive (capped by consumer.request_timeout_ms).', { ...INT64, minimum: 0 }),
      queryParam('format', 'How keys and values are rendered (case-insensitive; default BINARY).', FORMAT_PARAM),
      queryParam('key_format', 'How keys are rendered; default: format.', FORMAT_PARAM),
      queryParam('value_format', 'How values are rendered; default: format.', FORMAT_PARAM),
      UNDECODABLE_PARAM
    ],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The records read.', schema: ref('ReadRecordList') } },
    errors: V3_READ_ERRORS
  }
})

export interface ReadDeps {
  resources: Resources
  metadata: ClusterMetadata
  readers: ReaderPool
  /** consumer.request_max_bytes: the most record bytes a read answers. */
  maxBytes: number
  /** consumer.request_timeout_ms: the longest a read waits for records. */
  timeoutMs: number
  /** Null when [quotas] sets no limit (one null check per read). */
  quotas: Quotas | null
  /** consumer.strip_schema_framing. */
  strip: FramingStrip
}

export function readHandlers (deps: ReadDeps): Handlers<typeof READ_ROUTES> {
  const pool = deps.readers

  async function read (ctx: Ctx): Promise<Reply> {
    const query = parseQuery(ctx.query, deps.maxBytes, deps.timeoutMs)
    const clusterId = await deps.resources.cluster(ctx)
    const topic = ctx.params.topic as string
    const partition = partitionParam(ctx)
    await partitionOf(deps.metadata, topic, partition)
    // The principal's consume quota admits the read before anything is read, and counts what it returned after.
    const quota = deps.quotas === null ? null : deps.quotas.of(ctx.security?.principal)
    if (quota !== null) {
      const waiting = enforce(quota.admitRead())
      if (waiting !== undefined) await waiting
      query.maxBytes = Math.min(query.maxBytes, quota.readLimit)
    }
    const base = deps.resources.url(ctx, clusterId, 'topics', topic, 'partitions', partition, 'records')
    // A page ends before a record it cannot render; a page that starts with
    // one fails with 50002 naming it (see src/render/undecodable.ts).
    const rendered = await pool.read({ topic, partition, offset: query.offset, maxBytes: query.maxBytes, timeoutMs: query.timeoutMs }, (page: PartitionPage) => {
      const out = renderPartitionRecords(page.records, query, deps.strip)
      if (out.count === 0 && out.stopped !== null) throw undecodableError(out.stopped, `read from offset ${out.stopped.offset + 1}`)
      const nextOffset = out.count < page.records.length ? (page.records[out.count] as PartitionPage['records'][number]).offset : page.nextOffset
      return { out, nextOffset, page }
    }, (r) => r.out.count)
    let bytes = 0
    for (let i = 0; i < rendered.out.count; i++) {
      const m = rendered.page.records[i] as PartitionPage['records'][number]
      bytes += (m.value?.length ?? 0) + (m.key === undefined || m.key === null ? 0 : m.key.length)
    }
    countConsumed('v3', topic, rendered.out.count, bytes)
    quota?.consumed(bytes)
    const next = new URLSearchParams(ctx.query)
    next.set('offset', String(rendered.nextOffset))
    const self = ctx.query === '' ? base : `${base}?${ctx.query}`
    // Built by hand: the records are already JSON text (spliced, never re-serialized).
    const body = `{"kind":"KafkaRecordList","metadata":{"self":${JSON.stringify(self)},"next":${JSON.stringify(`${base}?${next.toString()}`)}},` +
      `"cluster_id":${JSON.stringify(clusterId)},"topic_name":${JSON.stringify(topic)},"partition_id":${partition},` +
      `"next_offset":${rendered.nextOffset},"data":${rendered.out.data}}`
    return { status: 200, type: MEDIA.json, body }
  }

  return { readKafkaV3Records: read }
}
