// TOML file (or Confluent's kafka-rest.properties) -> Confluent's KAFKA_REST_*
// variables -> environment overrides -> schema (defaults, types, unknown
// keys) -> cross-field checks -> deep freeze. Every problem found on the way
// is collected so an operator fixes a config in one round, not one error at a
// time.
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Ajv } from 'ajv'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { parse, TomlError } from 'smol-toml'
import { readConfluentEnv, readConfluentProperties, translateConfluent } from './confluent.js'
import type { ConfluentSetting } from './confluent.js'
import { CONFIG_PATH_ENV, readEnv } from './env.js'
import { compileRules } from '../security/authorize.js'
import { parseIdentityHeaders } from '../security/identity.js'
import { configKeys, configSchema, formatPath, isPassthrough } from './schema.js'
import type { Config, ConfigIssue } from './schema.js'
import { allowedHostProblem, parseNetwork } from '../webhooks/safety.js'
import { parseRoutes } from '../routes/config.js'

export class ConfigError extends Error {
  readonly errors: ConfigIssue[]

  constructor (errors: ConfigIssue[], source: string) {
    super(`Invalid configuration (${source}):\n` + errors.map(e => `  ${e.path}: ${e.message}`).join('\n'))
    this.name = 'ConfigError'
    this.errors = errors
  }
}

export interface LoadOptions {
  /** Config file chosen by the caller; wins over argv and env. */
  path?: string
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv
  /** Command-line arguments, searched for --config; defaults to process.argv.slice(2). */
  argv?: string[]
  /**
   * Receives each setting that was accepted but has no effect: Confluent settings with no
   * equivalent here and unknown Confluent keys. Called before loadConfig returns or throws.
   */
  onWarning?: (warning: ConfigIssue) => void
}

type Source = { kind: 'file', file: string, explicit: string } | { kind: 'defaults' } | { kind: 'error', issue: ConfigIssue }

function locate (opts: LoadOptions, env: NodeJS.ProcessEnv, argv: readonly string[]): Source {
  if (opts.path !== undefined) return { kind: 'file', file: resolve(opts.path), explicit: 'path' }
  let flag: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg.startsWith('--config=')) flag = arg.slice('--config='.length)
    else if (arg === '--config') {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) {
        return { kind: 'error', issue: { path: '--config', message: 'needs a file path' } }
      }
      flag = next
      i++
    }
  }
  if (flag === '') return { kind: 'error', issue: { path: '--config', message: 'needs a file path' } }
  if (flag !== undefined) return { kind: 'file', file: resolve(flag), explicit: '--config' }
  // An empty variable counts as unset, as container runtimes often declare
  // every variable whether or not it is given a value.
  const fromEnv = env[CONFIG_PATH_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return { kind: 'file', file: resolve(fromEnv), explicit: CONFIG_PATH_ENV }
  const local = resolve('config.toml')
  if (existsSync(local)) return { kind: 'file', file: local, explicit: '' }
  return { kind: 'defaults' }
}

