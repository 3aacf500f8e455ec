// Stream readers: one librdkafka consumer per stream that reads its own
// positions (QoS none: no consumer group, no commits), assigned to every
// partition of the stream at once, read in consume steps.
//
// This is the stateless partition read of src/kafka/reader.ts widened to many
// partitions: the same client properties (a placeholder group that is never
// joined, nothing committed), the same bounded consume steps and the same
// reuse rule. A reader keeps its assignment when its stream or cursor read
// ends, so librdkafka keeps prefetching; a cursor read that continues exactly
// where a reader stopped (the same partitions at the same offsets, which is
// what following next_cursor sends) reuses it with no watermark query and no
// new assignment. Readers idle for `idleMs` are closed.
//
// Threading: each consume step runs on a libuv thread (UV_THREADPOOL_SIZE is
// sized by the primary from consumer.threads) and holds it for at most
// STEP_MS, so a stream waiting at the head of its topic never holds a thread
// for long, and a closed stream stops within one step.
import { KafkaConsumer } from '../kafka/binding.js'
import type { ConsumerClient, ConsumerMessage } from '../kafka/binding.js'
import { requestError } from '../kafka/errors.js'
import type { ClientProperties } from '../kafka/options.js'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { StreamPosition } from './position.js'

/** Longest single consume step; bounds how long a read holds a libuv thread and how late a close is seen. */
const STEP_MS = 100

export interface StreamReadersOptions {
  properties: { global: ClientProperties, topic: ClientProperties }
  /** Readers that may be open at once (one librdkafka consumer each). */
  maxReaders: number
  /** An idle reader not used for this long is closed. */
  idleMs: number
  /** Records taken from librdkafka per consume step. */
  maxPollRecords: number
  /** Timeout of broker round trips (connect, watermarks, offsets for times). */
  callTimeoutMs: number
  log: Logger
}

export interface ReadLimits {
  maxRecords: number
  /** Stop before a record that would take the batch past this many key + value bytes (the first record always counts). */
  maxBytes: number
  /** Longest wait for a first record. */
  timeoutMs: number
  /** Checked between consume steps: true ends the wait with what is in hand. */
  stopped?: () => boolean
}

export function recordBytes (m: ConsumerMessage): number {
  return (m.value?.length ?? 0) + (m.key === undefined || m.key === null ? 0 : m.key.length)
}

function copy (p: StreamPosition): StreamPosition {
  return new Map([...p].map(([t, offsets]) => [t, new Map(offsets)]))
}

function samePosition (a: StreamPosition, b: StreamPosition): boolean {
  if (a.size !== b.size) return false
  for (const [topic, offsets] of a) {
    const other = b.get(topic)
    if (other === undefined || other.size !== offsets.size) return false
    for (const [p, o] of offsets) if (other.get(p) !== o) return false
  }
  return true
}

function assignmentOf (position: StreamPosition): Array<{ topic: string, partition: number, offset: number }> {
  const out: Array<{ topic: string, partition: number, offset: number }> = []
  for (const [topic, offsets] of position) for (const [partition, offset] of offsets) out.push({ topic, partition, offset })
  return out
}

/** One librdkafka consumer with an assignment and where it stands on each partition. */
export class StreamReader {
  /** The next offset this reader hands out on each assigned partition; null before the first assignment. */
  private at: StreamPosition | null = null
  /** Records consumed at or after `at` and not handed out yet (a batch cut by its limits). */
  private held: ConsumerMessage[] = []
  busy = false
  lastUsed = Date.now()
  /** The read in progress (settled), so closing waits for it. */
  running: Promise<unknown> = Promise.resolve()

  constructor (readonly client: ConsumerClient, private readonly opts: StreamReadersOptions) {}

  /** Where the reader stands: the next offset per partition (a copy). */
  position (): StreamPosition {
    return this.at === null ? new Map() : copy(this.at)
  }

  /** True when reading on would continue exactly at `position`. */
  continues (position: StreamPosition): boolean {
    return this.at !== null && samePosition(this.at, position)
  }

  /** Replaces the assignment: every partition of `position` from its offset. */
  assign (position: StreamPosition): void {
    this.at = null
    this.held = []
    try {
      this.client.assign(assignmentOf(position))
    } catch (err) {
      throw requestError(err)
    }
    this.at = copy(position)
  }

