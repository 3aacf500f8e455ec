// The per-process composition root: the only module that knows every
// subsystem. It builds each one once from the frozen config, hands the API
// modules what they need, binds the route table (api/routes.ts) to their
// handlers, and orders start and shutdown. HTTP itself (listeners, dispatch,
// drain steps) is http/listener.ts.
import os from 'node:os'
import { randomUUID } from 'node:crypto'
import type { Config } from './config/schema.js'
import type { Logger } from './logger.js'
import { HttpListener, type RequestObserver } from './http/listener.js'
import { bindRoutes, buildRouter, type Handlers } from './http/route.js'
import { KafkaProducer } from './kafka/producer.js'
import { ClusterMetadata } from './kafka/metadata.js'
import { adminProperties, consumerProperties, producerProperties, readerProperties } from './kafka/options.js'
import { createKafkaAdmin, type KafkaAdmin } from './kafka/admin.js'
import { TopicAutoCreate } from './kafka/auto-create.js'
import { SubscriptionWatch } from './kafka/subscription-watch.js'
import { ConsumerManager } from './kafka/consumer-manager.js'
import { ConsumerGroups } from './kafka/groups.js'
import { ReaderPool } from './kafka/reader.js'
import { TaskPool } from './pool/pool.js'
import { jsonLimits } from './json/parse.js'
import { SchemaRegistryClient } from './registry/client.js'
import { V3SchemaEncoder } from './produce/v3-record.js'
import { createDirectory, type ConsumerDirectory } from './shards/directory.js'
import { forward, isForwarded } from './shards/forward.js'
import { PEER_HEADER, PeerDirectory } from './shards/peers.js'
import { peerHandlers } from './api/peers.js'
import { OPENAPI, ROUTES } from './api/routes.js'
import { consoleHandlers, loadConsole } from './api/console.js'
import { healthHandlers } from './api/health.js'
import { metricsHandlers } from './api/metrics.js'
import { metricsSource } from './metrics/cluster.js'
import { producerStatistics } from './metrics/kafka-stats.js'
import { configureMetrics, registerGauge } from './metrics/registry.js'
import { observers, RequestMetrics } from './metrics/requests.js'
import { accessLog } from './http/access-log.js'
import { openapiHandlers } from './api/openapi.js'
import { rootHandlers } from './api/v2/root.js'
import { topicHandlers } from './api/v2/topics.js'
import { partitionHandlers } from './api/v2/partitions.js'
import { produceHandlers } from './api/v2/produce.js'
import { brokerHandlers } from './api/v2/brokers.js'
import { consumerHandlers } from './api/v2/consumers.js'
import { Resources } from './api/v3/resource.js'
import { clusterHandlers } from './api/v3/clusters.js'
import { aclHandlers } from './api/v3/acls.js'
import { configHandlers } from './api/v3/configs.js'
import { v3BrokerHandlers } from './api/v3/brokers.js'
import { groupHandlers } from './api/v3/groups.js'
import { v3TopicHandlers } from './api/v3/topics.js'
import { v3PartitionHandlers } from './api/v3/partitions.js'
import { READER_IDLE_MS, READERS_PER_PROCESS, readHandlers } from './api/v3/read.js'
import { framingStrip } from './render/framing.js'
import { recordHandlers } from './api/v3/records.js'
import { ProduceRateLimiter } from './api/v3/rate-limit.js'
import { Webhooks } from './webhooks/service.js'
import { subscriptionHandlers } from './webhooks/routes.js'
import { StreamReaders } from './streams/reader.js'
import { Streams } from './streams/hub.js'
import { streamHandlers } from './streams/routes.js'
import { StreamAuthority } from './streams/reauth.js'
import { listenerTls, securityWarnings } from './security/setup.js'
import { SecurityGuard } from './security/guard.js'
import { IdentityInjector } from './security/identity.js'
import { Quotas } from './security/quotas.js'
import { appRoutesOf, type AppRoutes } from './routes/app.js'
import { withAppRoutes } from './routes/openapi.js'

export interface ProxyServer {
  readonly port: number
  readonly metadata: ClusterMetadata
  /** The streams of this process (push delivery), for their statistics. */
  readonly streams: Streams
  /** Stops accepting, finishes in-flight requests, flushes the producer, closes everything. */
  shutdown (): Promise<void>
  /** Reads the TLS and credentials files again (SIGHUP): new connections get the renewed certificate. */
  reload (): void
}

