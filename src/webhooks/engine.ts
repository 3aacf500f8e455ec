// The webhook deliveries of one process: a Member (./member.ts) for every
// active subscription in the store, started when one appears or is resumed,
// changed in place when it is patched, stopped when it is paused, stops or
// is deleted. Every process runs one for each subscription; the consumer
// groups decide which process delivers which partition.
import { Member, type MemberDeps } from './member.js'
import type { Subscription } from './subscription.js'

/** What every member gets; the engine supplies `stopWith` itself. */
export type EngineOptions = Omit<MemberDeps, 'stopWith'>

export class WebhookEngine {
  private readonly members = new Map<string, Member>()
  private readonly stopping = new Set<Promise<void>>()
  private closed = false

  constructor (private readonly opts: EngineOptions) {}

  /** Follows the store from now on (it reports every subscription once it has caught up). */
  start (): void {
    this.opts.store.onChange((id, sub) => this.reconcile(id, sub))
  }

  /** Members running in this process, for tests and statistics. */
  get size (): number {
    return this.members.size
  }

  private reconcile (id: string, sub: Subscription | null): void {
    const member = this.members.get(id)
    if (sub === null || sub.state !== 'active' || this.closed) {
      if (member !== undefined) {
        this.members.delete(id)
        this.track(member.stop())
      }
      return
    }
    if (member !== undefined) {
      member.update(sub)
      return
    }
    const created = new Member(sub, {
      ...this.opts,
      log: this.opts.log,
      stopWith: (sid, state, reason) => this.stopWith(sid, state, reason)
    })
    this.members.set(id, created)
    created.start()
  }

  private track (p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.opts.log.warn({ err }, 'stopping a webhook subscription consumer failed'))
      .finally(() => this.stopping.delete(tracked))
    this.stopping.add(tracked)
  }

  /** Writes a stopped state; every process stops its member when it reads it. */
  private stopWith (id: string, state: 'failed' | 'cancelled', reason: string): void {
    const sub = this.opts.store.get(id)
    if (sub === undefined || sub.state !== 'active') return
    this.opts.store.put({ ...sub, state, state_reason: reason, updated_at: Date.now() })
      .catch((err: unknown) => this.opts.log.error({ err, subscription_id: id, state }, 'could not record that a webhook subscription stopped'))
  }

  /** Stops every member: each leaves its groups after its deliveries in flight. */
  async close (): Promise<void> {
    this.closed = true
    for (const member of this.members.values()) this.track(member.stop())
    this.members.clear()
    await Promise.all(this.stopping)
  }
}
