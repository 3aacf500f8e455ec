// Stateless partition reads (the v3 records read extension): a small pool of
// librdkafka consumers per process, each reading one partition from a given
// offset for one request at a time, with no consumer group and no commits.
//
// Reuse: a reader keeps its assignment after a read, so librdkafka keeps
// prefetching that partition (bounded by queued.max.messages.kbytes). A
// request for exactly the offset where a reader stopped, which is what a
// client paging with next_offset sends, continues on that reader without a
// watermark query or a new assignment. Any other request re-assigns an idle
// reader. Readers idle for `idleMs` are closed.
//
// Threading: as for v2 consumers (src/kafka/consumer-instance.ts), a read waits in
// consume steps of at most STEP_MS, each on a libuv thread, so a long poll
// never holds a thread for its whole timeout. At most `maxReaders` reads run at
// once per process; beyond that a request gets a retriable 503 rather than
// queueing behind long polls.
import { KafkaConsumer } from './binding.js'
import type { ConsumerClient, ConsumerMessage } from './binding.js'
import { ProxyError } from '../errors.js'
import { KAFKA, requestError } from './errors.js'
import type { ClientProperties } from './options.js'
import type { Logger } from '../logger.js'

/** Longest single consume step; bounds how long a read holds a libuv thread. */
const STEP_MS = 100

export interface ReaderPoolOptions {
  properties: { global: ClientProperties, topic: ClientProperties }
  /** Reads that may run at once (one librdkafka consumer each). */
  maxReaders: number
  /** A reader not used for this long is closed. */
  idleMs: number
  /** Records taken from librdkafka per consume step. */
  maxPollRecords: number
  /** Timeout of broker round trips (connect, watermark query). */
  callTimeoutMs: number
  log: Logger
}

export interface PartitionRead {
  topic: string
  partition: number
  /** The first offset wanted; null for the log start. */
  offset: number | null
  /** Stop before a record that would take the page past this many key + value bytes (the first record always counts). */
  maxBytes: number
  /** Longest wait for a first record. */
  timeoutMs: number
}

export interface PartitionPage {
  records: ConsumerMessage[]
  /** Where the read started: the requested offset moved into [log start, end]. */
  startOffset: number
  /** The offset to ask for next: after the last record, or startOffset when there is none. */
  nextOffset: number
}

interface Position {
  topic: string
  partition: number
  next: number
}

class Reader {
  client: ConsumerClient | null = null
  connecting: Promise<ConsumerClient> | null = null
  busy = false
  lastUsed = Date.now()
  /** Where the last read stopped on the current assignment; null when unknown. */
  at: Position | null = null
  /** Records consumed at `at.next` and after, held back by a max_bytes limit. */
  held: ConsumerMessage[] = []
  /** The read in progress (settled), so closing waits for it. */
  running: Promise<unknown> = Promise.resolve()
}

function recordBytes (m: ConsumerMessage): number {
  return (m.value?.length ?? 0) + (m.key === undefined || m.key === null ? 0 : m.key.length)
}

export class ReaderPool {
  private readonly opts: ReaderPoolOptions
  private readers: Reader[] = []
  private readonly timer: NodeJS.Timeout
  private closed = false

