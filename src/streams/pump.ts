// The loop of one live stream (SSE or WebSocket): read a batch, write it,
// wait while the client is behind, send a heartbeat when idle, and end with a
// final event carrying the id to resume from. The transport is a Sink; this
// loop is the same for both.
//
// Backpressure: a batch is read only once the previous one was taken by the
// socket (its write buffer drained), so a client that reads slowly slows its
// own reader and nothing else, and the memory a stream holds is one batch
// plus the socket's buffer.
import { ProxyError } from '../errors.js'
import { undecodableError, type Undecodable } from '../render/undecodable.js'
import type { Delivery, StreamEvent } from './delivery.js'
import { encodePosition, type StreamPosition } from './position.js'
import type { Reset } from './start.js'
import { QuotaExceeded, type PrincipalQuota } from '../security/quotas.js'

export interface Sink {
  /** True once the client is gone. */
  readonly closed: boolean
  /** The start of the stream: its position before any record, and the resets of a resumed position. */
  start (id: string, resets: readonly Reset[]): void
  /** Writes events; resolves once the client has taken them (or is gone). */
  events (events: readonly StreamEvent[]): Promise<void>
  /** An idle stream's keep-alive; `id` when the position moved without an event (filtered records). */
  heartbeat (id: string | null): void
  /** The final event (an error, or the end of the process) with the id to resume from, then the close. */
  end (err: ProxyError | null, id: string): Promise<void>
  /** Stops waiting for the client: the stream is ending. */
  abort (): void
}

export interface PumpOptions {
  heartbeatMs: number
  /** Records and bytes read per batch. */
  batchRecords: number
  batchBytes: number
  encodeIds: boolean
  /**
   * Runs when the stream is idle (at each heartbeat): the partitions the
   * topic gained (empty when none), or it throws to end the stream (the
   * topic is gone).
   */
  watch?: () => Promise<StreamPosition>
  /**
   * The principal's consume quota (src/security/quotas.ts): what the stream
   * delivers counts against it (each record's JSON), and while the principal
   * is over it the stream waits (heartbeats go on) instead of reading.
   */
  quota?: PrincipalQuota | null
}

/** How often a stream held by its principal's consume quota looks again at most. */
const QUOTA_WAIT_MS = 1000

/** The position just past the record that stopped a stream, for the error's advice. */
function pastRecord (position: StreamPosition, u: Undecodable, encode: boolean): string {
  position.get(u.topic)?.set(u.partition, u.offset + 1)
  return encodePosition(position, encode)
}

function asProxyError (err: unknown): ProxyError {
  return err instanceof ProxyError ? err : new ProxyError('internal', undefined, { cause: err })
}

export class Pump {
  private ending: ProxyError | null = null
  private running: Promise<void> | null = null
  private wakeSleep: (() => void) | null = null

  constructor (private readonly delivery: Delivery, private readonly sink: Sink, private readonly opts: PumpOptions,
    private readonly resets: readonly Reset[] = []) {}

  /** Streams until the client leaves or `stop`; resolves when the stream is over and its reader released. */
  run (): Promise<void> {
    this.running ??= this.loop()
    return this.running
  }

  /** Ends the stream with `err` as its final event (the process is shutting down, a limit was reached). */
  stop (err: ProxyError): Promise<void> {
    this.ending ??= err
    this.sink.abort()
    this.wakeSleep?.()
    return this.running ?? Promise.resolve()
  }

  /** Whether the quota lets the stream read now; else waits a while (at most until the next heartbeat is due) and says no. */
  private async admitted (quota: PrincipalQuota, lastWrite: number): Promise<boolean> {
    const refused = await quota.admitRead()
    if (refused === null) return true
    const retryMs = refused instanceof QuotaExceeded ? refused.retryAfterS * 1000 : QUOTA_WAIT_MS
    const untilHeartbeat = Math.max(0, lastWrite + this.opts.heartbeatMs - Date.now())
    await this.sleep(Math.max(10, Math.min(retryMs, QUOTA_WAIT_MS, untilHeartbeat)))
    return false
  }

  /** Sleeps `ms`, or less when the stream is stopped. */
  private sleep (ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms)
      this.wakeSleep = () => {
        clearTimeout(t)
        resolve()
      }
    }).finally(() => { this.wakeSleep = null })
  }

  private async loop (): Promise<void> {
    const { delivery, sink, opts } = this
    const tracker = delivery.tracker
    const quota = opts.quota ?? null
    let failure: ProxyError | null = null
    try {
      sink.start(tracker.id(), this.resets)
      let lastWrite = Date.now()
      let sent = tracker.version
      const stopped = (): boolean => sink.closed || this.ending !== null
      while (!stopped()) {
        if (quota !== null && !(await this.admitted(quota, lastWrite))) {
          if (!stopped() && Date.now() - lastWrite >= opts.heartbeatMs) {
            sink.heartbeat(null)
            lastWrite = Date.now()
          }
          continue
        }
        const wait = Math.max(0, lastWrite + opts.heartbeatMs - Date.now())
        // A batch takes at most a second of the principal's consume quota, as a v3 read does.
        const maxBytes = quota === null ? opts.batchBytes : Math.min(opts.batchBytes, quota.readLimit)
        const batch = await delivery.next({ maxRecords: opts.batchRecords, maxBytes, timeoutMs: wait, stopped })
        if (batch.events.length > 0) {
          if (quota !== null) {
            let bytes = 0
            for (const e of batch.events) bytes += e.bytes
            quota.consumed(bytes)
          }
          await sink.events(batch.events)
          lastWrite = Date.now()
          sent = tracker.version
        }
        if (batch.stopped !== null) {
          const past = pastRecord(tracker.position(), batch.stopped, opts.encodeIds)
          failure = undecodableError(batch.stopped, `resume from event id ${past}`)
          break
        }
        if (batch.events.length === 0 && Date.now() - lastWrite >= opts.heartbeatMs && !stopped()) {
          if (opts.watch !== undefined) {
            const gained = await opts.watch()
            if (gained.size > 0) {
              delivery.source.extend(gained)
              for (const [topic, offsets] of gained) tracker.add(topic, offsets)
            }
          }
          sink.heartbeat(tracker.version === sent ? null : tracker.id())
          lastWrite = Date.now()
          sent = tracker.version
        }
      }
    } catch (err) {
      failure = asProxyError(err)
    } finally {
      delivery.source.close(false)
    }
    if (!sink.closed) await sink.end(failure ?? this.ending, tracker.id())
  }
}
