// One v2 consumer instance: a librdkafka consumer plus the state Confluent's
// API exposes (subscription or assignment, delivered positions, records held
// back by max_bytes).
//
// Threading: librdkafka's broker threads fetch continuously into its local
// queue, bounded by queued.max.messages.kbytes (the prefetch limit). A read
// drains that queue in short consume steps; each step runs on a libuv thread
// (never the event loop) and holds it for at most STEP_MS, so one slow or
// long-polling consumer never holds a thread for a whole request timeout.
// Rebalances are handled by librdkafka itself (no rebalance_cb), so a group
// keeps moving even when some members are not being read.
import { KafkaConsumer } from './binding.js'
import type { ConsumerClient, ConsumerMessage, TopicPartitionOffset } from './binding.js'
import { ProxyError } from '../errors.js'
import { requestError, RD, type KafkaClientError } from './errors.js'
import { setTimeout as delay } from 'node:timers/promises'
import type { ClientProperties } from './options.js'
import type { Logger } from '../logger.js'
import { countConsumed } from '../metrics/registry.js'

/** Longest single consume step; bounds how long a read holds a libuv thread. */
const STEP_MS = 100
// A fetch-ahead step waits this long for a first record: a queue that stays
// dry that long ends the fetch-ahead, and a read that arrives meanwhile
// waits at most this for it to stop.
const AHEAD_STEP_MS = 10
// Fetch-ahead holds message objects: at most this many per max_poll_records,
// whatever their size, besides the byte bound.
const AHEAD_STEPS = 20
// An unconfirmed commit is sent again once the confirmation polls have backed
// off to this interval (after about 300 ms).
const RECOMMIT_MS = 200
/** librdkafka logical offsets (rdkafka.h RD_KAFKA_OFFSET_*). */
const OFFSET_BEGINNING = -2
const OFFSET_END = -1

export type ConsumerFormat = 'binary' | 'json' | 'avro' | 'jsonschema' | 'protobuf'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface OffsetRequest extends TopicPartition {
  offset: number
  metadata?: string | undefined
}

export interface TimestampRequest extends TopicPartition {
  /** Milliseconds since the epoch. */
  timestamp: number
}

export interface ReadOptions {
  timeoutMs: number
  maxBytes: number
  /** Return as soon as more than this many bytes were collected; -1 never. */
  minBytes: number
  /** Takes a consumer thread for the read, or returns false when none is free. */
  acquireThread: () => boolean
  releaseThread: () => void
}

export interface InstanceSettings {
  group: string
  name: string
  format: ConsumerFormat
  /** Per-instance `consumer.request.timeout.ms`; null means the configured default. */
  requestTimeoutMs: number | null
  /** Per-instance `fetch.min.bytes`; null means the configured default. */
  fetchMinBytes: number | null
  properties: { global: ClientProperties, topic: ClientProperties }
  maxPollRecords: number
  /** Bytes of records (key + value) fetched ahead of reads, in librdkafka's queue and again between reads. */
  prefetchBytes: number
  /** Timeout of broker round trips (seek, commit, committed offsets, offsets for times). */
  callTimeoutMs: number
}

type Mode = 'none' | 'subscribe' | 'assign'

/** What a read's renderer returns for some records: a JSON array and how many records it holds. */
export interface RenderedPart {
  body: string
  count: number
}

interface Step {
  messages: ConsumerMessage[]
  error: ProxyError | null
}

/**
 * The parts rendered by the steps of a read, as one response: their JSON
 * arrays' elements, kept flat as each part arrives (a renderer's text is
 * typically a rope of many small strings, which would otherwise survive the
 * whole read), concatenated at the end.
 */
class Parts<T extends RenderedPart> {
  private readonly elements: string[] = []
  private count = 0
  private last: T | null = null

  get size (): number {
    return this.count
  }

  add (part: T, count: number): void {
    this.last = part
    this.count += count
    if (part.body.length > 2) this.elements.push(part.body.slice(1, -1))
  }

  join (): T {
    const last = this.last as T
    if (this.elements.length <= 1) return { ...last, body: `[${this.elements[0] ?? ''}]`, count: this.count }
    return { ...last, body: `[${this.elements.join(',')}]`, count: this.count }
  }
}

