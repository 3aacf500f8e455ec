// Produce rate limits of the v3 records and records:batch endpoints
// (Confluent api.v3.produce.rate.limit.*): records per second and record
// bytes per second, for the whole instance and per cluster id of the path.
//
// Each limit is a token bucket holding one second of its rate, refilled
// continuously. A record that is larger than a whole bucket passes when the
// bucket is full and leaves it in debt, so no record is refused forever (the
// way Guava's RateLimiter, Confluent's default backend, lends permits from
// the future). The four checks run in Confluent's order (global count, global
// bytes, cluster count, cluster bytes), and a record takes from the buckets
// only when all four let it pass: a refused record costs nothing.
//
// node:cluster workers share nothing, so each enforces its share of the
// instance-wide rates: rate / workers.
import { ProxyError } from '../../errors.js'
import type { V3RateLimitConfig } from '../../config/schema.js'

/** Milliseconds from a monotonic clock. */
export type Clock = () => number

export type RateLimits = Omit<V3RateLimitConfig, 'enabled'>

// Per-cluster buckets are created for any cluster id a client names (the
// path parameter is not validated on produce), so their number is bounded.
// Evicting a full bucket loses nothing: a new one starts full too.
export const MAX_CLUSTERS = 10_000

export class TokenBucket {
  private tokens: number
  private at: number

  /** `ratePerSec` > 0; the bucket holds one second of it and starts full. */
  constructor (private readonly ratePerSec: number, now: number) {
    this.tokens = ratePerSec
    this.at = now
  }

  private refill (now: number): void {
    const elapsed = now - this.at
    if (elapsed <= 0) return
    this.at = now
    this.tokens = Math.min(this.ratePerSec, this.tokens + elapsed * this.ratePerSec / 1000)
  }

  /** Whether `n` units may pass at `now`; takes nothing. */
  allows (n: number, now: number): boolean {
    this.refill(now)
    return this.tokens >= n || this.tokens >= this.ratePerSec
  }

  take (n: number): void {
    this.tokens -= n
  }

  /** The tokens at `now`: at most one second of the rate, below 0 while in debt. */
  available (now: number): number {
    this.refill(now)
    return this.tokens
  }

  /** Whether the bucket is full at `now`, i.e. indistinguishable from a new one. */
  full (now: number): boolean {
    this.refill(now)
    return this.tokens >= this.ratePerSec
  }
}

interface ClusterBuckets {
  count: TokenBucket
  bytes: TokenBucket
}

export class ProduceRateLimiter {
  private readonly globalCount: TokenBucket
  private readonly globalBytes: TokenBucket
  private readonly clusters = new Map<string, ClusterBuckets>()
  private readonly clusterCountRate: number
  private readonly clusterBytesRate: number
  private readonly globalCountError: string
  private readonly globalBytesError: string

  /**
   * @param workers processes enforcing the limits side by side; each takes
   *   an equal share of every rate.
   */
  constructor (private readonly limits: RateLimits, workers = 1, private readonly now: Clock = () => performance.now()) {
    const share = Math.max(1, workers)
    const t = now()
    this.globalCount = new TokenBucket(limits.max_records_global_per_sec / share, t)
    this.globalBytes = new TokenBucket(limits.max_bytes_global_per_sec / share, t)
    this.clusterCountRate = limits.max_records_per_sec / share
    this.clusterBytesRate = limits.max_bytes_per_sec / share
    this.globalCountError = `Request rate limit exceeded: more than ${limits.max_records_global_per_sec} records per second to this proxy.`
    this.globalBytesError = `Request rate limit exceeded: more than ${limits.max_bytes_global_per_sec} bytes per second to this proxy.`
  }

  /**
   * Lets one record of `bytes` bytes for `clusterId` pass (taking its share
   * of every limit) or returns the 429 error naming the first limit it is
   * over. The error is made only for a refused record.
   */
  check (clusterId: string, bytes: number): ProxyError | null {
    const t = this.now()
    if (!this.globalCount.allows(1, t)) return limited(this.globalCountError)
    if (!this.globalBytes.allows(bytes, t)) return limited(this.globalBytesError)
    const cluster = this.cluster(clusterId, t)
    if (!cluster.count.allows(1, t)) {
      return limited(`Request rate limit exceeded: more than ${this.limits.max_records_per_sec} records per second to cluster ${clusterId}.`)
    }
    if (!cluster.bytes.allows(bytes, t)) {
      return limited(`Request rate limit exceeded: more than ${this.limits.max_bytes_per_sec} bytes per second to cluster ${clusterId}.`)
    }
    this.globalCount.take(1)
    this.globalBytes.take(bytes)
    cluster.count.take(1)
    cluster.bytes.take(bytes)
    return null
  }

  /** Per-cluster buckets currently kept. */
  get clusterCount (): number {
    return this.clusters.size
  }

  private cluster (id: string, t: number): ClusterBuckets {
    let c = this.clusters.get(id)
    if (c === undefined) {
      if (this.clusters.size >= MAX_CLUSTERS) this.evict(t)
      c = { count: new TokenBucket(this.clusterCountRate, t), bytes: new TokenBucket(this.clusterBytesRate, t) }
      this.clusters.set(id, c)
    }
    return c
  }

  private evict (t: number): void {
    for (const [id, c] of this.clusters) {
      if (c.count.full(t) && c.bytes.full(t)) this.clusters.delete(id)
    }
    // Still full of busy clusters: drop the oldest tenth, which at worst
    // hands those clusters a fresh second of their rate.
    if (this.clusters.size >= MAX_CLUSTERS) {
      let drop = Math.ceil(MAX_CLUSTERS / 10)
      for (const id of this.clusters.keys()) {
        if (drop-- <= 0) break
        this.clusters.delete(id)
      }
    }
  }
}

function limited (message: string): ProxyError {
  return new ProxyError('rateLimited', message, { persisted: 'no' })
}