  /** Adds partitions (from their offsets) to the assignment, e.g. partitions a topic gained. */
  extend (position: StreamPosition): void {
    const list = assignmentOf(position)
    if (list.length === 0) return
    try {
      this.client.incrementalAssign(list)
    } catch (err) {
      throw requestError(err)
    }
    this.at ??= new Map()
    for (const { topic, partition, offset } of list) {
      let offsets = this.at.get(topic)
      if (offsets === undefined) this.at.set(topic, offsets = new Map())
      offsets.set(partition, offset)
    }
  }

  /** Records from where the reader stands, at most `limits`; empty after timeoutMs with none. */
  read (limits: ReadLimits): Promise<ConsumerMessage[]> {
    const run = this.collect(limits)
    this.running = run.catch(() => {})
    return run
  }

  private async collect (limits: ReadLimits): Promise<ConsumerMessage[]> {
    const at = this.at
    if (at === null) return []
    const deadline = Date.now() + limits.timeoutMs
    const out: ConsumerMessage[] = []
    const state = { bytes: 0, full: false }
    // Anything not at or past the next offset of an assigned partition was
    // fetched for an earlier assignment (or is a duplicate after a re-fetch).
    const take = (batch: ConsumerMessage[]): ConsumerMessage[] => {
      let i = 0
      for (; i < batch.length; i++) {
        const m = batch[i] as ConsumerMessage
        const offsets = at.get(m.topic)
        const next = offsets?.get(m.partition)
        if (next === undefined || m.offset < next) continue
        const size = recordBytes(m)
        if (out.length >= limits.maxRecords || (out.length > 0 && state.bytes + size > limits.maxBytes)) {
          state.full = true
          break
        }
        out.push(m)
        state.bytes += size
        ;(offsets as Map<number, number>).set(m.partition, m.offset + 1)
      }
      return batch.slice(i)
    }
    this.held = take(this.held)
    // Once records are in hand, only what librdkafka already holds locally is
    // added (zero-wait steps while they come back full), so a read returns as
    // soon as it has data.
    let more = true
    for (let first = true; !state.full; first = false) {
      const remaining = deadline - Date.now()
      if (out.length > 0 ? !more : (!first && remaining <= 0) || limits.stopped?.() === true) break
      this.client.setDefaultConsumeTimeout(out.length > 0 ? 0 : Math.max(0, Math.min(STEP_MS, remaining)))
      const want = Math.min(this.opts.maxPollRecords, Math.max(1, limits.maxRecords - out.length))
      let batch: ConsumerMessage[]
      try {
        batch = await new Promise<ConsumerMessage[]>((resolve, reject) => {
          this.client.consume(want, (err, messages) => {
            if (err !== null && err !== undefined) reject(err)
            else resolve(messages)
          })
        })
      } catch (err) {
        // The position stays valid: what was taken is returned, the rest is fetched again.
        if (out.length > 0) break
        throw requestError(err)
      }
      more = batch.length >= want
      const left = take(batch)
      if (left.length > 0) this.held = left.concat(this.held)
    }
    return out
  }

  /**
   * Gives back the records of the last read from `from` on (those not
   * delivered), so the next read starts with them.
   */
  unread (records: ConsumerMessage[]): void {
    if (records.length === 0 || this.at === null) return
    for (const m of records) {
      const offsets = this.at.get(m.topic)
      const next = offsets?.get(m.partition)
      if (offsets !== undefined && next !== undefined && m.offset < next) offsets.set(m.partition, m.offset)
    }
    this.held = records.concat(this.held)
  }

  watermarks (topic: string, partition: number): Promise<{ low: number, high: number }> {
    return new Promise((resolve, reject) => {
      this.client.queryWatermarkOffsets(topic, partition, this.opts.callTimeoutMs, (err, offsets) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
      })
    })
  }

  /** Per partition, the offset of the first record at or after `timestamp`; -1 where there is none. */
  offsetsForTimes (topic: string, partitions: readonly number[], timestamp: number): Promise<Map<number, number>> {
    return new Promise((resolve, reject) => {
      this.client.offsetsForTimes(partitions.map((partition) => ({ topic, partition, offset: timestamp })), this.opts.callTimeoutMs, (err, found) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(new Map(found.map((o) => [o.partition, o.offset < 0 ? -1 : o.offset])))
      })
    })
  }

  /** Forgets the assignment, keeping the connection for the next user. */
  reset (): void {
    this.at = null
    this.held = []
    try {
      this.client.unassign()
    } catch {}
  }
}

/** The readers of one process. */
export class StreamReaders {
  private readers: StreamReader[] = []
  private connecting = 0
  /** librdkafka's rxbytes (statistics.interval.ms) of each open reader, and of those closed. */
  private readonly received = new Map<ConsumerClient, number>()
  private receivedClosed = 0
  private readonly timer: NodeJS.Timeout
  private closed = false

