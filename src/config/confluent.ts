// Confluent REST Proxy settings, accepted so a deployment can move over without renaming them: a
// kafka-rest.properties file and the KAFKA_REST_* variables of Confluent's docker image. Each
// setting that has an equivalent here becomes an override of that key, typed and validated like
// any other; each one that has none, and each unknown one, becomes a warning, never a silent drop.
// The table is docs/confluent-migration.md.
//
// Client properties (client.*, producer.*, consumer.*, admin.*) are Java client names; they are
// translated to librdkafka's where the two differ and land in the operator's pass-through tables,
// so the checks of those tables (reserved names, property syntax) apply to them unchanged.
import { EXPECTED, parseLeaf } from './env.js'
import { configKeys, formatPath, isPassthrough } from './schema.js'
import type { ConfigIssue, LeafSchema } from './schema.js'
import { parseProperties } from './java-properties.js'

export const CONFLUENT_ENV_PREFIX = 'KAFKA_REST_'

export interface ConfluentSetting {
  readonly key: string
  readonly value: string
  /** Where it came from, as an operator would look for it: a variable name or `key (file line n)`. */
  readonly source: string
}

export interface ConfluentOverride {
  readonly path: readonly string[]
  readonly value: unknown
  readonly source: string
}

export interface ConfluentTranslation {
  readonly overrides: ConfluentOverride[]
  /** Values that cannot be used as given: configuration errors. */
  readonly issues: ConfigIssue[]
  /** Settings without an equivalent, and unknown ones: logged, then ignored. */
  readonly warnings: ConfigIssue[]
}

/**
 * The property a KAFKA_REST_* variable stands for, by the rule of Confluent's images: lower case,
 * a single '_' between two other characters is '.', '___' is '-', '__' is '_'.
 *   KAFKA_REST_BOOTSTRAP_SERVERS -> bootstrap.servers
 */
export function confluentPropertyName (envName: string): string | undefined {
  if (!envName.startsWith(CONFLUENT_ENV_PREFIX) || envName.length === CONFLUENT_ENV_PREFIX.length) return undefined
  return envName.slice(CONFLUENT_ENV_PREFIX.length).toLowerCase()
    .replace(/(?<=[^_])_(?=[^_])/g, '.')
    .replaceAll('___', '-')
    .replaceAll('__', '_')
}

/** The KAFKA_REST_* variables as settings, sorted by name. */
export function readConfluentEnv (env: NodeJS.ProcessEnv): ConfluentSetting[] {
  const out: ConfluentSetting[] = []
  for (const name of Object.keys(env).sort()) {
    const value = env[name]
    const key = confluentPropertyName(name)
    if (key !== undefined && value !== undefined) out.push({ key, value, source: name })
  }
  return out
}

/** The settings of a kafka-rest.properties text; `file` names it in sources and issues. */
export function readConfluentProperties (text: string, file: string): { settings: ConfluentSetting[], issues: ConfigIssue[] } {
  const parsed = parseProperties(text)
  return {
    settings: parsed.entries.map(e => ({ key: e.key, value: e.value, source: `${e.key} (${file} line ${e.line})` })),
    issues: parsed.errors.map(e => ({ path: `${file} line ${e.line}`, message: e.message }))
  }
}

const leafByKey = new Map(configKeys().filter(k => !isPassthrough(k.schema)).map(k => [formatPath(k.path), k]))

// Confluent keys that are one of ours, value for value.
const DIRECT: Readonly<Record<string, string>> = {
  'consumer.threads': 'consumer.threads',
  'consumer.request.timeout.ms': 'consumer.request_timeout_ms',
  'consumer.request.max.bytes': 'consumer.request_max_bytes',
  'consumer.instance.timeout.ms': 'consumer.instance_timeout_ms',
  'fetch.min.bytes': 'consumer.fetch_min_bytes',
  'shutdown.graceful.ms': 'server.shutdown_timeout_ms',
  'confluent.resource.name.authority': 'v3.resource_name_authority',
  'api.v3.produce.batch.maximum.entries': 'v3.batch_max_entries',
  'api.v3.produce.request.size.limit.max.bytes': 'v3.record_max_bytes',
  'streaming.connection.max.duration.ms': 'v3.stream_max_duration_ms',
  'streaming.connection.max.duration.grace.period.ms': 'v3.stream_grace_period_ms',
  'api.v3.produce.rate.limit.enabled': 'v3.rate_limit.enabled',
  'api.v3.produce.rate.limit.max.requests.per.sec': 'v3.rate_limit.max_records_per_sec',
  'api.v3.produce.rate.limit.max.requests.global.per.sec': 'v3.rate_limit.max_records_global_per_sec',
  'api.v3.produce.rate.limit.max.bytes.per.sec': 'v3.rate_limit.max_bytes_per_sec',
  'api.v3.produce.rate.limit.max.bytes.global.per.sec': 'v3.rate_limit.max_bytes_global_per_sec'
}

