// The durable store of webhook subscriptions: one compacted Kafka topic
// (webhooks.store_topic, one partition, created on first write) that every
// process of every instance reads from its start and keeps reading, so each
// holds the same view: `subscription/<id>` keys carry a subscription (a
// tombstone deletes it), `status/<id>/<partition>` keys the delivery
// statistics of one partition, written by the process delivering it.
//
// Reads follow writes across processes: sync() asks the partition's high
// watermark and waits until this process has read up to it, so a GET
// anywhere answers what any acknowledged POST, PATCH or DELETE wrote. Writes
// go through the shared producer (acks=all, idempotent) and return once this
// process has read them back.
//
// Listeners hear about a subscription only once the reader has caught up
// with what the topic held when reading began, so a process starting up
// never starts delivering a subscription that a later record deleted.
import { KafkaConsumer } from '../kafka/binding.js'
import type { ConsumerClient, ConsumerMessage } from '../kafka/binding.js'
import { KAFKA, requestError } from '../kafka/errors.js'
import type { ClientProperties } from '../kafka/options.js'
import type { KafkaAdmin } from '../kafka/admin.js'
import type { KafkaProducer } from '../kafka/producer.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ThreadBudget } from './budget.js'
import { decodeSubscription, encodeSubscription, type Subscription } from './subscription.js'

/** Delivery statistics of one subscription partition. */
export interface DeliveryStatus {
  /** Deliveries the callback accepted (2xx); a batch counts once. */
  delivered: number
  /** Records in accepted deliveries. */
  delivered_records: number
  attempts: number
  failed_attempts: number
  dead_lettered: number
  /** HTTP status of the last attempt; null when it got no response. */
  last_status: number | null
  last_error: string | null
  /** Milliseconds since the epoch. */
  last_attempt_at: number | null
  last_delivered_at: number | null
}

export function emptyStatus (): DeliveryStatus {
  return { delivered: 0, delivered_records: 0, attempts: 0, failed_attempts: 0, dead_lettered: 0, last_status: null, last_error: null, last_attempt_at: null, last_delivered_at: null }
}

export interface StoreOptions {
  topic: string
  replicationFactor: number
  properties: { global: ClientProperties, topic: ClientProperties }
  admin: KafkaAdmin
  producer: KafkaProducer
  metadata: ClusterMetadata
  budget: ThreadBudget
  /** Bound of a write's or a sync's wait, and of the broker calls they make. */
  timeoutMs: number
  /** Longest wait between two polls of the store when nobody waits for it. */
  pollIntervalMs: number
  /** How often a process that does not read the store yet looks for its topic. */
  discoverMs: number
  log: Logger
}

export type SubscriptionListener = (id: string, sub: Subscription | null) => void

const SUBSCRIPTION_PREFIX = 'subscription/'
const STATUS_PREFIX = 'status/'
const POLL_RECORDS = 500
// While a write or a sync waits for the reader, it polls this often.
const EAGER_POLL_MS = 2
const OFFSET_BEGINNING = -2

interface Waiter {
  offset: number
  resolve: () => void
}

export class SubscriptionStore {
  private readonly subs = new Map<string, Subscription>()
  private readonly statuses = new Map<string, Map<number, DeliveryStatus>>()
  private readonly listeners: SubscriptionListener[] = []
  private client: ConsumerClient | null = null
  private starting: Promise<boolean> | null = null
  /** The next offset to read. */
  private position = 0
  /** Offset the reader must reach before listeners hear anything; -1 once reached. */
  private catchUpTo = -1
  private caughtUp = false
  private waiters: Waiter[] = []
  private timer: NodeJS.Timeout | null = null
  private discoverTimer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  /** Records the last poll got: another poll follows at once while there are any. */
  private lastGot = 0
  private closed = false

  constructor (private readonly opts: StoreOptions) {}

  get topic (): string {
    return this.opts.topic
  }

  get (id: string): Subscription | undefined {
    return this.subs.get(id)
  }

  list (): Subscription[] {
    return [...this.subs.values()]
  }

  status (id: string): ReadonlyMap<number, DeliveryStatus> {
    return this.statuses.get(id) ?? new Map()
  }

  onChange (listener: SubscriptionListener): void {
    this.listeners.push(listener)
  }

