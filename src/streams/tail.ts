// Fan-out: one Kafka fetch per topic and process, shared by every stream near
// the topic's head.
//
// A tail is one stream reader assigned to every partition of a topic, reading
// on while it has subscribers, into a window of the latest records bounded by
// streams.client_buffer_bytes. A stream whose position lies inside the window
// on each of its partitions reads from the window instead of from Kafka;
// streams pull, so a slow one only reads later. A stream that falls behind the
// window (its next record was dropped from it) is detached onto a reader of
// its own at its exact position, transparently to it; it comes back to the
// tail once that reader has caught up. When no reader is free for it (past
// streams.max_readers), the stream ends with a retriable error carrying the
// id to resume from, so a slow client never grows memory and never slows the
// others.
import type { ConsumerMessage } from '../kafka/binding.js'
import type { Logger } from '../logger.js'
import type { RecordSource } from './delivery.js'
import type { StreamPosition } from './position.js'
import { recordBytes, type ReadLimits, type StreamReader, type StreamReaders } from './reader.js'

/** Longest wait between checks of a stream's `stopped`. */
const WAIT_STEP_MS = 100
/** Dropped window slots kept before the window's array is compacted. */
const COMPACT_MIN = 1024

export interface TailOptions {
  /** Bytes of records (key + value) the window holds. */
  windowBytes: number
  batchRecords: number
  /** A tail without subscribers this long stops and gives its reader back. */
  idleMs: number
  log: Logger
}

export class TopicTail {
  /**
   * The window: records in the order fetched, from index `start` on (the
   * slots before it are dropped records, cleared and compacted away in
   * bulk: Array.shift() moves every element, which at 80,000 records of
   * 100 B per 8 MiB window took 82% of a worker's time); `firstSeq`
   * numbers the record at `start`.
   */
  private log: Array<ConsumerMessage | undefined> = []
  private start = 0
  firstSeq = 0
  private bytes = 0
  /** Per partition, the lowest offset from which the window holds every record the tail read. */
  private readonly base = new Map<number, number>()
  /** Per partition, the next offset the tail reads. */
  private readonly head = new Map<number, number>()
  private subscribers = 0
  private idleSince = Date.now()
  private waiters = new Set<() => void>()
  private stopping = false
  /** Set while the loop pauses on a full window; wait() and stop() call it. */
  private resumeFetch: (() => void) | null = null
  /** The last batch pushed records out of the window. */
  private full = false
  readonly running: Promise<void>
  /** Records read from Kafka for this tail (for statistics and tests). */
  fetched = 0

  constructor (readonly topic: string, private readonly reader: StreamReader, private readonly readers: StreamReaders,
    private readonly opts: TailOptions, private readonly onEnd: (tail: TopicTail) => void) {
    const at = reader.position().get(topic) ?? new Map<number, number>()
    for (const [p, o] of at) {
      this.base.set(p, o)
      this.head.set(p, o)
    }
    this.running = this.loop()
  }

  get size (): number {
    return this.subscribers
  }

  get stopped (): boolean {
    return this.stopping
  }

  /** Where the tail stands: the next offset it reads on each partition (a `latest` that costs no broker call). */
  position (partitions: readonly number[]): Map<number, number> | null {
    const out = new Map<number, number>()
    for (const p of partitions) {
      const h = this.head.get(p)
      if (h === undefined) return null
      out.set(p, h)
    }
    return out
  }

  /** True when the window holds everything from `offsets` on, on each of its partitions. */
  covers (offsets: ReadonlyMap<number, number>): boolean {
    if (this.stopping) return false
    for (const [p, o] of offsets) {
      const b = this.base.get(p)
      const h = this.head.get(p)
      if (b === undefined || h === undefined || o < b || o > h) return false
    }
    return true
  }

  subscribe (offsets: Map<number, number>): TailSource {
    this.subscribers++
    return new TailSource(this, this.readers, offsets)
  }

  unsubscribe (): void {
    if (--this.subscribers === 0) this.idleSince = Date.now()
  }

  /** Adds partitions (from their offsets) the topic gained. */
  extend (offsets: ReadonlyMap<number, number>): void {
    const added = new Map<number, number>()
    for (const [p, o] of offsets) {
      if (this.head.has(p)) continue
      this.base.set(p, o)
      this.head.set(p, o)
      added.set(p, o)
    }
    if (added.size > 0) this.reader.extend(new Map([[this.topic, added]]))
  }

