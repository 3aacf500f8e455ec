// One librdkafka producer per process. Each HTTP produce request becomes a
// batch whose records resolve individually from delivery reports; the request
// completes when its last record has a result.
//
// Threading: librdkafka polls for delivery reports on its own background
// thread (setPollInBackground), and the binding hands them to the event loop
// through a uv_async, so results arrive without a JS poll timer adding latency.
import { Producer, type ProducerClient, type DeliveryReport, type Metadata, type MessageHeader } from './binding.js'
import { produceError, requestError, isKafkaClientError, eventErrorCode, RD, type KafkaClientError } from './errors.js'
import { ProxyError } from '../errors.js'
import type { ClientProperties } from './options.js'
import type { Logger } from '../logger.js'
import { countProduced, countProduceError, metricsEnabled } from '../metrics/registry.js'

export interface OutgoingRecord {
  key: Buffer | null
  value: Buffer | null
  /** Explicit partition, or -1 for the configured partitioner. */
  partition: number
  headers?: MessageHeader[] | undefined
  /** Milliseconds since the epoch; undefined means "now" (CreateTime set by the client). */
  timestamp?: number | undefined
}

export interface RecordResult {
  partition: number | null
  offset: number | null
  error: ProxyError | null
}

/**
 * The outcome of one batch in columns, in request order: a record's partition
 * and offset, or its error. No object per record: at 100k+ records/s the
 * per-record objects were a large share of the garbage collector's work.
 */
export interface BatchOutcome {
  readonly count: number
  /** -1 where the record failed. */
  readonly partitions: Int32Array
  readonly offsets: Float64Array
  /** Null when no record failed; otherwise set at the failed records' indexes. */
  readonly errors: Array<ProxyError | undefined> | null
}

/** A batch as columns, the shape the v2 decoder produces. */
export interface OutgoingColumns {
  count: number
  values: ReadonlyArray<Buffer | null>
  keys: ReadonlyArray<Buffer | null>
  /** One partition for every record, or one per record; -1 for the configured partitioner. */
  partitions: number | Int32Array
  headers?: ReadonlyArray<MessageHeader[] | undefined> | null
}

class Batch implements BatchOutcome {
  remaining: number
  readonly partitions: Int32Array
  readonly offsets: Float64Array
  errors: Array<ProxyError | undefined> | null = null
  private readonly done: (outcome: BatchOutcome) => void

  constructor (readonly count: number, done: (outcome: BatchOutcome) => void) {
    this.remaining = count
    this.partitions = new Int32Array(count)
    this.offsets = new Float64Array(count)
    this.done = done
    if (count === 0) done(this)
  }

  written (index: number, partition: number, offset: number): void {
    this.partitions[index] = partition
    this.offsets[index] = offset
    if (--this.remaining === 0) this.done(this)
  }

  failed (index: number, error: ProxyError): void {
    this.partitions[index] = -1
    this.offsets[index] = -1
    if (this.errors === null) this.errors = new Array<ProxyError | undefined>(this.count)
    this.errors[index] = error
    if (--this.remaining === 0) this.done(this)
  }
}

/** Row `i` of an outcome as an object, for callers that want one. */
export function resultAt (outcome: BatchOutcome, i: number): RecordResult {
  const error = outcome.errors?.[i]
  if (error !== undefined) return { partition: null, offset: null, error }
  return { partition: outcome.partitions[i] as number, offset: outcome.offsets[i] as number, error: null }
}

// Records in flight, by slot: the slot number is the opaque librdkafka carries
// to the delivery report, so a record in flight costs two array entries
// rather than an object that lives (and is copied by the scavenger) until
// its report. Shared by every producer of the process: a retired producer's
// late reports still find their slots.
const slotBatch: Array<Batch | undefined> = []
let slotIndex = new Int32Array(4096)
const freeSlots: number[] = []

function takeSlot (batch: Batch, index: number): number {
  const slot = freeSlots.length > 0 ? freeSlots.pop() as number : slotBatch.length
  if (slot === slotBatch.length) slotBatch.push(batch)
  else slotBatch[slot] = batch
  if (slot >= slotIndex.length) {
    const grown = new Int32Array(slotIndex.length * 2)
    grown.set(slotIndex)
    slotIndex = grown
  }
  slotIndex[slot] = index
  return slot
}

