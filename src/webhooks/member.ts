// One subscription's deliverer in this process: a librdkafka consumer in the
// subscription's group, and one lane per partition the group gave it.
//
// Order and ownership: a lane delivers its partition's records one delivery
// at a time, in offset order; the next goes out only after the one before it
// was accepted (2xx) or dead-lettered. The group coordinator gives each
// partition to one member, and a revoked partition is released
// (incrementalUnassign, which librdkafka waits for before the partition can
// be given to anyone else) only after its lane's request in flight has
// ended: the next owner never sends while this one still does. Waits between
// attempts end at once on a revocation; the records not yet delivered go to
// the next owner from the committed offset.
//
// QoS: at-least-once commits a partition's position after the callback
// accepted a delivery (or it was dead-lettered); at-most-once commits it,
// and waits for the coordinator to confirm it, before the delivery is sent,
// and retries only attempts that never reached the callback; auto leaves it
// to librdkafka's auto-commit of the positions consumed (Kafka's default:
// 0, 1 or n deliveries).
//
// Threading: polls take what librdkafka's queue holds without waiting
// (timeout 0) under the process's ThreadBudget, and come back at once while
// records flow, otherwise after a delay growing to webhooks.poll_interval_ms.
// Polls also serve librdkafka's rebalance callback. A lane that holds
// max_buffered_records pauses its partition's fetching until it drains.
import { KafkaConsumer } from '../kafka/binding.js'
import type { ConsumerClient, ConsumerMessage, MessageHeader } from '../kafka/binding.js'
import { RD, requestError } from '../kafka/errors.js'
import { webhookConsumerProperties } from '../kafka/options.js'
import type { KafkaProducer, OutgoingRecord } from '../kafka/producer.js'
import type { KafkaConfig, WebhooksConfig } from '../config/schema.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { FramingStrip } from '../render/framing.js'
import type { Logger } from '../logger.js'
import { countConsumed } from '../metrics/registry.js'
import { hasFilter, matches, type RecordFilter } from '../streams/filter.js'
import { encodePosition } from '../streams/position.js'
import { renderBatch } from '../streams/render.js'
import type { ThreadBudget } from './budget.js'
import { retryDelay, sleep } from './retry.js'
import type { Sender } from './sender.js'
import { secretKey, sign } from './sign.js'
import { emptyStatus, type DeliveryStatus, type SubscriptionStore } from './store.js'
import { groupId, type Subscription } from './subscription.js'

const POLL_RECORDS = 500
const FIRST_IDLE_POLL_MS = 5
/** rdkafka.h: RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS. */
const OFFSET_BEGINNING = -2
const ASSIGN_PARTITIONS = -175
const REVOKE_PARTITIONS = -174
// How long a stopping member waits for its partitions' deliveries before it closes anyway.
const STOP_GRACE_MS = 2000
// At most one commit per this interval: librdkafka's commit is asynchronous
// (the binding's callback fires once it is queued), so committing after
// every delivery would queue commits faster than the coordinator answers,
// on the connection the group's heartbeats share, until the session times
// out. Positions accepted meanwhile go in the next commit.
const COMMIT_INTERVAL_MS = 100

export interface MemberDeps {
  kafka: KafkaConfig
  webhooks: WebhooksConfig
  /** streams.encode_ids: webhook-id in the same notation as an SSE event id. */
  encodeIds: boolean
  budget: ThreadBudget
  sender: Sender
  store: SubscriptionStore
  producer: KafkaProducer
  registry: SchemaRegistryClient
  /** consumer.strip_schema_framing, for the BINARY, STRING and JSON sides of deliveries. */
  strip: FramingStrip
  log: Logger
  /** Stops the subscription everywhere: writes its new state to the store. */
  stopWith: (id: string, state: 'failed' | 'cancelled', reason: string) => void
}

type Result = 'ok' | 'stop'

/** The rebalance methods the binding has but its type declarations omit. */
type GroupClient = ConsumerClient & {
  assignmentLost (): boolean
  rebalanceProtocol (): 'NONE' | 'EAGER' | 'COOPERATIVE'
}