  /** The window's records from `seq` on: `records[from]` onwards (index them with seqAt()). */
  entries (seq: number): { records: ReadonlyArray<ConsumerMessage | undefined>, from: number } {
    const from = Math.max(seq, this.firstSeq)
    return { records: this.log, from: this.start + from - this.firstSeq }
  }

  /** The sequence number of `records[i]` of entries(). */
  seqAt (i: number): number {
    return this.firstSeq + i - this.start
  }

  get nextSeq (): number {
    return this.firstSeq + this.log.length - this.start
  }

  /** Waits for more records, at most `ms`. A waiter that times out leaves the set: idle streams wait in steps, and a topic without traffic never wakes them. */
  wait (ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.waiters
      const done = (): void => {
        clearTimeout(t)
        waiters.delete(done)
        resolve()
      }
      const t = setTimeout(done, ms)
      waiters.add(done)
      this.resumeFetch?.()
    })
  }

  stop (): void {
    this.stopping = true
    this.resumeFetch?.()
    this.wake()
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = new Set()
    for (const f of w) f()
  }

  /** Streams waiting for records (for tests: a bounded number, whatever the time spent idle). */
  get waiting (): number {
    return this.waiters.size
  }

  private async loop (): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.subscribers === 0 && Date.now() - this.idleSince >= this.opts.idleMs) break
        // A full window that no stream waits on (every one is writing, or
        // stuck behind a client that does not read): fetching more would
        // only push records out unread. The first stream to wait resumes it.
        if (this.full && this.waiters.size === 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => this.resumeFetch?.(), WAIT_STEP_MS)
            this.resumeFetch = () => {
              clearTimeout(t)
              this.resumeFetch = null
              resolve()
            }
          })
          continue
        }
        const batch = await this.reader.read({ maxRecords: this.opts.batchRecords, maxBytes: 1 << 20, timeoutMs: WAIT_STEP_MS, stopped: () => this.stopping })
        if (batch.length === 0) continue
        this.fetched += batch.length
        for (const m of batch) {
          this.log.push(m)
          this.bytes += recordBytes(m)
          this.head.set(m.partition, m.offset + 1)
        }
        const dropping = this.start
        while (this.bytes > this.opts.windowBytes && this.log.length - this.start > 1) {
          const old = this.log[this.start] as ConsumerMessage
          this.log[this.start++] = undefined
          this.firstSeq++
          this.bytes -= recordBytes(old)
          this.base.set(old.partition, old.offset + 1)
        }
        this.full = this.start > dropping
        // Compacted once the dropped slots are most of the array: amortized O(1) per record.
        if (this.start > COMPACT_MIN && this.start * 2 > this.log.length) {
          this.log = this.log.slice(this.start)
          this.start = 0
        }
        this.wake()
      }
    } catch (err) {
      this.opts.log.warn({ err, topic: this.topic }, 'topic tail failed; its streams read on their own')
    } finally {
      this.stopping = true
      this.wake()
      this.readers.release(this.reader, false)
      this.onEnd(this)
    }
  }
}

/**
 * One stream's records from a tail, or, while it is behind the window, from a
 * reader of its own at its exact position.
 */
export class TailSource implements RecordSource {
  private seq: number
  private own: StreamReader | null = null
  private closed = false

  constructor (private readonly tail: TopicTail, private readonly readers: StreamReaders, private readonly at: Map<number, number>) {
    this.seq = tail.firstSeq
  }

  /** True while the stream reads the shared window. */
  get shared (): boolean {
    return this.own === null
  }

  async read (limits: ReadLimits): Promise<ConsumerMessage[]> {
    if (this.own === null && (this.tail.stopped || this.seq < this.tail.firstSeq) && !this.tail.covers(this.at)) await this.detach()
    if (this.own !== null) {
      const records = await this.own.read(limits)
      for (const m of records) this.at.set(m.partition, m.offset + 1)
      // Caught up: back to the shared window.
      if (records.length === 0 && this.tail.covers(this.at)) this.attach()
      return records
    }
    const deadline = Date.now() + limits.timeoutMs
    for (;;) {
      const out = this.take(limits)
      if (out.length > 0) return out
      const left = deadline - Date.now()
      if (left <= 0 || limits.stopped?.() === true || this.tail.stopped) return out
      await this.tail.wait(Math.min(left, WAIT_STEP_MS))
      if (this.seq < this.tail.firstSeq && !this.tail.covers(this.at)) return await this.read({ ...limits, timeoutMs: Math.max(0, deadline - Date.now()) })
    }
  }