// Java producer and consumer properties that are typed keys here; the typed key is what the proxy
// turns into the librdkafka property, so it must win over a pass-through copy.
const PRODUCER_TYPED: Readonly<Record<string, { key: string, convert?: (v: string) => string }>> = {
  acks: { key: 'producer.acks', convert: v => v === '-1' ? 'all' : v.toLowerCase() },
  'enable.idempotence': { key: 'producer.enable_idempotence' },
  'compression.type': { key: 'producer.compression', convert: v => v.toLowerCase() },
  'linger.ms': { key: 'producer.linger_ms' },
  'batch.size': { key: 'producer.batch_bytes' },
  'delivery.timeout.ms': { key: 'producer.delivery_timeout_ms' },
  'max.in.flight.requests.per.connection': { key: 'producer.max_in_flight' }
}
const CONSUMER_TYPED: Readonly<Record<string, { key: string, convert?: (v: string) => string }>> = {
  'max.poll.records': { key: 'consumer.max_poll_records' }
}

const LOG_LEVELS: Readonly<Record<string, string>> = {
  all: 'trace', trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', error: 'error', fatal: 'fatal', off: 'silent'
}

// Confluent settings that are known but have nothing to set here, with the reason.
const UNSUPPORTED: Readonly<Record<string, string>> = {
  id: 'consumer instance names are generated without a server id',
  'zookeeper.connect': 'ZooKeeper served only the removed v1 consumer API',
  'producer.threads': 'it has no effect in Confluent\'s proxy either',
  'consumer.iterator.timeout.ms': 'reads wait on the consumer\'s fetch queue; consumer.request.timeout.ms bounds a read',
  'consumer.iterator.backoff.ms': 'reads wait on the consumer\'s fetch queue; consumer.request.timeout.ms bounds a read',
  'simpleconsumer.pool.size.max': 'simple consumers belonged to the v1 API',
  'simpleconsumer.pool.timeout.ms': 'simple consumers belonged to the v1 API',
  'client.timeout.ms': 'see kafka.request_timeout_ms for admin and metadata calls',
  'client.init.timeout.ms': 'see kafka.request_timeout_ms for admin and metadata calls',
  'client.zk.session.timeout.ms': 'ZooKeeper is not used',
  'api.v2.enable': 'both APIs are always served',
  'api.v3.enable': 'both APIs are always served',
  'api.endpoints.allowlist': 'every endpoint is served',
  'api.endpoints.blocklist': 'every endpoint is served',
  'api.v3.produce.rate.limit.cache.expiry.ms': 'rate limit state is kept per cluster id without expiry',
  'api.v3.produce.response.thread.pool.size': 'responses are written on the event loop',
  'compression.enable': 'responses are not compressed; compress in a reverse proxy in front',
  debug: 'error bodies never carry stack traces; set log.level to debug for more logging',
  'idle.timeout.ms': 'see server.keep_alive_timeout_ms (idle time between requests on a connection)',
  'request.logger.name': 'requests are not logged one by one',
  'use.custom.request.logging': 'requests are not logged one by one',
  'response.mediatype.preferred': 'the media type follows the request\'s Accept header and the API version',
  'response.mediatype.default': 'the media type follows the request\'s Accept header and the API version',
  'listener.protocol.map': 'one unnamed http listener is served',
  'thread.pool.min': 'see server.workers and pool.threads',
  'thread.pool.max': 'see server.workers and pool.threads',
  'request.queue.capacity': 'see pool.max_queue',
  'request.queue.capacity.init': 'see pool.max_queue',
  'request.queue.capacity.growby': 'see pool.max_queue',
  'http2.enabled': 'HTTP/1.1 only',
  'server.connection.limit': 'see server.max_connections (per worker process)',
  'connector.connection.limit': 'see server.max_connections (per worker process)',
  'null.request.body.always.publishes.empty.record': 'a null body is answered as Confluent answers it by default',
  'kafka.rest.resource.extension.class': 'Java extensions cannot be loaded',
  'rest.servlet.initializor.classes': 'Java extensions cannot be loaded',
  'metrics.jmx.prefix': 'there is no JMX',
  'metric.reporters': 'there is no JMX',
  'hsts.header.enable': 'set response headers in a reverse proxy in front',
  'nosniff.prevention.enable': 'set response headers in a reverse proxy in front',
  'reject.options.request': 'OPTIONS requests are not handled specially',
  // Variables of Confluent's image that configure its JVM launcher and log4j, not the proxy.
  'log4j.loggers': 'see log.level',
  'log4j.opts': 'there is no JVM',
  'heap.opts': 'there is no JVM',
  opts: 'there is no JVM',
  'jmx.opts': 'there is no JVM',
  'jmx.port': 'there is no JVM',
  'jmx.hostname': 'there is no JVM',
  'jvm.performance.opts': 'there is no JVM'
}