/** Dead-letter headers: why the record is there and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'webhook-dead-letter-reason',
  status: 'webhook-dead-letter-status',
  attempts: 'webhook-dead-letter-attempts',
  subscription: 'webhook-dead-letter-subscription',
  topic: 'webhook-dead-letter-topic',
  partition: 'webhook-dead-letter-partition',
  offset: 'webhook-dead-letter-offset'
} as const

class Lane {
  readonly queue: ConsumerMessage[] = []
  /** Fetching is paused: the lane holds max_buffered_records. */
  paused = false
  stopped = false
  running: Promise<void> | null = null
  /** Ends waits (backoff, batch fill) when the partition is revoked. */
  readonly waits = new AbortController()
  /** The next offset to handle, and the last one committed. */
  next: number
  committed: number
  dirty = false
  private wake: (() => void) | null = null

  constructor (readonly partition: number, offset: number, readonly status: DeliveryStatus) {
    this.next = offset
    this.committed = offset
  }

  push (m: ConsumerMessage): void {
    this.queue.push(m)
    this.wake?.()
  }

  /** Waits until the queue holds `count` records, `ms` pass, or the lane stops. */
  fill (count: number, ms: number): Promise<void> {
    if (this.queue.length >= count || this.stopped) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const signal = this.waits.signal
      const onAbort = (): void => done()
      signal.addEventListener('abort', onAbort, { once: true })
      this.wake = () => { if (this.queue.length >= count) done() }
      function done (): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
    }).finally(() => { this.wake = null })
  }

  stop (): void {
    this.stopped = true
    this.waits.abort()
  }
}

export class Member {
  private sub: Subscription
  private filter: RecordFilter
  private key: { secret: string, key: Buffer } | null = null
  private client: GroupClient | null = null
  private readonly lanes = new Map<number, Lane>()
  private stopping = false
  /** Deliveries stop (410 or an exhausted delivery without a dead-letter topic) until the member is stopped. */
  private halted = false
  private pollTimer: NodeJS.Timeout | null = null
  private polling: Promise<void> | null = null
  private idleDelay = FIRST_IDLE_POLL_MS
  private rebalancing: Promise<void> = Promise.resolve()
  private readonly pendingCommits = new Map<number, number>()
  private committing: Promise<void> | null = null
  private commitTimer: NodeJS.Timeout | null = null
  private lastCommit = 0
  private statusTimer: NodeJS.Timeout | null = null
  private started: Promise<void> | null = null
  /** Aborts requests in flight; only when a stop outlasts its grace. */
  private readonly requests = new AbortController()
  private readonly log: Logger

  constructor (sub: Subscription, private readonly deps: MemberDeps) {
    this.sub = sub
    this.filter = filterOf(sub)
    this.log = deps.log.child({ subscription_id: sub.subscription_id })
  }

  get id (): string {
    return this.sub.subscription_id
  }

  /** A changed subscription (callback, secret, batch, attempts, dead-letter topic): later attempts use it. */
  update (sub: Subscription): void {
    this.sub = sub
    this.filter = filterOf(sub)
  }

  start (): void {
    this.started ??= this.connect().catch((err: unknown) => this.log.error({ err }, 'webhook subscription consumer did not start'))
  }

  private async connect (): Promise<void> {
    const { kafka, webhooks } = this.deps
    const props = webhookConsumerProperties(kafka, {
      group: groupId(kafka.client_id, this.id),
      autoCommit: this.sub.qos === 'auto',
      autoCommitIntervalMs: webhooks.auto_commit_interval_ms,
      sessionTimeoutMs: webhooks.session_timeout_ms,
      queueBytes: 1024 * 1024
    })
    for (let wait = 100; !this.stopping; wait = Math.min(wait * 2, 10_000)) {
      const client = new KafkaConsumer({ ...props.global, rebalance_cb: this.onRebalance } as unknown as typeof props.global, props.topic) as GroupClient
      client.on('event.error', (err) => this.log.debug({ err: { message: err.message } }, 'webhook consumer event'))
      try {
        await this.deps.budget.run(() => new Promise<void>((resolve, reject) => {
          client.connect({ timeout: kafka.request_timeout_ms }, (err) => {
            if (err !== null && err !== undefined) reject(requestError(err))
            else resolve()
          })
        }))
      } catch (err) {
        this.log.warn({ err, retry_in_ms: wait }, 'webhook subscription consumer could not connect')
        await new Promise((resolve) => setTimeout(resolve, wait))
        continue
      }
      client.setDefaultIsTimeoutOnlyForFirstMessage(true)
      client.setDefaultConsumeTimeout(0)
      this.client = client
      if (this.stopping) return
      client.subscribe([this.sub.topic])
      this.statusTimer = setInterval(() => this.writeStatuses(), webhooks.status_interval_ms)
      this.statusTimer.unref()
      this.schedulePoll(0)
      return
    }
  }