  constructor (private readonly opts: StreamReadersOptions) {
    this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(100, opts.idleMs / 4)))
    this.timer.unref()
  }

  /** Readers open or connecting. */
  get size (): number {
    return this.readers.length + this.connecting
  }

  /** Bytes the readers received from brokers, by librdkafka's statistics; 0 while statistics are off. */
  get receivedBytes (): number {
    let n = this.receivedClosed
    for (const v of this.received.values()) n += v
    return n
  }

  /** Readers in use. */
  get busy (): number {
    return this.readers.filter((r) => r.busy).length + this.connecting
  }

  /**
   * A reader for the caller alone until `release`: one standing exactly at
   * `position` when there is one, else an idle one, else a new one while
   * under the cap; 503 (retriable) when every reader is busy.
   */
  async acquire (position: StreamPosition | null): Promise<StreamReader> {
    if (this.closed) throw new ProxyError('shuttingDown')
    let idle: StreamReader | undefined
    for (const r of this.readers) {
      if (r.busy) continue
      if (position !== null && r.continues(position)) return this.take(r)
      if (idle === undefined || r.lastUsed < idle.lastUsed) idle = r
    }
    if (this.size < this.opts.maxReaders) return this.take(await this.connect())
    if (idle !== undefined) {
      idle.reset()
      return this.take(idle)
    }
    throw new ProxyError('tooManyStreams', 'Every stream consumer of this process is busy; retry, another process or instance may serve it')
  }

  /**
   * Hands a reader back once its read in progress has ended (a stopped read
   * ends within one consume step). `keep`: it stays assigned where it stands,
   * for a read that continues there.
   */
  release (reader: StreamReader, keep: boolean): void {
    reader.running.then(() => {
      if (!keep) reader.reset()
      reader.busy = false
      reader.lastUsed = Date.now()
      if (this.closed) {
        this.readers = this.readers.filter((r) => r !== reader)
        disconnect(reader).catch(() => {})
      }
    }, () => {})
  }

  private take (r: StreamReader): StreamReader {
    r.busy = true
    r.lastUsed = Date.now()
    return r
  }

  private async connect (): Promise<StreamReader> {
    this.connecting++
    try {
      let client: ConsumerClient
      try {
        client = new KafkaConsumer(this.opts.properties.global, this.opts.properties.topic) as ConsumerClient
      } catch (err) {
        throw new ProxyError('kafkaConsumerConfig', `Invalid consumer configuration: ${(err as Error).message}`)
      }
      client.on('event.error', (err) => this.opts.log.debug({ err: { message: err.message } }, 'stream reader event'))
      client.on('event.stats', (e: { message: string }) => {
        try {
          const brokers = (JSON.parse(e.message) as { brokers?: Record<string, { rxbytes?: number }> }).brokers ?? {}
          let rx = 0
          for (const b of Object.values(brokers)) rx += b.rxbytes ?? 0
          this.received.set(client, rx)
        } catch {}
      })
      await new Promise<void>((resolve, reject) => {
        client.connect({ timeout: this.opts.callTimeoutMs }, (err) => {
          if (err !== null && err !== undefined) reject(requestError(err))
          else resolve()
        })
      })
      client.setDefaultIsTimeoutOnlyForFirstMessage(true)
      const reader = new StreamReader(client, this.opts)
      if (this.closed) {
        await disconnect(reader)
        throw new ProxyError('shuttingDown')
      }
      this.readers.push(reader)
      return reader
    } finally {
      this.connecting--
    }
  }

  private sweep (): void {
    const cutoff = Date.now() - this.opts.idleMs
    const idle = this.readers.filter((r) => !r.busy && r.lastUsed < cutoff)
    if (idle.length === 0) return
    this.readers = this.readers.filter((r) => !idle.includes(r))
    for (const r of idle) this.drop(r).catch((err: unknown) => this.opts.log.warn({ err }, 'closing an idle stream reader failed'))
  }

  private async drop (r: StreamReader): Promise<void> {
    await disconnect(r)
    this.receivedClosed += this.received.get(r.client) ?? 0
    this.received.delete(r.client)
  }

  /** Closes idle readers now and busy ones as they are released. */
  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    const idle = this.readers.filter((r) => !r.busy)
    this.readers = this.readers.filter((r) => r.busy)
    await Promise.allSettled(idle.map((r) => disconnect(r)))
  }
}

async function disconnect (r: StreamReader): Promise<void> {
  await r.running
  await new Promise<void>((resolve) => r.client.disconnect(() => resolve()))
}