const UNSUPPORTED_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['ssl.', 'the proxy serves plain http; terminate TLS in a reverse proxy or load balancer in front'],
  ['authentication.', 'HTTP authentication is not implemented; put an authenticating reverse proxy in front'],
  ['confluent.rest.auth.', 'HTTP authentication is not implemented; put an authenticating reverse proxy in front'],
  ['access.control.', 'CORS headers are not sent'],
  ['rate.limit.', 'only the v3 produce rate limits exist (api.v3.produce.rate.limit.*)'],
  ['dos.filter.', 'only the v3 produce rate limits exist (api.v3.produce.rate.limit.*)'],
  ['network.traffic.rate.limit.', 'only the v3 produce rate limits exist (api.v3.produce.rate.limit.*)'],
  ['metrics.', 'there is no JMX'],
  ['confluent.telemetry.', 'there is no telemetry reporter'],
  ['websocket.', 'there is no websocket endpoint'],
  ['schema.registry.', 'the registry client takes only the URL, basic auth (USER_INFO or URL) and a PEM trust store']
]

// Java client properties with no librdkafka counterpart, or that the proxy sets itself.
const JAVA_ONLY: Readonly<Record<string, string>> = {
  'bootstrap.servers': 'the top-level bootstrap.servers names the cluster',
  'client.id': 'client ids are kafka.client_id plus the client\'s role',
  'group.id': 'consumer groups are named by each create-consumer request',
  'auto.offset.reset': 'each create-consumer request chooses it (latest unless it says otherwise)',
  'transactional.id': 'the proxy\'s producer is not transactional',
  'key.serializer': 'the proxy serializes records by the request\'s embedded format',
  'value.serializer': 'the proxy serializes records by the request\'s embedded format',
  'key.deserializer': 'the proxy deserializes records by the consumer\'s format',
  'value.deserializer': 'the proxy deserializes records by the consumer\'s format',
  'partitioner.class': 'keyed records are partitioned as by the Java client\'s default (murmur2)',
  'interceptor.classes': 'Java plug-ins cannot be loaded',
  'metric.reporters': 'Java plug-ins cannot be loaded',
  'metrics.num.samples': 'Java client metrics',
  'metrics.sample.window.ms': 'Java client metrics',
  'metrics.recording.level': 'Java client metrics',
  'auto.include.jmx.reporter': 'Java client metrics',
  'buffer.memory': 'librdkafka bounds its queue by queue.buffering.max.kbytes instead',
  'max.block.ms': 'librdkafka never blocks a produce call',
  'client.dns.lookup': 'Java client setting',
  'default.api.timeout.ms': 'Java client setting; see kafka.request_timeout_ms',
  'exclude.internal.topics': 'Java client setting',
  'sasl.login.class': 'Java plug-ins cannot be loaded',
  'sasl.login.callback.handler.class': 'Java plug-ins cannot be loaded',
  'sasl.client.callback.handler.class': 'Java plug-ins cannot be loaded',
  'sasl.kerberos.ticket.renew.jitter': 'Java Kerberos setting',
  'sasl.kerberos.ticket.renew.window.factor': 'Java Kerberos setting',
  'ssl.engine.factory.class': 'Java plug-ins cannot be loaded',
  'ssl.keymanager.algorithm': 'Java TLS setting',
  'ssl.trustmanager.algorithm': 'Java TLS setting',
  'ssl.provider': 'Java TLS setting',
  'ssl.secure.random.implementation': 'Java TLS setting',
  'ssl.protocol': 'Java TLS setting; OpenSSL negotiates the protocol',
  'ssl.enabled.protocols': 'Java TLS setting; OpenSSL negotiates the protocol'
}