function releaseSlot (slot: number): void {
  slotBatch[slot] = undefined
  freeSlots.push(slot)
}

export interface ProducerEvents {
  /** librdkafka lost every broker connection (ERR__ALL_BROKERS_DOWN). */
  onAllBrokersDown?: () => void
  /** librdkafka's statistics (statistics.interval.ms), `{ message: json }` (src/metrics/kafka-stats.ts). */
  onStatistics?: (event: { message?: unknown }) => void
}

export interface ProducerOptions {
  properties: ClientProperties
  /** Timeout of the metadata request that completes a connect. */
  connectTimeoutMs: number
  log: Logger
  events?: ProducerEvents
}

export class KafkaProducer {
  private client: ProducerClient | null = null
  private connecting: Promise<void> | null = null
  private closed = false
  private retryTimer: NodeJS.Timeout | null = null
  private readonly opts: ProducerOptions
  private readonly log: Logger

  constructor (opts: ProducerOptions) {
    this.opts = opts
    this.log = opts.log
  }

  get connected (): boolean {
    return this.client !== null
  }

  /**
   * Connects in the background and keeps retrying until it succeeds, so the
   * proxy can start (and answer 503) while the cluster is down. Resolves after
   * the first attempt, successful or not.
   */
  start (): Promise<void> {
    return this.connect()
  }

  private connect (): Promise<void> {
    if (this.connecting !== null) return this.connecting
    this.connecting = new Promise<void>((resolve) => {
      const client = this.createClient()
      // Why an attempt failed (a refused SASL handshake, a certificate the
      // CA does not sign, a refused connection) is only in librdkafka's log:
      // its error events need a poll, which starts once connected, and the
      // connect callback says TRANSPORT whatever the cause. The last line of
      // error severity (syslog 3 or worse) becomes the warning's reason.
      let reason: string | undefined
      const onLog = (event: { severity?: number, message?: string }): void => {
        if (typeof event.severity === 'number' && event.severity <= 3) reason = event.message
      }
      client.on('event.log', onLog)
      client.connect({ timeout: this.opts.connectTimeoutMs }, (err) => {
        this.connecting = null
        client.off('event.log', onLog)
        if (err !== null && err !== undefined) {
          this.log.warn({ err: { code: err.code, message: err.message }, reason }, 'kafka producer could not connect; retrying')
          this.scheduleReconnect()
        } else if (this.closed) {
          client.disconnect(() => {})
        } else {
          client.setPollInBackground(true)
          // A producer the cluster refused (refused()) served until now.
          const previous = this.client
          this.client = client
          if (previous !== null) this.retire(previous)
          this.log.debug('kafka producer connected')
        }
        resolve()
      })
    })
    return this.connecting
  }

