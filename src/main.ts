// Entry point: argv and environment -> validated config -> cluster primary or
// HTTP worker. bin/kafka-http-proxy.js runs the compiled form of this file.
import cluster from 'node:cluster'
import { configArgv, COMMAND, parseCommandLine, usage, USAGE_EXIT_CODE, version } from './cli.js'
import { loadConfig, ConfigError } from './config/load.js'
import type { ConfigIssue } from './config/schema.js'
import { createLogger } from './logger.js'

async function main (): Promise<void> {
  // Workers re-run this file with the primary's argv; their config comes from the primary.
  if (!cluster.isPrimary) {
    const { runWorker } = await import('./worker.js')
    await runWorker()
    return
  }
  const command = parseCommandLine(process.argv.slice(2))
  switch (command.kind) {
    case 'help':
      process.stdout.write(usage())
      return
    case 'version':
      process.stdout.write(`${version()}\n`)
      return
    case 'usage-error':
      process.stderr.write(`${COMMAND}: ${command.message}\nTry '${COMMAND} --help'.\n`)
      process.exitCode = USAGE_EXIT_CODE
      return
  }
  const warnings: ConfigIssue[] = []
  let config
  try {
    config = loadConfig({ argv: configArgv(command), env: process.env, onWarning: (w) => warnings.push(w) })
  } catch (err) {
    if (err instanceof ConfigError) {
      // The ignored settings too: a misspelt Confluent key is often why a value is missing.
      const ignored = warnings.length === 0 ? '' : `ignored settings:\n${warnings.map((w) => `  ${w.path}: ${w.message}`).join('\n')}\n`
      process.stderr.write(`invalid configuration:\n${err.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}\n${ignored}`)
      process.exit(1)
    }
    throw err
  }
  const log = createLogger(config.log.level, 'primary')
  for (const w of warnings) log.warn({ setting: w.path }, `${w.path}: ${w.message}`)
  // Loaded only to run: --help, --version and a bad command line answer without the Kafka client.
  const { runPrimary } = await import('./primary.js')
  await runPrimary(config, log)
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
