// Quotas per principal ([quotas]): records and bytes produced per second,
// bytes consumed per second, and streams open at once, for the whole proxy
// instance (all of its worker processes together; each instance counts on
// its own). Over a limit a request is answered 429/42902 with Retry-After,
// or, where the API answers per record (v3 records:batch and the streaming
// endpoint), that record is.
//
// Sharing across workers: a client on one keep-alive connection reaches one
// worker, another spreads over all of them, so neither "rate / workers" per
// process nor anything per process is right. The primary holds the
// instance's ledger: per principal, one token bucket per rate (TokenBucket of
// src/api/v3/rate-limit.ts: one second of the rate, refilled continuously, a
// request larger than a whole bucket passing when it is full and leaving it in
// debt) and the count of its open streams. Workers lease tokens from it over
// the cluster IPC channel in chunks of a tenth of a second of the rate, and
// spend them locally: the produce hot path is a comparison and a subtraction,
// with no IPC and no allocation. A worker asks for its next lease when half
// of the current one is spent, so a steady client does not wait for one.
// Only a worker with too few tokens for a request waits for the primary (one
// round trip, about 0.1 ms); when the primary has none to give it answers when
// a lease will be there, and the worker refuses locally until then, without
// asking again (the Retry-After of its 429s).
//
// Accuracy: every token spent anywhere was taken from the primary's bucket,
// so the instance never passes more than the rate plus the bucket's one
// second of burst. It may pass less by the tokens leased to a worker that the
// principal's traffic then leaves: at most one and a half leases per worker
// (0.15 s of the rate), once, not per second.
//
// Consumed bytes are known only after a read: a read is admitted while the
// principal has any tokens, its bytes are spent afterwards, and a read that
// spent more than the worker's lease reports the difference to the primary
// (`debit`), which may put the bucket in debt: the principal's next reads are
// refused on every worker until the debt is paid off. A read is never refused
// after the records were taken from Kafka; its size is bounded by one second
// of the rate instead (v2 and v3 reads cap max_bytes to it).
//
// Streams are counted exactly: each open asks the primary, each end tells
// it, and the streams of a worker that exits are forgotten with it.
//
// Without a principal (no authentication configured) no quota applies; with
// auth.anonymous = true every anonymous client shares the principal
// `anonymous`, and its quota. A principal is its name, whichever method
// authenticated it.
import cluster from 'node:cluster'
import { ProxyError, type Persisted } from '../errors.js'
import type { QuotasConfig } from '../config/schema.js'
import type { Logger } from '../logger.js'
import { TokenBucket, type Clock } from '../api/v3/rate-limit.js'
import { workerChannel, type WorkerChannel } from '../shards/directory.js'
import type { Principal } from './principal.js'

export type QuotaKind = 'produce_records' | 'produce_bytes' | 'consume_bytes'
const KINDS: readonly QuotaKind[] = ['produce_records', 'produce_bytes', 'consume_bytes']

/** A lease is this share of one second of the rate. */
export const LEASE_FRACTION = 0.1
// Principals whose state a process keeps; beyond it idle ones are dropped
// (a dropped worker entry loses at most its lease, a dropped ledger entry
// was full, i.e. indistinguishable from a new one).
const MAX_PRINCIPALS = 10_000
const IPC_TIMEOUT_MS = 2000

/** True when [quotas] sets any limit. */
export function quotasConfigured (q: QuotasConfig): boolean {
  return q.produce_records_per_s > 0 || q.produce_bytes_per_s > 0 || q.consume_bytes_per_s > 0 || q.concurrent_streams > 0
}

function rateOf (q: QuotasConfig, kind: QuotaKind): number {
  switch (kind) {
    case 'produce_records': return q.produce_records_per_s
    case 'produce_bytes': return q.produce_bytes_per_s
    case 'consume_bytes': return q.consume_bytes_per_s
  }
}

/** A 429 with its Retry-After header (RFC 9110 §10.2.3: whole seconds). */
export class QuotaExceeded extends ProxyError {
  readonly headers: Record<string, string>
  readonly retryAfterS: number
  constructor (message: string, retryAfterS: number, persisted?: Persisted) {
    super('quotaExceeded', `${message}; retry after ${retryAfterS} s.`, persisted === undefined ? undefined : { persisted })
    this.retryAfterS = retryAfterS
    this.headers = { 'retry-after': String(retryAfterS) }
  }
}

