// The latest-per-key view of a compacted topic that fetch routes answer from:
// one per topic per process, built from Kafka at start and kept current by a
// librdkafka consumer assigned to every partition from the log start (no
// group, no commits, like the stateless reader of src/kafka/reader.ts).
//
// Consistency: `written` records the offsets this process's produce routes
// had acknowledged; a read waits until the view has applied them, so a
// client reading through the process it wrote through sees its write. Across
// processes and instances the produce answer's `Kafka-Position` header,
// sent back on the GET, does the same (docs/routes.md).
//
// Memory: every live key counts its key and value bytes plus
// ENTRY_OVERHEAD_BYTES (measured; docs/routes.md). Content types are
// interned, one string per distinct type. Past routes.view_max_bytes the view
// stops, drops its entries, logs once and answers 503: an incomplete view
// would answer 404 for keys that exist.
import { createHash } from 'node:crypto'
import { KafkaConsumer, type ConsumerClient, type ConsumerMessage } from '../kafka/binding.js'
import type { ClientProperties } from '../kafka/options.js'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import { isJson } from '../json/validate.js'
import { KeyedWaiters } from './waiters.js'

/**
 * Bytes of one entry beyond its key and value bytes: the Map slot, the entry
 * object, the key and ETag strings' headers, the value's Buffer and
 * ArrayBuffer objects. Measured by bench/route-view-memory.ts (1M keys of
 * 100 B on Node 20: 506 B per key in all, 392 B of it overhead).
 */
export const ENTRY_OVERHEAD_BYTES = 400

const STEP_MS = 100

/** Distinct content types interned per view. */
const MAX_TYPES = 64

export interface ViewEntry {
  readonly value: Buffer
  /** The record's `content-type` header; null when it had none. */
  readonly type: string | null
  /** Quoted, as sent in ETag: the base64url of the MD5 of key, type and value. */
  readonly etag: string
  readonly bytes: number
}

export interface TopicViewOptions {
  topic: string
  properties: { global: ClientProperties, topic: ClientProperties }
  maxBytes: number
  maxPollRecords: number
  callTimeoutMs: number
  log: Logger
}

/** A partition and an offset the view must have applied before a read answers. */
export type Position = readonly [partition: number, offset: number]

type Waiter = () => void

export class TopicView {
  private readonly entries = new Map<string, ViewEntry>()
  /** Next offset to apply, by partition. */
  private readonly applied = new Map<number, number>()
  /** Highest offset acknowledged to this process's produce routes, by partition. */
  private readonly needed = new Map<number, number>()
  private bytes = 0
  private state: 'starting' | 'live' | 'over' | 'failed' | 'closed' = 'starting'
  private client: ConsumerClient | null = null
  private loop: Promise<void> = Promise.resolve()
  private readonly keyWaiters = new KeyedWaiters()
  private readonly anyWaiters = new Set<Waiter>()
  // XOR of every live entry's digest: the array's ETag, independent of order.
  private readonly setDigest = Buffer.alloc(16)
  private arrayCache: { body: string, etag: string } | null = null
  private readonly types = new Map<string, string>()
  private readyResolve: (() => void) | null = null
  readonly ready: Promise<void>

  constructor (private readonly opts: TopicViewOptions) {
    this.ready = new Promise((resolve) => { this.readyResolve = resolve })
  }

  get topic (): string {
    return this.opts.topic
  }

  /** Live keys and the bytes they are counted at. */
  get size (): { keys: number, bytes: number } {
    return { keys: this.entries.size, bytes: this.bytes }
  }

  /** Connects, assigns every partition from its log start and reads until closed; resolves once caught up with the end at start. */
  start (): Promise<void> {
    this.loop = this.run().catch((err: unknown) => {
      if (this.state === 'closed') return
      this.state = 'failed'
      this.opts.log.error({ err, topic: this.opts.topic }, 'route view stopped: fetch routes of this topic answer 503')
      this.wakeAll()
      this.readyResolve?.()
    })
    return this.ready
  }

  /** Throws the 503 of a view that cannot answer. */
  check (): void {
    if (this.state === 'over') throw new ProxyError('viewUnavailable', `The view of topic ${this.opts.topic} is larger than routes.view_max_bytes (${this.opts.maxBytes}); raise the limit`)
    if (this.state === 'failed') throw new ProxyError('viewUnavailable', `The view of topic ${this.opts.topic} could not be read from Kafka`)
    if (this.state === 'closed') throw new ProxyError('shuttingDown')
  }

