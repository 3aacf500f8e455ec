import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { confluentPropertyName, readConfluentEnv, translateConfluent } from '../../src/config/confluent.js'
import type { ConfluentSetting } from '../../src/config/confluent.js'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import type { Config, ConfigIssue } from '../../src/config/schema.js'

function settings (props: Record<string, string>): ConfluentSetting[] {
  return Object.entries(props).map(([key, value]) => ({ key, value, source: key }))
}

/** The translated overrides as "path" -> value. */
function mapped (props: Record<string, string>): Record<string, unknown> {
  const t = translateConfluent(settings(props))
  assert.deepEqual(t.issues, [])
  return Object.fromEntries(t.overrides.map(o => [o.path.join('.'), o.value]))
}

function warningsOf (props: Record<string, string>): ConfigIssue[] {
  return translateConfluent(settings(props)).warnings
}

function propertiesFile (t: TestContext, text: string, name = 'kafka-rest.properties'): string {
  const dir = mkdtempSync(join(tmpdir(), 'confluent-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, name)
  writeFileSync(file, text, 'latin1')
  return file
}

function load (t: TestContext, opts: { path?: string, env?: NodeJS.ProcessEnv }): { config: Config, warnings: ConfigIssue[] } {
  const warnings: ConfigIssue[] = []
  // An empty TOML file unless told otherwise, so no ./config.toml is picked up.
  const path = opts.path ?? propertiesFile(t, '', 'empty.toml')
  const config = loadConfig({ argv: [], env: opts.env ?? {}, path, onWarning: w => warnings.push(w) })
  return { config, warnings }
}

function issuesOf (fn: () => unknown): ConfigIssue[] {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    return err.errors
  }
  assert.fail('expected a ConfigError')
}

test('KAFKA_REST_* names become properties as Confluent\'s images write them: _ is ., __ is _, ___ is -', () => {
  assert.equal(confluentPropertyName('KAFKA_REST_BOOTSTRAP_SERVERS'), 'bootstrap.servers')
  assert.equal(confluentPropertyName('KAFKA_REST_CLIENT_SASL_JAAS_CONFIG'), 'client.sasl.jaas.config')
  assert.equal(confluentPropertyName('KAFKA_REST_LOG4J_ROOT_LOGLEVEL'), 'log4j.root.loglevel')
  assert.equal(confluentPropertyName('KAFKA_REST_WITH__UNDERSCORE'), 'with_underscore')
  assert.equal(confluentPropertyName('KAFKA_REST_WITH___DASH'), 'with-dash')
  assert.equal(confluentPropertyName('KAFKA_REST_'), undefined)
  assert.equal(confluentPropertyName('KAFKA_PROXY_SERVER__PORT'), undefined)
  assert.deepEqual(readConfluentEnv({ KAFKA_REST_ID: 'a', OTHER: 'b', KAFKA_REST_BOOTSTRAP_SERVERS: 'x:1' }), [
    { key: 'bootstrap.servers', value: 'x:1', source: 'KAFKA_REST_BOOTSTRAP_SERVERS' },
    { key: 'id', value: 'a', source: 'KAFKA_REST_ID' }
  ])
})

test('listeners gives the listen address and port; an empty host is every interface and IPv6 is unbracketed', () => {
  assert.deepEqual(mapped({ listeners: 'http://0.0.0.0:8099' }), { 'server.host': '0.0.0.0', 'server.port': 8099 })
  assert.deepEqual(mapped({ listeners: 'http://:8082/' }), { 'server.host': '0.0.0.0', 'server.port': 8082 })
  assert.deepEqual(mapped({ listeners: 'HTTP://[::1]:8083' }), { 'server.host': '::1', 'server.port': 8083 })
  assert.deepEqual(mapped({ port: '9000' }), { 'server.port': 9000 })
})

test('an https listener, a second listener or one without a port is a configuration error, not a silent downgrade', () => {
  for (const listeners of ['https://0.0.0.0:8443', 'http://0.0.0.0:8082,https://0.0.0.0:8443', 'http://0.0.0.0:8082,http://0.0.0.0:8083', 'http://host', 'nonsense']) {
    const t = translateConfluent(settings({ listeners }))
    assert.equal(t.issues.length, 1, listeners)
    assert.equal(t.issues[0]?.path, 'listeners')
    assert.deepEqual(t.overrides, [], listeners)
  }
})

test('advertised.listeners, else host.name with the listen port, is the advertised URL; port is ignored next to listeners', () => {
  assert.deepEqual(mapped({ listeners: 'http://0.0.0.0:8090', 'advertised.listeners': 'https://proxy.example.com:443' }),
    { 'server.host': '0.0.0.0', 'server.port': 8090, 'server.advertised_url': 'https://proxy.example.com:443' })
  assert.deepEqual(mapped({ listeners: 'http://0.0.0.0:8090', 'host.name': 'rest-proxy' }),
    { 'server.host': '0.0.0.0', 'server.port': 8090, 'server.advertised_url': 'http://rest-proxy:8090' })
  assert.deepEqual(mapped({ 'host.name': 'rest-proxy' }), { 'server.advertised_url': 'http://rest-proxy:8082' })
  const warned = warningsOf({ listeners: 'http://0.0.0.0:8090', port: '1', 'advertised.listeners': 'http://a:1,http://b:2', 'host.name': 'h' })
  assert.deepEqual(warned.map(w => w.path).sort(), ['advertised.listeners', 'host.name', 'port'])
})

test('bootstrap.servers loses the protocol prefixes Java clients ignore', () => {
  assert.deepEqual(mapped({ 'bootstrap.servers': 'PLAINTEXT://b1:9092, SASL_SSL://b2:9093,b3:9094' }), { 'kafka.bootstrap_servers': 'b1:9092,b2:9093,b3:9094' })
})

test('the registry URL keeps the first of a list; credentials come from the URL or from USER_INFO, as Confluent\'s client takes them', () => {
  assert.deepEqual(mapped({ 'schema.registry.url': 'http://u%3Ax:p%40ss@registry:8081/' }), {
    'schema_registry.url': 'http://registry:8081', 'schema_registry.basic_auth_user': 'u:x', 'schema_registry.basic_auth_password': 'p@ss'
  })
  assert.deepEqual(mapped({
    'schema.registry.url': 'http://registry:8081',
    'schema.registry.basic.auth.credentials.source': 'USER_INFO',
    'schema.registry.basic.auth.user.info': 'alice:se:cret'
  }), { 'schema_registry.url': 'http://registry:8081', 'schema_registry.basic_auth_user': 'alice', 'schema_registry.basic_auth_password': 'se:cret' })
  assert.deepEqual(mapped({ 'schema.registry.ssl.truststore.location': '/ca.pem', 'schema.registry.ssl.truststore.type': 'PEM' }), { 'schema_registry.ca_file': '/ca.pem' })
  const warned = warningsOf({
    'schema.registry.url': 'http://a:8081,http://b:8081',
    'schema.registry.basic.auth.user.info': 'alice:secret',
    'schema.registry.ssl.truststore.location': '/store.jks',
    'schema.registry.bearer.auth.token': 't'
  })
  assert.deepEqual(warned.map(w => w.path).sort(), [
    'schema.registry.basic.auth.user.info', 'schema.registry.bearer.auth.token', 'schema.registry.ssl.truststore.location', 'schema.registry.url'
  ])
})

test('Confluent\'s own consumer, v3 and server keys map one to one onto typed keys', () => {
  assert.deepEqual(mapped({
    'consumer.threads': '32',
    'consumer.request.timeout.ms': '250',
    'consumer.request.max.bytes': '1048576',
    'consumer.instance.timeout.ms': '60000',
    'fetch.min.bytes': '1024',
    'shutdown.graceful.ms': '3000',
    'confluent.resource.name.authority': 'mds.example.com',
    'api.v3.produce.batch.maximum.entries': '20',
    'api.v3.produce.request.size.limit.max.bytes': '65536',
    'streaming.connection.max.duration.ms': '600000',
    'streaming.connection.max.duration.grace.period.ms': '100',
    'api.v3.produce.rate.limit.enabled': 'TRUE',
    'api.v3.produce.rate.limit.max.requests.per.sec': '5',
    'api.v3.produce.rate.limit.max.requests.global.per.sec': '6',
    'api.v3.produce.rate.limit.max.bytes.per.sec': '7',
    'api.v3.produce.rate.limit.max.bytes.global.per.sec': '8',
    'log4j.root.loglevel': 'WARN'
  }), {
    'consumer.threads': 32,
    'consumer.request_timeout_ms': 250,
    'consumer.request_max_bytes': 1048576,
    'consumer.instance_timeout_ms': 60000,
    'consumer.fetch_min_bytes': 1024,
    'server.shutdown_timeout_ms': 3000,
    'v3.resource_name_authority': 'mds.example.com',
    'v3.batch_max_entries': 20,
    'v3.record_max_bytes': 65536,
    'v3.stream_max_duration_ms': 600000,
    'v3.stream_grace_period_ms': 100,
    'v3.rate_limit.enabled': true,
    'v3.rate_limit.max_records_per_sec': 5,
    'v3.rate_limit.max_records_global_per_sec': 6,
    'v3.rate_limit.max_bytes_per_sec': 7,
    'v3.rate_limit.max_bytes_global_per_sec': 8,
    'log.level': 'warn'
  })
})

test('a value of the wrong type is an error that names the Confluent setting and the key it was meant for', () => {
  const t = translateConfluent(settings({ 'consumer.threads': 'many', 'log4j.root.loglevel': 'LOUD' }))
  assert.deepEqual(t.issues.map(i => i.path).sort(), ['consumer.threads', 'log4j.root.loglevel'])
  assert.match(t.issues.find(i => i.path === 'consumer.threads')?.message ?? '', /expected an integer for consumer\.threads, got "many"/)
})

test('producer settings with a typed key go there; the rest of producer.* and client.* reach the producer table', () => {
  assert.deepEqual(mapped({
    'producer.acks': '-1',
    'producer.compression.type': 'LZ4',
    'producer.linger.ms': '20',
    'producer.batch.size': '65536',
    'producer.enable.idempotence': 'false',
    'producer.delivery.timeout.ms': '60000',
    'producer.max.in.flight.requests.per.connection': '1',
    'producer.retries': '3'
  }), {
    'producer.acks': 'all',
    'producer.compression': 'lz4',
    'producer.linger_ms': 20,
    'producer.batch_bytes': 65536,
    'producer.enable_idempotence': false,
    'producer.delivery_timeout_ms': 60000,
    'producer.max_in_flight': 1,
    'kafka.producer.retries': '3'
  })
})

test('client.* reaches every client, and a producer.*, consumer.* or admin.* setting wins for its own client', () => {
  assert.deepEqual(mapped({
    'client.security.protocol': 'SASL_SSL',
    'consumer.security.protocol': 'SSL',
    'consumer.max.poll.records': '100',
    'consumer.session.timeout.ms': '45000',
    'admin.retries': '1'
  }), {
    'kafka.producer.security.protocol': 'sasl_ssl',
    'kafka.consumer.security.protocol': 'ssl',
    'consumer.max_poll_records': 100,
    'kafka.consumer.session.timeout.ms': '45000',
    'kafka.admin.security.protocol': 'sasl_ssl',
    'kafka.admin.retries': '1'
  })
})

test('Java client properties become librdkafka\'s: renamed ones, JAAS credentials, PEM and PKCS12 stores, assignor classes', () => {
  assert.deepEqual(mapped({
    'consumer.sasl.mechanism': 'SCRAM-SHA-512',
    'consumer.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="svc" password="p\\"w";',
    'consumer.fetch.max.wait.ms': '100',
    'consumer.ssl.endpoint.identification.algorithm': '',
    'consumer.ssl.truststore.location': '/etc/ca.pem',
    'consumer.ssl.truststore.type': 'PEM',
    'consumer.ssl.keystore.location': '/etc/client.p12',
    'consumer.ssl.keystore.type': 'PKCS12',
    'consumer.ssl.keystore.password': 'ks',
    'consumer.partition.assignment.strategy': 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor'
  }), {
    'kafka.consumer.sasl.mechanisms': 'SCRAM-SHA-512',
    'kafka.consumer.sasl.username': 'svc',
    'kafka.consumer.sasl.password': 'p"w',
    'kafka.consumer.fetch.wait.max.ms': '100',
    'kafka.consumer.ssl.endpoint.identification.algorithm': 'none',
    'kafka.consumer.ssl.ca.location': '/etc/ca.pem',
    'kafka.consumer.ssl.keystore.location': '/etc/client.p12',
    'kafka.consumer.ssl.keystore.password': 'ks',
    'kafka.consumer.partition.assignment.strategy': 'cooperative-sticky'
  })
  assert.deepEqual(mapped({ 'producer.ssl.keystore.location': '/etc/client.pem', 'producer.ssl.keystore.type': 'PEM' }), {
    'kafka.producer.ssl.certificate.location': '/etc/client.pem', 'kafka.producer.ssl.key.location': '/etc/client.pem'
  })
})

test('Java-only client properties, JKS stores and untranslatable JAAS entries are warned about and never reach a client', () => {
  const t = translateConfluent(settings({
    'client.key.serializer': 'org.apache.kafka.common.serialization.ByteArraySerializer',
    'client.bootstrap.servers': 'elsewhere:9092',
    'consumer.group.id': 'fixed',
    'consumer.auto.offset.reset': 'earliest',
    'client.ssl.truststore.location': '/etc/truststore.jks',
    'client.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'consumer.partition.assignment.strategy': 'org.apache.kafka.clients.consumer.StickyAssignor'
  }))
  assert.deepEqual(t.overrides, [])
  assert.deepEqual(t.issues, [])
  // client.* settings are checked for each of the three clients, but warned about once.
  assert.deepEqual(t.warnings.map(w => w.path).sort(), [
    'client.bootstrap.servers', 'client.key.serializer', 'client.sasl.jaas.config', 'client.ssl.truststore.location',
    'consumer.auto.offset.reset', 'consumer.group.id', 'consumer.partition.assignment.strategy'
  ])
})

test('recognised settings without an equivalent and unknown settings are warnings, each saying which it is', () => {
  const warned = warningsOf({
    id: 'rest-1',
    'consumer.iterator.backoff.ms': '50',
    'client.timeout.ms': '500',
    'ssl.keystore.location': '/server.jks',
    'authentication.method': 'BASIC',
    'access.control.allow.origin': '*',
    'heap.opts': '-Xmx1g',
    'frobnicate.level': '11'
  })
  const byPath = new Map(warned.map(w => [w.path, w.message]))
  assert.equal(byPath.size, 8)
  for (const key of ['id', 'consumer.iterator.backoff.ms', 'client.timeout.ms', 'ssl.keystore.location', 'authentication.method', 'access.control.allow.origin', 'heap.opts']) {
    assert.match(byPath.get(key) ?? '', /^no equivalent here \(.+\); ignored$/, key)
  }
  assert.match(byPath.get('frobnicate.level') ?? '', /not a Confluent REST Proxy setting known here/)
})

test('a kafka-rest.properties file given as the config file is read in Java\'s format and translated', (t) => {
  const file = propertiesFile(t, [
    '# Confluent REST Proxy',
    'listeners = http://127.0.0.1:8099',
    'bootstrap.servers: PLAINTEXT://broker1:9092,\\',
    '    PLAINTEXT://broker2:9092',
    'schema.registry.url http://registry:8081',
    'consumer.request.timeout.ms=250',
    'client.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\',
    '  username="caf\\u00e9" password="s3cret";',
    'id=rest-proxy-1',
    ''
  ].join('\n'))
  const { config, warnings } = load(t, { path: file })
  assert.equal(config.server.host, '127.0.0.1')
  assert.equal(config.server.port, 8099)
  assert.equal(config.kafka.bootstrap_servers, 'broker1:9092,broker2:9092')
  assert.equal(config.schema_registry.url, 'http://registry:8081')
  assert.equal(config.consumer.request_timeout_ms, 250)
  for (const role of ['producer', 'consumer', 'admin'] as const) {
    assert.equal(config.kafka[role]['sasl.username'], 'café')
    assert.equal(config.kafka[role]['sasl.password'], 's3cret')
  }
  assert.deepEqual(warnings.map(w => w.path), [`id (${file} line 9)`])
})

test('KAFKA_REST_* variables win over the properties file, and KAFKA_PROXY_* variables win over both', (t) => {
  const file = propertiesFile(t, 'consumer.threads=10\nconsumer.request.timeout.ms=100\nlisteners=http://0.0.0.0:8001\n')
  const { config } = load(t, {
    path: file,
    env: { KAFKA_REST_CONSUMER_THREADS: '20', KAFKA_REST_LISTENERS: 'http://0.0.0.0:8002', KAFKA_PROXY_SERVER__PORT: '8003' }
  })
  assert.equal(config.consumer.threads, 20)
  assert.equal(config.consumer.request_timeout_ms, 100)
  assert.equal(config.server.port, 8003)
})

test('KAFKA_REST_* variables apply on top of a TOML file too', (t) => {
  const { config } = load(t, { env: { KAFKA_REST_BOOTSTRAP_SERVERS: 'broker:9092', KAFKA_REST_LISTENERS: 'http://127.0.0.1:8100' } })
  assert.equal(config.kafka.bootstrap_servers, 'broker:9092')
  assert.equal(config.server.host, '127.0.0.1')
  assert.equal(config.server.port, 8100)
})

test('a translated value the schema refuses is reported with the Confluent setting that gave it', (t) => {
  const file = propertiesFile(t, 'consumer.threads=-1\n')
  const issues = issuesOf(() => load(t, { path: file, env: { KAFKA_REST_LISTENERS: 'http://0.0.0.0:70000' } }))
  const threads = issues.find(i => i.path === 'consumer.threads')
  assert.match(threads?.message ?? '', /\(set by consumer\.threads \(.*kafka-rest\.properties line 1\)\)$/)
  assert.match(issues.find(i => i.path === 'server.port')?.message ?? '', /\(set by KAFKA_REST_LISTENERS\)$/)
})

test('client properties from Confluent settings go through the pass-through checks: a reserved name is refused as in TOML', (t) => {
  // dr_cb cannot come from a Java client, but the same checks guard every pass-through name.
  const issues = issuesOf(() => load(t, { env: { KAFKA_REST_PRODUCER_DR__CB: 'false' } }))
  assert.match(issues.find(i => i.path === 'kafka.producer.dr_cb')?.message ?? '', /is set by the proxy.*\(set by KAFKA_REST_PRODUCER_DR__CB\)$/)
})

test('a malformed escape in the properties file is an error with its line', (t) => {
  const file = propertiesFile(t, 'ok=1\nbad=\\uZZZZ\n')
  const issues = issuesOf(() => load(t, { path: file }))
  assert.deepEqual(issues.map(i => i.path), [`${file} line 2`])
})

test('a properties file that does not exist is reported like a missing TOML file', () => {
  const issues = issuesOf(() => loadConfig({ argv: ['--config', '/nonexistent/kafka-rest.properties'], env: {} }))
  assert.deepEqual(issues, [{ path: '--config', message: 'file not found: /nonexistent/kafka-rest.properties' }])
})
