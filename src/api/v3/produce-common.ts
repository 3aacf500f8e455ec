// What the v3 produce endpoints share: their dependencies, the per-route
// helpers built once from them, and the rule that a failure before a record
// reached the producer says "not written".
import { ProxyError } from '../../errors.js'
import type { KafkaProducer } from '../../kafka/producer.js'
import type { ClusterMetadata, TopicInfo } from '../../kafka/metadata.js'
import { JsonObjectSplitter } from '../../json/object-splitter.js'
import { parseJson, type JsonLimits } from '../../json/parse.js'
import type { Logger } from '../../logger.js'
import type { V3Record, V3SchemaEncoder } from '../../produce/v3-record.js'
import type { Ctx } from '../../http/handler.js'
import type { IdentityHeaders, IdentityInjector } from '../../security/identity.js'
import { recordBytes, type PrincipalQuota, type Quotas } from '../../security/quotas.js'
import type { ProduceRateLimiter } from './rate-limit.js'

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
  /** Null when [quotas] sets no limit: then they cost one null check per request. */
  quotas: Quotas | null
  /** Null unless identity.confluent_api writes identity headers. */
  identity: IdentityInjector | null
  schemas: V3SchemaEncoder
  json: JsonLimits
  /** Per-record internal failures are logged here; they never reach the HTTP status. */
  log: Logger
}

// Confluent's message for api.v3.produce.request.size.limit.max.bytes, after "Bad Request: ".
export const RECORD_TOO_LARGE = 'Error processing message: Produce request size is larger than allowed threshold'

// Records naming a partition above the cached count trigger at most one
// metadata refresh per stream (or batch) in this window.
const PARTITION_REFRESH_MS = 1000

export type Encoding = 'utf8' | 'latin1'

/** Failures before a record reaches the producer leave Kafka untouched: say so. */
export function notWritten (err: unknown): ProxyError {
  if (!(err instanceof ProxyError)) return new ProxyError('internal', undefined, { persisted: 'no', cause: err })
  if (err.persisted !== undefined) return err
  return new ProxyError(err.key, err.message, { persisted: 'no', cause: err.cause })
}

export function asProxyError (err: unknown): ProxyError {
  return err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
}

/** The helpers of one produce route, built once from its dependencies. */
export class ProduceRoute {
  readonly deps: V3ProduceDeps
  // A record larger than record_max_bytes gets Confluent's message; one
  // larger than the body limit (when that is the smaller) the splitter's own.
  private readonly splitLimit: number
  private readonly splitMessage: string | undefined

  constructor (deps: V3ProduceDeps) {
    this.deps = deps
    this.splitLimit = deps.recordMaxBytes > 0 ? Math.min(deps.recordMaxBytes, deps.maxBodyBytes) : deps.maxBodyBytes
    this.splitMessage = deps.recordMaxBytes > 0 && deps.recordMaxBytes <= deps.maxBodyBytes ? RECORD_TOO_LARGE : undefined
  }

  recordSplitter (): JsonObjectSplitter {
    return new JsonObjectSplitter(this.splitLimit, this.splitMessage)
  }

  async requireTopic (name: string): Promise<TopicInfo> {
    const topic = await this.deps.metadata.writableTopic(name)
    if (topic === null) throw new ProxyError('topicNotFound', `Topic ${name} not found.`)
    return topic
  }

  /** One record object or batch body, parsed strictly (json-input.ts) in the request's charset. */
  parseBody (bytes: Buffer, encoding: Encoding): unknown {
    return parseJson(bytes, this.deps.json, { prefix: 'Bad Request: ', latin1: encoding === 'latin1' })
  }

  /** The quotas of the request's principal; null without quotas or without a principal. */
  quotaOf (ctx: Ctx): PrincipalQuota | null {
    const quotas = this.deps.quotas
    return quotas === null ? null : quotas.of(ctx.security?.principal)
  }

  /** The identity headers of the request's principal; null unless identity injection is on. */
  identityOf (ctx: Ctx): IdentityHeaders | null {
    const identity = this.deps.identity
    return identity === null ? null : identity.headersFor(ctx.security?.principal)
  }

  /** Appends the identity headers to a record; throws the 422 when the client sent one of their names. */
  stamp (rec: V3Record, identity: IdentityHeaders): void {
    const injector = this.deps.identity as IdentityInjector
    injector.stamp(rec.record, identity)
  }

  logInternal (err: ProxyError, topic: string): void {
    if (err.key === 'internal') this.deps.log.error({ err: err.cause ?? err, topic }, 'v3 produce record failed')
  }

  /** Checks an explicit partition against the topic, refreshing metadata at most once per window. */
  partitionChecker (initial: TopicInfo): (partition: number) => Promise<void> | undefined {
    const metadata = this.deps.metadata
    let count = initial.partitions.length
    let refreshedAt = 0
    async function slow (partition: number): Promise<void> {
      if (Date.now() - refreshedAt >= PARTITION_REFRESH_MS) {
        refreshedAt = Date.now()
        // Partitions may have been added since the cached view.
        const fresh = await metadata.refresh().catch(() => null)
        count = fresh?.topics.get(initial.name)?.partitions.length ?? count
      }
      if (partition >= count) throw new ProxyError('partitionNotFound', `Partition ${partition} of topic ${initial.name} not found.`)
    }
    // No promise on the common path, so records reach the producer in arrival order.
    return (partition) => partition < count ? undefined : slow(partition)
  }
}

/** Counts one record against its principal's produce quotas (records, and key + value bytes). */
export function produceQuota (quota: PrincipalQuota, rec: V3Record): ProxyError | null | Promise<ProxyError | null> {
  return quota.produce(1, quota.countsBytes ? recordBytes(rec.record.key, rec.record.value) : 0)
}
