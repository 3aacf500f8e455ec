// Topic auto-creation on first produce (and on subscribe), decided by policy:
//   broker  create exactly when the cluster's brokers would (auto.create.topics.enable)
//   always  create even when the brokers would not
//   never   never create; a missing topic is 40401
//
// Kafka's own auto-creation is a side effect of a Metadata request that names
// the topic with AllowAutoTopicCreation set (librdkafka sends it when its
// producer/consumer property allow.auto.create.topics is true) and it happens
// only on a broker with auto.create.topics.enable=true, with the broker's
// num.partitions and default.replication.factor. The proxy keeps that
// librdkafka property off and creates with CreateTopics instead, asking for
// the same broker defaults (-1, KIP-464): the policy, not a metadata refresh,
// decides, a topic deleted under a queued record is never silently recreated,
// and a refusal is known at once instead of after librdkafka's metadata
// timeout.
import { ProxyError } from '../errors.js'
import type { Logger } from '../logger.js'
import { adminError, KAFKA } from './errors.js'
import type { ClusterMetadata, TopicInfo } from './metadata.js'
import { KafkaProtocolError, type KafkaAdmin } from './admin.js'

export type AutoCreateMode = 'broker' | 'always' | 'never'

export interface AutoCreateOptions {
  mode: AutoCreateMode
  /** Bounds the creation and the wait for the new topic's leaders. */
  requestTimeoutMs: number
}

// auto.create.topics.enable is a read-only broker config (a change needs a
// broker restart), so a minute-old answer is current in practice; a failed
// read is retried sooner.
const SETTING_TTL_MS = 60_000
const SETTING_RETRY_MS = 5_000

// Kafka's rule for topic names (org.apache.kafka.common.internals.Topic):
// a name it would refuse is simply not found, without a round trip.
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

export function isLegalTopicName (name: string): boolean {
  return LEGAL_TOPIC.test(name) && name !== '.' && name !== '..'
}

export class TopicAutoCreate {
  private setting: { allows: boolean, until: number } | null = null
  private reading: Promise<boolean> | null = null
  private readonly creating = new Map<string, Promise<TopicInfo | null>>()
  private warned = false

  constructor (
    private readonly admin: KafkaAdmin,
    private readonly metadata: ClusterMetadata,
    private readonly opts: AutoCreateOptions,
    private readonly log: Logger
  ) {}

  get mode (): AutoCreateMode {
    return this.opts.mode
  }

  /**
   * Reads the brokers' setting ahead of the first request that needs it. A
   * failure here (the cluster still starting) is not remembered.
   */
  warm (): void {
    if (this.opts.mode !== 'broker' || this.reading !== null) return
    this.reading = this.readSetting(false).finally(() => { this.reading = null })
  }

  /** Whether a missing topic would be created now. */
  async allowed (): Promise<boolean> {
    if (this.opts.mode === 'never') return false
    if (this.opts.mode === 'always') return true
    return await this.brokerAllows()
  }

  /**
   * Creates a topic that the cluster does not have, when the policy allows,
   * and waits until every partition has a leader. Null when it may not be
   * created, so the caller answers 40401. Concurrent calls share one creation.
   */
  async create (name: string): Promise<TopicInfo | null> {
    if (!isLegalTopicName(name) || !await this.allowed()) return null
    let pending = this.creating.get(name)
    if (pending === undefined) {
      pending = this.createAndWait(name).finally(() => this.creating.delete(name))
      this.creating.set(name, pending)
    }
    return await pending
  }

  private async createAndWait (name: string): Promise<TopicInfo | null> {
    const deadline = Date.now() + this.opts.requestTimeoutMs
    try {
      await this.admin.createTopic({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }, false)
      this.log.info({ topic: name, mode: this.opts.mode }, 'topic auto-created')
    } catch (err) {
      // Someone else (another proxy process, the broker itself) was first.
      if (!(err instanceof KafkaProtocolError && err.code === KAFKA.TOPIC_ALREADY_EXISTS)) {
        const mapped = adminError(err)
        throw new ProxyError(mapped.key, `Topic ${name} could not be created: ${mapped.message}`, { persisted: 'no', cause: err })
      }
    }
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const view = await this.metadata.refresh().catch(() => null)
      const topic = view?.topics.get(name)
      if (topic !== undefined && topic.partitions.every((p) => p !== undefined && p.leader >= 0)) return topic
      if (Date.now() + wait > deadline) {
        throw new ProxyError('kafkaRetriable', `Topic ${name} was created but its partitions have no leader yet; retry`, { persisted: 'no' })
      }
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  private brokerAllows (): Promise<boolean> {
    const now = Date.now()
    if (this.setting !== null && now < this.setting.until) return Promise.resolve(this.setting.allows)
    this.reading ??= this.readSetting(true).finally(() => { this.reading = null })
    return this.reading
  }

  // A static broker config is only visible on a broker resource (the ''
  // resource holds dynamic cluster-wide defaults only). Brokers of one
  // cluster normally share it; the first one listed speaks for them.
  private async readSetting (rememberFailure: boolean): Promise<boolean> {
    try {
      const cluster = await this.admin.describeCluster()
      const broker = cluster.brokers[0]
      if (broker === undefined) throw new Error('the cluster lists no brokers')
      const entries = await this.admin.describeConfigs({ type: 'BROKER', name: String(broker.id) })
      const entry = entries.find((e) => e.name === 'auto.create.topics.enable')
      // Kafka's default when a broker does not report it.
      const allows = entry?.value === undefined || entry.value === null ? true : entry.value === 'true'
      if (this.setting === null || this.setting.allows !== allows) {
        this.log.info({ broker: broker.id, auto_create_topics_enable: allows }, 'broker topic auto-creation setting')
      }
      this.setting = { allows, until: Date.now() + SETTING_TTL_MS }
      this.warned = false
      return allows
    } catch (err) {
      if (!rememberFailure) return false
      if (!this.warned) {
        this.log.warn({ err }, 'cannot read the brokers\' auto.create.topics.enable; missing topics are not created until it can be read')
        this.warned = true
      }
      this.setting = { allows: false, until: Date.now() + SETTING_RETRY_MS }
      return false
    }
  }
}
