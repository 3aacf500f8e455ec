// Subscriptions that name topics the cluster does not have yet. librdkafka
// keeps such a subscription but only notices the topic on its next periodic
// metadata refresh (topic.metadata.refresh.interval.ms, 5 minutes by
// default). The proxy's own metadata view is refreshed far more often
// (kafka.metadata_refresh_ms), so once a watched topic shows up there the
// instance's own client fetches all topics' metadata, which librdkafka checks
// its subscription against, rejoining the group to consume the new topic.
// (Subscribing again to the same list does not do it: measured, no records
// within 60 s.)
import type { ClusterMetadata } from './metadata.js'
import type { Logger } from '../logger.js'

/** The part of a consumer instance the watch needs. */
export interface Watchable {
  readonly group: string
  readonly name: string
  subscription (): string[]
  refreshMetadata (): Promise<void>
}

interface Watched {
  topics: string[]
  missing: Set<string>
}

export class SubscriptionWatch {
  private readonly watched = new Map<Watchable, Watched>()
  private timer: NodeJS.Timeout | null = null

  constructor (
    private readonly metadata: ClusterMetadata,
    private readonly intervalMs: number,
    private readonly log: Logger
  ) {}

  /** Topics of the subscription `topics` that the cluster does not have, per the cached view. */
  missing (topics: string[]): string[] {
    const view = this.metadata.cached()
    return view === null ? [] : topics.filter((t) => !view.topics.has(t))
  }

  /** Replaces what is watched for this instance (an empty `missing` stops watching it). */
  watch (instance: Watchable, topics: string[], missing: string[]): void {
    if (missing.length === 0) {
      this.watched.delete(instance)
      return
    }
    this.watched.set(instance, { topics: [...topics], missing: new Set(missing) })
    if (this.timer === null) {
      this.timer = setInterval(() => this.check(), this.intervalMs)
      this.timer.unref()
    }
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.watched.clear()
  }

  private check (): void {
    const view = this.metadata.cached()
    for (const [instance, w] of this.watched) {
      // A later subscribe, unsubscribe or assign replaced this subscription.
      if (!sameTopics(instance.subscription(), w.topics)) {
        this.watched.delete(instance)
        continue
      }
      if (view === null) continue
      const appeared = [...w.missing].filter((t) => view.topics.has(t))
      if (appeared.length === 0) continue
      for (const t of appeared) w.missing.delete(t)
      if (w.missing.size === 0) this.watched.delete(instance)
      this.log.debug({ group: instance.group, instance: instance.name, topics: appeared }, 'subscribed topics appeared; refreshing the consumer metadata')
      instance.refreshMetadata().catch(() => this.watched.delete(instance))
    }
    if (this.watched.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}

function sameTopics (a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}