  /**
   * Starts reading when the topic exists, and looks for it now and then
   * until it does (a subscription made on another process or instance).
   */
  start (): void {
    this.reading(false).catch(() => {})
    this.discoverTimer = setInterval(() => {
      if (this.client !== null || this.closed) return
      this.reading(false).catch((err: unknown) => this.opts.log.debug({ err }, 'webhook store not readable yet'))
    }, this.opts.discoverMs)
    this.discoverTimer.unref()
  }

  /** Waits until this process has read everything written to the store so far. */
  async sync (): Promise<void> {
    if (!await this.reading(true)) return
    const high = await this.watermark()
    await this.reach(high)
  }

  /** Writes a subscription and waits until this process has read it back. */
  async put (sub: Subscription): Promise<void> {
    await this.ensureTopic()
    const offset = await this.write(`${SUBSCRIPTION_PREFIX}${sub.subscription_id}`, encodeSubscription(sub))
    await this.reach(offset + 1)
  }

  /** Deletes a subscription and its statistics. */
  async remove (id: string): Promise<void> {
    await this.ensureTopic()
    const partitions = [...(this.statuses.get(id)?.keys() ?? [])]
    let last = -1
    for (const p of partitions) last = Math.max(last, await this.write(`${STATUS_PREFIX}${id}/${p}`, null))
    last = Math.max(last, await this.write(`${SUBSCRIPTION_PREFIX}${id}`, null))
    await this.reach(last + 1)
  }

  /** Records one partition's statistics; nobody waits for it to be read back. */
  async putStatus (id: string, partition: number, status: DeliveryStatus): Promise<void> {
    if (this.client === null) return
    await this.write(`${STATUS_PREFIX}${id}/${partition}`, Buffer.from(JSON.stringify(status)))
  }

  private async write (key: string, value: Buffer | null): Promise<number> {
    const [result] = await this.opts.producer.produce(this.opts.topic, [{ key: Buffer.from(key), value, partition: 0 }])
    if (result === undefined) throw new ProxyError('internal')
    if (result.error !== null) throw result.error
    return result.offset as number
  }

  /** Creates the topic when it does not exist yet, and starts reading it. */
  private async ensureTopic (): Promise<void> {
    if (await this.reading(true)) return
    try {
      await this.opts.admin.createTopic({
        name: this.opts.topic,
        numPartitions: 1,
        replicationFactor: this.opts.replicationFactor,
        assignments: [],
        configs: [{ name: 'cleanup.policy', value: 'compact' }]
      }, false)
      this.opts.log.info({ topic: this.opts.topic }, 'created the webhook subscription store topic')
    } catch (err) {
      // Another process made it first.
      if ((err as { code?: unknown }).code !== KAFKA.TOPIC_ALREADY_EXISTS) throw err
    }
    const deadline = Date.now() + this.opts.timeoutMs
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const view = await this.opts.metadata.refresh().catch(() => null)
      const t = view?.topics.get(this.opts.topic)
      if (t !== undefined && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) break
      if (Date.now() >= deadline) throw new ProxyError('kafkaRetriable', 'The webhook subscription store topic was created but has no leader yet; retry')
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
    if (!await this.reading(true)) throw new ProxyError('kafkaRetriable', 'The webhook subscription store topic cannot be read yet; retry')
  }

  /** True once the reader runs; starts it when the topic exists (`fresh`: asks the cluster, else the cached view). */
  private reading (fresh: boolean): Promise<boolean> {
    if (this.client !== null) return Promise.resolve(true)
    if (this.closed) return Promise.resolve(false)
    this.starting ??= (async () => {
      const exists = fresh
        ? (await this.opts.metadata.topic(this.opts.topic)) !== null
        : this.opts.metadata.cached()?.topics.has(this.opts.topic) === true
      if (!exists) return false
      await this.open()
      return true
    })().finally(() => { this.starting = null })
    return this.starting
  }

