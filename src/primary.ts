// The node:cluster primary: starts the embedded dev broker when no cluster is
// configured (and the embedded dev schema registry with it when no registry is
// configured either), forks the HTTP workers, replaces crashed ones with
// backoff, and on SIGINT/SIGTERM drains the workers before stopping the broker,
// so records in flight still reach Kafka.
import cluster, { type Worker } from 'node:cluster'
import os from 'node:os'
import path from 'node:path'
import type { Config } from './config/schema.js'
import { devServicesNeeded } from './dev/needed.js'
import type { Logger } from './logger.js'
import { serveDirectory } from './shards/directory.js'
import { serveMetrics } from './metrics/cluster.js'
import { quotasConfigured, serveQuotas } from './security/quotas.js'
import { configureMetrics } from './metrics/registry.js'
import { WORKER_CONFIG_ENV, WORKER_COUNT_ENV, WORKER_SLOT_ENV, type WorkerMessage } from './worker.js'

interface EmbeddedBroker {
  bootstrapServers: string
  stop (): Promise<void>
}

interface EmbeddedRegistry {
  url: string
  stop (): Promise<void>
}

// Confluent Schema Registry's default port; taken, the embedded one picks another.
const DEV_REGISTRY_PORT = 8081

/** Worker count: configured, or one per core. */
export function workerCount (configured: number): number {
  return configured > 0 ? configured : os.availableParallelism()
}

// Libuv threads per worker: consumer fetches run there next to DNS and file
// I/O, so the pool gets one thread per allowed concurrent fetch, the webhook
// consumers' budget (webhooks.threads) and four more, set before the worker
// first uses it.
const SPARE_UV_THREADS = 4
const MAX_RESTART_DELAY_MS = 30_000
// A worker that lived this long counts as healthy; its crash restarts quickly.
const STABLE_AFTER_MS = 30_000

async function startEmbeddedBroker (config: Config, log: Logger): Promise<EmbeddedBroker> {
  const { startBroker, kafkaLibDir, projectRoot } = await import('./dev/kafka-broker.js')
  const root = projectRoot()
  log.info('no kafka.bootstrap_servers configured: starting the embedded dev broker')
  const broker = await startBroker({
    libDir: kafkaLibDir(root),
    dataDir: path.resolve(root, config.dev.data_dir),
    port: config.dev.broker_port,
    // Nested so the broker's own fields (its pid) do not clash with the log line's.
    log: (msg, fields) => log.info(fields === undefined ? {} : { broker: fields }, msg)
  })
  if (broker.portWasTaken) {
    log.warn(`port ${config.dev.broker_port} is taken; the embedded broker listens on ${broker.port} instead`)
  }
  return broker
}

// Only next to the embedded broker: with a real cluster, schema ids written into its records
// must come from the registry its other clients use, never from a private one.
// Its storage (an H2 file) sits inside the broker's data dir because the schema ids in the
// broker's records are only meaningful together with it: both are kept or deleted together.
async function startEmbeddedRegistry (config: Config, log: Logger): Promise<EmbeddedRegistry> {
  const { startRegistry } = await import('./dev/schema-registry.js')
  const { projectRoot } = await import('./dev/guard.js')
  const root = projectRoot()
  const registry = await startRegistry({
    root,
    dataDir: path.resolve(root, config.dev.data_dir, 'schema-registry'),
    port: DEV_REGISTRY_PORT,
    log: (msg, fields) => log.info(fields === undefined ? {} : { registry: fields }, msg)
  })
  if (registry.portWasTaken) {
    log.warn(`port ${DEV_REGISTRY_PORT} is taken; the embedded schema registry listens on ${registry.port} instead`)
  }
  return registry
}

