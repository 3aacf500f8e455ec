// The only module where librdkafka property names appear. Typed proxy settings
// become client properties here; the operator's pass-through tables are
// applied last. Nothing from an HTTP request ever reaches these objects.
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { createSecureContext, type ConnectionOptions as TlsOptions } from 'node:tls'
import type { SASLOptions } from '@platformatic/kafka'
import type { ConsumerConfig, KafkaConfig, ProducerConfig } from '../config/schema.js'
import { KAFKA, KafkaProtocolError, KafkaTransportError, RD } from './errors.js'
import { oidcTokenProvider, unsecuredJwtProvider } from './oauth-token.js'

export type ClientProperties = Record<string, string | number | boolean>

function common (kafka: KafkaConfig, role: string): ClientProperties {
  return {
    'bootstrap.servers': kafka.bootstrap_servers,
    'client.id': `${kafka.client_id}-${role}`,
    // Small HTTP-driven batches are latency sensitive; Nagle only delays them.
    'socket.nagle.disable': true,
    // Reconnect quickly after a broker restart so readiness recovers fast.
    'reconnect.backoff.ms': 100,
    'reconnect.backoff.max.ms': 2000,
    // Connection security, once for every client; a client's own table may override it.
    ...kafka.security
  }
}

const COMPRESSION: Record<ProducerConfig['compression'], string> = {
  none: 'none', gzip: 'gzip', snappy: 'snappy', lz4: 'lz4', zstd: 'zstd'
}

/** `statisticsIntervalMs`: metrics.kafka_statistics_interval_ms, 0 without metrics. */
export function producerProperties (kafka: KafkaConfig, producer: ProducerConfig, statisticsIntervalMs = 0): ClientProperties {
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
    // The statistics /metrics reports (src/metrics/kafka-stats.ts): emitted
    // as a JSON document every interval on the event loop; 0 emits none.
    'statistics.interval.ms': statisticsIntervalMs,
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
      // The same prefetch bound as a v2 instance's, so the same short
      // backoff: with librdkafka's 1000 ms a stream reading from the
      // start of a topic drained its 1 MiB and then waited out the second.
      'fetch.queue.backoff.ms': PREFETCH_BACKOFF_MS,
      'fetch.max.bytes': Math.max(MIN_FETCH_MAX_BYTES, consumer.prefetch_max_bytes),
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

/**
 * The reader of the webhook subscription store (src/webhooks/store.ts): like
 * the stateless reader it only assigns (its one partition, from the start)
 * and never commits.
 */
export function webhookStoreProperties (kafka: KafkaConfig): { global: ClientProperties, topic: ClientProperties } {
  return {
    global: {
      ...common(kafka, 'webhook-store'),
      'allow.auto.create.topics': false,
      'fetch.wait.max.ms': 100,
      ...kafka.consumer,
      'group.id': `${kafka.client_id}-webhook-store-reader`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false
    },
    topic: { 'auto.offset.reset': 'earliest' }
  }
}

/** What a webhook subscription's consumer is made of (src/webhooks/member.ts). */
export interface WebhookConsumerChoices {
  group: string
  /** Commits by librdkafka's auto-commit of the positions consumed (qos auto) instead of by the deliverer. */
  autoCommit: boolean
  autoCommitIntervalMs: number
  sessionTimeoutMs: number
  /** Bound of librdkafka's prefetch queue. */
  queueBytes: number
}

/**
 * A webhook subscription's consumer: one member per process in the group of
 * the subscription, so the group coordinator gives each partition to exactly
 * one deliverer across processes and instances. cooperative-sticky
 * (KIP-429) moves only the partitions that change owner, so the others keep
 * delivering through a rebalance; the deliverer's rebalance_cb (a function,
 * so it is added where the client is made) holds a revoked partition until
 * its delivery in flight has ended, so its next owner never sends while this
 * one still does. Heartbeats at a sixth of the session
 * timeout (librdkafka's default is a third, capped at 3 s) shorten the
 * rebalance a member joining or leaving causes.
 */
export function webhookConsumerProperties (kafka: KafkaConfig, choices: WebhookConsumerChoices): { global: ClientProperties, topic: ClientProperties } {
  return {
    global: {
      ...common(kafka, 'webhook'),
      'allow.auto.create.topics': false,
      'queued.max.messages.kbytes': Math.max(1, Math.ceil(choices.queueBytes / 1024)),
      'fetch.max.bytes': Math.max(MIN_FETCH_MAX_BYTES, choices.queueBytes),
      'fetch.queue.backoff.ms': PREFETCH_BACKOFF_MS,
      'fetch.wait.max.ms': 100,
      'session.timeout.ms': choices.sessionTimeoutMs,
      'heartbeat.interval.ms': Math.max(100, Math.min(3000, Math.floor(choices.sessionTimeoutMs / 6))),
      ...kafka.consumer,
      'group.id': choices.group,
      'partition.assignment.strategy': 'cooperative-sticky',
      'enable.auto.commit': choices.autoCommit,
      'auto.commit.interval.ms': choices.autoCommitIntervalMs,
      // With auto-commit, the positions of records handed to delivery (Kafka's
      // auto-commit semantics); otherwise the deliverer commits explicitly.
      'enable.auto.offset.store': choices.autoCommit
    },
    // A partition without a committed offset that the subscription's start
    // does not name (added to the topic later) starts at its log start.
    topic: { 'auto.offset.reset': 'earliest' }
  }
}

/** A broker address from a bootstrap.servers list. */
export interface BrokerAddress {
  host: string
  port: number
}

/** Parses "host:port,[v6]:port" lists as bootstrap.servers does; the port defaults to 9092. */
export function parseBootstrapServers (list: string): BrokerAddress[] {
  const out: BrokerAddress[] = []
  for (const raw of list.split(',')) {
    let entry = raw.trim()
    if (entry === '') continue
    const scheme = entry.indexOf('://')
    if (scheme !== -1) entry = entry.slice(scheme + 3)
    let host = entry
    let port = 9092
    const bracket = entry.match(/^\[([^\]]+)\](?::(\d+))?$/)
    if (bracket !== null) {
      host = bracket[1] as string
      if (bracket[2] !== undefined) port = Number(bracket[2])
    } else {
      const colon = entry.lastIndexOf(':')
      if (colon !== -1 && entry.indexOf(':') === colon) {
        host = entry.slice(0, colon)
        port = Number(entry.slice(colon + 1))
      }
    }
    if (host !== '' && Number.isInteger(port) && port > 0 && port < 65536) out.push({ host, port })
  }
  return out
}

