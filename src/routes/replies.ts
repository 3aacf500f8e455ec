// Replies of request/reply routes (produce.reply_topic). Every process reads
// every reply topic (one assign-only librdkafka consumer, no group, no
// commits) and keeps each reply for route_settings.reply_ttl_ms, keyed by
// its correlation header: the process that sent a request finds its reply,
// and so does any process or instance asked for the async reply resource.
//
// At start the consumer begins at the offsets of `now - reply_ttl_ms`
// (offsetsForTimes), so a process that starts while replies are pending
// still holds the recent ones.
import { KafkaConsumer, type ConsumerClient, type ConsumerMessage } from '../kafka/binding.js'
import type { ClientProperties } from '../kafka/options.js'
import type { Logger } from '../logger.js'
import { KeyedWaiters } from './waiters.js'

const STEP_MS = 100

export interface RouteReply {
  readonly status: number
  /** The reply's content-type header; null when it had none. */
  readonly type: string | null
  readonly body: Buffer
  /** Date.now() when this process read it. */
  readonly at: number
}

export interface ReplyTopicsOptions {
  topics: readonly string[]
  /** The correlation header, lower-case. */
  header: string
  ttlMs: number
  properties: { global: ClientProperties, topic: ClientProperties }
  maxPollRecords: number
  callTimeoutMs: number
  log: Logger
}

export class ReplyTopics {
  private readonly replies = new Map<string, RouteReply>()
  private readonly waiters = new KeyedWaiters()
  private client: ConsumerClient | null = null
  private loop: Promise<void> = Promise.resolve()
  private closed = false
  private sweeper: NodeJS.Timeout | undefined

  constructor (private readonly opts: ReplyTopicsOptions) {}

  /** Replies held now. */
  get size (): number {
    return this.replies.size
  }

  /** Connects and assigns every partition of every reply topic; rejects when one of them does not exist. */
  async start (): Promise<void> {
    const client = await connect(this.opts)
    this.client = client
    const since = Date.now() - this.opts.ttlMs
    const assignment: Array<{ topic: string, partition: number, offset: number }> = []
    for (const topic of this.opts.topics) {
      const partitions = await partitionsOf(client, topic, this.opts.callTimeoutMs)
      if (partitions === null) {
        client.disconnect(() => {})
        throw new Error(`reply_topic ${topic} does not exist (create it before starting the proxy)`)
      }
      const offsets = await offsetsAt(client, topic, partitions, since, this.opts.callTimeoutMs)
      for (const [i, partition] of partitions.entries()) {
        let offset = offsets[i] as number
        // No record at or after the time: start at the end.
        if (offset < 0) offset = (await watermarks(client, topic, partition, this.opts.callTimeoutMs)).high
        assignment.push({ topic, partition, offset })
      }
    }
    client.assign(assignment)
    this.loop = this.run(client).catch((err: unknown) => {
      if (!this.closed) this.opts.log.error({ err }, 'reply topic consumer stopped: request/reply routes time out')
    })
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.opts.ttlMs / 4))
    this.sweeper.unref()
  }

  get (id: string): RouteReply | undefined {
    return this.replies.get(id)
  }

  /** The reply of `id`, once read, or undefined after `ms`. */
  wait (id: string, ms: number): Promise<RouteReply | undefined> {
    const ready = this.replies.get(id)
    if (ready !== undefined || ms <= 0) return Promise.resolve(ready)
    return this.waiters.wait(id, ms).then(() => this.replies.get(id))
  }

  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.sweeper)
    this.waiters.wakeAll()
    await this.loop
    const client = this.client
    this.client = null
    if (client !== null) await new Promise<void>((resolve) => client.disconnect(() => resolve()))
  }

  private async run (client: ConsumerClient): Promise<void> {
    while (!this.closed) {
      client.setDefaultConsumeTimeout(STEP_MS)
      const batch = await new Promise<ConsumerMessage[]>((resolve, reject) => {
        client.consume(this.opts.maxPollRecords, (err, messages) => {
          if (err !== null && err !== undefined) reject(err)
          else resolve(messages)
        })
      })
      for (const m of batch) this.take(m)
    }
  }

  private take (m: ConsumerMessage): void {
    let id: string | null = null
    let status = 200
    let type: string | null = null
    for (const h of m.headers ?? []) {
      for (const [name, raw] of Object.entries(h)) {
        const v = typeof raw === 'string' ? raw : raw.toString('utf8')
        const lower = name.toLowerCase()
        if (lower === this.opts.header) id = v
        else if (lower === ':status') {
          const n = Number(v)
          if (Number.isInteger(n) && n >= 200 && n <= 599) status = n
        } else if (lower === 'content-type') type = v
      }
    }
    if (id === null) return
    // The first reply to a request is its answer; a service that answers twice does not change it.
    if (this.replies.has(id)) return
    this.replies.set(id, { status, type, body: m.value ?? Buffer.alloc(0), at: Date.now() })
    this.waiters.wake(id)
  }

  private sweep (): void {
    const cutoff = Date.now() - this.opts.ttlMs
    // Insertion order is arrival order: the oldest come first.
    for (const [id, r] of this.replies) {
      if (r.at >= cutoff) break
      this.replies.delete(id)
    }
  }
}

function connect (opts: ReplyTopicsOptions): Promise<ConsumerClient> {
  return new Promise((resolve, reject) => {
    const client = new KafkaConsumer(opts.properties.global, opts.properties.topic) as ConsumerClient
    client.on('event.error', (err) => opts.log.debug({ err: { message: err.message } }, 'reply topic consumer event'))
    client.connect({ timeout: opts.callTimeoutMs }, (err) => {
      if (err !== null && err !== undefined) reject(err)
      else {
        client.setDefaultIsTimeoutOnlyForFirstMessage(true)
        resolve(client)
      }
    })
  })
}

function partitionsOf (client: ConsumerClient, topic: string, timeoutMs: number): Promise<number[] | null> {
  return new Promise((resolve, reject) => {
    client.getMetadata({ topic, timeout: timeoutMs }, (err, md) => {
      if (err !== null && err !== undefined) {
        // librdkafka answers a metadata request for one unknown topic with an error of that topic.
        if (err.code === 3) resolve(null)
        else reject(err)
        return
      }
      const t = md.topics.find((x) => x.name === topic)
      resolve(t === undefined || t.partitions.length === 0 ? null : t.partitions.map((p) => p.id).sort((a, b) => a - b))
    })
  })
}

function offsetsAt (client: ConsumerClient, topic: string, partitions: readonly number[], timestamp: number, timeoutMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.offsetsForTimes(partitions.map((partition) => ({ topic, partition, offset: timestamp })), timeoutMs, (err, offsets) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve(partitions.map((p) => offsets.find((o) => o.partition === p)?.offset ?? -1))
    })
  })
}

function watermarks (client: ConsumerClient, topic: string, partition: number, timeoutMs: number): Promise<{ low: number, high: number }> {
  return new Promise((resolve, reject) => {
    client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
    })
  })
}
