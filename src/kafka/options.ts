// The only module where librdkafka property names appear. Typed proxy settings
// become client properties here; the operator's pass-through tables are
// applied last. Nothing from an HTTP request ever reaches these objects.
import type { ConsumerConfig, KafkaConfig, ProducerConfig } from '../config/schema.js'

export type ClientProperties = Record<string, string | number | boolean>

function common (kafka: KafkaConfig, role: string): ClientProperties {
  return {
    'bootstrap.servers': kafka.bootstrap_servers,
    'client.id': `${kafka.client_id}-${role}`,
    // Small HTTP-driven batches are latency sensitive; Nagle only delays them.
    'socket.nagle.disable': true,
    // Reconnect quickly after a broker restart so readiness recovers fast.
    'reconnect.backoff.ms': 100,
    'reconnect.backoff.max.ms': 2000
  }
}

const COMPRESSION: Record<ProducerConfig['compression'], string> = {
  none: 'none', gzip: 'gzip', snappy: 'snappy', lz4: 'lz4', zstd: 'zstd'
}

export function producerProperties (kafka: KafkaConfig, producer: ProducerConfig): ClientProperties {
  return {
    ...common(kafka, 'producer'),
    acks: producer.acks === 'all' ? -1 : Number(producer.acks),
    'enable.idempotence': producer.enable_idempotence,
    'compression.codec': COMPRESSION[producer.compression],
    'linger.ms': producer.linger_ms,
    'batch.size': producer.batch_bytes,
    'message.timeout.ms': producer.delivery_timeout_ms,
    'max.in.flight.requests.per.connection': producer.max_in_flight,
    // Keyed records land where the Java client would put them: murmur2 of the
    // key bytes, positive, modulo the partition count (Java's
    // BuiltInPartitioner). Unkeyed records are spread randomly.
    partitioner: 'murmur2_random',
    // librdkafka's allow.auto.create.topics (a producer and consumer
    // property) makes the client's Metadata requests for a topic ask the
    // broker to create it, which a broker with auto.create.topics.enable=true
    // does. Off: topics are created only by kafka.auto_create_topics
    // (./auto-create.ts), so a topic deleted while records are queued for it
    // is never silently recreated.
    'allow.auto.create.topics': false,
    // Enough queue for many concurrent HTTP batches before QUEUE_FULL (a
    // retriable 503-class per-record error) is reported.
    'queue.buffering.max.messages': 1_000_000,
    'queue.buffering.max.kbytes': 1_048_576,
    // Delivery reports are how each record's offset reaches its HTTP response.
    dr_cb: true,
    ...kafka.producer
  }
}

const PREFETCH_BACKOFF_MS = 20
// librdkafka raises fetch.max.bytes to at least message.max.bytes (1000000 by
// default) anyway; asking for less only makes it log a warning.
const MIN_FETCH_MAX_BYTES = 1_048_576

/** What a v2 create-consumer request may choose, already validated and typed. */
export interface ConsumerChoices {
  group: string
  name: string
  autoOffsetReset: 'earliest' | 'latest' | 'none'
  /** null: the Kafka default (auto commit on). */
  autoCommit: boolean | null
}

/**
 * The global and the topic-level properties of a consumer. auto.offset.reset
 * is a topic-level property; the binding ignores it in the global ones.
 */
export function consumerProperties (kafka: KafkaConfig, consumer: ConsumerConfig, choices: ConsumerChoices): { global: ClientProperties, topic: ClientProperties } {
  return { global: consumerGlobal(kafka, consumer, choices), topic: { 'auto.offset.reset': choices.autoOffsetReset } }
}

function consumerGlobal (kafka: KafkaConfig, consumer: ConsumerConfig, choices: ConsumerChoices): ClientProperties {
  return {
    ...common(kafka, `consumer-${choices.name}`),
    'group.id': choices.group,
    'enable.auto.commit': choices.autoCommit ?? true,
    // Offsets are stored when records are handed to a client, not when
    // librdkafka prefetches them, so auto-commit only covers delivered records.
    'enable.auto.offset.store': false,
    // The prefetch bound: librdkafka's local queue is what a read drains.
    'queued.max.messages.kbytes': Math.ceil(consumer.prefetch_max_bytes / 1024),
    // Once the queue is over that bound, librdkafka postpones fetching a
    // partition by fetch.queue.backoff.ms (default 1000 ms): a reader that
    // drains the bound faster than that then waits for the rest of the
    // second (1 MiB: 21,000 records/s of 100 B instead of 100,000;
    // BENCHMARKS.md). A short backoff refills the queue as it drains; a
    // consumer nobody reads checks its full queue this often, which is cheap.
    'fetch.queue.backoff.ms': PREFETCH_BACKOFF_MS,
    // One fetch response at most the bound, so the queue never holds more
    // than about twice it (librdkafka's default allows 50 MiB per response).
    'fetch.max.bytes': Math.max(MIN_FETCH_MAX_BYTES, consumer.prefetch_max_bytes),
    // An instance that is alive but not being read stays in its group until
    // the proxy expires it (librdkafka caps this at 24 h).
    'max.poll.interval.ms': Math.min(86_400_000, consumer.instance_timeout_ms + 60_000),
    'allow.auto.create.topics': false,
    ...kafka.consumer
  }
}

export function adminProperties (kafka: KafkaConfig): ClientProperties {
  return { ...common(kafka, 'admin'), ...kafka.admin }
}

/**
 * The stateless reader's consumers (src/kafka/reader.ts). They only ever
 * assign() partitions, so the group id is a fixed placeholder librdkafka
 * requires for assign() (it never joins the group) and nothing is committed.
 * The placeholder and no-commit settings are applied after the operator's
 * pass-through table, which still supplies security and tuning properties.
 * auto.offset.reset is topic-level: an offset that fell below the log start
 * between the watermark query and the fetch restarts at the log start.
 */
export function readerProperties (kafka: KafkaConfig, consumer: ConsumerConfig): { global: ClientProperties, topic: ClientProperties } {
  return {
    global: {
      ...common(kafka, 'reader'),
      'queued.max.messages.kbytes': Math.ceil(consumer.prefetch_max_bytes / 1024),
      'allow.auto.create.topics': false,
      // Re-assigning a reader waits for the fetch it has in flight, which a
      // broker holds up to this long at the end of a partition (librdkafka's
      // default is 500 ms; a re-assignment measured about twice that). A new
      // record still ends the wait at once, so long polls are not slower.
      'fetch.wait.max.ms': 100,
      ...kafka.consumer,
      'group.id': `${kafka.client_id}-stateless-reader`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false
    },
    topic: { 'auto.offset.reset': 'earliest' }
  }
}
