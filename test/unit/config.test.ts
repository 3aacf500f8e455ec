import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'smol-toml'
import { CONFIG_PATH_ENV, envName, listEnvKeys } from '../../src/config/env.js'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { configKeys, configSchema, defaultConfig, formatPath, isPassthrough, isTable } from '../../src/config/schema.js'
import type { ConfigIssue, LeafSchema, NodeSchema, TableSchema } from '../../src/config/schema.js'
import { renderConfigDocs, renderConfigToml } from '../../scripts/gen-config-docs.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function tempDir (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-proxy-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function writeToml (t: TestContext, text: string, name = 'config.toml'): string {
  const file = join(tempDir(t), name)
  writeFileSync(file, text)
  return file
}

function chdirTo (t: TestContext, dir: string): void {
  const before = process.cwd()
  process.chdir(dir)
  t.after(() => process.chdir(before))
}

function errorsOf (fn: () => unknown): ConfigIssue[] {
  let caught: unknown
  assert.throws(fn, (err: unknown) => {
    caught = err
    return err instanceof ConfigError
  })
  const err = caught as ConfigError
  for (const e of err.errors) assert.ok(err.message.includes(`\n  ${e.path}: ${e.message}`), `message lists ${e.path}`)
  return err.errors
}

function issueAt (errors: ConfigIssue[], path: string, pattern?: RegExp): ConfigIssue {
  const found = errors.find(e => e.path === path && (pattern === undefined || pattern.test(e.message)))
  assert.ok(found, `expected an error at ${path}${pattern === undefined ? '' : ` matching ${pattern}`}, got ${JSON.stringify(errors)}`)
  return found
}

function get (value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((v, s) => (v as Record<string, unknown>)[s], value)
}

const isolated = { env: {}, argv: [] }

test('with no file and no environment every key has its default', (t) => {
  chdirTo(t, tempDir(t))
  assert.deepEqual(loadConfig(isolated), defaultConfig())
  assert.equal(defaultConfig().server.port, 8082)
  assert.equal(defaultConfig().producer.acks, 'all')
  assert.notEqual(defaultConfig().kafka.producer, defaultConfig().kafka.producer, 'defaultConfig returns fresh objects')
})

test('config.toml holds exactly the schema defaults', () => {
  const file = join(ROOT, 'config.toml')
  assert.deepEqual(structuredClone(parse(readFileSync(file, 'utf8'))), defaultConfig())
  assert.deepEqual(loadConfig({ ...isolated, path: file }), defaultConfig())
})