// ---- The ledger: in the primary, or in the only process ----------------------

/** What a lease request is answered: tokens granted, or (granted 0) how long until a lease is there. */
export interface LeaseReply {
  granted: number
  retryMs: number
  /** The primary did not answer in time: refusals for retryMs are 503, not 429. */
  unreachable?: true
}

interface LedgerEntry {
  readonly buckets: Array<TokenBucket | null>
  streams: number
}

export class QuotaLedger {
  private readonly entries = new Map<string, LedgerEntry>()
  private readonly rates: number[]
  /** Streams per owner (a worker id) and principal, forgotten when the owner exits. */
  private readonly owners = new Map<number, Map<string, number>>()

  constructor (private readonly limits: QuotasConfig, private readonly now: Clock = () => performance.now()) {
    this.rates = KINDS.map((k) => rateOf(limits, k))
  }

  /**
   * Grants `want` tokens when the bucket has them (or is full: a request
   * larger than a second of the rate), else all it has when that is at least
   * `need`, else nothing and the time until `want` (at most a bucket) is there.
   */
  lease (principal: string, kind: QuotaKind, want: number, need: number): LeaseReply {
    const i = KINDS.indexOf(kind)
    const rate = this.rates[i] as number
    const bucket = rate > 0 ? this.entry(principal).buckets[i] ?? null : null
    if (bucket === null) return { granted: want, retryMs: 0 }
    const t = this.now()
    if (bucket.allows(want, t)) {
      bucket.take(want)
      return { granted: want, retryMs: 0 }
    }
    const available = bucket.available(t)
    if (available >= need && available > 0) {
      bucket.take(available)
      return { granted: available, retryMs: 0 }
    }
    return { granted: 0, retryMs: Math.max(1, (Math.min(want, rate) - available) * 1000 / rate) }
  }

  /** Takes `amount` unconditionally (consumed bytes beyond a lease); the bucket may go into debt. */
  debit (principal: string, kind: QuotaKind, amount: number): void {
    const bucket = this.entry(principal).buckets[KINDS.indexOf(kind)]
    if (bucket !== null && bucket !== undefined && amount > 0) bucket.take(amount)
  }

  /** Counts a stream of `principal` in for `owner`; false when it holds concurrent_streams already. */
  openStream (principal: string, owner: number): boolean {
    const max = this.limits.concurrent_streams
    const entry = this.entry(principal)
    if (max > 0 && entry.streams >= max) return false
    entry.streams++
    let mine = this.owners.get(owner)
    if (mine === undefined) {
      mine = new Map()
      this.owners.set(owner, mine)
    }
    mine.set(principal, (mine.get(principal) ?? 0) + 1)
    return true
  }

  closeStream (principal: string, owner: number): void {
    const mine = this.owners.get(owner)
    const n = mine?.get(principal)
    if (mine === undefined || n === undefined) return
    if (n <= 1) mine.delete(principal)
    else mine.set(principal, n - 1)
    const entry = this.entries.get(principal)
    if (entry !== undefined && entry.streams > 0) entry.streams--
  }

  /** Forgets the streams of an owner that is gone (a worker that exited). */
  dropOwner (owner: number): void {
    const mine = this.owners.get(owner)
    if (mine === undefined) return
    this.owners.delete(owner)
    for (const [principal, n] of mine) {
      const entry = this.entries.get(principal)
      if (entry !== undefined) entry.streams = Math.max(0, entry.streams - n)
    }
  }

  /** Open streams of `principal` on the instance. */
  streams (principal: string): number {
    return this.entries.get(principal)?.streams ?? 0
  }

  private entry (principal: string): LedgerEntry {
    let e = this.entries.get(principal)
    if (e === undefined) {
      if (this.entries.size >= MAX_PRINCIPALS) this.evict()
      const t = this.now()
      e = { buckets: this.rates.map((r) => r > 0 ? new TokenBucket(r, t) : null), streams: 0 }
      this.entries.set(principal, e)
    }
    return e
  }

  private evict (): void {
    const t = this.now()
    for (const [p, e] of this.entries) {
      if (e.streams === 0 && e.buckets.every((b) => b === null || b.full(t))) this.entries.delete(p)
    }
    // Still full of busy principals: drop the oldest tenth without streams,
    // which at worst hands them a fresh second of their rates.
    let drop = Math.ceil(MAX_PRINCIPALS / 10)
    for (const [p, e] of this.entries) {
      if (this.entries.size < MAX_PRINCIPALS || drop-- <= 0) break
      if (e.streams === 0) this.entries.delete(p)
    }
  }
}

