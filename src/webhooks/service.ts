// Webhook subscriptions in one process, built once by the composition root:
// the safety rules, the thread budget, the store reader, the HTTP sender and
// (unless webhooks.enabled is false) the delivery engine.
import type { KafkaConfig, WebhooksConfig } from '../config/schema.js'
import type { KafkaAdmin } from '../kafka/admin.js'
import { KAFKA } from '../kafka/errors.js'
import type { ConsumerGroups } from '../kafka/groups.js'
import type { ClusterMetadata } from '../kafka/metadata.js'
import { webhookStoreProperties } from '../kafka/options.js'
import type { KafkaProducer } from '../kafka/producer.js'
import type { Logger } from '../logger.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { FramingStrip } from '../render/framing.js'
import { ThreadBudget } from './budget.js'
import { WebhookEngine } from './engine.js'
import { hostRules, type HostRules } from './safety.js'
import { Sender } from './sender.js'
import { SubscriptionStore } from './store.js'

export interface WebhooksOptions {
  kafka: KafkaConfig
  webhooks: WebhooksConfig
  /** streams.encode_ids. */
  encodeIds: boolean
  admin: KafkaAdmin
  /** The consumer groups admin client, to delete the groups of deleted subscriptions. */
  groups: ConsumerGroups
  producer: KafkaProducer
  metadata: ClusterMetadata
  registry: SchemaRegistryClient
  /** consumer.strip_schema_framing, for the BINARY, STRING and JSON sides of deliveries. */
  strip: FramingStrip
  log: Logger
}

// A deleted subscription's group is deleted once its members have left (each
// process's member leaves when it reads the deletion); until then Kafka
// refuses (NON_EMPTY_GROUP), so it is tried again for a while.
const GROUP_DELETE_TRIES = 30
const GROUP_DELETE_WAIT_MS = 1000

export class Webhooks {
  readonly rules: HostRules
  readonly store: SubscriptionStore
  private readonly sender: Sender
  private readonly engine: WebhookEngine | null
  private readonly forgetting = new Set<Promise<void>>()
  private closed = false

  constructor (private readonly opts: WebhooksOptions) {
    const w = opts.webhooks
    this.rules = hostRules({ allowedHosts: w.allowed_hosts, onlyAllowedHosts: w.only_allowed_hosts, deniedNetworks: w.denied_networks })
    const budget = new ThreadBudget(w.threads)
    this.store = new SubscriptionStore({
      topic: w.store_topic,
      replicationFactor: w.store_replication_factor,
      properties: webhookStoreProperties(opts.kafka),
      admin: opts.admin,
      producer: opts.producer,
      metadata: opts.metadata,
      budget,
      timeoutMs: opts.kafka.request_timeout_ms,
      pollIntervalMs: w.poll_interval_ms,
      discoverMs: opts.kafka.metadata_refresh_ms,
      log: opts.log
    })
    this.sender = new Sender({
      rules: this.rules,
      connectTimeoutMs: w.connect_timeout_ms,
      responseTimeoutMs: w.response_timeout_ms,
      maxResponseBytes: w.max_response_bytes,
      connectionsPerOrigin: w.max_connections_per_origin
    })
    this.engine = w.enabled
      ? new WebhookEngine({
        kafka: opts.kafka,
        webhooks: w,
        encodeIds: opts.encodeIds,
        budget,
        sender: this.sender,
        store: this.store,
        producer: opts.producer,
        registry: opts.registry,
        strip: opts.strip,
        log: opts.log
      })
      : null
  }

  /** Subscriptions delivered by this process right now (each a member of its group). */
  get delivering (): number {
    return this.engine?.size ?? 0
  }

  /** Starts reading the store; the engine starts what it holds once it has caught up. */
  start (): void {
    this.engine?.start()
    this.store.start()
  }

  /** Deletes the group of a deleted subscription, in the background, once nobody is a member. */
  forgetGroup (groupId: string): void {
    const run = (async () => {
      for (let i = 0; i < GROUP_DELETE_TRIES; i++) {
        await new Promise((resolve) => setTimeout(resolve, GROUP_DELETE_WAIT_MS))
        if (this.closed) return
        try {
          await this.opts.groups.deleteGroup(groupId)
          return
        } catch (err) {
          // GROUP_ID_NOT_FOUND: nothing was ever committed, or another process deleted it.
          if ((err as { code?: unknown }).code === KAFKA.GROUP_ID_NOT_FOUND) return
        }
      }
      this.opts.log.info({ group: groupId }, 'the group of a deleted webhook subscription still has members; left for Kafka to expire')
    })().finally(() => this.forgetting.delete(run))
    this.forgetting.add(run)
  }

  /** Leaves every subscription's group (after the deliveries in flight), then stops reading. */
  async close (): Promise<void> {
    this.closed = true
    await this.engine?.close()
    await Promise.allSettled([this.store.close(), this.sender.close(), ...this.forgetting])
  }
}