  private schedulePoll (delay: number): void {
    if (this.pollTimer !== null || this.polling !== null || this.client === null) return
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null
      this.polling = this.poll()
        .catch((err: unknown) => this.log.warn({ err }, 'webhook subscription poll failed'))
        .finally(() => {
          this.polling = null
          this.schedulePoll(this.idleDelay)
        })
    }, delay)
  }

  private async poll (): Promise<void> {
    const client = this.client
    if (client === null) return
    const messages = await this.deps.budget.run(() => new Promise<ConsumerMessage[]>((resolve) => {
      client.consume(POLL_RECORDS, (err, m) => {
        if (err !== null && err !== undefined && err.code !== RD.UNKNOWN_TOPIC_OR_PART) this.log.debug({ err: { code: err.code, message: err.message } }, 'webhook subscription poll')
        resolve(m ?? [])
      })
    }))
    this.idleDelay = messages.length > 0 ? 0 : Math.min(Math.max(FIRST_IDLE_POLL_MS, this.idleDelay * 2), this.deps.webhooks.poll_interval_ms)
    if (messages.length === 0) return
    const touched = new Set<Lane>()
    for (const m of messages) {
      const lane = this.lanes.get(m.partition)
      // A record of a partition revoked since it was fetched is its next owner's.
      if (lane === undefined || lane.stopped || m.offset < lane.next) continue
      lane.push(m)
      touched.add(lane)
    }
    for (const lane of touched) {
      if (!lane.paused && lane.queue.length >= this.deps.webhooks.max_buffered_records) {
        try {
          client.pause([{ topic: this.sub.topic, partition: lane.partition }])
          lane.paused = true
        } catch (err) {
          this.log.debug({ err, partition: lane.partition }, 'could not pause a partition')
        }
      }
      this.pump(lane)
    }
  }

  private resumeIfDrained (lane: Lane): void {
    const client = this.client
    if (!lane.paused || client === null || lane.stopped || lane.queue.length > this.deps.webhooks.max_buffered_records / 2) return
    try {
      client.resume([{ topic: this.sub.topic, partition: lane.partition }])
      lane.paused = false
    } catch (err) {
      this.log.debug({ err, partition: lane.partition }, 'could not resume a partition')
    }
  }

  private pump (lane: Lane): void {
    if (lane.running !== null || lane.stopped || this.halted) return
    lane.running = this.drain(lane)
      .catch((err: unknown) => this.log.error({ err, partition: lane.partition }, 'webhook delivery failed unexpectedly'))
      .finally(() => {
        lane.running = null
        if (lane.queue.length > 0 && !lane.stopped && !this.halted) this.pump(lane)
      })
  }

  private async drain (lane: Lane): Promise<void> {
    while (!lane.stopped && !this.halted && lane.queue.length > 0) {
      const batch = this.sub.batch
      let taken: ConsumerMessage[]
      if (batch === null) taken = [lane.queue.shift() as ConsumerMessage]
      else {
        if (batch.max_wait_ms > 0) await lane.fill(batch.max_records, batch.max_wait_ms)
        if (lane.stopped) return
        taken = lane.queue.splice(0, batch.max_records)
      }
      if (await this.handle(lane, taken) === 'stop') return
      this.resumeIfDrained(lane)
    }
  }

  /** Filters, renders and delivers records taken from a lane, in order. */
  private async handle (lane: Lane, records: ConsumerMessage[]): Promise<Result> {
    const filtering = hasFilter(this.filter)
    const wanted = filtering ? records.filter((m) => matches(m, this.filter)) : records
    const lastOffset = (records[records.length - 1] as ConsumerMessage).offset
    if (wanted.length === 0) {
      this.done(lane, lastOffset + 1)
      return 'ok'
    }
    let rendered
    for (let failed = 1; ; failed++) {
      try {
        rendered = await renderBatch(wanted, { keyFormat: this.sub.key_format, valueFormat: this.sub.value_format, policy: this.sub.undecodable, strip: this.deps.strip }, this.deps.registry)
        break
      } catch (err) {
        // The schema registry's own trouble: the records wait, in order.
        this.note(lane, { status: null, error: `schema registry: ${(err as Error).message}` })
        if (!await sleep(this.delay(failed, null), lane.waits.signal)) return 'stop'
      }
    }
    const count = rendered.json.length
    if (count > 0) {
      const r = await this.deliver(lane, wanted.slice(0, count), rendered.json)
      if (r === 'stop') return r
    }
    const stopped = rendered.stopped
    if (stopped === null) {
      this.done(lane, lastOffset + 1)
      return 'ok'
    }
    // A record that does not fit the subscription's format (undecodable=fail)
    // cannot be delivered by any attempt: it is dead-lettered or stops the
    // subscription; what was taken after it goes back to the queue.
    const bad = wanted[count] as ConsumerMessage
    const r = await this.exhausted(lane, [bad], `undecodable ${stopped.part}: ${stopped.reason}`, null, 0)
    if (r === 'stop') return r
    this.done(lane, bad.offset + 1)
    lane.queue.unshift(...records.slice(records.indexOf(bad) + 1))
    return 'ok'
  }

  private eventId (partition: number, next: number): string {
    return encodePosition(new Map([[this.sub.topic, new Map([[partition, next]])]]), this.deps.encodeIds)
  }

  private signingKey (): Buffer | null {
    const secret = this.sub.secret
    if (secret === null) return null
    if (this.key?.secret !== secret) {
      const key = secretKey(secret)
      if (typeof key === 'string') return null
      this.key = { secret, key }
    }
    return this.key.key
  }

  /** Sends one delivery (one record, or one batch) until it is accepted or runs out of attempts. */
  private async deliver (lane: Lane, messages: ConsumerMessage[], json: string[]): Promise<Result> {
    const last = messages[messages.length - 1] as ConsumerMessage
    const id = this.eventId(lane.partition, last.offset + 1)
    const body = this.sub.batch === null ? json[0] as string : `[${json.join(',')}]`
    if (this.sub.qos === 'at-most-once' && !await this.commitBefore(lane, last.offset + 1)) return 'stop'
    for (let attempt = 1; ; attempt++) {
      const sub = this.sub
      const timestamp = Math.floor(Date.now() / 1000)
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp)
      }
      const key = this.signingKey()
      if (key !== null) headers['webhook-signature'] = sign(key, id, timestamp, body)
      const outcome = await this.deps.sender.post(new URL(sub.callback_url), headers, body, this.requests.signal)
      if (outcome.kind === 'aborted') return 'stop'
      lane.status.attempts++
      if (outcome.kind === 'delivered') {
        lane.status.delivered++
        lane.status.delivered_records += messages.length
        lane.status.last_delivered_at = Date.now()
        this.note(lane, { status: outcome.status, error: null })
        let bytes = 0
        for (const m of messages) bytes += (m.value?.length ?? 0) + (m.key === null || m.key === undefined ? 0 : m.key.length)
        countConsumed('webhook', sub.topic, messages.length, bytes)
        return 'ok'
      }
      if (outcome.kind === 'gone') {
        this.note(lane, { status: outcome.status, error: 'HTTP 410 Gone' })
        this.halt('cancelled', `the callback answered 410 Gone to the delivery of ${describeRecord(sub.topic, last)}`)
        return 'stop'
      }
      lane.status.failed_attempts++
      this.note(lane, { status: outcome.status, error: outcome.reason })
      // At most once: an attempt that may have reached the callback is never repeated.
      const final = attempt >= sub.max_attempts || (sub.qos === 'at-most-once' && outcome.sent)
      if (final) return await this.exhausted(lane, messages, `${outcome.reason} (${attempt} attempt${attempt === 1 ? '' : 's'})`, outcome.status, attempt)
      if (!await sleep(this.delay(attempt, outcome.retryAfterMs), lane.waits.signal)) return 'stop'
    }
  }

  private delay (failed: number, retryAfterMs: number | null): number {
    const w = this.deps.webhooks
    return retryDelay(failed, { initialMs: w.backoff_initial_ms, maxMs: w.backoff_max_ms }, retryAfterMs)
  }

  private note (lane: Lane, last: { status: number | null, error: string | null }): void {
    lane.status.last_status = last.status
    lane.status.last_error = last.error
    lane.status.last_attempt_at = Date.now()
    lane.dirty = true
  }

  /** Records no attempt delivered: to the dead-letter topic, or the subscription stops. */
  private async exhausted (lane: Lane, messages: ConsumerMessage[], reason: string, status: number | null, attempts: number): Promise<Result> {
    const topic = this.sub.dead_letter_topic
    if (topic === null) {
      this.halt('failed', `delivery of ${describeRecord(this.sub.topic, messages[0] as ConsumerMessage)} failed: ${reason}`)
      return 'stop'
    }
    let pending: OutgoingRecord[] = messages.map((m) => this.deadLetter(m, reason, status, attempts))
    for (let failed = 1; ; failed++) {
      let results
      try {
        results = await this.deps.producer.produce(topic, pending)
      } catch (err) {
        results = pending.map(() => ({ partition: null, offset: null, error: err as Error }))
      }
      const left = pending.filter((_, i) => results[i]?.error !== null)
      lane.status.dead_lettered += pending.length - left.length
      lane.dirty = true
      if (left.length === 0) return 'ok'
      this.log.warn({ err: results.find((r) => r.error !== null)?.error, topic }, 'dead-letter produce failed; retrying')
      pending = left
      if (!await sleep(this.delay(failed, null), lane.waits.signal)) return 'stop'
    }
  }

  private deadLetter (m: ConsumerMessage, reason: string, status: number | null, attempts: number): OutgoingRecord {
    const h = DEAD_LETTER_HEADERS
    const added: MessageHeader[] = [
      { [h.reason]: Buffer.from(reason) },
      { [h.status]: Buffer.from(status === null ? '' : String(status)) },
      { [h.attempts]: Buffer.from(String(attempts)) },
      { [h.subscription]: Buffer.from(this.id) },
      { [h.topic]: Buffer.from(m.topic) },
      { [h.partition]: Buffer.from(String(m.partition)) },
      { [h.offset]: Buffer.from(String(m.offset)) }
    ]
    return {
      key: bytes(m.key),
      value: bytes(m.value),
      partition: -1,
      headers: [...(m.headers ?? []), ...added],
      timestamp: m.timestamp !== undefined && m.timestamp >= 0 ? m.timestamp : undefined
    }
  }

  /** Stops delivering here and stops the subscription everywhere. */
  private halt (state: 'failed' | 'cancelled', reason: string): void {
    if (this.halted) return
    this.halted = true
    this.log.warn({ state, reason }, 'webhook subscription stopped')
    this.deps.stopWith(this.id, state, reason)
  }

  /** A lane handled everything before `offset`. */
  private done (lane: Lane, offset: number): void {
    lane.next = offset
    if (this.sub.qos === 'auto') return
    this.pendingCommits.set(lane.partition, offset)
    this.scheduleCommit()
  }

  private scheduleCommit (): void {
    if (this.commitTimer !== null || this.committing !== null) return
    const wait = Math.max(0, this.lastCommit + COMMIT_INTERVAL_MS - Date.now())
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null
      this.flushCommits().catch(() => {})
    }, wait)
  }

  /** Commits every pending position now (a revocation, a stop), after a commit in flight. */
  private async flushCommits (): Promise<void> {
    if (this.commitTimer !== null) {
      clearTimeout(this.commitTimer)
      this.commitTimer = null
    }
    await this.committing
    if (this.pendingCommits.size === 0) return
    this.committing ??= (async () => {
      if (this.pendingCommits.size > 0 && this.client !== null) {
        const list = [...this.pendingCommits].map(([partition, offset]) => ({ topic: this.sub.topic, partition, offset }))
        this.pendingCommits.clear()
        this.lastCommit = Date.now()
        try {
          await this.commit(list)
          for (const c of list) {
            const lane = this.lanes.get(c.partition)
            if (lane !== undefined) lane.committed = Math.max(lane.committed, c.offset)
          }
        } catch (err) {
          // Not committed: the records are delivered again by whoever reads the partition next (at least once).
          this.log.debug({ err }, 'webhook subscription commit failed')
        }
      }
    })().finally(() => {
      this.committing = null
      if (this.pendingCommits.size > 0) this.scheduleCommit()
    })
    return this.committing
  }

  // The binding's commit callback fires once librdkafka queued the commit;
  // commits and the group's later requests share the coordinator
  // connection, so a commit queued before a partition is released is applied
  // before its next owner fetches the committed offset.
  private commit (list: Array<{ topic: string, partition: number, offset: number }>): Promise<void> {
    const client = this.client
    if (client === null) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      client.commitCb(list, (err) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve()
      })
    })
  }

  /** at-most-once: commits past a delivery and waits until the coordinator shows it; false when the lane stopped first. */
  private async commitBefore (lane: Lane, offset: number): Promise<boolean> {
    const list = [{ topic: this.sub.topic, partition: lane.partition, offset }]
    for (let failed = 1; !lane.stopped; failed++) {
      try {
        await this.commit(list)
        const committed = await this.committedOffsets([lane.partition])
        if (committed.get(lane.partition) === offset) {
          lane.committed = offset
          return true
        }
      } catch (err) {
        this.log.debug({ err }, 'webhook subscription commit before delivery failed')
      }
      if (!await sleep(Math.min(1000, 10 * failed), lane.waits.signal)) return false
    }
    return false
  }

  private committedOffsets (partitions: number[]): Promise<Map<number, number>> {
    const client = this.client
    if (client === null) return Promise.reject(new Error('not connected'))
    return this.deps.budget.run(() => new Promise<Map<number, number>>((resolve, reject) => {
      client.committed(partitions.map((partition) => ({ topic: this.sub.topic, partition })), this.deps.kafka.request_timeout_ms, (err, tps) => {
        if (err !== null && err !== undefined) reject(requestError(err))
        else resolve(new Map(tps.map((tp) => [tp.partition, tp.offset])))
      })
    }))
  }

  // librdkafka calls this from a poll and waits for assign/unassign, which
  // may come later: here, once the committed offsets are known (assign) or
  // the revoked lanes have finished (revoke). One event at a time, in order.
  private readonly onRebalance = (err: { code: number } | undefined, assignment: Array<{ topic: string, partition: number }>): void => {
    const code = err?.code
    this.rebalancing = this.rebalancing.then(async () => {
      if (code === ASSIGN_PARTITIONS) await this.onAssign(assignment)
      else if (code === REVOKE_PARTITIONS) await this.onRevoke(assignment)
      else this.log.warn({ code }, 'webhook subscription rebalance error')
    }).catch((e: unknown) => this.log.error({ err: e }, 'webhook subscription rebalance failed'))
  }

  private cooperative (): boolean {
    return this.client?.rebalanceProtocol() === 'COOPERATIVE'
  }

  private async onAssign (assignment: Array<{ topic: string, partition: number }>): Promise<void> {
    const client = this.client
    if (client === null) return
    let committed = new Map<number, number>()
    for (let wait = 50; assignment.length > 0; wait = Math.min(wait * 2, 2000)) {
      try {
        committed = await this.committedOffsets(assignment.map((a) => a.partition))
        break
      } catch (err) {
        // Without them a new subscription would start at the wrong place.
        this.log.debug({ err }, 'committed offsets not available yet')
        if (this.stopping) break
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
    const statuses = this.deps.store.status(this.id)
    const list = assignment.map((a) => {
      const c = committed.get(a.partition)
      const start = this.sub.start[String(a.partition)]
      const offset = c !== undefined && c >= 0 ? c : start ?? OFFSET_BEGINNING
      const lane = new Lane(a.partition, offset, { ...emptyStatus(), ...statuses.get(a.partition) })
      this.lanes.set(a.partition, lane)
      return { topic: a.topic, partition: a.partition, offset }
    })
    try {
      if (this.cooperative()) client.incrementalAssign(list)
      else client.assign(list)
    } catch (err) {
      this.log.warn({ err }, 'webhook subscription assign failed')
    }
    this.log.debug({ partitions: list.map((l) => l.partition) }, 'webhook subscription partitions assigned')
  }

  private async onRevoke (assignment: Array<{ topic: string, partition: number }>): Promise<void> {
    const client = this.client
    if (client === null) return
    const lost = client.assignmentLost()
    const lanes = assignment.map((a) => this.lanes.get(a.partition)).filter((l): l is Lane => l !== undefined)
    for (const lane of lanes) lane.stop()
    await Promise.all(lanes.map((l) => l.running))
    if (!lost && this.sub.qos !== 'auto') {
      for (const lane of lanes) if (lane.next > lane.committed) this.pendingCommits.set(lane.partition, lane.next)
      await this.flushCommits()
    }
    for (const lane of lanes) {
      this.writeStatus(lane)
      this.lanes.delete(lane.partition)
    }
    try {
      if (this.cooperative()) client.incrementalUnassign(assignment)
      else client.unassign()
    } catch (err) {
      this.log.debug({ err }, 'webhook subscription unassign failed')
    }
    this.log.debug({ partitions: assignment.map((a) => a.partition), lost }, 'webhook subscription partitions revoked')
  }

  private writeStatuses (): void {
    for (const lane of this.lanes.values()) if (lane.dirty) this.writeStatus(lane)
  }

  private writeStatus (lane: Lane): void {
    if (!lane.dirty) return
    lane.dirty = false
    this.deps.store.putStatus(this.id, lane.partition, { ...lane.status })
      .catch((err: unknown) => this.log.debug({ err }, 'could not write webhook delivery statistics'))
  }

  /**
   * Leaves the group: the partitions are revoked (their requests in flight
   * end first, up to the response timeout and a grace) and committed, then
   * the consumer closes.
   */
  async stop (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    await this.started
    const client = this.client
    if (client === null) return
    for (const lane of this.lanes.values()) lane.stop()
    // Unsubscribing makes librdkafka revoke everything through the rebalance
    // callback on the next polls, which go on until it has, so closing the
    // client afterwards has nothing left to wait for on a libuv thread.
    try {
      client.unsubscribe()
    } catch (err) {
      this.log.debug({ err }, 'webhook subscription unsubscribe failed')
    }
    const grace = setTimeout(() => this.requests.abort(), this.deps.webhooks.response_timeout_ms + STOP_GRACE_MS)
    const deadline = Date.now() + this.deps.webhooks.response_timeout_ms + 2 * STOP_GRACE_MS
    while (this.lanes.size > 0 && Date.now() < deadline) {
      this.schedulePoll(0)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await this.rebalancing
    clearTimeout(grace)
    if (this.pollTimer !== null) clearTimeout(this.pollTimer)
    this.pollTimer = null
    await this.polling
    if (this.statusTimer !== null) clearInterval(this.statusTimer)
    if (this.commitTimer !== null) clearTimeout(this.commitTimer)
    this.writeStatuses()
    this.client = null
    await new Promise<void>((resolve) => client.disconnect(() => resolve()))
  }
}

function filterOf (sub: Subscription): RecordFilter {
  return {
    key: sub.key === null ? null : Buffer.from(sub.key),
    headers: Object.entries(sub.headers).map(([name, value]) => ({ name, value: Buffer.from(value) }))
  }
}

function bytes (v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

function describeRecord (topic: string, m: ConsumerMessage): string {
  return `${topic} partition ${m.partition} offset ${m.offset}`
}