  private async open (): Promise<void> {
    const client = new KafkaConsumer(this.opts.properties.global, this.opts.properties.topic) as ConsumerClient
    client.on('event.error', (err) => this.opts.log.debug({ err: { message: err.message } }, 'webhook store reader event'))
    await this.opts.budget.run(() => new Promise<void>((resolve, reject) => {
      client.connect({ timeout: this.opts.timeoutMs }, (err) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve()
      })
    }))
    if (this.closed) {
      client.disconnect(() => {})
      return
    }
    client.setDefaultIsTimeoutOnlyForFirstMessage(true)
    client.setDefaultConsumeTimeout(0)
    client.assign([{ topic: this.opts.topic, partition: 0, offset: OFFSET_BEGINNING }])
    this.client = client
    const high = await this.watermark().catch(() => 0)
    this.catchUpTo = high
    this.schedule(0)
    if (this.position >= high) this.markCaughtUp()
  }

  private watermark (): Promise<number> {
    const client = this.client
    if (client === null) return Promise.resolve(0)
    return this.opts.budget.run(() => new Promise<number>((resolve, reject) => {
      client.queryWatermarkOffsets(this.opts.topic, 0, this.opts.timeoutMs, (err, offsets) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(offsets.highOffset)
      })
    }))
  }

  private reach (offset: number): Promise<void> {
    if (this.position >= offset) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new ProxyError('kafkaRetriable', 'The webhook subscription store could not be read up to date in time; retry'))
      }, this.opts.timeoutMs)
      const waiter: Waiter = {
        offset,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        }
      }
      this.waiters.push(waiter)
      this.schedule(0)
    })
  }

  private schedule (delay: number): void {
    if (this.closed || this.polling) return
    if (this.timer !== null) {
      if (delay > 0) return
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = null
      this.polling = this.poll()
        .catch((err: unknown) => this.opts.log.warn({ err }, 'webhook store read failed'))
        .finally(() => {
          this.polling = null
          this.scheduleNext()
        })
    }, delay)
  }

  private scheduleNext (): void {
    this.schedule(this.lastGot > 0 ? 0 : this.waiters.length > 0 ? EAGER_POLL_MS : this.opts.pollIntervalMs)
  }

  private async poll (): Promise<void> {
    const client = this.client
    this.lastGot = 0
    if (client === null || this.closed) return
    const messages = await this.opts.budget.run(() => new Promise<ConsumerMessage[]>((resolve) => {
      client.consume(POLL_RECORDS, (err, m) => {
        if (err !== null && err !== undefined) this.opts.log.debug({ err: { code: err.code, message: err.message } }, 'webhook store poll')
        resolve(m ?? [])
      })
    }))
    for (const m of messages) this.apply(m)
    this.lastGot = messages.length
    if (!this.caughtUp && this.position >= this.catchUpTo) this.markCaughtUp()
    this.waiters = this.waiters.filter((w) => {
      if (w.offset > this.position) return true
      w.resolve()
      return false
    })
  }

  private apply (m: ConsumerMessage): void {
    this.position = Math.max(this.position, m.offset + 1)
    const key = m.key === null || m.key === undefined ? '' : m.key.toString()
    const value = m.value ?? null
    if (key.startsWith(SUBSCRIPTION_PREFIX)) {
      const id = key.slice(SUBSCRIPTION_PREFIX.length)
      const sub = value === null ? null : decodeSubscription(value)
      if (sub === null) {
        if (!this.subs.delete(id)) return
        this.statuses.delete(id)
      } else this.subs.set(id, sub)
      if (this.caughtUp) this.notify(id, sub)
    } else if (key.startsWith(STATUS_PREFIX)) {
      const rest = key.slice(STATUS_PREFIX.length)
      const slash = rest.lastIndexOf('/')
      const id = rest.slice(0, slash)
      const partition = Number(rest.slice(slash + 1))
      if (slash < 0 || !Number.isInteger(partition)) return
      let byPartition = this.statuses.get(id)
      if (value === null) {
        byPartition?.delete(partition)
        return
      }
      // A statistic written after its subscription was deleted is ignored.
      if (!this.subs.has(id)) return
      try {
        const status = { ...emptyStatus(), ...JSON.parse(value.toString('utf8')) as Partial<DeliveryStatus> }
        if (byPartition === undefined) {
          byPartition = new Map()
          this.statuses.set(id, byPartition)
        }
        byPartition.set(partition, status)
      } catch {
        // Not ours to read.
      }
    }
  }

  private markCaughtUp (): void {
    this.caughtUp = true
    for (const [id, sub] of this.subs) this.notify(id, sub)
  }

  private notify (id: string, sub: Subscription | null): void {
    for (const l of this.listeners) {
      try {
        l(id, sub)
      } catch (err) {
        this.opts.log.error({ err, subscription_id: id }, 'webhook subscription listener failed')
      }
    }
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    if (this.discoverTimer !== null) clearInterval(this.discoverTimer)
    await this.starting?.catch(() => false)
    await this.polling
    const client = this.client
    this.client = null
    if (client !== null) await new Promise<void>((resolve) => client.disconnect(() => resolve()))
  }
}