test('config.toml and docs/configuration.md are up to date with the schema', () => {
  const hint = 'run: node --import tsx scripts/gen-config-docs.ts'
  assert.equal(readFileSync(join(ROOT, 'config.toml'), 'utf8'), renderConfigToml(), hint)
  assert.equal(readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8'), renderConfigDocs(), hint)
})

test('every schema key has a default and a description, and a snake_case name', () => {
  const visit = (node: NodeSchema, path: string[]): number => {
    assert.ok(typeof node.description === 'string' && node.description.length > 0, `${formatPath(path)} has a description`)
    assert.ok(Object.hasOwn(node, 'default'), `${formatPath(path)} has a default`)
    if (!isTable(node)) return 1
    let n = 0
    for (const [name, child] of Object.entries(node.properties)) {
      // The environment rule is only reversible for names like these.
      assert.match(name, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, `${formatPath([...path, name])} is snake_case`)
      n += visit(child, [...path, name])
    }
    return n
  }
  let leaves = 0
  for (const [name, table] of Object.entries((configSchema as unknown as TableSchema).properties)) leaves += visit(table, [name])
  assert.equal(leaves, configKeys().length)
})

test('every key has one distinct environment name following the documented rule', () => {
  const listed = listEnvKeys()
  assert.deepEqual(listed.map(k => k.key), configKeys().map(k => formatPath(k.path)))
  assert.equal(new Set(listed.map(k => k.env)).size, listed.length)
  assert.equal(envName(['server', 'port']), 'KAFKA_PROXY_SERVER__PORT')
  assert.equal(envName(['kafka', 'bootstrap_servers']), 'KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS')
  assert.equal(envName(['kafka', 'producer', 'linger.ms']), 'KAFKA_PROXY_KAFKA__PRODUCER__LINGER_MS')
  assert.equal(listed.find(k => k.key === 'kafka.producer')?.env, 'KAFKA_PROXY_KAFKA__PRODUCER__')
})

// A valid value different from the default, derived from the key's schema.
function otherValue (schema: LeafSchema): unknown {
  if (schema.examples !== undefined && schema.examples.length > 0) return schema.examples[0]
  if (schema.enum !== undefined) return schema.enum.find(v => v !== schema.default)
  switch (schema.type) {
    case 'boolean': return !(schema.default as boolean)
    case 'integer':
    case 'number': {
      const d = schema.default as number
      return d > (schema.minimum ?? -Infinity) ? d - 1 : d + 1
    }
    case 'string': return `${String(schema.default)}-changed`
    case 'array': return ['a', 'b']
  }
}

test('every key can be overridden from the environment, typed by the schema', (t) => {
  const env: Record<string, string> = {}
  const expected = new Map<string, unknown>()
  for (const { path, schema } of configKeys()) {
    if (isPassthrough(schema)) continue
    const value = otherValue(schema)
    assert.notDeepEqual(value, schema.default, `${formatPath(path)} gets a non-default value`)
    // An array of tables is JSON text in the environment; a list of strings is comma-separated.
    env[envName(path)] = Array.isArray(value) ? (typeof value[0] === 'object' ? JSON.stringify(value) : value.join(',')) : String(value)
    expected.set(formatPath(path), value)
  }
  const config = loadConfig({ env, argv: [], path: writeToml(t, '') })
  for (const { path } of configKeys()) {
    if (!expected.has(formatPath(path))) continue
    assert.deepEqual(get(config, path), expected.get(formatPath(path)), `${envName(path)} sets ${formatPath(path)}`)
  }
  assert.equal(expected.size, configKeys().filter(k => !isPassthrough(k.schema)).length)
})

test('environment overrides win over the file, and string keys stay strings', (t) => {
  const file = writeToml(t, '[server]\nport = 9000\nhost = "127.0.0.1"\n')
  const config = loadConfig({ path: file, argv: [], env: { KAFKA_PROXY_SERVER__PORT: '9001', KAFKA_PROXY_KAFKA__CLIENT_ID: '123' } })
  assert.equal(config.server.port, 9001)
  assert.equal(config.server.host, '127.0.0.1')
  assert.equal(config.kafka.client_id, '123')
})

test('pass-through properties come from the environment', (t) => {
  const file = writeToml(t, '[kafka.producer]\n"linger.ms" = 50\n"socket.timeout.ms" = 1000\n')
  const config = loadConfig({
    path: file,
    argv: [],
    env: {
      KAFKA_PROXY_KAFKA__PRODUCER__LINGER_MS: '10',
      KAFKA_PROXY_KAFKA__CONSUMER__ENABLE_AUTO_COMMIT: 'false',
      KAFKA_PROXY_KAFKA__ADMIN__SASL_PASSWORD: '0123',
      KAFKA_PROXY_KAFKA__ADMIN__SASL_USERNAME: 'Infinity',
      KAFKA_PROXY_KAFKA__ADMIN__SECURITY_PROTOCOL: 'sasl_ssl'
    }
  })
  assert.deepEqual(config.kafka.producer, { 'linger.ms': 10, 'socket.timeout.ms': 1000 })
  assert.deepEqual(config.kafka.consumer, { 'enable.auto.commit': false })
  // Text that would not survive a round trip through a number stays text.
  assert.deepEqual(config.kafka.admin, { 'sasl.password': '0123', 'sasl.username': 'Infinity', 'security.protocol': 'sasl_ssl' })
})

test('unknown keys are rejected with their path', (t) => {
  const file = writeToml(t, '[server]\nprot = 1\n[kafka]\nbootstrap = "x"\n[consumers]\na = 1\n')
  const errors = errorsOf(() => loadConfig({ ...isolated, path: file }))
  issueAt(errors, 'server.prot', /unknown key/)
  issueAt(errors, 'kafka.bootstrap', /unknown key.*bootstrap_servers/)
  issueAt(errors, 'consumers', /unknown key/)
  assert.equal(errors.length, 3)
})

test('all errors are reported at once', (t) => {
  const file = writeToml(t, [
    '[server]',
    'port = "8082"',
    'workers = -1',
    'typo = true',
    '[producer]',
    'acks = "2"',
    'compression = "brotli"',
    '[kafka]',
    'bootstrap_servers = "localhost"',
    '[kafka.producer]',
    '"client.id" = "x"',
    '"linger.ms" = [1]'
  ].join('\n'))
  const errors = errorsOf(() => loadConfig({
    path: file,
    argv: [],
    env: { KAFKA_PROXY_LOG__LEVEL: 'loud', KAFKA_PROXY_POOL__THREADS: 'many', KAFKA_PROXY_NOPE: '1' }
  }))
  issueAt(errors, 'server.port', /must be integer, got the string "8082"/)
  issueAt(errors, 'server.workers', />= 0/)
  issueAt(errors, 'server.typo', /unknown key/)
  issueAt(errors, 'producer.acks', /one of "all", "1", "0"/)
  issueAt(errors, 'producer.compression', /one of/)
  issueAt(errors, 'kafka.bootstrap_servers', /host:port/)
  issueAt(errors, 'kafka.producer."client.id"', /kafka\.client_id/)
  issueAt(errors, 'kafka.producer."linger.ms"', /must be string or number or boolean/)
  issueAt(errors, 'log.level', /KAFKA_PROXY_LOG__LEVEL/)
  issueAt(errors, 'KAFKA_PROXY_POOL__THREADS', /integer/)
  issueAt(errors, 'KAFKA_PROXY_NOPE', /no configuration key/)
  // acks is already invalid, so the idempotence check stays quiet about it.
  assert.equal(errors.length, 11, JSON.stringify(errors))
})

test('unparsable environment values are errors named by the variable', (t) => {
  const errors = errorsOf(() => loadConfig({
    argv: [],
    path: writeToml(t, ''),
    env: {
      KAFKA_PROXY_SERVER__PORT: 'http',
      KAFKA_PROXY_SERVER__WORKERS: '1.5',
      KAFKA_PROXY_POOL__THREADS: '',
      KAFKA_PROXY_PRODUCER__ENABLE_IDEMPOTENCE: 'yes',
      KAFKA_PROXY_PRODUCER__LINGER_MS: '9007199254740993',
      KAFKA_PROXY_KAFKA__PRODUCER: 'x',
      KAFKA_PROXY_KAFKA__PRODUCER__: 'x',
      KAFKA_PROXY_KAFKA__PRODUCER__LINGER__MS: 'x'
    }
  }))
  issueAt(errors, 'KAFKA_PROXY_SERVER__PORT', /expected an integer for server\.port, got "http"/)
  issueAt(errors, 'KAFKA_PROXY_SERVER__WORKERS', /integer/)
  issueAt(errors, 'KAFKA_PROXY_POOL__THREADS', /integer/)
  issueAt(errors, 'KAFKA_PROXY_PRODUCER__ENABLE_IDEMPOTENCE', /true or false/)
  issueAt(errors, 'KAFKA_PROXY_PRODUCER__LINGER_MS', /integer/)
  issueAt(errors, 'KAFKA_PROXY_KAFKA__PRODUCER', /no configuration key/)
  issueAt(errors, 'KAFKA_PROXY_KAFKA__PRODUCER__', /no configuration key/)
  issueAt(errors, 'KAFKA_PROXY_KAFKA__PRODUCER__LINGER__MS', /no configuration key/)
  assert.equal(errors.length, 8)
})

test('schema errors in environment values name the variable', (t) => {
  const errors = errorsOf(() => loadConfig({ argv: [], path: writeToml(t, ''), env: { KAFKA_PROXY_SERVER__PORT: '70000' } }))
  issueAt(errors, 'server.port', /<= 65535.*KAFKA_PROXY_SERVER__PORT/)
})

test('a config file named explicitly must exist', (t) => {
  const missing = join(tempDir(t), 'missing.toml')
  issueAt(errorsOf(() => loadConfig({ env: {}, argv: ['--config', missing] })), '--config', /file not found/)
  issueAt(errorsOf(() => loadConfig({ env: { [CONFIG_PATH_ENV]: missing }, argv: [] })), CONFIG_PATH_ENV, /file not found/)
  issueAt(errorsOf(() => loadConfig({ ...isolated, path: missing })), 'path', /file not found/)
  issueAt(errorsOf(() => loadConfig({ env: {}, argv: ['--config'] })), '--config', /needs a file path/)
})

test('the file comes from --config, then KAFKA_PROXY_CONFIG, then ./config.toml', (t) => {
  const a = writeToml(t, '[server]\nport = 1001\n')
  const b = writeToml(t, '[server]\nport = 1002\n')
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'config.toml'), '[server]\nport = 1003\n')
  chdirTo(t, cwd)

  assert.equal(loadConfig({ env: { [CONFIG_PATH_ENV]: b }, argv: ['--config', a] }).server.port, 1001)
  assert.equal(loadConfig({ env: { [CONFIG_PATH_ENV]: b }, argv: ['serve', `--config=${a}`] }).server.port, 1001)
  assert.equal(loadConfig({ env: { [CONFIG_PATH_ENV]: b }, argv: [] }).server.port, 1002)
  assert.equal(loadConfig({ env: { [CONFIG_PATH_ENV]: '' }, argv: [] }).server.port, 1003)
  assert.equal(loadConfig(isolated).server.port, 1003)
  assert.equal(loadConfig({ env: { [CONFIG_PATH_ENV]: b }, argv: ['--config', a], path: 'config.toml' }).server.port, 1003)
})

