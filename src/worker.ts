// An HTTP worker process of the cluster. It receives the primary's validated
// config, serves until told to stop, then drains and exits.
import { createLogger } from './logger.js'
import { startServer } from './server.js'
import type { Config } from './config/schema.js'

/** Messages a worker sends its primary. */
export type WorkerMessage = { type: 'listening', port: number }

export const WORKER_CONFIG_ENV = 'PROXY_WORKER_CONFIG'
export const WORKER_COUNT_ENV = 'PROXY_WORKER_COUNT'
/** The worker's slot, 0 … count-1, kept by its replacements. */
export const WORKER_SLOT_ENV = 'PROXY_WORKER_SLOT'

export async function runWorker (): Promise<void> {
  const raw = process.env[WORKER_CONFIG_ENV]
  if (raw === undefined) throw new Error(`${WORKER_CONFIG_ENV} is not set: workers are started by the primary`)
  const config = JSON.parse(raw) as Config
  const log = createLogger(config.log.level, 'worker')
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting so the primary starts a fresh worker')
    process.exit(1)
  })
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection; exiting so the primary starts a fresh worker')
    process.exit(1)
  })

  const server = await startServer({
    config,
    log,
    workers: Number(process.env[WORKER_COUNT_ENV] ?? 1),
    processLabel: `worker-${process.env[WORKER_SLOT_ENV] ?? '0'}`
  })
  const message: WorkerMessage = { type: 'listening', port: server.port }
  process.send?.(message)

  let stopping = false
  const stop = (reason: string): void => {
    if (stopping) return
    stopping = true
    log.info({ reason }, 'worker draining')
    server.shutdown().then(() => {
      log.info('worker stopped')
      process.exit(0)
    }, (err: unknown) => {
      log.error({ err }, 'worker shutdown failed')
      process.exit(1)
    })
  }
  process.on('SIGHUP', () => {
    try {
      server.reload()
      log.info('reloaded TLS certificates and credentials files')
    } catch (err) {
      // The files being replaced may be half written; the old ones stay in use.
      log.error({ err }, 'reload failed; serving with the previous certificates and credentials')
    }
  })
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  // The primary is gone (even if it was killed): never serve as an orphan.
  process.on('disconnect', () => stop('primary disconnected'))
}
