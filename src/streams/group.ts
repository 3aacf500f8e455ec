// Streams that join a Kafka consumer group (`group=`): clients sharing a
// group split the topic's partitions, and what is committed depends on `qos`:
//
//   auto           the offsets of records handed to the socket are stored and
//                  committed by librdkafka every AUTO_COMMIT_MS;
//   at-most-once   the offsets after a batch are committed, and the commit
//                  confirmed, before the batch is written to the socket;
//   at-least-once  nothing is committed but what the client acknowledges: a
//                  WebSocket {"ack": id}, or resuming (SSE, WebSocket) from an
//                  id, which commits the position it names once the stream
//                  has joined the group.
//
// A resumed stream never delivers a record before the id it resumed from. One
// librdkafka consumer per stream (a member of the group); rebalances are
// librdkafka's own (no rebalance callback), so a group keeps moving while
// some members are slow.
import { KafkaConsumer } from '../kafka/binding.js'
import type { ConsumerClient, ConsumerMessage } from '../kafka/binding.js'
import { requestError } from '../kafka/errors.js'
import type { ClientProperties } from '../kafka/options.js'
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { RecordSource } from './delivery.js'
import type { StreamPosition } from './position.js'
import { recordBytes, type ReadLimits } from './reader.js'

export const QOS_LEVELS = ['none', 'auto', 'at-most-once', 'at-least-once'] as const
export type Qos = typeof QOS_LEVELS[number]

/** librdkafka's auto.commit.interval.ms for qos=auto (its default). */
export const AUTO_COMMIT_MS = 5000

const STEP_MS = 100

export interface GroupOptions {
  properties: { global: ClientProperties, topic: ClientProperties }
  topic: string
  qos: Exclude<Qos, 'none'>
  /** The offsets to resume from (and commit once joined); null for the group's committed offsets. */
  resume: Map<number, number> | null
  maxPollRecords: number
  callTimeoutMs: number
  log: Logger
}

export class GroupSource implements RecordSource {
  private held: ConsumerMessage[] = []
  private resumeCommitted = false
  private closed = false
  private running: Promise<unknown> = Promise.resolve()

  private constructor (private readonly client: ConsumerClient, private readonly opts: GroupOptions) {}

  static async open (opts: GroupOptions): Promise<GroupSource> {
    let client: ConsumerClient
    try {
      client = new KafkaConsumer(opts.properties.global, opts.properties.topic) as ConsumerClient
    } catch (err) {
      throw new ProxyError('kafkaConsumerConfig', `Invalid consumer configuration: ${(err as Error).message}`)
    }
    client.on('event.error', (err) => opts.log.debug({ err: { message: err.message } }, 'group stream consumer event'))
    await new Promise<void>((resolve, reject) => {
      client.connect({ timeout: opts.callTimeoutMs }, (err) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve()
      })
    })
    client.setDefaultIsTimeoutOnlyForFirstMessage(true)
    try {
      client.subscribe([opts.topic])
    } catch (err) {
      client.disconnect()
      throw requestError(err)
    }
    return new GroupSource(client, opts)
  }

  read (limits: ReadLimits): Promise<ConsumerMessage[]> {
    const run = this.collect(limits)
    this.running = run.catch(() => {})
    return run
  }

  private async collect (limits: ReadLimits): Promise<ConsumerMessage[]> {
    const deadline = Date.now() + limits.timeoutMs
    const out: ConsumerMessage[] = []
    let bytes = 0
    const take = (batch: ConsumerMessage[]): ConsumerMessage[] => {
      let i = 0
      for (; i < batch.length; i++) {
        const m = batch[i] as ConsumerMessage
        const from = this.opts.resume?.get(m.partition)
        if (from !== undefined && m.offset < from) continue
        const size = recordBytes(m)
        if (out.length >= limits.maxRecords || (out.length > 0 && bytes + size > limits.maxBytes)) break
        out.push(m)
        bytes += size
      }
      return batch.slice(i)
    }
    this.held = take(this.held)
    for (let first = true; out.length < limits.maxRecords; first = false) {
      const remaining = deadline - Date.now()
      if (out.length > 0 || (!first && remaining <= 0) || limits.stopped?.() === true || this.closed) break
      this.client.setDefaultConsumeTimeout(Math.max(0, Math.min(STEP_MS, remaining)))
      const batch = await new Promise<ConsumerMessage[]>((resolve, reject) => {
        this.client.consume(this.opts.maxPollRecords, (err, messages) => {
          if (err !== null && err !== undefined) reject(requestError(err))
          else resolve(messages)
        })
      })
      await this.commitResume()
      const left = take(batch)
      if (left.length > 0) this.held = left.concat(this.held)
    }
    return out
  }

  /** Once the stream is a member (it has an assignment), commits the position it resumed from. */
  private async commitResume (): Promise<void> {
    const resume = this.opts.resume
    if (resume === null || this.resumeCommitted || this.opts.qos === 'at-most-once') return
    if (this.client.assignments().length === 0) return
    this.resumeCommitted = true
    await this.commit(new Map([[this.opts.topic, resume]])).catch((err: unknown) => this.opts.log.warn({ err, topic: this.opts.topic }, 'committing the resumed position failed'))
  }

  unread (records: ConsumerMessage[]): void {
    this.held = records.concat(this.held)
  }

  extend (): void {
    // The subscription takes in partitions the topic gains by itself.
  }

  /** Before a batch is written to the socket: what the QoS level commits then. */
  async delivering (records: readonly ConsumerMessage[]): Promise<void> {
    if (records.length === 0) return
    const next = new Map<number, number>()
    for (const m of records) next.set(m.partition, Math.max(next.get(m.partition) ?? 0, m.offset + 1))
    const list = [...next].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset }))
    if (this.opts.qos === 'auto') {
      try {
        this.client.offsetsStore(list)
      } catch (err) {
        // A partition revoked meanwhile: its new owner goes on from the group's offset.
        this.opts.log.debug({ err: { message: (err as Error).message } }, 'storing offsets failed')
      }
    } else if (this.opts.qos === 'at-most-once') {
      await this.commit(new Map([[this.opts.topic, next]]))
    }
  }

  /** Commits `position` (the next offset of each partition) and waits for the group coordinator's answer. */
  commit (position: StreamPosition): Promise<void> {
    const list: Array<{ topic: string, partition: number, offset: number }> = []
    for (const [topic, offsets] of position) for (const [partition, offset] of offsets) list.push({ topic, partition, offset })
    if (list.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      try {
        this.client.commitCb(list, (err) => {
          if (err !== null && err !== undefined) reject(requestError(err))
          else resolve()
        })
      } catch (err) {
        reject(requestError(err))
      }
    })
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.running.then(() => new Promise<void>((resolve) => this.client.disconnect(() => resolve())), () => {}).catch(() => {})
  }
}