/** The connection security of the @platformatic/kafka admin client (src/kafka/admin.ts). */
export interface AdminSecurity {
  tls: TlsOptions | undefined
  /** Send the broker's host name as TLS SNI (RFC 6066 §3). */
  tlsServerName: boolean
  sasl: SASLOptions | undefined
}

type Properties = Readonly<ClientProperties>

function prop (props: Properties, name: string): string | undefined {
  const v = props[name]
  return v === undefined ? undefined : String(v)
}

function flag (props: Properties, name: string, fallback: boolean): boolean {
  const v = prop(props, name)
  if (v === undefined) return fallback
  return v.toLowerCase() === 'true' || v === '1'
}

/** A PEM from a *.pem property or the file a *.location property names. */
function pem (props: Properties, inline: string, location: string): string | Buffer | undefined {
  const text = prop(props, inline)
  if (text !== undefined && text !== '') return text
  const path = prop(props, location)
  if (path === undefined || path === '' || path === 'probe') return undefined
  try {
    return readFileSync(path)
  } catch (err) {
    throw new Error(`cannot read ${location} ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * librdkafka's ssl.keystore.location is a PKCS#12 file holding the client's
 * key and certificate, opened with ssl.keystore.password (CONFIGURATION.md);
 * node's TLS takes it as `pfx`. The password goes with the store, not into
 * `passphrase`, which is ssl.key.password's. Opened here once so that a wrong
 * password is one clear error (logged once by ./admin.ts) instead of a throw
 * inside every connect.
 */
function keystore (props: Properties): TlsOptions['pfx'] {
  const path = prop(props, 'ssl.keystore.location')
  if (path === undefined || path === '') return undefined
  let buf: Buffer
  try {
    buf = readFileSync(path)
  } catch (err) {
    throw new Error(`cannot read ssl.keystore.location ${path}: ${(err as Error).message}`, { cause: err })
  }
  const store = { buf, passphrase: prop(props, 'ssl.keystore.password') }
  try {
    createSecureContext({ pfx: [store] })
  } catch (err) {
    // The proxy's own credentials, like a refused SASL login: 503 to API
    // clients, the reason in the log (librdkafka's clients fail the same way).
    throw new KafkaTransportError(RD.AUTHENTICATION, `cannot open the PKCS#12 key store ssl.keystore.location ${path} with ssl.keystore.password: ${(err as Error).message}`)
  }
  return [store]
}

/** "a=b,c=d" (sasl.oauthbearer.extensions). */
function pairs (list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of (list ?? '').split(',')) {
    const eq = item.indexOf('=')
    if (eq > 0) out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim()
  }
  return out
}