test('invalid TOML is reported with its position', (t) => {
  const file = writeToml(t, '[server]\nport = \n')
  issueAt(errorsOf(() => loadConfig({ ...isolated, path: file })), file, /invalid TOML at line 2/)
})

test('the result is deeply frozen', (t) => {
  const file = writeToml(t, '[kafka.producer]\n"linger.ms" = 1\n')
  const config = loadConfig({ ...isolated, path: file })
  const check = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null) return
    assert.ok(Object.isFrozen(value), `${path} is frozen`)
    for (const [k, v] of Object.entries(value)) check(v, `${path}.${k}`)
  }
  check(config, 'config')
  assert.throws(() => { config.server.port = 1 }, TypeError)
  assert.throws(() => { config.kafka.producer['acks'] = 1 }, TypeError)
})

function crossErrors (t: TestContext, toml: string): ConfigIssue[] {
  return errorsOf(() => loadConfig({ ...isolated, path: writeToml(t, toml) }))
}

function loads (t: TestContext, toml: string): void {
  loadConfig({ ...isolated, path: writeToml(t, toml) })
}

test('cross-field: idempotence requires acks = "all"', (t) => {
  issueAt(crossErrors(t, '[producer]\nacks = "1"\n'), 'producer.enable_idempotence', /acks = "all"/)
  loads(t, '[producer]\nacks = "1"\nenable_idempotence = false\n')
})