function key (topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function recordBytes (m: ConsumerMessage): number {
  return (m.value?.length ?? 0) + (m.key === undefined || m.key === null ? 0 : m.key.length)
}

export class ConsumerInstance {
  readonly group: string
  readonly name: string
  readonly format: ConsumerFormat
  readonly requestTimeoutMs: number | null
  readonly fetchMinBytes: number | null
  lastUsed = Date.now()

  private readonly settings: InstanceSettings
  private readonly log: Logger
  private client: ConsumerClient | null = null
  private connecting: Promise<ConsumerClient> | null = null
  private mode: Mode = 'none'
  private topics: string[] = []
  private pattern: string | null = null
  private assigned: TopicPartition[] = []
  /** Records consumed from librdkafka but held back by a max_bytes limit. */
  private held: ConsumerMessage[] = []
  /** Highest offset handed to a client, per partition. */
  private readonly delivered = new Map<string, TopicPartition & { offset: number }>()
  /** Reads of one instance run one after another, as on a Kafka consumer. */
  private queue: Promise<unknown> = Promise.resolve()
  /** The fetch-ahead between reads, while it runs; every operation stops it first. */
  private ahead: Promise<void> | null = null
  private aheadStop = false
  private closed = false

  constructor (settings: InstanceSettings, log: Logger) {
    this.settings = settings
    this.group = settings.group
    this.name = settings.name
    this.format = settings.format
    this.requestTimeoutMs = settings.requestTimeoutMs
    this.fetchMinBytes = settings.fetchMinBytes
    this.log = log
  }

  touch (): void {
    this.lastUsed = Date.now()
  }

  /** Runs `fn` after every earlier operation of this instance has finished. */
  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const go = async (): Promise<T> => {
      await this.stopAhead()
      return await fn()
    }
    const run = this.queue.then(go, go)
    this.queue = run.catch(() => {})
    return run
  }

  // The librdkafka consumer is created on first use: an instance that was
  // created but never subscribed costs no threads or sockets.
  private connect (): Promise<ConsumerClient> {
    if (this.client !== null) return Promise.resolve(this.client)
    if (this.closed) return Promise.reject(new ProxyError('consumerNotFound'))
    this.connecting ??= new Promise<ConsumerClient>((resolve, reject) => {
      let client: ConsumerClient
      try {
        client = new KafkaConsumer(this.settings.properties.global, this.settings.properties.topic) as ConsumerClient
      } catch (err) {
        this.connecting = null
        reject(new ProxyError('kafkaConsumerConfig', `Invalid consumer configuration: ${(err as Error).message}`))
        return
      }
      client.on('event.error', (err) => this.log.debug({ err: { message: err.message }, group: this.group, instance: this.name }, 'consumer event'))
      client.connect({ timeout: this.settings.callTimeoutMs }, (err) => {
        this.connecting = null
        if (err !== null && err !== undefined) {
          reject(requestError(err))
          return
        }
        if (this.closed) {
          client.disconnect(() => {})
          reject(new ProxyError('consumerNotFound'))
          return
        }
        client.setDefaultIsTimeoutOnlyForFirstMessage(true)
        this.client = client
        resolve(client)
      })
    })
    return this.connecting
  }

  subscribe (topics: string[] | null, pattern: string | null): Promise<void> {
    return this.serial(async () => {
      if (this.mode === 'assign') throw illegalState('Subscription to topics, partitions and pattern are mutually exclusive.')
      const client = await this.connect()
      // librdkafka treats a topic starting with '^' as a POSIX regular
      // expression and searches it; Confluent matches the whole name.
      const list = pattern !== null ? [`^(${pattern})$`] : topics ?? []
      client.subscribe(list)
      this.mode = 'subscribe'
      this.topics = topics ?? []
      this.pattern = pattern
      this.held = []
    })
  }

  /**
   * Fetches every topic's metadata on this consumer's own client. librdkafka
   * checks its subscription against a full answer (never a partial one) and
   * rejoins the group when a subscribed topic has appeared; without this it
   * only looks again after topic.metadata.refresh.interval.ms (5 minutes).
   */
  refreshMetadata (): Promise<void> {
    const client = this.client
    if (client === null || this.mode !== 'subscribe') return Promise.resolve()
    return new Promise<void>((resolve) => {
      client.getMetadata({ allTopics: true, timeout: this.settings.callTimeoutMs }, () => resolve())
    })
  }

  unsubscribe (): Promise<void> {
    return this.serial(async () => {
      if (this.client !== null && this.mode === 'subscribe') {
        // Leaving means closing this client; the next use opens a fresh one.
        // A librdkafka consumer that was subscribed stays in its group state
        // machine until the leave completes, which a join still in flight on
        // a slow coordinator holds up for seconds; meanwhile a manual
        // assignment does not start fetching (seeks fail with ERR__STATE) and
        // the coordinator refuses commits from outside the group.
        const old = this.client
        this.client = null
        await Promise.race([
          new Promise<void>((resolve) => old.disconnect(() => resolve())),
          delay(this.settings.callTimeoutMs)
        ])
      }
      if (this.mode === 'subscribe') this.mode = 'none'
      this.topics = []
      this.pattern = null
      this.held = []
    })
  }

  subscription (): string[] {
    if (this.mode !== 'subscribe') return []
    if (this.pattern === null) return [...this.topics]
    return [...new Set(this.currentAssignment().map((p) => p.topic))].sort()
  }

  assign (partitions: TopicPartition[]): Promise<void> {
    return this.serial(async () => {
      if (this.mode === 'subscribe') throw illegalState('Subscription to topics, partitions and pattern are mutually exclusive.')
      const client = await this.connect()
      // Only the difference is applied, with incremental assign/unassign.
      // Replacing a manual assignment while librdkafka is still starting the
      // partitions of the previous one aborts the process
      // (rdkafka_assignment.c: assert rktp->rktp_started, librdkafka 2.15,
      // reproduced with assign [p1], assign [p1, p0], assign [p0], assign []).
      // It is also what Java's KafkaConsumer.assign() does, which Confluent's
      // proxy calls: a partition that stays assigned keeps its position, so
      // its held records stay valid.
      const next = new Map(partitions.map((p) => [key(p.topic, p.partition), { topic: p.topic, partition: p.partition }]))
      const current = new Map((this.mode === 'assign' ? this.assigned : []).map((p) => [key(p.topic, p.partition), p]))
      const removed = [...current].filter(([k]) => !next.has(k)).map(([, p]) => p)
      const added = [...next].filter(([k]) => !current.has(k)).map(([, p]) => p)
      if (removed.length > 0) client.incrementalUnassign(removed)
      if (added.length > 0) client.incrementalAssign(added)
      this.mode = next.size === 0 ? 'none' : 'assign'
      this.assigned = [...next.values()]
      this.held = this.held.filter((m) => next.has(key(m.topic, m.partition)))
    })
  }

  // A manual assignment whose committed offsets could not be fetched because
  // the group coordinator was not ready (a fresh cluster still creating
  // __consumer_offsets) was seen to never start fetching, reads empty for a
  // minute and more; assigning the same partitions again fetches the offsets
  // again. Incremental, for the reason given in assign().
  private restartAssignment (client: ConsumerClient): void {
    if (this.assigned.length === 0) return
    try {
      client.incrementalUnassign(this.assigned)
      client.incrementalAssign(this.assigned)
    } catch (err) {
      this.log.debug({ err, group: this.group, instance: this.name }, 'could not restart the assignment')
    }
    this.held = []
  }

  currentAssignment (): TopicPartition[] {
    if (this.mode === 'assign') return [...this.assigned]
    if (this.mode === 'subscribe' && this.client !== null) {
      return this.client.assignments().map((a) => ({ topic: a.topic, partition: a.partition }))
    }
    return []
  }

  private requireAssigned (partitions: TopicPartition[]): void {
    const current = new Set(this.currentAssignment().map((p) => key(p.topic, p.partition)))
    for (const p of partitions) {
      if (!current.has(key(p.topic, p.partition))) throw illegalState(`No current assignment for partition ${p.topic}-${p.partition}`)
    }
  }

  /** Moves the fetch position of assigned partitions; `offset` may be OFFSET_BEGINNING or OFFSET_END. */
  seek (targets: OffsetRequest[]): Promise<void> {
    return this.serial(async () => {
      this.requireAssigned(targets)
      const client = await this.connect()
      const deadline = Date.now() + this.settings.callTimeoutMs
      for (const t of targets) {
        await this.seekOne(client, t, deadline)
        this.dropHeld(t.topic, t.partition)
      }
    })
  }

  seekToBeginning (partitions: TopicPartition[]): Promise<void> {
    return this.seek(partitions.map((p) => ({ ...p, offset: OFFSET_BEGINNING })))
  }

  seekToEnd (partitions: TopicPartition[]): Promise<void> {
    return this.seek(partitions.map((p) => ({ ...p, offset: OFFSET_END })))
  }

  // librdkafka refuses a seek (ERR__STATE) until it has started fetching the
  // partition, which happens shortly after an assignment; Confluent clients
  // seek right after assigning, so the seek waits for that.
  private async seekOne (client: ConsumerClient, t: OffsetRequest, deadline: number): Promise<void> {
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      const err = await new Promise<KafkaClientError | null>((resolve) => {
        client.seek({ topic: t.topic, partition: t.partition, offset: t.offset }, Math.max(1, deadline - Date.now()), (e) => resolve(e ?? null))
      })
      if (err === null) return
      if (err.code !== RD.STATE || Date.now() + wait >= deadline) throw requestError(err)
      await delay(wait)
    }
  }

  /** The offset of the first record at or after each timestamp (the end when there is none). */
  async offsetsForTimes (targets: TimestampRequest[]): Promise<OffsetRequest[]> {
    this.requireAssigned(targets)
    const client = await this.connect()
    const found = await new Promise<TopicPartitionOffset[]>((resolve, reject) => {
      client.offsetsForTimes(targets.map((t) => ({ topic: t.topic, partition: t.partition, offset: t.timestamp })), this.settings.callTimeoutMs, (err, offsets) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(offsets)
      })
    })
    return found.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset < 0 ? OFFSET_END : o.offset }))
  }

  private dropHeld (topic: string, partition: number): void {
    this.held = this.held.filter((m) => m.topic !== topic || m.partition !== partition)
  }

  /**
   * Commits explicit offsets (already the next offset to read), or what was
   * delivered from the partitions still assigned when null, and returns what
   * it committed once the group coordinator has it.
   */
  commit (offsets: OffsetRequest[] | null): Promise<OffsetRequest[]> {
    return this.serial(async () => {
      const list: OffsetRequest[] = offsets ?? this.deliveredStillAssigned()
      if (list.length === 0) return list
      const client = await this.connect()
      await this.sendCommit(client, list)
      await this.confirmCommitted(client, list)
      return list
    })
  }

  // The binding's commit callback fires once the commit is queued
  // (librdkafka commitAsync), not when it is done; a commitSync would block
  // the event loop for a broker round trip.
  private sendCommit (client: ConsumerClient, list: OffsetRequest[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      client.commitCb(list.map((o) => o.metadata === undefined
        ? { topic: o.topic, partition: o.partition, offset: o.offset }
        : { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata }), (err) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve()
      })
    })
  }

  /**
   * Waits until the coordinator reports the committed offsets. librdkafka
   * sends the commit and a later offset fetch in order on the coordinator
   * connection, so the first fetch normally confirms. A commit the
   * coordinator refused never shows (the binding does not report the
   * refusal): a rebalance in progress, a group still settling after an
   * unsubscribe, a coordinator moving. Committing the same offsets again is
   * idempotent, so it is sent again while the deadline allows; one never
   * confirmed is a retriable error.
   */
  private async confirmCommitted (client: ConsumerClient, list: OffsetRequest[]): Promise<void> {
    const deadline = Date.now() + this.settings.callTimeoutMs
    const wanted = new Map(list.map((o) => [key(o.topic, o.partition), o.offset]))
    for (let wait = 5; ; wait = Math.min(wait * 2, RECOMMIT_MS)) {
      const committed = await this.fetchCommitted(client, list)
      if (committed.every((c) => wanted.get(key(c.topic, c.partition)) === c.offset)) return
      if (Date.now() + wait >= deadline) {
        throw new ProxyError('kafkaRetriable', 'The commit was not confirmed by the group coordinator in time; it may not have been applied')
      }
      await delay(wait)
      if (wait === RECOMMIT_MS) await this.sendCommit(client, list)
    }
  }

  private fetchCommitted (client: ConsumerClient, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]> {
    return new Promise((resolve, reject) => {
      client.committed(partitions.map((p) => ({ topic: p.topic, partition: p.partition })), this.settings.callTimeoutMs, (err, tps) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(tps)
      })
    })
  }

  // A partition revoked since its records were delivered belongs to another
  // member now: committing our older position there would move the group back.
  private deliveredStillAssigned (): OffsetRequest[] {
    const assigned = new Set(this.currentAssignment().map((p) => key(p.topic, p.partition)))
    const out: OffsetRequest[] = []
    for (const [k, d] of this.delivered) {
      if (assigned.has(k)) out.push({ topic: d.topic, partition: d.partition, offset: d.offset + 1 })
      else this.delivered.delete(k)
    }
    return out
  }

  async committed (partitions: TopicPartition[]): Promise<Array<OffsetRequest & { metadata: string }>> {
    const client = await this.connect()
    const result = await this.fetchCommitted(client, partitions)
    // A partition without a committed offset is left out, as the Java client
    // returns null for it.
    return result
      .filter((tp) => tp.offset >= 0)
      .map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: tp.offset, metadata: (tp as { metadata?: string }).metadata ?? '' }))
  }

  /**
   * Collects records until the timeout passes, more than `minBytes` were
   * collected, or the next record would exceed `maxBytes` (that record stays
   * for the next read), and renders them as they arrive: each consume step's
   * records go to `render` while the next step already runs on a libuv
   * thread, so librdkafka's queue is drained while the event loop renders,
   * and a read holds rendered text, not thousands of message objects (which
   * would survive into V8's old generation; BENCHMARKS.md, "consume").
   * Only records in a rendered part count as delivered, so a record that
   * cannot be rendered is never lost. `delivered` (default: the part's
   * `count`) says how many of a part's records (a prefix) it holds; the rest
   * wait for the next read, so a response ends before a record it cannot
   * render. A part that fails after others were rendered ends the response
   * there; the next read starts with its records.
   */
  read<T extends RenderedPart> (opts: ReadOptions, render: (records: ConsumerMessage[]) => T | Promise<T>, delivered?: (rendered: T) => number): Promise<T> {
    return this.serial(async () => {
      if (this.mode === 'none') throw illegalState('Consumer is not subscribed to any topics or assigned any partitions')
      const client = await this.connect()
      if (!opts.acquireThread()) throw new ProxyError('consumerThreadsBusy')
      let rendered: T
      try {
        rendered = await this.collect(client, opts, render, delivered ?? ((r) => r.count))
      } finally {
        opts.releaseThread()
      }
      this.touch()
      if (rendered.count > 0) this.fetchAhead(client, opts)
      return rendered
    })
  }

  /**
   * Between reads of a consumer that is being read, goes on taking records
   * from librdkafka's queue into `held` (converting them to JavaScript
   * objects is the main-thread work of consuming), so that this work
   * overlaps with the response being written and the client's next request
   * instead of waiting for it. Bounded by prefetch_max_bytes of records and
   * AHEAD_STEPS steps; ends when the queue stays dry for AHEAD_STEP_MS, when
   * no consumer thread is free, and before any other operation.
   */
  private fetchAhead (client: ConsumerClient, opts: ReadOptions): void {
    if (this.ahead !== null || this.closed || this.client !== client) return
    let bytes = 0
    for (const m of this.held) bytes += recordBytes(m)
    const maxRecords = AHEAD_STEPS * this.settings.maxPollRecords
    if (bytes >= this.settings.prefetchBytes || this.held.length >= maxRecords || !opts.acquireThread()) return
    this.aheadStop = false
    // Started on a later tick, so `ahead` is set before the loop can end.
    this.ahead = Promise.resolve().then(async () => {
      try {
        while (!this.aheadStop && bytes < this.settings.prefetchBytes && this.held.length < maxRecords) {
          const step = await this.step(client, Date.now() + AHEAD_STEP_MS)
          if (step.error !== null || step.messages.length === 0) break
          for (const m of step.messages) {
            this.held.push(m)
            bytes += recordBytes(m)
          }
        }
      } finally {
        opts.releaseThread()
        this.ahead = null
      }
    })
  }

  private async stopAhead (): Promise<void> {
    if (this.ahead === null) return
    this.aheadStop = true
    await this.ahead
  }

  private async collect<T extends RenderedPart> (client: ConsumerClient, opts: ReadOptions, render: (records: ConsumerMessage[]) => T | Promise<T>, countOf: (rendered: T) => number): Promise<T> {
    const deadline = Date.now() + opts.timeoutMs
    const parts = new Parts<T>()
    const latest = new Map<string, TopicPartition & { offset: number }>()
    let taken = 0
    let bytes = 0
    let full = false
    const more = (): boolean => !full && !(opts.minBytes >= 0 && bytes > opts.minBytes) && deadline - Date.now() > 0
    let batch: ConsumerMessage[] = []
    if (this.held.length > 0) {
      batch = this.stillCurrent(client, this.held)
      this.held = []
    }
    let next: Promise<Step> | null = null
    // Whatever is not delivered goes back, in order, ahead of anything held.
    const giveBack = async (records: ConsumerMessage[]): Promise<void> => {
      const late = next === null ? [] : (await next).messages
      next = null
      this.held = records.concat(late, this.held)
    }
    for (;;) {
      if (batch.length === 0) {
        if (!more()) break
        const step: Step = await (next ?? this.step(client, deadline))
        next = null
        if (step.error !== null) {
          await giveBack([])
          if (parts.size === 0) throw step.error
          break
        }
        batch = step.messages
        if (batch.length === 0) continue
      }
      // The first record is always delivered, however large, or a record
      // bigger than max_bytes would block its partition forever.
      let fit = 0
      for (; fit < batch.length; fit++) {
        const size = recordBytes(batch[fit] as ConsumerMessage)
        if (taken + fit > 0 && bytes + size > opts.maxBytes) {
          full = true
          break
        }
        bytes += size
      }
      const chunk = fit === batch.length ? batch : batch.slice(0, fit)
      const rest = fit === batch.length ? [] : batch.slice(fit)
      batch = []
      taken += chunk.length
      if (rest.length === 0 && more()) next = this.step(client, deadline)
      let part: T
      try {
        part = await render(chunk)
      } catch (err) {
        await giveBack(chunk.concat(rest))
        if (parts.size === 0) throw err
        break
      }
      const count = Math.min(countOf(part), chunk.length)
      if (count > 0) {
        parts.add(part, count)
        // A partition's records arrive in runs, in offset order: only the
        // last record of each run needs an entry (not a key and an object
        // per record), and the run is counted for /metrics at once.
        let runRecords = 0
        let runBytes = 0
        for (let i = 0; i < count; i++) {
          const m = chunk[i] as ConsumerMessage
          const n = chunk[i + 1]
          runRecords++
          runBytes += recordBytes(m)
          if (i + 1 < count && n !== undefined && n.partition === m.partition && n.topic === m.topic) continue
          latest.set(key(m.topic, m.partition), { topic: m.topic, partition: m.partition, offset: m.offset })
          countConsumed('v2', m.topic, runRecords, runBytes)
          runRecords = 0
          runBytes = 0
        }
      }
      if (count < chunk.length || rest.length > 0) {
        await giveBack(count < chunk.length ? chunk.slice(count).concat(rest) : rest)
        break
      }
    }
    if (next !== null) await giveBack([])
    this.markDelivered(client, latest)
    if (parts.size === 0) return await render([])
    return parts.join()
  }

  /**
   * The held records that are still next in their partition. Records held
   * back from partitions revoked since belong to their new owner. A
   * partition revoked and assigned again between two reads (which
   * librdkafka does without telling: no rebalance_cb) restarts from its
   * committed offset: librdkafka's position is then no longer just past
   * the last held record, it delivers the records again, and the held ones
   * would come out of order. Where the position cannot be read, they stay.
   */
  private stillCurrent (client: ConsumerClient, held: ConsumerMessage[]): ConsumerMessage[] {
    const assigned = new Set(this.currentAssignment().map((p) => key(p.topic, p.partition)))
    const last = new Map<string, TopicPartition & { offset: number }>()
    for (const m of held) last.set(key(m.topic, m.partition), { topic: m.topic, partition: m.partition, offset: m.offset })
    let positions: TopicPartitionOffset[] | null = null
    try {
      positions = client.position([...last.values()].map((p) => ({ topic: p.topic, partition: p.partition })))
    } catch (err) {
      this.log.debug({ err, group: this.group, instance: this.name }, 'could not read positions')
    }
    const current = new Set<string>()
    for (const [k, l] of last) {
      if (!assigned.has(k)) continue
      const pos = positions?.find((p) => p.topic === l.topic && p.partition === l.partition)
      if (positions === null || pos?.offset === l.offset + 1) current.add(k)
    }
    return current.size === last.size ? held : held.filter((m) => current.has(key(m.topic, m.partition)))
  }

  /**
   * One consume step: up to max_poll_records from librdkafka's queue, waiting
   * at most STEP_MS (or what is left of the read) for the first one and 1 ms
   * for each next (setDefaultIsTimeoutOnlyForFirstMessage). Never rejects, so
   * a step started ahead can be awaited later.
   */
  private step (client: ConsumerClient, deadline: number): Promise<Step> {
    client.setDefaultConsumeTimeout(Math.max(1, Math.min(STEP_MS, deadline - Date.now())))
    return new Promise<Step>((resolve) => {
      client.consume(this.settings.maxPollRecords, (err, messages) => {
        // librdkafka reports a subscribed topic that does not exist (yet)
        // as a consumer error; the subscription stays, and the topic is
        // consumed once it appears, so the read just has nothing from it.
        if (err !== null && err !== undefined && this.mode === 'assign' && isCoordinatorError(err)) this.restartAssignment(client)
        if (err !== null && err !== undefined && !(this.mode === 'subscribe' && isMissingTopic(err))) resolve({ messages: [], error: requestError(err) })
        else resolve({ messages: messages ?? [], error: null })
      })
    })
  }

  private markDelivered (client: ConsumerClient, latest: Map<string, TopicPartition & { offset: number }>): void {
    if (latest.size === 0) return
    for (const [k, v] of latest) this.delivered.set(k, v)
    // Auto-commit commits stored offsets: store only what clients received.
    try {
      client.offsetsStore([...latest.values()].map((v) => ({ topic: v.topic, partition: v.partition, offset: v.offset + 1 })))
    } catch (err) {
      // The partition was revoked since: its records go to the next owner
      // again (at-least-once), which is all a rebalance allows.
      this.log.debug({ err, group: this.group, instance: this.name }, 'could not store delivered offsets')
    }
  }

  /** Leaves the group (committing stored offsets when auto-commit is on) and frees the client. */
  close (): Promise<void> {
    this.closed = true
    return this.serial(async () => {
      const client = this.client ?? await this.connecting?.catch(() => null) ?? null
      this.client = null
      if (client === null) return
      await new Promise<void>((resolve) => client.disconnect(() => resolve()))
    })
  }
}

function isCoordinatorError (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === RD.NOT_COORDINATOR || code === RD.COORDINATOR_NOT_AVAILABLE || code === RD.COORDINATOR_LOAD_IN_PROGRESS
}

function isMissingTopic (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === RD.UNKNOWN_TOPIC_OR_PART || code === RD.UNKNOWN_TOPIC
}

function illegalState (detail: string): ProxyError {
  return new ProxyError('illegalState', `Illegal state: ${detail}`)
}
