// The v2 consumer instances of this process: creation with Confluent's name
// rules, lookup, idle expiry, and the budget of concurrent fetches
// (`consumer.threads`) that keeps reads off the event loop without letting
// them exhaust libuv's pool.
import { randomUUID } from 'node:crypto'
import { ProxyError } from '../errors.js'
import { ConsumerInstance, type ConsumerFormat } from './consumer-instance.js'
import { consumerProperties, type ConsumerChoices } from './options.js'
import type { ConsumerConfig, KafkaConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'

/** Claims instance names across processes; see src/shards/directory.ts. */
export interface NameClaims {
  claim (group: string, name: string): Promise<boolean>
  release (group: string, name: string): void
}

export interface CreateRequest {
  name: string | null
  format: ConsumerFormat
  autoOffsetReset: ConsumerChoices['autoOffsetReset']
  autoCommit: boolean | null
  fetchMinBytes: number | null
  requestTimeoutMs: number | null
}

export interface ConsumerManagerOptions {
  kafka: KafkaConfig
  consumer: ConsumerConfig
  /** Timeout of broker round trips made for a request. */
  callTimeoutMs: number
  log: Logger
  claims: NameClaims
}

export class ConsumerManager {
  private readonly groups = new Map<string, Map<string, ConsumerInstance>>()
  private busyThreads = 0
  private timer: NodeJS.Timeout | null = null
  private readonly opts: ConsumerManagerOptions

  constructor (opts: ConsumerManagerOptions) {
    this.opts = opts
  }

  get size (): number {
    let n = 0
    for (const g of this.groups.values()) n += g.size
    return n
  }

  async create (group: string, req: CreateRequest): Promise<ConsumerInstance> {
    const name = req.name ?? `rest-consumer-${randomUUID()}`
    if (this.groups.get(group)?.has(name) === true || !await this.opts.claims.claim(group, name)) {
      throw new ProxyError('consumerExists')
    }
    let instance: ConsumerInstance
    try {
      instance = this.build(group, name, req)
    } catch (err) {
      this.opts.claims.release(group, name)
      throw err
    }
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(name, instance)
    return instance
  }

  private build (group: string, name: string, req: CreateRequest): ConsumerInstance {
    const properties = consumerProperties(this.opts.kafka, this.opts.consumer, {
      group,
      name,
      autoOffsetReset: req.autoOffsetReset,
      autoCommit: req.autoCommit
    })
    return new ConsumerInstance({
      group,
      name,
      format: req.format,
      requestTimeoutMs: req.requestTimeoutMs,
      fetchMinBytes: req.fetchMinBytes,
      properties,
      maxPollRecords: this.opts.consumer.max_poll_records,
      prefetchBytes: this.opts.consumer.prefetch_max_bytes,
      callTimeoutMs: this.opts.callTimeoutMs
    }, this.opts.log)
  }

  /** The instance, marked as used now; null when this process does not have it. */
  get (group: string, name: string): ConsumerInstance | null {
    const instance = this.groups.get(group)?.get(name) ?? null
    instance?.touch()
    return instance
  }

  async delete (group: string, name: string): Promise<boolean> {
    const members = this.groups.get(group)
    const instance = members?.get(name)
    if (members === undefined || instance === undefined) return false
    members.delete(name)
    if (members.size === 0) this.groups.delete(group)
    this.opts.claims.release(group, name)
    await instance.close()
    return true
  }

  acquireThread = (): boolean => {
    if (this.busyThreads >= this.opts.consumer.threads) return false
    this.busyThreads++
    return true
  }

  releaseThread = (): void => {
    this.busyThreads--
  }

  /** Closes instances idle for longer than `consumer.instance_timeout_ms`. */
  startExpiry (): void {
    const timeout = this.opts.consumer.instance_timeout_ms
    this.timer = setInterval(() => {
      const cutoff = Date.now() - timeout
      for (const [group, members] of this.groups) {
        for (const [name, instance] of members) {
          if (instance.lastUsed >= cutoff) continue
          this.opts.log.info({ group, instance: name }, 'consumer instance expired')
          this.delete(group, name).catch((err: unknown) => this.opts.log.warn({ err, group, instance: name }, 'closing an expired consumer failed'))
        }
      }
    }, Math.min(1000, Math.max(100, timeout / 4)))
    this.timer.unref()
  }

  /** Closes every instance: each leaves its group, committing what auto-commit stored. */
  async close (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    const all: Array<Promise<boolean>> = []
    for (const [group, members] of this.groups) {
      for (const name of members.keys()) all.push(this.delete(group, name))
    }
    await Promise.allSettled(all)
  }
}