test('cross-field: idempotence allows at most 5 requests in flight', (t) => {
  issueAt(crossErrors(t, '[producer]\nmax_in_flight = 6\n'), 'producer.max_in_flight', /<= 5/)
  loads(t, '[producer]\nmax_in_flight = 6\nenable_idempotence = false\n')
})

test('cross-field: pass-through tables reject reserved and malformed property names', (t) => {
  for (const table of ['producer', 'consumer', 'admin']) {
    const errors = crossErrors(t, [
      `[kafka.${table}]`,
      '"bootstrap.servers" = "a:1"',
      '"client.id" = "x"',
      '"group.id" = "g"',
      'dr_cb = true',
      'dr_msg_cb = true',
      '"Linger.ms" = 1',
      'linger_ms = 1'
    ].join('\n'))
    issueAt(errors, `kafka.${table}."bootstrap.servers"`, /use kafka\.bootstrap_servers/)
    issueAt(errors, `kafka.${table}."client.id"`, /use kafka\.client_id/)
    issueAt(errors, `kafka.${table}."group.id"`, /set by the proxy/)
    issueAt(errors, `kafka.${table}.dr_cb`, /set by the proxy/)
    issueAt(errors, `kafka.${table}.dr_msg_cb`, /set by the proxy/)
    issueAt(errors, `kafka.${table}."Linger.ms"`, /not a librdkafka property name/)
    issueAt(errors, `kafka.${table}.linger_ms`, /not a librdkafka property name/)
    assert.equal(errors.length, 7)
  }
  const fromEnv = errorsOf(() => loadConfig({ argv: [], path: writeToml(t, ''), env: { KAFKA_PROXY_KAFKA__CONSUMER__GROUP_ID: 'g' } }))
  issueAt(fromEnv, 'kafka.consumer."group.id"', /KAFKA_PROXY_KAFKA__CONSUMER__GROUP_ID/)
  loads(t, '[kafka.consumer]\n"fetch.wait.max.ms" = 100\n"ssl.ca.location" = "/ca.pem"\n')
})