export interface ServerOptions {
  config: Config
  log: Logger
  /** Worker processes sharing the port; used to size the pool and divide instance-wide rate limits. */
  workers: number
  /** This process in metrics' `process` label: `worker-<slot>`; `worker-0` when absent. */
  processLabel?: string
}

export function poolThreads (configured: number, workers: number): number {
  if (configured > 0) return configured
  return Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, workers)))
}

/** Every subsystem of one process, each built once. */
interface Subsystems {
  /** Set at SIGTERM, before the drain: readiness answers 503 while everything is still served. */
  readiness: { leaving: boolean }
  http: HttpListener
  producer: KafkaProducer
  metadata: ClusterMetadata
  pool: TaskPool
  registry: SchemaRegistryClient
  directory: ConsumerDirectory
  consumers: ConsumerManager
  admin: KafkaAdmin
  watch: SubscriptionWatch
  /** Consumer groups of the v3 API (the binding's AdminClient). */
  groups: ConsumerGroups
  /** Partition readers of the v3 stateless read. */
  readers: ReaderPool
  resources: Resources
  /** Push delivery: the stream readers and the streams of this process. */
  streamReaders: StreamReaders
  streams: Streams
  /** Webhook subscriptions: their store, and their deliveries in this process. */
  webhooks: Webhooks
  /** The [[routes]] of the config; null when there are none. */
  appRoutes: AppRoutes | null
  /** The principals' quotas ([quotas], shared with the other workers through the primary); null when none is set. */
  quotas: Quotas | null
  /** v3.rate_limit (Confluent's produce rate limits), shared by v3 produce and WebSocket produce; null when off. */
  rateLimiter: ProduceRateLimiter | null
  /** Identity headers of the Confluent API (identity.confluent_api), shared by v2, v3 and WebSocket produce; null when off. */
  identity: IdentityInjector | null
}

async function buildSubsystems (config: Config, log: Logger, workers: number): Promise<Subsystems> {
  const { kafka, server } = config
  const http = new HttpListener({
    host: server.host,
    port: server.port,
    keepAliveTimeoutMs: server.keep_alive_timeout_ms,
    headersTimeoutMs: server.headers_timeout_ms,
    maxHeaderBytes: server.max_header_bytes,
    maxUrlBytes: server.max_url_bytes,
    maxConnections: server.max_connections,
    uploadDeadlineMs: server.request_timeout_ms,
    maxConnectionsPerAddress: server.max_connections_per_ip,
    maxRequestsPerConnection: server.max_requests_per_connection,
    tls: listenerTls(server.tls),
    http2: server.tls.http2
  }, log)
  const metadataRef: { current: ClusterMetadata | null } = { current: null }
  const producer = new KafkaProducer({
    properties: producerProperties(kafka, config.producer, config.metrics.enabled ? config.metrics.kafka_statistics_interval_ms : 0),
    connectTimeoutMs: kafka.request_timeout_ms,
    log,
    events: {
      onAllBrokersDown: () => metadataRef.current?.markDown(),
      onStatistics: config.metrics.enabled ? producerStatistics(config.metrics.max_topic_labels) : undefined
    }
  })
  const metadata = new ClusterMetadata(producer, {
    refreshMs: kafka.metadata_refresh_ms,
    unreachableAfterMs: kafka.unreachable_after_ms,
    requestTimeoutMs: kafka.request_timeout_ms
  }, log)
  metadataRef.current = metadata
  const pool = new TaskPool({ threads: poolThreads(config.pool.threads, workers), maxQueue: config.pool.max_queue })
  const registry = new SchemaRegistryClient(config.schema_registry)
  const directory = createDirectory(await http.listenInternal())
  const consumers = new ConsumerManager({
    kafka,
    consumer: config.consumer,
    callTimeoutMs: kafka.request_timeout_ms,
    log,
    claims: directory
  })
  const admin = createKafkaAdmin({
    bootstrapServers: kafka.bootstrap_servers,
    clientId: `${kafka.client_id}-admin`,
    requestTimeoutMs: kafka.request_timeout_ms,
    properties: adminProperties(kafka),
    log
  })
  metadata.setAutoCreate(new TopicAutoCreate(admin, metadata, {
    mode: kafka.auto_create_topics,
    requestTimeoutMs: kafka.request_timeout_ms
  }, log))
  const resources = new Resources({
    advertisedUrl: server.advertised_url,
    authority: config.v3.resource_name_authority,
    admin,
    maxBodyBytes: server.max_body_bytes,
    json: jsonLimits(server)
  })
  const streamReaders = new StreamReaders({
    properties: readerProperties(kafka, config.consumer),
    maxReaders: config.streams.max_readers,
    idleMs: config.streams.reader_idle_ms,
    maxPollRecords: config.consumer.max_poll_records,
    callTimeoutMs: kafka.request_timeout_ms,
    log
  })
  const groups = new ConsumerGroups({ properties: adminProperties(kafka), timeoutMs: kafka.request_timeout_ms })
  const quotas = Quotas.create({ limits: config.quotas, log })
  const rateLimiter = config.v3.rate_limit.enabled ? new ProduceRateLimiter(config.v3.rate_limit, workers) : null
  // One injector (and its per-principal cache) for the v3 routes and WebSocket produce.
  const identity = IdentityInjector.create(config.identity)
  const webhooks = new Webhooks({
    kafka,
    webhooks: config.webhooks,
    encodeIds: config.streams.encode_ids,
    admin,
    groups,
    producer,
    metadata,
    registry,
    strip: framingStrip(config.consumer.strip_schema_framing),
    log
  })
  return {
    readiness: { leaving: false },
    quotas,
    rateLimiter,
    identity,
    webhooks,
    appRoutes: appRoutesOf(config, producer, log),
    http,
    producer,
    metadata,
    pool,
    registry,
    directory,
    consumers,
    admin,
    watch: new SubscriptionWatch(metadata, kafka.metadata_refresh_ms, log),
    groups,
    readers: new ReaderPool({
      properties: readerProperties(kafka, config.consumer),
      maxReaders: Math.min(READERS_PER_PROCESS, config.consumer.threads),
      idleMs: READER_IDLE_MS,
      maxPollRecords: config.consumer.max_poll_records,
      callTimeoutMs: kafka.request_timeout_ms,
      log
    }),
    resources,
    streamReaders,
    streams: new Streams({
      config: config.streams,
      metadata,
      registry,
      resources,
      readers: streamReaders,
      batchRecords: config.consumer.max_poll_records,
      produce: {
        producer,
        metadata,
        schemas: new V3SchemaEncoder(registry, { key: config.schema_registry.key_subject_strategy, value: config.schema_registry.value_subject_strategy }),
        json: jsonLimits(server),
        log,
        quotas,
        identity,
        rateLimiter
      },
      groupProperties: (group, autoOffsetReset, autoCommit) => consumerProperties(kafka, config.consumer, { group, name: `stream-${randomUUID().slice(0, 8)}`, autoOffsetReset, autoCommit }),
      callTimeoutMs: kafka.request_timeout_ms,
      quotas,
      strip: framingStrip(config.consumer.strip_schema_framing),
      log
    })
  }
}