function oauthBearer (props: Properties, requestTimeoutMs: number): SASLOptions {
  if ((prop(props, 'sasl.oauthbearer.method') ?? 'default').toLowerCase() === 'oidc') {
    const endpoint = prop(props, 'sasl.oauthbearer.token.endpoint.url')
    if (endpoint === undefined || endpoint === '') throw new Error('sasl.oauthbearer.method=oidc needs sasl.oauthbearer.token.endpoint.url')
    return {
      mechanism: 'OAUTHBEARER',
      token: oidcTokenProvider({
        tokenEndpoint: endpoint,
        clientId: prop(props, 'sasl.oauthbearer.client.id') ?? '',
        clientSecret: prop(props, 'sasl.oauthbearer.client.secret') ?? '',
        scope: prop(props, 'sasl.oauthbearer.scope'),
        timeoutMs: requestTimeoutMs
      }),
      oauthBearerExtensions: pairs(prop(props, 'sasl.oauthbearer.extensions'))
    }
  }
  if (!flag(props, 'enable.sasl.oauthbearer.unsecure.jwt', false)) {
    // librdkafka then waits for an application token refresh callback, which the proxy has none of.
    throw new KafkaProtocolError(KAFKA.UNSUPPORTED_SASL_MECHANISM,
      'SASL/OAUTHBEARER needs sasl.oauthbearer.method=oidc or enable.sasl.oauthbearer.unsecure.jwt=true', false)
  }
  // sasl.oauthbearer.config: space-separated name=value pairs (librdkafka CONFIGURATION.md).
  const config: Record<string, string> = {}
  for (const item of (prop(props, 'sasl.oauthbearer.config') ?? '').split(/\s+/)) {
    const eq = item.indexOf('=')
    if (eq > 0) config[item.slice(0, eq)] = item.slice(eq + 1)
  }
  const principal = config.principal
  if (principal === undefined || principal === '') throw new Error('enable.sasl.oauthbearer.unsecure.jwt needs principal=<name> in sasl.oauthbearer.config')
  const extensions: Record<string, string> = {}
  for (const [name, value] of Object.entries(config)) if (name.startsWith('extension_')) extensions[name.slice(10)] = value
  return {
    mechanism: 'OAUTHBEARER',
    token: unsecuredJwtProvider({
      principal,
      principalClaim: config.principalClaimName ?? 'sub',
      scopes: (config.scope ?? '').split(',').filter((s) => s !== ''),
      scopeClaim: config.scopeClaimName ?? 'scope',
      lifetimeSeconds: Number(config.lifeSeconds ?? 3600) || 3600
    }),
    oauthBearerExtensions: extensions
  }
}

/**
 * Reads the admin client's connection security from the same librdkafka
 * properties the librdkafka clients get (security.protocol, ssl.*, sasl.*),
 * so one [kafka.admin] table configures every admin call. Throws for
 * settings it cannot honour: an unknown security.protocol, unreadable TLS
 * files, a PKCS#12 key store its password does not open (a
 * KafkaTransportError AUTHENTICATION), or a SASL mechanism other than PLAIN, SCRAM and OAUTHBEARER (a
 * KafkaProtocolError UNSUPPORTED_SASL_MECHANISM).
 */
export function adminSecurity (props: Properties, bootstrap: readonly BrokerAddress[], requestTimeoutMs: number): AdminSecurity {
  const protocol = (prop(props, 'security.protocol') ?? 'plaintext').toLowerCase()
  if (!['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'].includes(protocol)) {
    throw new Error(`unsupported security.protocol ${protocol}`)
  }
  const out: AdminSecurity = { tls: undefined, tlsServerName: false, sasl: undefined }
  if (protocol === 'ssl' || protocol === 'sasl_ssl') {
    // librdkafka's ssl.ca.location=probe means the system CA store, Node's default too.
    const tls: TlsOptions = {
      ca: pem(props, 'ssl.ca.pem', 'ssl.ca.location'),
      cert: pem(props, 'ssl.certificate.pem', 'ssl.certificate.location'),
      key: pem(props, 'ssl.key.pem', 'ssl.key.location'),
      passphrase: prop(props, 'ssl.key.password'),
      pfx: keystore(props),
      rejectUnauthorized: flag(props, 'enable.ssl.certificate.verification', true)
    }
    for (const key of ['ca', 'cert', 'key', 'passphrase', 'pfx'] as const) if (tls[key] === undefined) delete tls[key]
    // librdkafka >= 1.9 verifies the broker hostname by default ("https").
    if ((prop(props, 'ssl.endpoint.identification.algorithm') ?? 'https').toLowerCase() === 'none') tls.checkServerIdentity = () => undefined
    out.tls = tls
    // SNI carries host names only; a cluster bootstrapped by address advertises addresses.
    out.tlsServerName = bootstrap.some((b) => isIP(b.host) === 0)
  }
  if (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl') {
    // librdkafka's default mechanism is GSSAPI.
    const mechanism = (prop(props, 'sasl.mechanisms') ?? prop(props, 'sasl.mechanism') ?? 'GSSAPI').toUpperCase()
    if (mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512') {
      out.sasl = { mechanism, username: prop(props, 'sasl.username') ?? '', password: prop(props, 'sasl.password') ?? '' }
    } else if (mechanism === 'OAUTHBEARER') {
      out.sasl = oauthBearer(props, requestTimeoutMs)
    } else {
      throw new KafkaProtocolError(KAFKA.UNSUPPORTED_SASL_MECHANISM,
        `SASL mechanism ${mechanism} is not supported by the admin API client: it needs PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER`, false)
    }
  }
  return out
}
