// The command line of `kafka-http-proxy` (bin/kafka-http-proxy.js, `npm start -- ...`): what to do,
// and which embedded dev services a run needs, decided with the same config loader the proxy uses.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config/load.js'
import { devServicesNeeded, type DevServices } from './dev/needed.js'

export const COMMAND = 'kafka-http-proxy'

/** Exit status of a command line that cannot be run (as getopt-style tools use it). */
export const USAGE_EXIT_CODE = 2

export type Command =
  | { readonly kind: 'run', readonly config: string | undefined }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error', readonly message: string }

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' }
} as const

/**
 * Parses the arguments. Unknown options, positional arguments and malformed values are usage
 * errors, each named; --help wins over everything else, then --version.
 */
export function parseCommandLine (argv: readonly string[]): Command {
  // Non-strict with tokens, so every problem is reported in this module's words, not the parser's.
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true })
  let config: string | undefined
  let help = false
  let version = false
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue
    if (token.kind === 'positional') {
      return { kind: 'usage-error', message: `unexpected argument ${JSON.stringify(token.value)} (name a configuration file with --config <file>)` }
    }
    switch (token.name) {
      case 'config':
        if (token.value === undefined || token.value === '' || (!token.inlineValue && token.value.startsWith('-'))) {
          return { kind: 'usage-error', message: `${token.rawName} needs a file path (write --config=<path> for one that starts with "-")` }
        }
        config = token.value
        break
      case 'help':
      case 'version':
        if (token.value !== undefined) return { kind: 'usage-error', message: `${token.rawName} takes no value` }
        if (token.name === 'help') help = true
        else version = true
        break
      default:
        return { kind: 'usage-error', message: `unknown option ${token.rawName}` }
    }
  }
  if (help) return { kind: 'help' }
  if (version) return { kind: 'version' }
  return { kind: 'run', config }
}

export function usage (): string {
  return `Usage: ${COMMAND} [--config <file>]

An HTTP proxy for Apache Kafka with a Confluent REST Proxy compatible API (v2 and v3).

Options:
  -c, --config <file>  configuration file: TOML (see config.toml), or Confluent's
                       kafka-rest.properties when the name ends in .properties
  -h, --help           print this help and exit
  -v, --version        print the version and exit

Without --config the file is $KAFKA_PROXY_CONFIG, else ./config.toml if it exists;
with none, every key has its default. KAFKA_PROXY_<TABLE>__<KEY> variables override
any key (docs/configuration.md); Confluent's KAFKA_REST_* variables are accepted too
(docs/confluent-migration.md).

With no kafka.bootstrap_servers configured, an embedded single-node development broker
(and schema registry) is started, which needs Java 17 and the jars \`npm run setup\`
downloads; with a cluster configured, neither is needed.

Exit status: 0 stopped cleanly, 1 invalid configuration or failure, ${USAGE_EXIT_CODE} bad command line.
`
}

/** The version in package.json, found above this module in src/ and in dist/src/ alike. */
export function version (): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    let text: string
    try {
      text = readFileSync(new URL(candidate, import.meta.url), 'utf8')
    } catch {
      continue
    }
    const pkg = JSON.parse(text) as { name?: unknown, version?: unknown }
    if (pkg.name === COMMAND && typeof pkg.version === 'string') return pkg.version
  }
  throw new Error(`no package.json of ${COMMAND} above ${import.meta.url}`)
}

const NONE: DevServices = { broker: false, registry: false }

/**
 * The dev services a run with these arguments and environment would start, for `npm start` to
 * fetch first. A command line or configuration that will not run needs none: the proxy itself
 * then reports what is wrong.
 */
export function devServicesFor (argv: readonly string[], env: NodeJS.ProcessEnv): DevServices {
  const command = parseCommandLine(argv)
  if (command.kind !== 'run') return NONE
  try {
    return devServicesNeeded(loadConfig({ argv: configArgv(command), env }))
  } catch (err) {
    if (err instanceof ConfigError) return NONE
    throw err
  }
}

/** The arguments loadConfig searches for the file, for a parsed run command. */
export function configArgv (command: { readonly config: string | undefined }): string[] {
  return command.config === undefined ? [] : [`--config=${command.config}`]
}