  constructor (opts: ReaderPoolOptions) {
    this.opts = opts
    this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(100, opts.idleMs / 4)))
    this.timer.unref()
  }

  /** Readers currently open (connected or connecting). */
  get size (): number {
    return this.readers.length
  }

  /**
   * Reads one page of a partition. `render` turns it into the response; when
   * it throws, the records are kept for the next read from the same offset.
   * `delivered`, when given, says how many of the page's records (a prefix)
   * the response holds; the reader then stops before the rest and keeps them,
   * so the next read from there continues on this reader.
   */
  async read<T> (req: PartitionRead, render: (page: PartitionPage) => T | Promise<T>, delivered?: (rendered: T) => number): Promise<T> {
    if (this.closed) throw new ProxyError('shuttingDown')
    const reader = this.acquire(req)
    const run = this.run(reader, req, render, delivered)
    reader.running = run.catch(() => {})
    try {
      return await run
    } finally {
      reader.busy = false
      reader.lastUsed = Date.now()
    }
  }

  // Preference: the reader that stopped exactly at the requested offset, then
  // one without a position, then a new reader while under the cap, then the
  // least recently used idle one (its prefetched records are dropped).
  private acquire (req: PartitionRead): Reader {
    let free: Reader | undefined
    let oldest: Reader | undefined
    for (const r of this.readers) {
      if (r.busy) continue
      if (continues(r, req)) {
        r.busy = true
        return r
      }
      if (r.at === null) free ??= r
      if (oldest === undefined || r.lastUsed < oldest.lastUsed) oldest = r
    }
    let reader = free
    if (reader === undefined && this.readers.length < this.opts.maxReaders) {
      reader = new Reader()
      this.readers.push(reader)
    }
    reader ??= oldest
    if (reader === undefined) throw new ProxyError('consumerThreadsBusy', 'All partition readers of this process are busy; retry the read')
    reader.busy = true
    return reader
  }

  private async run<T> (reader: Reader, req: PartitionRead, render: (page: PartitionPage) => T | Promise<T>, delivered?: (rendered: T) => number): Promise<T> {
    const client = await this.connect(reader)
    let start: number
    if (continues(reader, req)) {
      start = req.offset as number
    } else {
      reader.at = null
      reader.held = []
      const marks = await watermarks(client, req.topic, req.partition, this.opts.callTimeoutMs)
      // Below the log start the records are gone: the read starts at the log
      // start. Past the end nothing exists yet: the read waits at the end, so
      // records produced later are not skipped.
      start = req.offset === null ? marks.low : Math.min(Math.max(req.offset, marks.low), marks.high)
      try {
        client.assign([{ topic: req.topic, partition: req.partition, offset: start }])
      } catch (err) {
        throw requestError(err)
      }
      reader.at = { topic: req.topic, partition: req.partition, next: start }
    }
    const at = reader.at as Position
    let records: ConsumerMessage[]
    try {
      records = await this.collect(client, reader, req, start)
    } catch (err) {
      reader.at = null
      reader.held = []
      throw requestError(err)
    }
    const last = records[records.length - 1]
    const next = last === undefined ? start : last.offset + 1
    at.next = next
    let rendered: T
    try {
      rendered = await render({ records, startOffset: start, nextOffset: next })
    } catch (err) {
      reader.held = records.concat(reader.held)
      at.next = start
      throw err
    }
    const count = delivered === undefined ? records.length : delivered(rendered)
    if (count < records.length) {
      reader.held = records.slice(count).concat(reader.held)
      at.next = (records[count] as ConsumerMessage).offset
    }
    return rendered
  }

  private async collect (client: ConsumerClient, reader: Reader, req: PartitionRead, start: number): Promise<ConsumerMessage[]> {
    const deadline = Date.now() + req.timeoutMs
    const out: ConsumerMessage[] = []
    const state = { bytes: 0, full: false }
    // Offsets only grow within a partition; anything else in the queue was
    // fetched for an earlier assignment.
    let expected = start
    const take = (batch: ConsumerMessage[]): ConsumerMessage[] => {
      let i = 0
      for (; i < batch.length; i++) {
        const m = batch[i] as ConsumerMessage
        if (m.topic !== req.topic || m.partition !== req.partition || m.offset < expected) continue
        const size = recordBytes(m)
        // The first record is always delivered, however large, or a record
        // bigger than max_bytes would stop its partition forever.
        if (out.length > 0 && state.bytes + size > req.maxBytes) {
          state.full = true
          break
        }
        out.push(m)
        state.bytes += size
        expected = m.offset + 1
      }
      return batch.slice(i)
    }
    reader.held = take(reader.held)
    // Once records are in hand, only what librdkafka already holds locally is
    // added (zero-wait steps while they come back full): a read returns as soon
    // as it has data instead of waiting out its timeout.
    let more = true
    for (let first = true; !state.full; first = false) {
      const remaining = deadline - Date.now()
      if (out.length > 0 ? !more : !first && remaining <= 0) break
      client.setDefaultConsumeTimeout(out.length > 0 ? 0 : Math.max(0, Math.min(STEP_MS, remaining)))
      const batch = await new Promise<ConsumerMessage[]>((resolve, reject) => {
        client.consume(this.opts.maxPollRecords, (err, messages) => {
          // librdkafka looks up the coordinator of any group.id, the
          // placeholder too, and reports the broker's refusal of that
          // FindCoordinator here; assigned partitions are fetched all the
          // same, so a principal needs no ACL on a group it never uses.
          if (err !== null && err !== undefined && err.code !== KAFKA.GROUP_AUTHORIZATION_FAILED) reject(err)
          else resolve(err === null || err === undefined ? messages : [])
        })
      })
      more = batch.length >= this.opts.maxPollRecords
      const left = take(batch)
      if (left.length > 0) reader.held = left
    }
    return out
  }

  // The librdkafka consumer is created on a reader's first read; a reader
  // that cannot connect is dropped so the next request makes a new one.
  private connect (reader: Reader): Promise<ConsumerClient> {
    if (reader.client !== null) return Promise.resolve(reader.client)
    reader.connecting ??= new Promise<ConsumerClient>((resolve, reject) => {
      const fail = (err: unknown): void => {
        reader.connecting = null
        this.readers = this.readers.filter((r) => r !== reader)
        reject(err)
      }
      let client: ConsumerClient
      try {
        client = new KafkaConsumer(this.opts.properties.global, this.opts.properties.topic) as ConsumerClient
      } catch (err) {
        fail(new ProxyError('kafkaConsumerConfig', `Invalid consumer configuration: ${(err as Error).message}`))
        return
      }
      client.on('event.error', (err) => this.opts.log.debug({ err: { message: err.message } }, 'partition reader event'))
      client.connect({ timeout: this.opts.callTimeoutMs }, (err) => {
        if (err !== null && err !== undefined) {
          fail(requestError(err))
          return
        }
        reader.connecting = null
        client.setDefaultIsTimeoutOnlyForFirstMessage(true)
        reader.client = client
        resolve(client)
      })
    })
    return reader.connecting
  }

  private sweep (): void {
    const cutoff = Date.now() - this.opts.idleMs
    const idle = this.readers.filter((r) => !r.busy && r.lastUsed < cutoff)
    if (idle.length === 0) return
    this.readers = this.readers.filter((r) => !idle.includes(r))
    for (const r of idle) {
      disconnect(r).catch((err: unknown) => this.opts.log.warn({ err }, 'closing an idle partition reader failed'))
    }
  }

  /** Closes every reader once its read in progress has finished. */
  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    const all = this.readers
    this.readers = []
    await Promise.allSettled(all.map((r) => disconnect(r)))
  }
}

function continues (r: Reader, req: PartitionRead): boolean {
  return r.at !== null && req.offset !== null && r.at.topic === req.topic && r.at.partition === req.partition && r.at.next === req.offset
}

async function disconnect (r: Reader): Promise<void> {
  await r.running
  const client = r.client ?? await r.connecting?.catch(() => null) ?? null
  r.client = null
  r.at = null
  r.held = []
  if (client === null) return
  await new Promise<void>((resolve) => client.disconnect(() => resolve()))
}

function watermarks (client: ConsumerClient, topic: string, partition: number, timeoutMs: number): Promise<{ low: number, high: number }> {
  return new Promise((resolve, reject) => {
    client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) => {
      if (err !== null && err !== undefined) reject(requestError(err))
      else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
    })
  })
}