// ---- Where a worker's requests go ---------------------------------------------

/** The ledger as a worker reaches it: directly in a single process, over IPC in a cluster worker. */
export interface QuotaSource {
  lease (principal: string, kind: QuotaKind, want: number, need: number): LeaseReply | Promise<LeaseReply>
  debit (principal: string, kind: QuotaKind, amount: number): void
  openStream (principal: string): boolean | Promise<boolean>
  closeStream (principal: string): void
}

/** Worker to primary. */
export type QuotaRequest =
  | { type: 'quota', op: 'lease', id: number, principal: string, kind: QuotaKind, want: number, need: number }
  | { type: 'quota', op: 'debit', principal: string, kind: QuotaKind, amount: number }
  | { type: 'quota', op: 'open', id: number, principal: string }
  | { type: 'quota', op: 'close', principal: string }

/** Primary to worker, by the request's id. */
export type QuotaReply =
  | { type: 'quota', op: 'leased', id: number, granted: number, retryMs: number }
  | { type: 'quota', op: 'opened', id: number, ok: boolean }

/** The worker's end of the IPC channel: `process` in a cluster worker. */
export type QuotaChannel = WorkerChannel<QuotaRequest>

function localSource (ledger: QuotaLedger): QuotaSource {
  return {
    lease: (principal, kind, want, need) => ledger.lease(principal, kind, want, need),
    debit: (principal, kind, amount) => ledger.debit(principal, kind, amount),
    openStream: (principal) => ledger.openStream(principal, 0),
    closeStream: (principal) => ledger.closeStream(principal, 0)
  }
}

type Waiter = (reply: QuotaReply | null) => void

class IpcSource implements QuotaSource {
  private nextId = 1
  private readonly waiting = new Map<number, Waiter>()

  constructor (private readonly channel: QuotaChannel, private readonly log: Logger, private readonly timeoutMs: number) {
    channel.on('message', (msg) => {
      if (!isReply(msg)) return
      const w = this.waiting.get(msg.id)
      if (w === undefined) return
      this.waiting.delete(msg.id)
      w(msg)
    })
  }

  async lease (principal: string, kind: QuotaKind, want: number, need: number): Promise<LeaseReply> {
    const r = await this.call({ type: 'quota', op: 'lease', id: this.nextId++, principal, kind, want, need })
    return r !== null && r.op === 'leased' ? r : UNREACHABLE
  }

  debit (principal: string, kind: QuotaKind, amount: number): void {
    this.channel.send({ type: 'quota', op: 'debit', principal, kind, amount }, () => {})
  }

  async openStream (principal: string): Promise<boolean> {
    const r = await this.call({ type: 'quota', op: 'open', id: this.nextId++, principal })
    if (r === null) throw new ProxyError('quotaUnavailable')
    return r.op === 'opened' && r.ok
  }

  closeStream (principal: string): void {
    this.channel.send({ type: 'quota', op: 'close', principal }, () => {})
  }

  /** The reply, or null when the primary did not answer in time (or the channel is closed). */
  private call (msg: QuotaRequest & { id: number }): Promise<QuotaReply | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msg.id)
        this.log.warn({ op: msg.op, timeout_ms: this.timeoutMs }, 'the quota ledger in the primary did not answer; refusing')
        resolve(null)
      }, this.timeoutMs)
      this.waiting.set(msg.id, (reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      this.channel.send(msg, (err) => {
        if (err === null || err === undefined || !this.waiting.has(msg.id)) return
        this.waiting.delete(msg.id)
        clearTimeout(timer)
        resolve(null)
      })
    })
  }
}

// An unanswered lease is a refusal for a second, answered 503 (quotaUnavailable).
const UNREACHABLE: LeaseReply = Object.freeze({ granted: 0, retryMs: 1000, unreachable: true })

function isReply (msg: unknown): msg is QuotaReply {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'quota' && typeof (msg as { id?: unknown }).id === 'number'
}

function isRequest (msg: unknown): msg is QuotaRequest {
  if (typeof msg !== 'object' || msg === null) return false
  const m = msg as Record<string, unknown>
  if (m.type !== 'quota' || typeof m.principal !== 'string') return false
  switch (m.op) {
    case 'lease': return typeof m.id === 'number' && KINDS.includes(m.kind as QuotaKind) && typeof m.want === 'number' && typeof m.need === 'number'
    case 'debit': return KINDS.includes(m.kind as QuotaKind) && typeof m.amount === 'number'
    case 'open': return typeof m.id === 'number'
    case 'close': return true
    default: return false
  }
}