// Same meaning, another name in librdkafka.
const RENAMED: Readonly<Record<string, string>> = {
  'sasl.mechanism': 'sasl.mechanisms',
  'fetch.max.wait.ms': 'fetch.wait.max.ms',
  'max.request.size': 'message.max.bytes',
  'send.buffer.bytes': 'socket.send.buffer.bytes',
  'receive.buffer.bytes': 'socket.receive.buffer.bytes',
  'ssl.truststore.certificates': 'ssl.ca.pem',
  'ssl.keystore.certificate.chain': 'ssl.certificate.pem',
  'ssl.keystore.key': 'ssl.key.pem'
}

const ASSIGNORS: Readonly<Record<string, string>> = {
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.CooperativeStickyAssignor': 'cooperative-sticky'
}

// Consumed together with ssl.truststore.location or ssl.keystore.location.
const STORE_COMPANIONS = new Set(['ssl.truststore.type', 'ssl.truststore.password', 'ssl.keystore.type', 'ssl.keystore.password'])

const ROLES = ['producer', 'consumer', 'admin'] as const
type Role = typeof ROLES[number]

class Translator {
  readonly overrides: ConfluentOverride[] = []
  readonly issues: ConfigIssue[] = []
  private readonly warned = new Map<string, ConfigIssue>()
  private readonly settings: Map<string, ConfluentSetting>
  private readonly used = new Set<string>()

  constructor (settings: readonly ConfluentSetting[]) {
    // Later settings win, as a later line of a properties file does.
    this.settings = new Map(settings.map(s => [s.key, s]))
  }

  get warnings (): ConfigIssue[] {
    return [...this.warned.values()]
  }

  take (key: string): ConfluentSetting | undefined {
    const s = this.settings.get(key)
    if (s !== undefined) this.used.add(key)
    return s
  }

  remaining (): ConfluentSetting[] {
    return [...this.settings.values()].filter(s => !this.used.has(s.key))
  }

  warn (s: ConfluentSetting, message: string): void {
    this.used.add(s.key)
    this.warned.set(`${s.source}\0${message}`, { path: s.source, message })
  }

  fail (s: ConfluentSetting, message: string): void {
    this.issues.push({ path: s.source, message })
  }

  set (key: string, value: unknown, s: ConfluentSetting): void {
    this.overrides.push({ path: key.split('.'), value, source: s.source })
  }

  setProperty (role: Role, property: string, value: string, s: ConfluentSetting): void {
    this.overrides.push({ path: ['kafka', role, property], value, source: s.source })
  }

  /** A typed key from text, parsed as an environment value of that key would be. */
  setTyped (key: string, raw: string, s: ConfluentSetting): void {
    const target = leafByKey.get(key)
    if (target === undefined) throw new Error(`no configuration key ${key}`)
    const schema = target.schema as LeafSchema
    const text = schema.type === 'boolean' ? raw.toLowerCase() : raw
    const parsed = parseLeaf(schema, text)
    if (parsed.ok) this.set(key, parsed.value, s)
    else this.fail(s, `expected ${EXPECTED[schema.type]} for ${key}, got ${JSON.stringify(raw)}`)
  }
}

function textOf (s: ConfluentSetting): string {
  // Java's ConfigDef trims every value it parses.
  return s.value.trim()
}

const LISTENER = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]*\]|[^\s/:[\]]*)(?::(\d{1,5}))?\/?$/

function parseListener (text: string): { scheme: string, host: string, port: number | undefined } | undefined {
  const m = LISTENER.exec(text)
  if (m === null) return undefined
  return { scheme: (m[1] as string).toLowerCase(), host: m[2] as string, port: m[3] === undefined ? undefined : Number(m[3]) }
}

function listServers (text: string): string[] {
  return text.split(',').map(s => s.trim()).filter(s => s !== '')
}

