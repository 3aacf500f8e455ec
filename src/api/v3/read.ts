// Stateless partition read, an extension beyond Confluent's API:
// GET /v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records
// returns the records of one partition from `offset` on, and the offset to
// ask for next, with no consumer instance and no consumer group. See
// docs/stateless-read.md.
import fjs from 'fast-json-stringify'
import { ProxyError } from '../../errors.js'
import { MEDIA } from '../../http/media.js'
import type { Ctx, Reply } from '../../http/handler.js'
import type { ConsumerMessage } from '../../kafka/client.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import { readerProperties } from '../../kafka/options.js'
import { ReaderPool, type PartitionPage } from '../../kafka/reader.js'
import { enumParam } from './resource.js'
import type { V3Module } from './index.js'

/** Partition reads that may run at once per process (each one librdkafka consumer), at most consumer.threads. */
const READERS_PER_PROCESS = 8
/** A reader unused this long is closed (its prefetched records are dropped). */
const READER_IDLE_MS = 30_000

const FORMATS = ['BINARY', 'STRING', 'JSON'] as const
type Format = typeof FORMATS[number]

const data = {
  type: 'object',
  nullable: true,
  properties: { type: { type: 'string' }, data: {} },
  required: ['type', 'data']
} as const

const serialize = fjs({
  type: 'object',
  properties: {
    kind: { type: 'string' },
    metadata: {
      type: 'object',
      properties: { self: { type: 'string' }, next: { type: 'string' } },
      required: ['self', 'next']
    },
    cluster_id: { type: 'string' },
    topic_name: { type: 'string' },
    partition_id: { type: 'integer' },
    next_offset: { type: 'integer' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition_id: { type: 'integer' },
          offset: { type: 'integer' },
          timestamp: { type: 'string', nullable: true },
          key: data,
          value: data,
          headers: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, value: { type: 'string', nullable: true } },
              required: ['name', 'value']
            }
          }
        },
        required: ['partition_id', 'offset', 'timestamp', 'key', 'value', 'headers']
      }
    }
  },
  required: ['kind', 'metadata', 'cluster_id', 'topic_name', 'partition_id', 'next_offset', 'data']
})

interface Data {
  type: Format
  data: unknown
}

interface Query {
  offset: number | null
  maxBytes: number
  timeoutMs: number
  keyFormat: Format
  valueFormat: Format
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function toBuffer (b: Buffer | string | null | undefined): Buffer | null {
  if (b === null || b === undefined) return null
  return typeof b === 'string' ? Buffer.from(b) : b
}

function render (bytes: Buffer | null, format: Format, offset: number, part: 'key' | 'value'): Data | null {
  if (bytes === null) return null
  if (format === 'BINARY') return { type: 'BINARY', data: bytes.toString('base64') }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new ProxyError('undecodableRecord', `The ${part} of the record at offset ${offset} is not UTF-8 text; read it with ${part}_format=binary`)
  }
  if (format === 'STRING') return { type: 'STRING', data: text }
  try {
    return { type: 'JSON', data: JSON.parse(text) }
  } catch {
    throw new ProxyError('undecodableRecord', `The ${part} of the record at offset ${offset} is not JSON; read it with ${part}_format=binary`)
  }
}

function headers (m: ConsumerMessage): Array<{ name: string, value: string | null }> {
  const out: Array<{ name: string, value: string | null }> = []
  for (const h of m.headers ?? []) {
    for (const [name, value] of Object.entries(h)) {
      out.push({ name, value: toBuffer(value as Buffer | string | null)?.toString('base64') ?? null })
    }
  }
  return out
}

function record (m: ConsumerMessage, q: Query): unknown {
  // librdkafka reports -1 when the record carries no timestamp.
  const ts = m.timestamp !== undefined && m.timestamp >= 0 ? new Date(m.timestamp).toISOString() : null
  return {
    partition_id: m.partition,
    offset: m.offset,
    timestamp: ts,
    key: render(toBuffer(m.key), q.keyFormat, m.offset, 'key'),
    value: render(m.value, q.valueFormat, m.offset, 'value'),
    headers: headers(m)
  }
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
  const format = enumParam(q.get('format'), FORMATS, 'format', 'BINARY')
  return {
    // Kafka offsets are int64; JSON numbers are exact up to 2^53.
    offset: uint(q, 'offset', 0, Number.MAX_SAFE_INTEGER),
    maxBytes: Math.min(uint(q, 'max_bytes', 1, Number.MAX_SAFE_INTEGER) ?? maxBytes, maxBytes),
    timeoutMs: Math.min(uint(q, 'timeout', 0, Number.MAX_SAFE_INTEGER) ?? timeoutMs, timeoutMs),
    keyFormat: enumParam(q.get('key_format'), FORMATS, 'key_format', format),
    valueFormat: enumParam(q.get('value_format'), FORMATS, 'value_format', format)
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

export const registerRead: V3Module = (router, deps) => {
  const { config } = deps
  const pool = new ReaderPool({
    properties: readerProperties(config.kafka, config.consumer),
    maxReaders: Math.min(READERS_PER_PROCESS, config.consumer.threads),
    idleMs: READER_IDLE_MS,
    maxPollRecords: config.consumer.max_poll_records,
    callTimeoutMs: config.kafka.request_timeout_ms,
    log: deps.log
  })

  async function read (ctx: Ctx): Promise<Reply> {
    const query = parseQuery(ctx.query, config.consumer.request_max_bytes, config.consumer.request_timeout_ms)
    const clusterId = await deps.resources.cluster(ctx)
    const topic = ctx.params.topic as string
    const partition = partitionParam(ctx)
    await partitionOf(deps.metadata, topic, partition)
    const base = deps.resources.url(ctx, clusterId, 'topics', topic, 'partitions', partition, 'records')
    return await pool.read({ topic, partition, offset: query.offset, maxBytes: query.maxBytes, timeoutMs: query.timeoutMs }, (page: PartitionPage) => {
      const data = page.records.map((m) => record(m, query))
      const next = new URLSearchParams(ctx.query)
      next.set('offset', String(page.nextOffset))
      return {
        status: 200,
        type: MEDIA.json,
        body: serialize({
          kind: 'KafkaRecordList',
          metadata: { self: ctx.query === '' ? base : `${base}?${ctx.query}`, next: `${base}?${next.toString()}` },
          cluster_id: clusterId,
          topic_name: topic,
          partition_id: partition,
          next_offset: page.nextOffset,
          data
        })
      }
    })
  }

  router.add('GET', '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records', read)
  return () => pool.close()
}