/** What the service needs of a cluster `Worker`. */
export interface QuotaWorker {
  readonly id: number
  send (msg: QuotaReply, cb: (err: Error | null) => void): unknown
}

/** What the service needs of `node:cluster`; tests pass an EventEmitter. */
export interface QuotaHub {
  on (event: 'message', listener: (worker: QuotaWorker, msg: unknown) => void): unknown
  on (event: 'exit', listener: (worker: QuotaWorker) => void): unknown
}

/** Installed by the primary when [quotas] sets a limit: the instance's ledger, answering every worker. */
export function serveQuotas (limits: QuotasConfig, hub: QuotaHub = cluster, now?: Clock): QuotaLedger {
  const ledger = new QuotaLedger(limits, now)
  // The callback keeps a closed channel from being raised as an 'error'
  // event; a worker that cannot hear us is exiting.
  const ignore = (): void => {}
  hub.on('message', (worker, msg) => {
    if (!isRequest(msg)) return
    switch (msg.op) {
      case 'lease': {
        const r = ledger.lease(msg.principal, msg.kind, msg.want, msg.need)
        worker.send({ type: 'quota', op: 'leased', id: msg.id, granted: r.granted, retryMs: r.retryMs }, ignore)
        break
      }
      case 'debit': ledger.debit(msg.principal, msg.kind, msg.amount); break
      case 'open': worker.send({ type: 'quota', op: 'opened', id: msg.id, ok: ledger.openStream(msg.principal, worker.id) }, ignore); break
      case 'close': ledger.closeStream(msg.principal, worker.id); break
    }
  })
  hub.on('exit', (worker) => ledger.dropOwner(worker.id))
  return ledger
}

// ---- A worker's view of one principal -----------------------------------------

/** One rate of one principal in a worker: the tokens leased and not yet spent. */
class Allowance {
  tokens = 0
  /** performance.now() before which the primary said it has no lease to give. */
  refusedUntil = 0
  /** Set while the primary was unreachable: refusals are 503, not 429. */
  unreachable = false
  private asking: Promise<void> | null = null
  private readonly lowWater: number

  constructor (private readonly owner: PrincipalQuota, readonly kind: QuotaKind, readonly rate: number, readonly lease: number) {
    this.lowWater = lease / 2
  }

  spend (n: number): void {
    this.tokens -= n
    if (this.tokens < this.lowWater && this.asking === null) this.prefetch()
  }

  /**
   * Asks the primary for at least `need` more tokens (a lease, or more for a
   * large request); undefined when the answer came at once (a single
   * process), else a promise that settles with it. One request at a time.
   */
  ask (need: number): Promise<void> | undefined {
    if (this.asking !== null) return this.asking
    const reply = this.owner.quotas.source.lease(this.owner.name, this.kind, Math.max(this.lease, need), need)
    if (!(reply instanceof Promise)) {
      this.apply(reply)
      return undefined
    }
    const asking = reply.then((r) => {
      this.asking = null
      this.apply(r)
    })
    this.asking = asking
    return asking
  }

  /** The refusal while the primary has nothing to give; null when it may be asked. */
  refusal (now: number): ProxyError | null {
    if (this.refusedUntil <= now) return null
    if (this.unreachable) return new ProxyError('quotaUnavailable')
    return this.owner.quotas.exceeded(this.kind, this.owner.name, Math.max(1, Math.ceil((this.refusedUntil - now) / 1000)))
  }

  private prefetch (): void {
    const now = this.owner.quotas.now()
    if (this.refusedUntil > now) return
    this.ask(this.lease)
  }

  private apply (r: LeaseReply): void {
    if (r.granted > 0) {
      this.tokens += r.granted
      this.unreachable = false
      return
    }
    this.unreachable = r.unreachable === true
    this.refusedUntil = this.owner.quotas.now() + r.retryMs
  }
}

type Verdict = ProxyError | null

/** The quotas of one principal in this process; handlers get it once per request (a stream: once). */
export class PrincipalQuota {
  readonly records: Allowance | null
  readonly bytes: Allowance | null
  readonly consume: Allowance | null