// listeners, port, advertised.listeners and host.name together decide where the proxy listens
// and which base URL it gives out.
function translateListeners (t: Translator): void {
  const listeners = t.take('listeners')
  const port = t.take('port')
  let listenPort: number | undefined
  if (listeners !== undefined && textOf(listeners) !== '') {
    const all = listServers(textOf(listeners))
    const parsed = all.map(parseListener)
    const bad = all.filter((_, i) => parsed[i] === undefined || parsed[i]?.scheme !== 'http' || parsed[i]?.port === undefined)
    if (bad.length > 0 || all.length !== 1) {
      const why = bad.length > 0
        ? `${bad.map(b => JSON.stringify(b)).join(', ')}: only http://host:port listeners are served (terminate TLS in front)`
        : `${all.length} listeners: one http://host:port listener is served`
      t.fail(listeners, why)
    } else {
      const only = parsed[0] as { host: string, port: number }
      // Jetty takes an empty host, like 0.0.0.0, as every interface; Node wants IPv6 unbracketed.
      const host = only.host === '' ? '0.0.0.0' : only.host.replace(/^\[(.*)\]$/, '$1')
      t.set('server.host', host, listeners)
      t.setTyped('server.port', String(only.port), listeners)
      listenPort = only.port
    }
    if (port !== undefined) t.warn(port, 'port is deprecated and listeners is set; ignored as Confluent ignores it')
  } else if (port !== undefined) {
    t.setTyped('server.port', textOf(port), port)
    if (/^\d+$/.test(textOf(port))) listenPort = Number(textOf(port))
  }

  const advertised = t.take('advertised.listeners')
  const hostName = t.take('host.name')
  if (advertised !== undefined && textOf(advertised) !== '') {
    const all = listServers(textOf(advertised))
    const first = parseListener(all[0] ?? '')
    if (first === undefined || (first.scheme !== 'http' && first.scheme !== 'https') || first.host === '') {
      t.fail(advertised, `${JSON.stringify(all[0] ?? '')} is not an http(s)://host[:port] URL`)
    } else {
      t.set('server.advertised_url', `${first.scheme}://${first.host}${first.port === undefined ? '' : `:${first.port}`}`, advertised)
      if (all.length > 1) t.warn(advertised, `only the first advertised listener (${all[0] ?? ''}) is used`)
    }
    if (hostName !== undefined) t.warn(hostName, 'advertised.listeners is set and takes precedence, as in Confluent\'s proxy; ignored')
  } else if (hostName !== undefined && textOf(hostName) !== '') {
    // Confluent builds absolute URLs from host.name and the port the request came in on.
    t.set('server.advertised_url', `http://${textOf(hostName)}:${listenPort ?? 8082}`, hostName)
  }
}

// Java clients accept a protocol prefix on each address (PLAINTEXT://host:9092) and ignore it;
// the connection's security comes from security.protocol.
function translateBootstrap (t: Translator): void {
  const s = t.take('bootstrap.servers')
  if (s === undefined) return
  const servers = listServers(textOf(s)).map(a => a.replace(/^[A-Za-z_]+:\/\//, ''))
  t.set('kafka.bootstrap_servers', servers.join(','), s)
}

function translateRegistry (t: Translator): void {
  const url = t.take('schema.registry.url')
  const source = t.take('schema.registry.basic.auth.credentials.source')
  const userInfo = t.take('schema.registry.basic.auth.user.info')
  const trustLocation = t.take('schema.registry.ssl.truststore.location')
  const trustType = t.take('schema.registry.ssl.truststore.type')
  t.take('schema.registry.ssl.truststore.password')
  const mode = source === undefined ? 'URL' : textOf(source).toUpperCase()

  let credentials: string | undefined
  if (url !== undefined) {
    const urls = listServers(textOf(url))
    let first = urls[0] ?? ''
    if (urls.length > 1) t.warn(url, `only the first registry URL (${first}) is used`)
    // A URL with user info is how Confluent's client takes credentials by default (source URL);
    // fetch refuses such URLs, so they move to the basic auth keys.
    const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^@/]*)@(.*)$/.exec(first)
    if (m !== null) {
      first = `${m[1] as string}${m[3] as string}`
      if (mode === 'URL') credentials = m[2] as string
    }
    t.set('schema_registry.url', first.replace(/\/+$/, ''), url)
  }
  if (source !== undefined && mode !== 'URL' && mode !== 'USER_INFO') {
    t.warn(source, `${JSON.stringify(textOf(source))} credentials are not supported; only USER_INFO and URL`)
  }
  if (userInfo !== undefined) {
    if (mode === 'USER_INFO') credentials = textOf(userInfo)
    else t.warn(userInfo, 'used only with schema.registry.basic.auth.credentials.source=USER_INFO, as in Confluent\'s client; ignored')
  }
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':')
    const from = mode === 'USER_INFO' ? userInfo as ConfluentSetting : url as ConfluentSetting
    const decode = mode === 'URL' ? decodeURIComponent : (x: string) => x
    t.set('schema_registry.basic_auth_user', decode(colon < 0 ? credentials : credentials.slice(0, colon)), from)
    t.set('schema_registry.basic_auth_password', decode(colon < 0 ? '' : credentials.slice(colon + 1)), from)
  }
  if (trustLocation !== undefined) {
    if (trustType !== undefined && textOf(trustType).toUpperCase() === 'PEM') t.set('schema_registry.ca_file', textOf(trustLocation), trustLocation)
    else t.warn(trustLocation, 'only a PEM trust store can be read (schema.registry.ssl.truststore.type=PEM); convert it with keytool -exportcert -rfc and set schema_registry.ca_file')
  }
}