  unread (records: ConsumerMessage[]): void {
    for (const m of records) {
      const next = this.at.get(m.partition)
      if (next !== undefined && m.offset < next) this.at.set(m.partition, m.offset)
    }
    if (this.own !== null) this.own.unread(records)
    else this.seq = this.tail.firstSeq
  }

  extend (position: StreamPosition): void {
    const offsets = position.get(this.tail.topic)
    if (offsets === undefined) return
    for (const [p, o] of offsets) this.at.set(p, o)
    this.tail.extend(offsets)
    this.own?.extend(new Map([[this.tail.topic, offsets]]))
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.tail.unsubscribe()
    if (this.own !== null) this.readers.release(this.own, false)
  }

  private take (limits: ReadLimits): ConsumerMessage[] {
    const { records, from } = this.tail.entries(this.seq)
    const out: ConsumerMessage[] = []
    let bytes = 0
    let i = from
    for (; i < records.length; i++) {
      const m = records[i] as ConsumerMessage
      const next = this.at.get(m.partition)
      if (next === undefined || m.offset < next) continue
      const size = recordBytes(m)
      if (out.length >= limits.maxRecords || (out.length > 0 && bytes + size > limits.maxBytes)) break
      out.push(m)
      bytes += size
      this.at.set(m.partition, m.offset + 1)
    }
    this.seq = this.tail.seqAt(i)
    return out
  }

  private async detach (): Promise<void> {
    const reader = await this.readers.acquire(null)
    try {
      reader.assign(new Map([[this.tail.topic, new Map(this.at)]]))
    } catch (err) {
      this.readers.release(reader, false)
      throw err
    }
    this.own = reader
  }

  private attach (): void {
    const own = this.own
    if (own === null) return
    this.own = null
    this.seq = this.tail.firstSeq
    this.readers.release(own, false)
  }
}

/** The tails of one process, one per topic at most. */
export class Tails {
  private readonly tails = new Map<string, TopicTail>()
  private readonly pending = new Map<string, { promise: Promise<void> }>()
  private closed = false

  constructor (private readonly readers: StreamReaders, private readonly opts: TailOptions) {}

  /** A tail being started (a `latest` stream finding its offsets), to wait for; undefined when none. */
  starting (topic: string): Promise<void> | undefined {
    return this.pending.get(topic)?.promise
  }

  /** Marks the topic's tail as being started; the returned function says it is done (started or not). */
  willStart (topic: string): () => void {
    let done = (): void => {}
    const promise = new Promise<void>((resolve) => { done = resolve })
    const entry = { promise }
    this.pending.set(topic, entry)
    return () => {
      if (this.pending.get(topic) === entry) this.pending.delete(topic)
      done()
    }
  }

  get (topic: string): TopicTail | undefined {
    const t = this.tails.get(topic)
    return t === undefined || t.stopped ? undefined : t
  }

  /** Records the tails read from Kafka. */
  get fetched (): number {
    let n = 0
    for (const t of this.tails.values()) n += t.fetched
    return n
  }

  /** Streams waiting on the tails for records. */
  get waiting (): number {
    let n = 0
    for (const t of this.tails.values()) n += t.waiting
    return n
  }

  /**
   * Starts the topic's tail on `reader` (from the reader's pool), at
   * `position` on each of its partitions. Where a tail exists already it is
   * returned and the reader is given back.
   */
  start (topic: string, reader: StreamReader, position: Map<number, number>): TopicTail | null {
    const existing = this.get(topic)
    if (existing !== undefined || this.closed) {
      this.readers.release(reader, false)
      return existing ?? null
    }
    try {
      reader.assign(new Map([[topic, position]]))
    } catch {
      this.readers.release(reader, false)
      return null
    }
    const tail = new TopicTail(topic, reader, this.readers, this.opts, (t) => {
      if (this.tails.get(topic) === t) this.tails.delete(topic)
    })
    this.tails.set(topic, tail)
    return tail
  }

  async close (): Promise<void> {
    this.closed = true
    const all = [...this.tails.values()]
    for (const t of all) t.stop()
    await Promise.allSettled(all.map((t) => t.running))
  }
}