/** The handler of every route, each module given the subsystems and settings it needs. */
function routeHandlers (s: Subsystems, config: Config, log: Logger): Handlers<typeof ROUTES> {
  const { server, kafka, consumer, v3, schema_registry: sr } = config
  const { producer, metadata, admin, resources, registry, directory } = s
  const instances = config.instances
  const peers = instances.peers.length === 0
    ? null
    : new PeerDirectory({ selfUrl: instances.self_url, peers: instances.peers, secret: instances.secret, timeoutMs: instances.locate_timeout_ms })
  const json = jsonLimits(server)
  const strategies = { key: sr.key_subject_strategy, value: sr.value_subject_strategy }
  const { quotas, identity } = s
  return {
    ...rootHandlers(server.max_body_bytes),
    ...topicHandlers(metadata, admin),
    ...partitionHandlers(metadata, producer, kafka.request_timeout_ms),
    ...produceHandlers({
      producer,
      metadata,
      pool: s.pool,
      maxBodyBytes: server.max_body_bytes,
      offloadThresholdBytes: config.pool.offload_threshold_bytes,
      json,
      registry,
      strategies,
      quotas,
      identity
    }),
    ...brokerHandlers(metadata),
    ...consumerHandlers({
      topics: { metadata, watch: s.watch },
      manager: s.consumers,
      consumer,
      registry,
      maxBodyBytes: server.max_body_bytes,
      json,
      quotas,
      advertisedUrl: server.advertised_url,
      routing: {
        locate: (group, name) => directory.locate(group, name),
        selfUrl: directory.selfUrl,
        isForwarded: (ctx) => isForwarded(ctx.req),
        forward: (ctx, owner) => forward(ctx.req, ctx.res, owner),
        peers: peers === null
          ? undefined
          : {
              locate: (group, name, fresh) => peers.locate(group, name, fresh),
              isRelayed: (ctx) => peers.verify(ctx.req),
              relay: (ctx, instance) => forward(ctx.req, ctx.res, instance, undefined, { header: PEER_HEADER, value: peers.sign(ctx.req.method ?? 'GET', ctx.req.url ?? '/') })
            }
      }
    }),
    ...healthHandlers(metadata, () => s.readiness.leaving || s.http.isDraining),
    ...openapiHandlers(s.appRoutes === null ? OPENAPI : withAppRoutes(OPENAPI, s.appRoutes.table)),
    ...consoleHandlers(loadConsole(log)),
    ...metricsHandlers(config.metrics.enabled ? metricsSource() : null),
    ...peerHandlers({
      peers,
      holds: async (group, name) => s.consumers.get(group, name) !== null || await directory.locate(group, name) !== null
    }),
    ...clusterHandlers({ resources, admin }),
    ...subscriptionHandlers({
      resources,
      metadata,
      store: s.webhooks.store,
      groups: s.groups,
      rules: s.webhooks.rules,
      clientId: kafka.client_id,
      defaultMaxAttempts: config.webhooks.max_attempts,
      requestTimeoutMs: kafka.request_timeout_ms,
      forgetGroup: (group) => s.webhooks.forgetGroup(group),
      log
    }),
    ...aclHandlers({ resources, admin }),
    ...configHandlers({ resources, admin, metadata }),
    ...v3BrokerHandlers({ resources, admin, metadata }),
    ...groupHandlers({ resources, groups: s.groups }),
    ...v3TopicHandlers({ resources, metadata, admin }),
    ...v3PartitionHandlers({ resources, metadata, admin, producer, requestTimeoutMs: kafka.request_timeout_ms }),
    ...readHandlers({ resources, metadata, readers: s.readers, maxBytes: consumer.request_max_bytes, timeoutMs: consumer.request_timeout_ms, quotas, strip: framingStrip(consumer.strip_schema_framing) }),
    ...recordHandlers({
      producer,
      metadata,
      maxBodyBytes: server.max_body_bytes,
      recordMaxBytes: v3.record_max_bytes,
      batchMaxEntries: v3.batch_max_entries,
      streamMaxDurationMs: v3.stream_max_duration_ms,
      streamGracePeriodMs: v3.stream_grace_period_ms,
      rateLimiter: s.rateLimiter,
      quotas,
      identity,
      schemas: new V3SchemaEncoder(registry, strategies),
      json,
      log
    }),
    ...streamHandlers(s.streams)
  }
}