function translateLogLevel (t: Translator): void {
  const s = t.take('log4j.root.loglevel')
  if (s === undefined) return
  const level = LOG_LEVELS[textOf(s).toLowerCase()]
  if (level === undefined) t.fail(s, `${JSON.stringify(textOf(s))} is not a log4j level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF)`)
  else t.set('log.level', level, s)
}

const JAAS_OPTION = /([A-Za-z_][\w.-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))/g

/** librdkafka's SASL properties for the login module a sasl.jaas.config names. */
function fromJaas (text: string): Record<string, string> | string {
  const modules = text.split(';').map(m => m.trim()).filter(m => m !== '')
  const module = /^(\S+)\s+(required|requisite|sufficient|optional)\b(.*)$/s.exec(modules[0] ?? '')
  if (module === null) return 'is not a JAAS login module entry ("<LoginModule class> required key="value" ...;")'
  if (modules.length > 1) return 'names more than one login module; librdkafka takes one set of credentials'
  const options: Record<string, string> = {}
  for (const m of (module[3] as string).matchAll(JAAS_OPTION)) {
    options[m[1] as string] = m[2] === undefined ? m[3] as string : m[2].replace(/\\(.)/g, '$1')
  }
  const cls = (module[1] as string).split('.').pop()
  if (cls === 'PlainLoginModule' || cls === 'ScramLoginModule') {
    if (options.username === undefined || options.password === undefined) return 'has no username and password'
    return { 'sasl.username': options.username, 'sasl.password': options.password }
  }
  if (cls === 'Krb5LoginModule') {
    const out: Record<string, string> = {}
    if (options.keyTab !== undefined) out['sasl.kerberos.keytab'] = options.keyTab
    if (options.principal !== undefined) out['sasl.kerberos.principal'] = options.principal
    return out
  }
  return `names ${module[1] as string}; only the PLAIN, SCRAM and Kerberos login modules translate (for OAUTHBEARER set librdkafka's sasl.oauthbearer.* properties)`
}