  private scheduleReconnect (delayMs = 1000): void {
    if (this.closed || this.retryTimer !== null) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect().catch(() => {})
    }, delayMs)
    this.retryTimer.unref()
  }

  private createClient (): ProducerClient {
    const client = new Producer(this.opts.properties)
    client.on('delivery-report', onDeliveryReport)
    client.on('event.error', (err: KafkaClientError) => this.onClientError(client, err))
    const onStatistics = this.opts.events?.onStatistics
    if (onStatistics !== undefined) client.on('event.stats', onStatistics)
    return client
  }

  private onClientError (client: ProducerClient, err: KafkaClientError): void {
    const code = eventErrorCode(err)
    if (code === RD.ALL_BROKERS_DOWN) {
      this.opts.events?.onAllBrokersDown?.()
      return
    }
    if (code === RD.CLUSTER_AUTHORIZATION_FAILED) {
      this.refused(client, err)
      return
    }
    if (err.isFatal === true || code === RD.FATAL) {
      this.recreate(client, err)
      return
    }
    this.log.debug({ err: { code: err.code, message: err.message } }, 'kafka producer event')
  }

  /**
   * A fatal error (e.g. an idempotence sequence violation) leaves this
   * instance unusable: librdkafka fails its queued records and refuses new
   * ones, so a fresh producer takes over.
   */
  private recreate (client: ProducerClient, err: KafkaClientError): void {
    if (this.client !== client || REFUSALS.has(client)) return
    this.log.error({ err: { code: err.code, message: err.message } }, 'fatal kafka producer error; recreating the producer')
    this.client = null
    this.retire(client)
    this.connect().catch(() => {})
  }

  /**
   * The cluster refused the idempotent producer its producer id
   * (InitProducerId needs IdempotentWrite on the cluster or Write on some
   * topic, KIP-679): librdkafka reports CLUSTER_AUTHORIZATION_FAILED, and the
   * binding drops the event's isFatal flag, but the instance is fatal from
   * then on. A fresh producer is refused the same way until an operator
   * grants the ACL, so it is tried every REFUSED_RETRY_MS, and meanwhile this
   * one stays: its records are refused with the cause (403/40301, not
   * written) instead of a bare FATAL.
   */
  private refused (client: ProducerClient, err: KafkaClientError): void {
    if (this.client !== client || REFUSALS.has(client)) return
    REFUSALS.set(client, { code: RD.CLUSTER_AUTHORIZATION_FAILED, message: 'Kafka refused the proxy\'s producer: cluster authorization failed' })
    this.log.error({ err: { code: err.code, message: err.message }, retry_in_ms: REFUSED_RETRY_MS },
      'kafka refused the producer id: grant the proxy\'s principal IdempotentWrite on the cluster or Write on a topic (KIP-679), or set producer.enable_idempotence = false')
    this.scheduleReconnect(REFUSED_RETRY_MS)
  }

  private retire (client: ProducerClient): void {
    client.flush(this.opts.connectTimeoutMs, () => client.disconnect(() => {}))
  }

  /** Queues every record and resolves with one result per record, in order. */
  async produce (topic: string, records: readonly OutgoingRecord[]): Promise<RecordResult[]> {
    const outcome = await this.produceRecords(topic, records)
    const results = new Array<RecordResult>(outcome.count)
    for (let i = 0; i < outcome.count; i++) results[i] = resultAt(outcome, i)
    return results
  }

  /** Queues every record; resolves once each has a result, in columns. */
  produceRecords (topic: string, records: readonly OutgoingRecord[]): Promise<BatchOutcome> {
    const client = this.client
    if (client === null) return notConnected(this.closed)
    return new Promise((resolve) => {
      const done = metricsEnabled()
        ? (outcome: BatchOutcome) => { account(topic, outcome, (i) => recordBytes(records[i]?.key ?? null, records[i]?.value ?? null)); resolve(outcome) }
        : resolve
      const batch = new Batch(records.length, done)
      let fatal: KafkaClientError | null = null
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as OutgoingRecord
        fatal ??= send(client, topic, batch, i, r.partition, r.value, r.key, r.timestamp ?? null, r.headers)
      }
      if (fatal !== null) this.recreate(client, fatal)
    })
  }

  /** produceRecords for a batch already in columns: no object per record on the way in either. */
  produceColumns (topic: string, cols: OutgoingColumns): Promise<BatchOutcome> {
    const client = this.client
    if (client === null) return notConnected(this.closed)
    return new Promise((resolve) => {
      const { values, keys, partitions, headers } = cols
      const done = metricsEnabled()
        ? (outcome: BatchOutcome) => { account(topic, outcome, (i) => recordBytes(keys[i] ?? null, values[i] ?? null)); resolve(outcome) }
        : resolve
      const batch = new Batch(cols.count, done)
      const one = typeof partitions === 'number' ? partitions : -1
      let fatal: KafkaClientError | null = null
      for (let i = 0; i < cols.count; i++) {
        const partition = typeof partitions === 'number' ? one : partitions[i] as number
        fatal ??= send(client, topic, batch, i, partition, values[i] ?? null, keys[i] ?? null, null, headers?.[i])
      }
      if (fatal !== null) this.recreate(client, fatal)
    })
  }

  metadata (opts: { topic?: string, timeoutMs: number }): Promise<Metadata> {
    const client = this.client
    if (client === null) return Promise.reject(new ProxyError('clusterUnreachable'))
    return new Promise((resolve, reject) => {
      const options = opts.topic === undefined
        ? { timeout: opts.timeoutMs, allTopics: true }
        : { timeout: opts.timeoutMs, topic: opts.topic }
      client.getMetadata(options, (err, md) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(md)
      })
    })
  }

  /** Low and high watermark of a partition: the first offset and the next offset to be written. */
  watermarks (topic: string, partition: number, timeoutMs: number): Promise<{ low: number, high: number }> {
    const client = this.client
    if (client === null) return Promise.reject(new ProxyError('clusterUnreachable'))
    return new Promise((resolve, reject) => {
      client.queryWatermarkOffsets(topic, partition, timeoutMs, (err, offsets) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve({ low: offsets.lowOffset, high: offsets.highOffset })
      })
    })
  }

  /** Waits until every queued record has a delivery report, or the timeout passes. */
  flush (timeoutMs: number): Promise<void> {
    const client = this.client
    if (client === null) return Promise.resolve()
    return new Promise((resolve) => {
      client.flush(timeoutMs, (err) => {
        if (err !== null && err !== undefined) {
          this.log.warn({ err: { code: err.code, message: err.message } }, 'producer flush did not complete')
        }
        resolve()
      })
    })
  }

  async close (timeoutMs: number): Promise<void> {
    this.closed = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    await this.connecting
    const client = this.client
    if (client === null) return
    await this.flush(timeoutMs)
    this.client = null
    await new Promise<void>((resolve) => client.disconnect(() => resolve()))
  }
}

