// One librdkafka producer per process. Each HTTP produce request becomes a
// batch whose records resolve individually from delivery reports; the request
// completes when its last record has a result.
//
// Threading: librdkafka polls for delivery reports on its own background
// thread (setPollInBackground), and the binding hands them to the event loop
// through a uv_async, so results arrive without a JS poll timer adding latency.
import { Producer, type ProducerClient, type DeliveryReport, type Metadata, type MessageHeader } from './client.js'
import { produceError, requestError, isKafkaClientError, eventErrorCode, RD, type KafkaClientError } from './errors.js'
import { ProxyError } from '../errors.js'
import type { ClientProperties } from './options.js'
import type { Logger } from '../logger.js'

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

class Batch {
  remaining: number
  readonly results: RecordResult[]
  private readonly done: (results: RecordResult[]) => void

  constructor (size: number, done: (results: RecordResult[]) => void) {
    this.remaining = size
    this.results = new Array<RecordResult>(size)
    this.done = done
  }

  settle (index: number, result: RecordResult): void {
    this.results[index] = result
    if (--this.remaining === 0) this.done(this.results)
  }
}

/** The opaque handed to librdkafka with each record; it comes back in the delivery report. */
class Pending {
  constructor (readonly batch: Batch, readonly index: number) {}
}

export interface ProducerEvents {
  /** librdkafka lost every broker connection (ERR__ALL_BROKERS_DOWN). */
  onAllBrokersDown?: () => void
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
      client.connect({ timeout: this.opts.connectTimeoutMs }, (err) => {
        this.connecting = null
        if (err !== null && err !== undefined) {
          this.log.warn({ err: { code: err.code, message: err.message } }, 'kafka producer could not connect; retrying')
          this.scheduleReconnect()
        } else if (this.closed) {
          client.disconnect(() => {})
        } else {
          client.setPollInBackground(true)
          this.client = client
          this.log.debug('kafka producer connected')
        }
        resolve()
      })
    })
    return this.connecting
  }

  private scheduleReconnect (): void {
    if (this.closed || this.retryTimer !== null) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.connect().catch(() => {})
    }, 1000)
    this.retryTimer.unref()
  }

  private createClient (): ProducerClient {
    const client = new Producer(this.opts.properties)
    client.on('delivery-report', onDeliveryReport)
    client.on('event.error', (err: KafkaClientError) => this.onClientError(client, err))
    return client
  }

  private onClientError (client: ProducerClient, err: KafkaClientError): void {
    const code = eventErrorCode(err)
    if (code === RD.ALL_BROKERS_DOWN) {
      this.opts.events?.onAllBrokersDown?.()
      return
    }
    if (err.isFatal === true || code === RD.FATAL) {
      // A fatal error (e.g. an idempotence sequence violation) leaves this
      // instance unusable: librdkafka fails its queued records and a fresh
      // producer must take over.
      this.log.error({ err: { code: err.code, message: err.message } }, 'fatal kafka producer error; recreating the producer')
      if (this.client === client) {
        this.client = null
        this.retire(client)
        this.connect().catch(() => {})
      }
      return
    }
    this.log.debug({ err: { code: err.code, message: err.message } }, 'kafka producer event')
  }

  private retire (client: ProducerClient): void {
    client.flush(this.opts.connectTimeoutMs, () => client.disconnect(() => {}))
  }

  /** Queues every record and resolves with one result per record, in order. */
  produce (topic: string, records: readonly OutgoingRecord[]): Promise<RecordResult[]> {
    const client = this.client
    if (client === null) {
      return Promise.reject(new ProxyError('clusterUnreachable', 'Kafka producer is not connected', { persisted: 'no' }))
    }
    return new Promise((resolve) => {
      const batch = new Batch(records.length, resolve)
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as OutgoingRecord
        try {
          client.produce(topic, r.partition, r.value, r.key, r.timestamp ?? null, new Pending(batch, i), r.headers)
        } catch (err) {
          const mapped = isKafkaClientError(err)
            ? produceError(err, false)
            : new ProxyError('kafkaError', 'Record was refused by the Kafka client', { persisted: 'no', cause: err })
          batch.settle(i, { partition: null, offset: null, error: mapped })
        }
      }
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

function onDeliveryReport (err: KafkaClientError | null, report: DeliveryReport): void {
  const pending = report.opaque as Pending
  if (err !== null && err !== undefined) {
    pending.batch.settle(pending.index, { partition: null, offset: null, error: produceError(err, true) })
  } else {
    pending.batch.settle(pending.index, { partition: report.partition, offset: report.offset, error: null })
  }
}