export async function startServer (opts: ServerOptions): Promise<ProxyServer> {
  const { config, log } = opts
  configureMetrics({ enabled: config.metrics.enabled, maxTopicLabels: config.metrics.max_topic_labels }, opts.processLabel ?? 'worker-0')
  const s = await buildSubsystems(config, log, opts.workers)
  const routes = bindRoutes(ROUTES, routeHandlers(s, config, log))
  const router = buildRouter(routes)
  if (config.metrics.enabled) registerSubsystemGauges(s)
  const watchers = [
    config.metrics.enabled ? new RequestMetrics(routes) : null,
    accessLog({ mode: config.access_log.mode, sampleRate: config.access_log.sample_rate }, log)
  ].filter((o): o is RequestObserver => o !== null)
  if (watchers.length > 0) s.http.observeRequests(observers(...watchers))

  await s.producer.start()
  // Listen only after the first metadata answer (bounded by the request
  // timeout), so a fresh or replacement worker does not answer its first
  // requests with 503. An unreachable cluster still lets it start.
  if (s.producer.connected) await s.metadata.refresh().catch(() => {})
  s.metadata.start()
  s.consumers.startExpiry()
  s.webhooks.start()
  s.http.acceptUpgrades((req, socket, head, security) => s.streams.upgrade(req, socket, head, security))
  const app = s.appRoutes
  if (app !== null) {
    s.http.setAppRoutes((method, path) => app.matcher.match(method, path))
    app.useStreams({ records: (ctx) => s.streams.records(ctx), clusterId: async () => (await s.resources.describe()).clusterId })
    // A reply topic that does not exist is a start-up error; what was built so far is closed first.
    await app.start(config.kafka.request_timeout_ms).catch(async (err: unknown) => {
      await shutdown(s, 1000)
      throw err
    })
  }
  // Authentication and authorization, only when configured (docs/security.md).
  const guard = SecurityGuard.needed(config.auth, config.authorization, config.server.tls.client_auth !== 'none')
    ? new SecurityGuard({ auth: config.auth, authorization: config.authorization, mtls: config.server.tls.client_auth !== 'none', log })
    : null
  if (guard !== null) {
    await guard.start()
    s.http.setGuard(guard.guard)
    if (guard.takesTokens) {
      const authority = new StreamAuthority({
        aheadMs: config.auth.challenge_ahead_s * 1000,
        verify: (token) => guard.verifyToken(token),
        tokenOf: (req, query) => guard.bearerToken(req, query),
        mayConsume: (p, topic) => guard.security(p).allows('consume', 'topic', topic),
        directory: s.directory
      })
      s.streams.useAuthority(authority)
      guard.onKeysChanged(() => { authority.revalidate().catch((err: unknown) => log.warn({ err }, 'verifying the tokens of streams again failed')) })
    }
  }
  const port = await s.http.serve(router)
  for (const warning of securityWarnings(config)) log.warn(warning)
  if (s.quotas !== null && guard === null) log.warn('[quotas] are set but no authentication or authorization is configured: quotas are per principal, and without a guard requests have none, so nothing is limited')

  let shuttingDown: Promise<void> | null = null
  return {
    port,
    metadata: s.metadata,
    streams: s.streams,
    shutdown: () => {
      shuttingDown ??= leave(s, config.server.drain_grace_ms, log)
        .then(() => shutdown(s, config.server.shutdown_timeout_ms))
        .finally(() => guard?.close())
      return shuttingDown
    },
    reload: () => {
      const tls = listenerTls(config.server.tls)
      if (tls !== null) s.http.reloadTls(tls)
      guard?.reload()
    }
  }
}