export async function runPrimary (config: Config, log: Logger): Promise<void> {
  let broker: EmbeddedBroker | null = null
  let registry: EmbeddedRegistry | null = null
  let effective = config
  const needed = devServicesNeeded(config)
  if (needed.broker) {
    // The registry does not use Kafka, so both JVMs start at once; the proxy does not start
    // without either, and one that did start is stopped again.
    const [brokerStart, registryStart] = await Promise.allSettled([
      startEmbeddedBroker(config, log),
      needed.registry ? startEmbeddedRegistry(config, log) : null
    ])
    if (brokerStart.status === 'rejected' || registryStart.status === 'rejected') {
      await Promise.allSettled([
        brokerStart.status === 'fulfilled' ? brokerStart.value.stop() : undefined,
        registryStart.status === 'fulfilled' ? registryStart.value?.stop() : undefined
      ])
      throw brokerStart.status === 'rejected' ? brokerStart.reason : (registryStart as PromiseRejectedResult).reason
    }
    broker = brokerStart.value
    registry = registryStart.value
    effective = { ...config, kafka: { ...config.kafka, bootstrap_servers: broker.bootstrapServers } }
    log.info({ bootstrap_servers: broker.bootstrapServers }, `kafka broker (embedded) listening on ${broker.bootstrapServers}`)
    if (registry !== null) {
      effective = { ...effective, schema_registry: { ...effective.schema_registry, url: registry.url } }
      log.info({ schema_registry_url: registry.url }, `schema registry (embedded) listening on ${registry.url}`)
    }
  } else {
    log.info({ bootstrap_servers: config.kafka.bootstrap_servers }, `kafka cluster at ${config.kafka.bootstrap_servers}`)
  }

  const count = workerCount(config.server.workers)
  const env = {
    [WORKER_CONFIG_ENV]: JSON.stringify(effective),
    [WORKER_COUNT_ENV]: String(count),
    UV_THREADPOOL_SIZE: String(config.consumer.threads + config.webhooks.threads + SPARE_UV_THREADS)
  }
  let shuttingDown = false
  let announced = false
  const listening = new Set<number>()
  let crashes = 0
  const startedAt = new Map<number, number>()
  // A worker's slot (0 … count-1) names it in metrics (`process="worker-<slot>"`);
  // a replacement takes the slot of the worker it replaces, so the set of
  // label values stays bounded however often workers restart.
  const slots = new Map<number, number>()

  const fork = (slot: number): Worker => {
    const worker = cluster.fork({ ...env, [WORKER_SLOT_ENV]: String(slot) })
    startedAt.set(worker.id, Date.now())
    slots.set(worker.id, slot)
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type !== 'listening') return
      log.info({ worker_pid: worker.process.pid, port: msg.port }, 'worker listening')
      listening.add(worker.id)
      if (!announced && listening.size >= count) {
        announced = true
        const host = config.server.host === '0.0.0.0' ? 'localhost' : config.server.host
        log.info({ port: msg.port, workers: count }, `proxy listening on http://${host}:${msg.port} (${count} workers)`)
      }
    })
    return worker
  }

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0)
    const slot = slots.get(worker.id) ?? 0
    startedAt.delete(worker.id)
    slots.delete(worker.id)
    listening.delete(worker.id)
    if (shuttingDown) return
    crashes = lived > STABLE_AFTER_MS ? 1 : crashes + 1
    const delay = Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (crashes - 1))
    log.error({ worker_pid: worker.process.pid, code, signal, restart_in_ms: delay }, 'worker exited; starting a replacement')
    setTimeout(() => { if (!shuttingDown) fork(slot) }, delay)
  })

  // Installed before any worker exists, so it sees every worker's requests
  // and every exit (an exited worker's consumer instances died with it).
  serveDirectory()
  // The instance's quota ledger: workers lease tokens from it (src/security/quotas.ts).
  if (quotasConfigured(config.quotas)) serveQuotas(config.quotas)
  // The primary's own process statistics are part of every scrape too.
  configureMetrics({ enabled: config.metrics.enabled, maxTopicLabels: config.metrics.max_topic_labels }, 'primary')
  if (config.metrics.enabled) serveMetrics()
  for (let i = 0; i < count; i++) fork(i)

  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return
    shuttingDown = true
    log.info({ signal }, 'shutting down: draining workers')
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined)
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) { resolve(); return }
      w.once('exit', () => resolve())
      // A terminal's Ctrl-C already reached the workers; a signal sent to the
      // primary alone must be passed on.
      w.process.kill('SIGTERM')
      setTimeout(() => { if (!w.isDead()) w.process.kill('SIGKILL') }, config.server.drain_grace_ms + config.server.shutdown_timeout_ms + 5000).unref()
    })))
    // The registry keeps its schemas outside Kafka, so the two stop independently.
    const stopping: Array<Promise<void>> = []
    if (registry !== null) {
      log.info('stopping the embedded schema registry')
      stopping.push(registry.stop())
    }
    if (broker !== null) {
      log.info('stopping the embedded broker')
      stopping.push(broker.stop())
    }
    await Promise.all(stopping)
    log.info('stopped')
    process.exit(0)
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => { shutdown(signal).catch((err: unknown) => { log.error({ err }, 'shutdown failed'); process.exit(1) }) })
  }
  // SIGHUP reloads: each worker reads its certificates, users file and JWKS
  // file again; connections stay open.
  process.on('SIGHUP', () => {
    log.info('SIGHUP: workers reload their TLS certificates and credentials files')
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w !== undefined && !w.isDead()) w.process.kill('SIGHUP')
    }
  })
}