  get live (): boolean {
    return this.state === 'live'
  }

  get (key: string): ViewEntry | undefined {
    return this.entries.get(key)
  }

  /** Every live value as one JSON array (sorted by key), rendered once per change. */
  array (): { body: string, etag: string } {
    if (this.arrayCache !== null) return this.arrayCache
    const keys = [...this.entries.keys()].sort()
    const parts = new Array<string>(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const value = (this.entries.get(keys[i] as string) as ViewEntry).value
      // JSON values are spliced as they are; any other value becomes a JSON string.
      parts[i] = isJson(value) ? value.toString('utf8') : JSON.stringify(value.toString('utf8'))
    }
    this.arrayCache = { body: `[${parts.join(',')}]`, etag: `"${keys.length}-${this.setDigest.toString('base64url')}"` }
    return this.arrayCache
  }

  /** A produce route of this process had `offset` of `partition` acknowledged. */
  written (partition: number, offset: number): void {
    if ((this.needed.get(partition) ?? -1) < offset) this.needed.set(partition, offset)
  }

  /** True once every position given and every write of this process is applied. */
  reached (positions: readonly Position[]): boolean {
    for (const [p, o] of this.needed) if ((this.applied.get(p) ?? 0) <= o) return false
    for (const [p, o] of positions) if ((this.applied.get(p) ?? 0) <= o) return false
    return true
  }

  /** Resolves when `reached(positions)`, or false after `ms`. */
  async reach (positions: readonly Position[], ms: number): Promise<boolean> {
    const deadline = Date.now() + ms
    while (!this.reached(positions)) {
      const left = deadline - Date.now()
      if (left <= 0 || this.state !== 'live') return this.reached(positions)
      await this.waitAny(left)
    }
    return true
  }

  /** Resolves after the entry of `key` stops having `etag` (null: absent), or after `ms`. */
  waitKey (key: string, etag: string | null, ms: number): Promise<void> {
    if ((this.entries.get(key)?.etag ?? null) !== etag) return Promise.resolve()
    return this.keyWaiters.wait(key, ms)
  }