test('cross-field: kafka.bootstrap_servers is a comma list of host:port', (t) => {
  for (const good of ['localhost:9092', 'a:9092,b:9093', 'a:1, b:2', '10.0.0.1:9092', '[::1]:9092']) {
    loads(t, `[kafka]\nbootstrap_servers = ${JSON.stringify(good)}\n`)
  }
  for (const bad of ['localhost', 'a:9092,', 'a:0', 'a:65536', 'a:b', 'kafka://a:9092', 'a:9092 b:9092', '::1:9092']) {
    issueAt(crossErrors(t, `[kafka]\nbootstrap_servers = ${JSON.stringify(bad)}\n`), 'kafka.bootstrap_servers', /host:port/)
  }
})

test('cross-field: server.advertised_url is an absolute http(s) URL without path', (t) => {
  for (const good of ['http://proxy:8082', 'https://proxy.example.com', 'https://[::1]:8443']) {
    loads(t, `[server]\nadvertised_url = ${JSON.stringify(good)}\n`)
  }
  for (const bad of ['proxy:8082', '/v3', 'ftp://proxy', 'http://proxy:8082/', 'http://proxy/base', 'http://proxy?x=1', 'http://proxy#x', 'http://u:p@proxy']) {
    issueAt(crossErrors(t, `[server]\nadvertised_url = ${JSON.stringify(bad)}\n`), 'server.advertised_url', /absolute http\(s\) URL/)
  }
})

test('cross-field: headers timeout must not exceed the request timeout', (t) => {
  issueAt(crossErrors(t, '[server]\nheaders_timeout_ms = 130000\n'), 'server.headers_timeout_ms', /request_timeout_ms/)
  loads(t, '[server]\nheaders_timeout_ms = 130000\nrequest_timeout_ms = 0\n')
})

test('quoted numbers in TOML are not coerced', (t) => {
  issueAt(crossErrors(t, '[producer]\nlinger_ms = "5"\n'), 'producer.linger_ms', /must be integer/)
})

test('kafka.security holds connection security only, and reaches every Kafka client, overridable per client', async (t) => {
  const errors = crossErrors(t, '[kafka.security]\n"security.protocol" = "sasl_ssl"\n"linger.ms" = 5\n"client.id" = "x"\n')
  issueAt(errors, 'kafka.security."linger.ms"', /not a security property/)
  issueAt(errors, 'kafka.security."client.id"', /not a security property/)
  assert.equal(errors.length, 2)
  const file = writeToml(t, [
    '[kafka]', 'bootstrap_servers = "b:9092"',
    '[kafka.security]', '"security.protocol" = "sasl_plaintext"', '"sasl.mechanism" = "PLAIN"', '"sasl.username" = "u"', '"sasl.password" = "p"',
    '[kafka.admin]', '"sasl.username" = "admin-user"'
  ].join('\n'))
  const config = loadConfig({ argv: [], path: file, env: {} })
  const { producerProperties, consumerProperties, readerProperties, adminProperties, adminSecurity, parseBootstrapServers } = await import('../../src/kafka/options.js')
  const choices = { group: 'g', name: 'n', autoOffsetReset: 'earliest' as const, autoCommit: null }
  for (const props of [producerProperties(config.kafka, config.producer), consumerProperties(config.kafka, config.consumer, choices).global, readerProperties(config.kafka, config.consumer).global]) {
    assert.equal(props['security.protocol'], 'sasl_plaintext')
    assert.equal(props['sasl.username'], 'u')
  }
  const admin = adminProperties(config.kafka)
  assert.equal(admin['sasl.username'], 'admin-user')
  assert.equal(admin['sasl.password'], 'p')
  // The @platformatic/kafka admin client reads the same properties.
  const security = adminSecurity(admin, parseBootstrapServers('b:9092'), 1000)
  assert.equal(JSON.stringify(security).includes('admin-user'), true)
})
