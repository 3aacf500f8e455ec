// Entry point: argv and environment -> validated config -> cluster primary or
// HTTP worker.
import cluster from 'node:cluster'
import { loadConfig, ConfigError } from './config/load.js'
import { createLogger } from './logger.js'
import { runPrimary } from './primary.js'
import { runWorker } from './worker.js'

async function main (): Promise<void> {
  if (!cluster.isPrimary) {
    await runWorker()
    return
  }
  let config
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration:\n${err.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}\n`)
      process.exit(1)
    }
    throw err
  }
  await runPrimary(config, createLogger(config.log.level, 'primary'))
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