  /** Resolves after any change of the view (or a batch applied), or after `ms`. */
  waitAny (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.anyWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.anyWaiters.add(done)
    })
  }

  async close (): Promise<void> {
    const was = this.state
    this.state = 'closed'
    this.wakeAll()
    this.readyResolve?.()
    await this.loop
    const client = this.client
    this.client = null
    if (client !== null && was !== 'over') await new Promise<void>((resolve) => client.disconnect(() => resolve()))
  }

  private async run (): Promise<void> {
    const client = await this.connect()
    this.client = client
    const partitions = await this.partitions(client)
    const target = new Map<number, number>()
    const assignment: Array<{ topic: string, partition: number, offset: number }> = []
    for (const p of partitions) {
      const marks = await watermarks(client, this.opts.topic, p, this.opts.callTimeoutMs)
      target.set(p, marks.high)
      this.applied.set(p, marks.low)
      assignment.push({ topic: this.opts.topic, partition: p, offset: marks.low })
    }
    client.assign(assignment)
    const caughtUp = (): boolean => {
      for (const [p, high] of target) if ((this.applied.get(p) ?? 0) < high) return false
      return true
    }
    if (caughtUp()) this.goLive()
    while (this.state === 'starting' || this.state === 'live') {
      client.setDefaultConsumeTimeout(STEP_MS)
      const batch = await new Promise<ConsumerMessage[]>((resolve, reject) => {
        client.consume(this.opts.maxPollRecords, (err, messages) => {
          if (err !== null && err !== undefined) reject(err)
          else resolve(messages)
        })
      })
      if (this.state !== 'starting' && this.state !== 'live') break
      for (const m of batch) {
        if (m.topic !== this.opts.topic || m.offset < (this.applied.get(m.partition) ?? 0)) continue
        this.apply(m)
        this.applied.set(m.partition, m.offset + 1)
      }
      if (this.bytes > this.opts.maxBytes) {
        this.overflow(client)
        return
      }
      if (this.state === 'starting' && caughtUp()) this.goLive()
      if (batch.length > 0 || this.anyWaiters.size > 0) this.wakeAny()
    }
  }

  private goLive (): void {
    this.state = 'live'
    this.opts.log.info({ topic: this.opts.topic, keys: this.entries.size, bytes: this.bytes }, 'route view is live')
    this.readyResolve?.()
  }

  private overflow (client: ConsumerClient): void {
    this.state = 'over'
    this.opts.log.error({ topic: this.opts.topic, bytes: this.bytes, keys: this.entries.size, limit: this.opts.maxBytes },
      'route view is over routes.view_max_bytes: its fetch routes answer 503 until the limit is raised and the proxy restarted')
    this.entries.clear()
    this.bytes = 0
    this.arrayCache = null
    this.wakeAll()
    this.readyResolve?.()
    client.disconnect(() => {})
  }

  private apply (m: ConsumerMessage): void {
    const raw = m.key
    if (raw === undefined || raw === null) return
    const key = typeof raw === 'string' ? raw : raw.toString('utf8')
    const old = this.entries.get(key)
    if (m.value === null || m.value === undefined) {
      if (old === undefined) return
      this.entries.delete(key)
      this.bytes -= old.bytes
      xorInto(this.setDigest, digestOf(old))
      this.changed(key)
      return
    }
    const type = this.typeOf(m.headers)
    const digest = createHash('md5').update(key).update('\0').update(type ?? '').update('\0').update(m.value).digest()
    const etag = `"${digest.toString('base64url')}"`
    if (old !== undefined && old.etag === etag) return
    const bytes = Buffer.byteLength(key) + m.value.length + ENTRY_OVERHEAD_BYTES
    this.entries.set(key, { value: m.value, type, etag, bytes })
    if (old !== undefined) {
      this.bytes -= old.bytes
      xorInto(this.setDigest, digestOf(old))
    }
    this.bytes += bytes
    xorInto(this.setDigest, digest)
    this.changed(key)
  }

  // A topic's records have few distinct content types: one string each, not one per key.
  private typeOf (headers: ConsumerMessage['headers']): string | null {
    if (headers === undefined) return null
    for (const h of headers) {
      const v = h['content-type']
      if (v === undefined) continue
      const text = typeof v === 'string' ? v : v.toString('latin1')
      let interned = this.types.get(text)
      if (interned === undefined) {
        if (this.types.size >= MAX_TYPES) return text
        interned = text
        this.types.set(text, text)
      }
      return interned
    }
    return null
  }

  private changed (key: string): void {
    this.arrayCache = null
    this.keyWaiters.wake(key)
  }

  private wakeAny (): void {
    for (const w of [...this.anyWaiters]) w()
  }

  private wakeAll (): void {
    this.wakeAny()
    this.keyWaiters.wakeAll()
  }

  private connect (): Promise<ConsumerClient> {
    return new Promise((resolve, reject) => {
      const client = new KafkaConsumer(this.opts.properties.global, this.opts.properties.topic) as ConsumerClient
      client.on('event.error', (err) => this.opts.log.debug({ err: { message: err.message } }, 'route view consumer event'))
      client.connect({ timeout: this.opts.callTimeoutMs }, (err) => {
        if (err !== null && err !== undefined) reject(err)
        else {
          client.setDefaultIsTimeoutOnlyForFirstMessage(true)
          resolve(client)
        }
      })
    })
  }

  private partitions (client: ConsumerClient): Promise<number[]> {
    return new Promise((resolve, reject) => {
      client.getMetadata({ topic: this.opts.topic, timeout: this.opts.callTimeoutMs }, (err, md) => {
        if (err !== null && err !== undefined) {
          reject(err)
          return
        }
        const t = md.topics.find((x) => x.name === this.opts.topic)
        if (t === undefined || t.partitions.length === 0) reject(new Error(`topic ${this.opts.topic} does not exist`))
        else resolve(t.partitions.map((p) => p.id).sort((a, b) => a - b))
      })
    })
  }
}

function xorInto (acc: Buffer, d: Buffer): void {
  for (let i = 0; i < 16; i++) acc[i] = (acc[i] as number) ^ (d[i] as number)
}

function digestOf (e: ViewEntry): Buffer {
  return Buffer.from(e.etag.slice(1, -1), 'base64url')
}

function watermarks (client: ConsumerClient, topic: string, partition: number, timeoutMs: number): Promise<{ low: number, high: number }> {
  return new Promise((resolve, reject) => {
    client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
    })
  })
}