// A producer closed by a shutdown is not a sign of an unreachable cluster:
// the client should go to another instance, not wait for Kafka.
function notConnected (closed = false): Promise<never> {
  if (closed) return Promise.reject(new ProxyError('shuttingDown', undefined, { persisted: 'no' }))
  return Promise.reject(new ProxyError('clusterUnreachable', 'Kafka producer is not connected', { persisted: 'no' }))
}

const REFUSED_RETRY_MS = 5000
/** Why a producer the cluster refused (KafkaProducer.refused) is fatal; its records are refused with this. */
const REFUSALS = new WeakMap<ProducerClient, KafkaClientError>()

/** Queues one record; returns the client's error when it refused the record because the instance is fatal. */
function send (client: ProducerClient, topic: string, batch: Batch, index: number, partition: number, value: Buffer | null, key: Buffer | null, timestamp: number | null, headers: MessageHeader[] | undefined): KafkaClientError | null {
  const slot = takeSlot(batch, index)
  try {
    client.produce(topic, partition, value, key, timestamp, slot, headers)
    return null
  } catch (err) {
    releaseSlot(slot)
    const mapped = isKafkaClientError(err)
      ? produceError((err.code === RD.FATAL ? REFUSALS.get(client) : undefined) ?? err, false)
      : new ProxyError('kafkaError', 'Record was refused by the Kafka client', { persisted: 'no', cause: err })
    batch.failed(index, mapped)
    return isKafkaClientError(err) && err.code === RD.FATAL ? err : null
  }
}

function recordBytes (key: Buffer | null, value: Buffer | null): number {
  return (key?.length ?? 0) + (value?.length ?? 0)
}

// Counted once per batch for /metrics: the records Kafka acknowledged with
// their key and value bytes, and each failed record's error code.
function account (topic: string, outcome: BatchOutcome, bytesAt: (i: number) => number): void {
  const errors = outcome.errors
  let written = 0
  let bytes = 0
  for (let i = 0; i < outcome.count; i++) {
    const error = errors?.[i]
    if (error !== undefined) {
      countProduceError(topic, error.errorCode)
    } else {
      written++
      bytes += bytesAt(i)
    }
  }
  countProduced(topic, written, bytes)
}

function onDeliveryReport (err: KafkaClientError | null, report: DeliveryReport): void {
  const slot = report.opaque as number
  const batch = slotBatch[slot] as Batch
  const index = slotIndex[slot] as number
  releaseSlot(slot)
  if (err !== null && err !== undefined) batch.failed(index, produceError(err, true))
  else batch.written(index, report.partition, report.offset)
}