  constructor (readonly quotas: Quotas, readonly name: string, limits: QuotasConfig) {
    const allowance = (kind: QuotaKind): Allowance | null => {
      const rate = rateOf(limits, kind)
      return rate > 0 ? new Allowance(this, kind, rate, Math.max(1, rate * LEASE_FRACTION)) : null
    }
    this.records = allowance('produce_records')
    this.bytes = allowance('produce_bytes')
    this.consume = allowance('consume_bytes')
  }

  /** True when produced bytes are limited: only then need callers measure them. */
  get countsBytes (): boolean {
    return this.bytes !== null
  }

  /**
   * Admits and counts `records` records of `bytes` bytes (key + value):
   * null when they may go, the 429 when they may not, a promise of either
   * while the primary is asked. A refused produce takes nothing.
   */
  produce (records: number, bytes: number): Verdict | Promise<Verdict> {
    const r = this.records
    const b = this.bytes
    if ((r === null || r.tokens >= records) && (b === null || b.tokens >= bytes)) {
      if (r !== null) r.spend(records)
      if (b !== null) b.spend(bytes)
      return null
    }
    const v = this.tryProduce(records, bytes)
    return v instanceof Promise ? this.waitProduce(v, records, bytes) : v
  }

  /** Admits a read while the principal has consume tokens; its bytes are counted by consumed(). */
  admitRead (): Verdict | Promise<Verdict> {
    const c = this.consume
    if (c === null || c.tokens > 0) return null
    const v = this.tryRead(c)
    return v instanceof Promise ? this.waitRead(v, c) : v
  }

  /** Counts the key and value bytes a read returned; the part beyond this worker's lease goes to the primary's bucket. */
  consumed (bytes: number): void {
    const c = this.consume
    if (c === null) return
    c.tokens -= bytes
    if (c.tokens < 0) {
      this.quotas.source.debit(this.name, 'consume_bytes', -c.tokens)
      c.tokens = 0
    }
  }

  /** The most bytes one read may ask for: one second of the consume rate; Infinity without a consume quota. */
  get readLimit (): number {
    return this.consume === null ? Number.POSITIVE_INFINITY : this.consume.rate
  }

  // Three rounds: a grant another request of this principal spent before
  // this one could is asked for again; each round either grants or refuses.
  private async waitProduce (first: Promise<void>, records: number, bytes: number): Promise<Verdict> {
    let pending: Promise<void> = first
    for (let round = 0; round < 3; round++) {
      await pending
      const v = this.tryProduce(records, bytes)
      if (!(v instanceof Promise)) return v
      pending = v
    }
    return this.quotas.exceeded(this.records === null ? 'produce_bytes' : 'produce_records', this.name, 1)
  }

  private async waitRead (first: Promise<void>, c: Allowance): Promise<Verdict> {
    let pending: Promise<void> = first
    for (let round = 0; round < 3; round++) {
      await pending
      const v = this.tryRead(c)
      if (!(v instanceof Promise)) return v
      pending = v
    }
    return this.quotas.exceeded('consume_bytes', this.name, 1)
  }

  private tryProduce (records: number, bytes: number): Verdict | Promise<void> {
    const r = this.records
    const b = this.bytes
    // A single process's ledger answers at once: then two rounds decide.
    for (let round = 0; round < 2; round++) {
      const rShort = r !== null && r.tokens < records
      const bShort = b !== null && b.tokens < bytes
      if (!rShort && !bShort) {
        if (r !== null) r.spend(records)
        if (b !== null) b.spend(bytes)
        return null
      }
      const now = this.quotas.now()
      const refused = (rShort ? (r as Allowance).refusal(now) : null) ?? (bShort ? (b as Allowance).refusal(now) : null)
      if (refused !== null) return refused
      const pr = rShort ? (r as Allowance).ask(records - (r as Allowance).tokens) : undefined
      const pb = bShort ? (b as Allowance).ask(bytes - (b as Allowance).tokens) : undefined
      if (pr !== undefined || pb !== undefined) return pb === undefined ? pr as Promise<void> : pr === undefined ? pb : Promise.all([pr, pb]).then(() => {})
    }
    return this.quotas.exceeded(r === null ? 'produce_bytes' : 'produce_records', this.name, 1)
  }