function readText (file: string, explicit: string, encoding: BufferEncoding): { text?: string, issue?: ConfigIssue } {
  try {
    return { text: readFileSync(file, encoding) }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`
    return { issue: { path: explicit === '' ? file : explicit, message: `${why}: ${file}` } }
  }
}

/** A file named *.properties is Confluent's format; its settings are translated like KAFKA_REST_* ones. */
function isPropertiesFile (file: string): boolean {
  return file.endsWith('.properties')
}

function readToml (file: string, explicit: string): { doc?: Record<string, unknown>, issue?: ConfigIssue } {
  const { text, issue } = readText(file, explicit, 'utf8')
  if (text === undefined) return { issue }
  try {
    // 'throw' turns keys like __proto__ into a parse error. smol-toml builds
    // null-prototype tables; the clone makes them ordinary objects so the
    // frozen config behaves like any other object for its users.
    return { doc: structuredClone(parse(text, { unsafeKeyBehaviour: 'throw' })) as Record<string, unknown> }
  } catch (err) {
    if (!(err instanceof TomlError)) throw err
    const reason = err.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '')
    return { issue: { path: file, message: `invalid TOML at line ${err.line}, column ${err.column}: ${reason}` } }
  }
}

let compiled: ValidateFunction | undefined
function validator (): ValidateFunction {
  // coerceTypes stays off: a quoted "8082" in TOML is a mistake worth
  // reporting; environment strings are typed by env.ts from the schema.
  compiled ??= new Ajv({
    allErrors: true,
    useDefaults: true,
    coerceTypes: false,
    allowUnionTypes: true,
    strict: true,
    // Error messages quote the rejected value and list a table's known keys.
    verbose: true
  }).compile(configSchema)
  return compiled
}

function pointerToPath (pointer: string): string[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map(s => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

function describe (value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a date'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a table'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  return `${typeof value} ${String(value)}`
}

function fromAjv (e: ErrorObject): ConfigIssue {
  const path = pointerToPath(e.instancePath)
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      return { path: formatPath([...path, e.params.additionalProperty as string]), message: `unknown key (known keys: ${known.join(', ')})` }
    }
    case 'enum':
      return { path: formatPath(path), message: `must be one of ${(e.params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}, got ${describe(e.data)}` }
    case 'type':
      return { path: formatPath(path), message: `must be ${String(e.params.type).replaceAll(',', ' or ')}, got ${describe(e.data)}` }
    default:
      return { path: formatPath(path), message: e.message ?? e.keyword }
  }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function setPath (doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let table = doc
  for (const segment of path.slice(0, -1)) {
    const next = Object.hasOwn(table, segment) ? table[segment] : (table[segment] = {})
    // A non-table here is a schema error that will be reported for the
    // file's value; the override has nowhere to go.
    if (!isPlainObject(next)) return
    table = next
  }
  table[path[path.length - 1] as string] = value
}

interface CrossCheck {
  /** Key paths the check reads; it is skipped when the schema already rejected one of them or a containing table. */
  readonly reads: readonly string[]
  readonly run: (c: Config) => ConfigIssue[]
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s,:[\]]+):(\d{1,5})$/

// librdkafka property names are lower case words joined by dots.
const LIBRDKAFKA_PROPERTY = /^[a-z][a-z0-9.]*$/
const RESERVED: Record<string, string> = {
  'bootstrap.servers': 'is set by the proxy; use kafka.bootstrap_servers instead',
  'client.id': 'is set by the proxy; use kafka.client_id instead',
  'group.id': 'is set by the proxy; consumer groups are named by the API request that creates a consumer',
  dr_cb: 'is set by the proxy; delivery reports carry each record\'s offset to its HTTP response',
  dr_msg_cb: 'is set by the proxy; delivery reports carry each record\'s offset to its HTTP response'
}

// What kafka.security may hold: how a client connects, not how it behaves.
const SECURITY_PROPERTY = /^(security\.protocol|sasl\.[a-z0-9.]+|ssl\.[a-z0-9.]+|enable\.ssl\.certificate\.verification|enable\.sasl\.oauthbearer\.unsecure\.jwt|https?\.[a-z0-9.]+)$/

const passthroughPaths = configKeys().filter(k => isPassthrough(k.schema)).map(k => k.path)

function get (c: Config, path: readonly string[]): unknown {
  let v: unknown = c
  for (const s of path) v = isPlainObject(v) ? v[s] : undefined
  return v
}

const CROSS_CHECKS: readonly CrossCheck[] = [
  {
    // librdkafka refuses to create an idempotent producer otherwise; failing
    // here names the keys instead of failing at the first produce.
    reads: ['producer.enable_idempotence', 'producer.acks'],
    run: c => c.producer.enable_idempotence && c.producer.acks !== 'all'
      ? [{ path: 'producer.enable_idempotence', message: `requires producer.acks = "all" (got ${JSON.stringify(c.producer.acks)}); set acks to "all" or disable idempotence` }]
      : []
  },
  {
    // Brokers track sequence numbers for at most 5 in-flight batches per
    // partition (KAFKA-5494); more would break the ordering guarantee.
    reads: ['producer.enable_idempotence', 'producer.max_in_flight'],
    run: c => c.producer.enable_idempotence && c.producer.max_in_flight > 5
      ? [{ path: 'producer.max_in_flight', message: `must be <= 5 when producer.enable_idempotence is true (got ${c.producer.max_in_flight})` }]
      : []
  },
  ...passthroughPaths.map((path): CrossCheck => ({
    reads: [formatPath(path)],
    run: c => {
      const table = get(c, path)
      if (!isPlainObject(table)) return []
      const issues: ConfigIssue[] = []
      for (const name of Object.keys(table)) {
        if (formatPath(path) === 'kafka.security' && !SECURITY_PROPERTY.test(name)) {
          issues.push({ path: formatPath([...path, name]), message: 'is not a security property (security.protocol, sasl.*, ssl.*); tuning properties go in kafka.producer, kafka.consumer or kafka.admin' })
          continue
        }
        const reserved = RESERVED[name]
        if (reserved !== undefined) issues.push({ path: formatPath([...path, name]), message: reserved })
        else if (!LIBRDKAFKA_PROPERTY.test(name)) {
          issues.push({ path: formatPath([...path, name]), message: 'is not a librdkafka property name (lower case letters, digits and dots, like "linger.ms")' })
        }
      }
      return issues
    }
  })),
  {
    reads: ['kafka.bootstrap_servers'],
    run: c => {
      if (c.kafka.bootstrap_servers === '') return []
      const bad = c.kafka.bootstrap_servers.split(',').map(s => s.trim()).filter(s => {
        const m = HOST_PORT.exec(s)
        return m === null || Number(m[2]) < 1 || Number(m[2]) > 65535
      })
      return bad.length === 0
        ? []
        : [{ path: 'kafka.bootstrap_servers', message: `${bad.map(s => JSON.stringify(s)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not host:port; expected a comma-separated list like "broker1:9092,broker2:9092"` }]
    }
  },
  {
    reads: ['webhooks.denied_networks', 'webhooks.allowed_hosts'],
    run: c => [
      ...c.webhooks.denied_networks.flatMap((n, i) => {
        try {
          parseNetwork(n)
          return []
        } catch (err) {
          return [{ path: 'webhooks.denied_networks', message: `entry ${i + 1}: ${(err as Error).message}` }]
        }
      }),
      ...c.webhooks.allowed_hosts.flatMap((h, i) => {
        const problem = allowedHostProblem(h)
        return problem === null ? [] : [{ path: 'webhooks.allowed_hosts', message: `entry ${i + 1}: ${problem}` }]
      })
    ]
  },
  {
    reads: ['webhooks.backoff_initial_ms', 'webhooks.backoff_max_ms'],
    run: c => c.webhooks.backoff_initial_ms > c.webhooks.backoff_max_ms
      ? [{ path: 'webhooks.backoff_initial_ms', message: `must not exceed webhooks.backoff_max_ms (${c.webhooks.backoff_max_ms})` }]
      : []
  },
  {
    reads: ['routes', 'route_settings.max_body_bytes', 'route_settings.timeout_ms'],
    run: c => parseRoutes(c.routes, { maxBodyBytes: c.route_settings.max_body_bytes, timeoutMs: c.route_settings.timeout_ms }).issues
  },
  {
    reads: ['server.advertised_url'],
    run: c => {
      const raw = c.server.advertised_url
      if (raw === '') return []
      let url: URL | undefined
      try {
        url = new URL(raw)
      } catch {}
      const ok = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.pathname === '/' && !raw.endsWith('/') && url.search === '' && url.hash === '' &&
        url.username === '' && url.password === ''
      return ok
        ? []
        : [{ path: 'server.advertised_url', message: `must be an absolute http(s) URL without path, query or trailing slash, like "https://kafka-proxy.example.com:8443" (got ${JSON.stringify(raw)})` }]
    }
  },
  {
    reads: ['authorization.rules'],
    run: c => {
      try {
        compileRules(c.authorization.rules)
        return []
      } catch (err) {
        return [{ path: 'authorization.rules', message: (err as Error).message }]
      }
    }
  },
  {
    reads: ['identity.headers'],
    run: c => parseIdentityHeaders(c.identity.headers).issues.map((message) => ({ path: 'identity.headers', message }))
  },
  {
    reads: ['server.tls'],
    run: c => {
      const tls = c.server.tls
      const issues: ConfigIssue[] = []
      if ((tls.cert_file === '') !== (tls.key_file === '')) issues.push({ path: tls.cert_file === '' ? 'server.tls.cert_file' : 'server.tls.key_file', message: 'server.tls needs both cert_file and key_file' })
      if (tls.client_auth !== 'none' && tls.cert_file === '') issues.push({ path: 'server.tls.client_auth', message: `is ${JSON.stringify(tls.client_auth)}, which needs TLS (server.tls.cert_file and key_file)` })
      if (tls.client_auth !== 'none' && tls.ca_file === '') issues.push({ path: 'server.tls.ca_file', message: `is needed to verify client certificates (client_auth = ${JSON.stringify(tls.client_auth)})` })
      return issues
    }
  },
  {
    // node:http throws ERR_OUT_OF_RANGE at server creation for this
    // combination; catching it here names the keys.
    reads: ['server.headers_timeout_ms', 'server.request_timeout_ms'],
    run: c => c.server.request_timeout_ms > 0 && c.server.headers_timeout_ms > c.server.request_timeout_ms
      ? [{ path: 'server.headers_timeout_ms', message: `must be <= server.request_timeout_ms (${c.server.request_timeout_ms}) unless that is 0` }]
      : []
  }
]

function covers (errorPath: string, readPath: string): boolean {
  return errorPath === readPath || readPath.startsWith(errorPath + '.') || errorPath === ''
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

/**
 * Loads, validates and freezes the configuration. The file is, in order of
 * precedence: `opts.path`, `--config <path>` / `--config=<path>` in argv, the
 * KAFKA_PROXY_CONFIG variable, ./config.toml if it exists; with none of them
 * every key has its default. A file ending in .properties is read as
 * Confluent's kafka-rest.properties (see confluent.ts). On top of the file
 * apply Confluent's KAFKA_REST_* variables, then the own overrides (see
 * env.ts). Throws ConfigError listing every problem found.
 */
export function loadConfig (opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env
  const argv = opts.argv ?? process.argv.slice(2)
  const issues: ConfigIssue[] = []

  const source = locate(opts, env, argv)
  let doc: Record<string, unknown> | undefined = {}
  let label = 'no config file, defaults and environment only'
  const confluentSettings: ConfluentSetting[] = []
  if (source.kind === 'error') {
    issues.push(source.issue)
    doc = undefined
  } else if (source.kind === 'file' && isPropertiesFile(source.file)) {
    label = `file ${source.file}`
    // java.util.Properties.load reads a stream as ISO-8859-1; other characters are \uXXXX.
    const read = readText(source.file, source.explicit, 'latin1')
    if (read.text === undefined) {
      doc = undefined
      issues.push(read.issue as ConfigIssue)
    } else {
      const parsed = readConfluentProperties(read.text, source.file)
      confluentSettings.push(...parsed.settings)
      issues.push(...parsed.issues)
    }
  } else if (source.kind === 'file') {
    label = `file ${source.file}`
    const read = readToml(source.file, source.explicit)
    doc = read.doc
    if (read.issue !== undefined) issues.push(read.issue)
  }

  // The variables of Confluent's image win over its file, as they are written into it there.
  confluentSettings.push(...readConfluentEnv(env))
  const confluent = translateConfluent(confluentSettings)
  issues.push(...confluent.issues)
  for (const warning of confluent.warnings) opts.onWarning?.(warning)

  const fromEnv = readEnv(env)
  issues.push(...fromEnv.issues)
  if (doc === undefined) throw new ConfigError(issues, label)

  const origin = new Map<string, string>()
  // Own variable names are more specific than Confluent's, so they are applied last.
  for (const o of [...confluent.overrides, ...fromEnv.overrides.map(e => ({ path: e.path, value: e.value, source: e.env }))]) {
    setPath(doc, o.path, o.value)
    origin.set(formatPath(o.path), o.source)
  }

  const valid = validator()(doc)
  const schemaIssues = valid ? [] : (validator().errors ?? []).map(fromAjv)
  const config = doc as unknown as Config
  const crossIssues = CROSS_CHECKS
    .filter(check => !check.reads.some(r => schemaIssues.some(e => covers(e.path, r))))
    .flatMap(check => check.run(config))

  for (const issue of [...schemaIssues, ...crossIssues]) {
    const env = origin.get(issue.path)
    issues.push(env === undefined ? issue : { path: issue.path, message: `${issue.message} (set by ${env})` })
  }
  if (issues.length > 0) throw new ConfigError(issues, label)
  return deepFreeze(config)
}