/** The state /metrics reads from the subsystems at each scrape. */
function registerSubsystemGauges (s: Subsystems): void {
  registerGauge({ name: 'v2_consumer_instances', help: 'v2 consumer instances alive.', read: () => s.consumers.size })
  registerGauge({ name: 'streams_active', help: 'Push-delivery streams (SSE, WebSocket, cursor reads) in progress.', read: () => s.streams.size })
  // Every delivering process is a member of each subscription's group: the largest count is the instance's.
  registerGauge({ name: 'webhook_subscriptions_delivering', help: 'Webhook subscriptions this instance delivers (the most of any process).', aggregator: 'max', read: () => s.webhooks.delivering })
  registerGauge({ name: 'kafka_reachable', help: '1 while the Kafka cluster answers metadata requests, else 0 (the worst process).', aggregator: 'min', read: () => s.metadata.reachable() ? 1 : 0 })
  registerGauge({ name: 'pool_queue_depth', help: 'Worker-pool tasks waiting for a thread.', read: () => s.pool.queueSize })
  registerGauge({ name: 'pool_threads', help: 'Worker-pool threads.', read: () => s.pool.threads })
  registerGauge({ name: 'pool_utilization', help: 'Share of the worker pool\'s capacity spent running tasks since the process started (0 to 1), per process.', perProcess: true, read: () => s.pool.utilization })
}

/**
 * The first step of a rolling restart: readiness turns 503 while requests
 * are still served as usual, for `graceMs`, so a load balancer's health
 * checks take the process out before it stops accepting connections.
 */
async function leave (s: Subsystems, graceMs: number, log: Logger): Promise<void> {
  s.readiness.leaving = true
  if (graceMs <= 0) return
  log.info({ grace_ms: graceMs }, 'readiness answers 503; draining after the grace period')
  await new Promise((resolve) => setTimeout(resolve, graceMs))
}

async function shutdown (s: Subsystems, deadlineMs: number): Promise<void> {
  const started = Date.now()
  // Streams never finish by themselves: each ends now with a final event
  // carrying the id to resume from, elsewhere.
  await Promise.all([s.http.drain(deadlineMs), s.streams.close()])
  // Produce requests get their results from the flush below.
  await s.http.stopReads()
  // Consumers leave their groups now so their partitions move on at once.
  // A consumer closes only after its running fetch returns (up to its read
  // timeout), so the flush of records already queued runs beside it and
  // neither waits past the deadline.
  s.watch.stop()
  const remaining = Math.max(1000, deadlineMs - (Date.now() - started))
  const bounded = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, new Promise((resolve) => setTimeout(resolve, remaining).unref())])
  await Promise.all([
    bounded(s.consumers.close()),
    bounded(s.webhooks.close()),
    bounded(s.appRoutes?.close() ?? Promise.resolve()),
    bounded(Promise.allSettled([s.groups.close(), s.readers.close(), s.streamReaders.close()]).then(() => s.admin.close())),
    s.producer.close(remaining)
  ])
  s.http.closeInternal()
  s.metadata.stop()
  await s.http.close()
  await s.pool.close()
  s.registry.close()
}