  private tryRead (c: Allowance): Verdict | Promise<void> {
    for (let round = 0; round < 2; round++) {
      if (c.tokens > 0) return null
      const refused = c.refusal(this.quotas.now())
      if (refused !== null) return refused
      const p = c.ask(1)
      if (p !== undefined) return p
    }
    return this.quotas.exceeded('consume_bytes', this.name, 1)
  }
}

export interface QuotasOptions {
  limits: QuotasConfig
  log: Logger
  /** Defaults to the cluster IPC channel in a cluster worker; null: this process holds the ledger. */
  channel?: QuotaChannel | null
  now?: Clock
  timeoutMs?: number
}

/** A process's quotas: one PrincipalQuota per principal seen, the ledger reached through `source`. */
export class Quotas {
  readonly source: QuotaSource
  readonly now: Clock
  private readonly principals = new Map<string, PrincipalQuota>()
  private readonly messages: Readonly<Record<QuotaKind, string>>

  /** Null when [quotas] sets no limit: then handlers pay one null check. */
  static create (opts: QuotasOptions): Quotas | null {
    return quotasConfigured(opts.limits) ? new Quotas(opts) : null
  }

  private constructor (private readonly opts: QuotasOptions) {
    this.now = opts.now ?? (() => performance.now())
    const channel = opts.channel === undefined ? workerChannel<QuotaRequest>() : opts.channel
    this.source = channel === null ? localSource(new QuotaLedger(opts.limits, this.now)) : new IpcSource(channel, opts.log, opts.timeoutMs ?? IPC_TIMEOUT_MS)
    const q = opts.limits
    this.messages = {
      produce_records: `may produce ${q.produce_records_per_s} records per second through this proxy instance`,
      produce_bytes: `may produce ${q.produce_bytes_per_s} record bytes per second through this proxy instance`,
      consume_bytes: `may read ${q.consume_bytes_per_s} record bytes per second through this proxy instance`
    }
  }

  /** The quotas of a request's principal; null without one (no authentication configured). */
  of (p: Principal | undefined): PrincipalQuota | null {
    if (p === undefined) return null
    let q = this.principals.get(p.name)
    if (q === undefined) {
      if (this.principals.size >= MAX_PRINCIPALS) {
        // The oldest tenth; each loses at most the lease it held.
        let drop = Math.ceil(MAX_PRINCIPALS / 10)
        for (const name of this.principals.keys()) {
          if (drop-- <= 0) break
          this.principals.delete(name)
        }
      }
      q = new PrincipalQuota(this, p.name, this.opts.limits)
      this.principals.set(p.name, q)
    }
    return q
  }

  /**
   * Admits a stream of `p` (SSE, WebSocket, cursor page): refused while the
   * principal's consume quota has no tokens, or when it holds
   * concurrent_streams already. Resolves to the function that ends it (call
   * it once). Without a principal, nothing is counted.
   */
  async admitStream (p: Principal | undefined): Promise<() => void> {
    const q = this.of(p)
    if (q === null) return noop
    await enforce(q.admitRead())
    const max = this.opts.limits.concurrent_streams
    if (max === 0) return noop
    let ok = this.source.openStream(q.name)
    if (ok instanceof Promise) ok = await ok
    if (!ok) throw new QuotaExceeded(`Quota exceeded: ${q.name} may hold ${max} streams open at once on this proxy instance`, 1)
    let open = true
    return () => {
      if (!open) return
      open = false
      this.source.closeStream(q.name)
    }
  }

  /** The 429 of a rate. Produce refusals say that nothing was written. */
  exceeded (kind: QuotaKind, name: string, retryAfterS: number): QuotaExceeded {
    return new QuotaExceeded(`Quota exceeded: ${name} ${this.messages[kind]}`, retryAfterS, kind === 'consume_bytes' ? undefined : 'no')
  }
}

const noop = (): void => {}

/** Throws a verdict's refusal; returns a promise only when the verdict is one. */
export function enforce (v: ProxyError | null | Promise<ProxyError | null>): Promise<void> | undefined {
  if (v instanceof Promise) return v.then(throwRefusal)
  if (v !== null) throw v
  return undefined
}

function throwRefusal (e: ProxyError | null): void {
  if (e !== null) throw e
}

/** The bytes of a record's key and value (as the consumers' max_bytes and /metrics count them). */
export function recordBytes (key: { readonly length: number } | null | undefined, value: { readonly length: number } | null | undefined): number {
  return (key === null || key === undefined ? 0 : key.length) + (value === null || value === undefined ? 0 : value.length)
}