/** Java client properties of one client role into librdkafka properties or typed keys. */
function translateClient (t: Translator, role: Role, props: Map<string, ConfluentSetting>): void {
  const typed = role === 'producer' ? PRODUCER_TYPED : role === 'consumer' ? CONSUMER_TYPED : {}
  const text = (name: string): string | undefined => {
    const s = props.get(name)
    return s === undefined ? undefined : textOf(s)
  }
  for (const [name, s] of props) {
    const v = textOf(s)
    const mapped = typed[name]
    if (mapped !== undefined) {
      t.setTyped(mapped.key, mapped.convert === undefined ? v : mapped.convert(v), s)
      continue
    }
    if (Object.hasOwn(PRODUCER_TYPED, name) || Object.hasOwn(CONSUMER_TYPED, name)) continue
    const javaOnly = JAVA_ONLY[name]
    if (javaOnly !== undefined) {
      t.warn(s, `${javaOnly}; ignored`)
      continue
    }
    if (STORE_COMPANIONS.has(name)) continue
    switch (name) {
      case 'sasl.jaas.config': {
        const out = fromJaas(v)
        if (typeof out === 'string') t.warn(s, `${out}; ignored`)
        else for (const [p, pv] of Object.entries(out)) t.setProperty(role, p, pv, s)
        break
      }
      case 'security.protocol':
        t.setProperty(role, name, v.toLowerCase(), s)
        break
      case 'ssl.endpoint.identification.algorithm':
        t.setProperty(role, name, v === '' ? 'none' : v.toLowerCase(), s)
        break
      case 'partition.assignment.strategy': {
        const classes = listServers(v)
        const known = Object.values(ASSIGNORS)
        const names = classes.map(c => ASSIGNORS[c] ?? (known.includes(c) ? c : ''))
        const unknown = classes.filter((_, i) => names[i] === '')
        if (unknown.length > 0) t.warn(s, `${unknown.join(', ')} has no librdkafka assignor (range, roundrobin, cooperative-sticky); ignored`)
        else t.setProperty(role, name, names.join(','), s)
        break
      }
      case 'ssl.truststore.location':
        if ((text('ssl.truststore.type') ?? 'JKS').toUpperCase() === 'PEM') t.setProperty(role, 'ssl.ca.location', v, s)
        else t.warn(s, 'librdkafka reads only PEM trust stores (ssl.truststore.type=PEM); convert it with keytool -exportcert -rfc; ignored')
        break
      case 'ssl.keystore.location': {
        const type = (text('ssl.keystore.type') ?? 'JKS').toUpperCase()
        if (type === 'PKCS12') {
          t.setProperty(role, 'ssl.keystore.location', v, s)
          const password = props.get('ssl.keystore.password')
          if (password !== undefined) t.setProperty(role, 'ssl.keystore.password', textOf(password), password)
        } else if (type === 'PEM') {
          t.setProperty(role, 'ssl.certificate.location', v, s)
          t.setProperty(role, 'ssl.key.location', v, s)
        } else {
          t.warn(s, 'librdkafka reads PKCS12 or PEM key stores, not JKS; convert it with keytool -importkeystore -deststoretype PKCS12; ignored')
        }
        break
      }
      default:
        t.setProperty(role, RENAMED[name] ?? name, v, s)
    }
  }
}

function translateClients (t: Translator): void {
  const byRole = new Map<Role, Map<string, ConfluentSetting>>(ROLES.map(r => [r, new Map()]))
  const settings = t.remaining()
  // client.* applies to every role; producer.*, consumer.* and admin.* win for their own.
  for (const prefix of ['client.', ...ROLES.map(r => `${r}.`)]) {
    for (const s of settings) {
      if (!s.key.startsWith(prefix) || s.key.length === prefix.length) continue
      t.take(s.key)
      const name = s.key.slice(prefix.length)
      for (const role of ROLES) {
        if (prefix === 'client.' || prefix === `${role}.`) byRole.get(role)?.set(name, s)
      }
    }
  }
  for (const role of ROLES) translateClient(t, role, byRole.get(role) as Map<string, ConfluentSetting>)
}

/**
 * Translates Confluent settings (a properties file's, then the variables', later ones winning)
 * into overrides of this proxy's keys, issues for values that cannot be used, and warnings for
 * settings that have no equivalent or are unknown.
 */
export function translateConfluent (settings: readonly ConfluentSetting[]): ConfluentTranslation {
  const t = new Translator(settings)
  translateListeners(t)
  translateBootstrap(t)
  translateRegistry(t)
  translateLogLevel(t)
  for (const [key, target] of Object.entries(DIRECT)) {
    const s = t.take(key)
    if (s !== undefined) t.setTyped(target, textOf(s), s)
  }
  for (const s of t.remaining()) {
    const exact = UNSUPPORTED[s.key]
    const prefix = UNSUPPORTED_PREFIXES.find(([p]) => s.key.startsWith(p))
    if (exact !== undefined) t.warn(s, `no equivalent here (${exact}); ignored`)
    else if (prefix !== undefined) t.warn(s, `no equivalent here (${prefix[1]}); ignored`)
  }
  translateClients(t)
  for (const s of t.remaining()) {
    t.warn(s, 'not a Confluent REST Proxy setting known here (see docs/confluent-migration.md); ignored')
  }
  return { overrides: t.overrides, issues: t.issues, warnings: t.warnings }
}
