// Cluster metadata as this process last saw it, and whether the cluster is
// reachable. Produce requests check topics against the cached view (a Map
// lookup); metadata endpoints ask the cluster. When the cluster cannot be
// reached every request fails fast with a retriable 503 instead of waiting for
// client timeouts, and the background refresh notices the recovery.
import type { KafkaProducer } from './producer.js'
import type { Metadata } from './binding.js'
import type { TopicAutoCreate } from './auto-create.js'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'

export interface PartitionInfo {
  id: number
  leader: number
  replicas: number[]
  isrs: number[]
}

export interface TopicInfo {
  name: string
  /** Indexed by partition id. */
  partitions: PartitionInfo[]
}

export interface ClusterView {
  brokers: Array<{ id: number, host: string, port: number }>
  topics: Map<string, TopicInfo>
  fetchedAt: number
}

export interface MetadataOptions {
  refreshMs: number
  unreachableAfterMs: number
  requestTimeoutMs: number
}

/** Kafka's own topics, hidden from listings as Kafka's admin API hides them. */
const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state'])

export function isInternalTopic (name: string): boolean {
  return INTERNAL_TOPICS.has(name)
}

// A miss on the cached view triggers one targeted refresh; misses for the
// same topic within this window reuse its answer instead of asking again.
const NEGATIVE_TTL_MS = 1000

// librdkafka reports every broker down whenever its last connection closes,
// a reset it re-establishes within reconnect.backoff.ms (./options.ts) as
// well as an outage; a refresh this soon after tells the two apart, instead
// of refusing produce requests until the next periodic one.
const DOWN_PROBE_MS = 250

export class ClusterMetadata {
  private view: ClusterView | null = null
  /** No refresh has succeeded yet, or the client reported every broker down. */
  private down = true
  /** Start of the current run of failed refreshes; null after a success. */
  private failingSince: number | null = null
  private inflight: Promise<ClusterView> | null = null
  private timer: NodeJS.Timeout | null = null
  private tick: (() => void) | null = null
  private readonly misses = new Map<string, number>()
  private creator: TopicAutoCreate | null = null

  constructor (
    private readonly producer: KafkaProducer,
    private readonly opts: MetadataOptions,
    private readonly log: Logger
  ) {}

  start (): void {
    const tick = this.tick = (): void => {
      this.refresh().catch(() => {}).finally(() => {
        if (this.timer === null) return
        // A probe markDown scheduled meanwhile is replaced, not doubled.
        clearTimeout(this.timer)
        // Poll faster while the cluster is away so recovery shows up quickly.
        this.timer = setTimeout(tick, this.reachable() ? this.opts.refreshMs : Math.min(1000, this.opts.refreshMs))
        this.timer.unref()
      })
    }
    this.timer = setTimeout(tick, 0)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  /** Called when the client reports that every broker connection is down. */
  markDown (): void {
    if (this.down) return
    this.log.warn('kafka cluster unreachable')
    this.down = true
    if (this.timer !== null && this.tick !== null) {
      clearTimeout(this.timer)
      this.timer = setTimeout(this.tick, DOWN_PROBE_MS)
      this.timer.unref()
    }
  }

  /**
   * Reachable unless the client reported every broker down, or refreshes have
   * kept failing for `unreachableAfterMs`. Measured from the first failure,
   * not the last success, so the refresh interval may exceed the threshold.
   */
  reachable (): boolean {
    if (this.down || !this.producer.connected) return false
    return this.failingSince === null || Date.now() - this.failingSince < this.opts.unreachableAfterMs
  }

  assertReachable (): void {
    if (!this.reachable()) throw new ProxyError('clusterUnreachable', undefined, { persisted: 'no' })
  }

  /** A fresh view from the cluster; concurrent callers share one request. */
  refresh (): Promise<ClusterView> {
    if (this.inflight !== null) return this.inflight
    this.inflight = this.producer.metadata({ timeoutMs: this.opts.requestTimeoutMs })
      .then((md) => {
        const view = toView(md)
        const wasDown = !this.reachable()
        this.view = view
        this.failingSince = null
        this.down = false
        this.misses.clear()
        if (wasDown) this.log.info({ brokers: view.brokers.length }, 'kafka cluster reachable')
        return view
      }, (err: unknown) => {
        if (this.reachable()) this.log.warn({ err }, 'kafka metadata refresh failed')
        this.failingSince ??= Date.now()
        throw err
      })
      .finally(() => { this.inflight = null })
    return this.inflight
  }

  /** A fresh view for endpoints that report metadata; 503 when unreachable. */
  async current (): Promise<ClusterView> {
    this.assertReachable()
    try {
      return await this.refresh()
    } catch {
      throw new ProxyError('clusterUnreachable')
    }
  }

  /**
   * The topic as the cache knows it, refreshing once on a miss. Null when the
   * cluster says it does not exist; 503 when the cluster cannot be asked.
   */
  async topic (name: string): Promise<TopicInfo | null> {
    const hit = this.view?.topics.get(name)
    if (hit !== undefined) {
      // A cached hit does not prove reachability; say so before queuing records.
      this.assertReachable()
      return hit
    }
    this.assertReachable()
    const missedAt = this.misses.get(name)
    if (missedAt !== undefined && Date.now() - missedAt < NEGATIVE_TTL_MS) return null
    let view: ClusterView
    try {
      view = await this.refresh()
    } catch {
      throw new ProxyError('clusterUnreachable', undefined, { persisted: 'no' })
    }
    const found = view.topics.get(name) ?? null
    if (found === null) this.misses.set(name, Date.now())
    return found
  }

  /** Lets writes to a missing topic create it, as the policy decides. */
  setAutoCreate (creator: TopicAutoCreate): void {
    this.creator = creator
    creator.warm()
  }

  /**
   * The topic a write (produce, subscribe) goes to: as `topic()`, but a topic
   * the cluster does not have is created first when the auto-creation policy
   * allows. Null means it does not exist and will not be created: 40401.
   */
  async writableTopic (name: string): Promise<TopicInfo | null> {
    const found = await this.topic(name)
    if (found !== null || this.creator === null) return found
    const created = await this.creator.create(name)
    if (created !== null) this.misses.delete(name)
    return created
  }

  /** Whether a write to a missing topic would create it now. */
  async createsMissingTopics (): Promise<boolean> {
    return this.creator !== null && await this.creator.allowed()
  }

  cached (): ClusterView | null {
    return this.view
  }
}

function toView (md: Metadata): ClusterView {
  const topics = new Map<string, TopicInfo>()
  for (const t of md.topics) {
    // librdkafka lists a topic with an error (and no partitions) when it is
    // being created or deleted; such a topic is not usable yet.
    if (t.partitions.length === 0) continue
    const partitions: PartitionInfo[] = []
    for (const p of t.partitions) partitions[p.id] = { id: p.id, leader: p.leader, replicas: p.replicas, isrs: p.isrs }
    topics.set(t.name, { name: t.name, partitions })
  }
  const brokers = md.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port })).sort((a, b) => a.id - b.id)
  return { brokers, topics, fetchedAt: Date.now() }
}
