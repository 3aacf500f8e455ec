// The admin client's SASL and TLS, configured with librdkafka's property
// names, against a broker of its own with SASL_PLAINTEXT and SASL_SSL
// listeners (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with Kafka's unsecured
// JWT validator) and a self-signed certificate for "localhost".
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createKafkaAdmin, KafkaProtocolError, type KafkaAdmin } from '../../src/kafka/admin.js'
import { AdminClient } from '../../src/kafka/binding.js'
import { adminError } from '../../src/kafka/errors.js'
import { createLogger } from '../../src/logger.js'
import { kafkaTool } from '../helpers/broker.js'
import { uniqueName } from '../helpers/kafka.js'
import { startSecureBroker } from '../helpers/secure-kafka.js'

/** A self-signed certificate for DNS:localhost, as a PEM (the clients' CA) and a PKCS#12 keystore (the broker's). */
function certificate (dir: string): { pem: string, keystore: string } {
  const pem = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  const keystore = path.join(dir, 'broker.p12')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', pem, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' })
  execFileSync('openssl', ['pkcs12', '-export', '-in', pem, '-inkey', key, '-out', keystore, '-passout', 'pass:changeit', '-name', 'broker'], { stdio: 'ignore' })
  return { pem, keystore }
}

function jaas (listener: string): Record<string, string> {
  const prefix = `listener.name.${listener}`
  return {
    [`${prefix}.plain.sasl.jaas.config`]: 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
    [`${prefix}.scram-sha-256.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`${prefix}.scram-sha-512.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`${prefix}.oauthbearer.sasl.jaas.config`]: 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;'
  }
}

function admin (t: TestContext, servers: string, properties: Record<string, string>): KafkaAdmin {
  const a = createKafkaAdmin({ bootstrapServers: servers, clientId: 'test-sasl', requestTimeoutMs: 10000, properties, log: createLogger('silent', 'test') })
  t.after(() => a.close())
  return a
}

/**
 * Proves the properties work for both admin clients: this one describes the
 * cluster and validates a topic creation, librdkafka's lists the topics.
 */
async function works (t: TestContext, servers: string, properties: Record<string, string>): Promise<void> {
  const a = admin(t, servers, properties)
  const cluster = await a.describeCluster()
  assert.ok(cluster.clusterId.length > 0)
  const created = await a.createTopic({ name: uniqueName('sasl'), numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, true)
  assert.equal(created.numPartitions, 1)
  const native = AdminClient.create({ ...properties, 'bootstrap.servers': servers, 'client.id': 'test-sasl-native' })
  try {
    const topics = await new Promise<string[]>((resolve, reject) => native.listTopics({ timeout: 10000 }, (err, names) => {
      if (err !== null && err !== undefined) reject(err)
      else resolve(names ?? [])
    }))
    assert.ok(Array.isArray(topics))
  } finally {
    native.disconnect()
  }
}

function refusedAuthentication (err: unknown): boolean {
  assert.ok(err instanceof KafkaProtocolError, `expected a KafkaProtocolError, got ${String(err)}`)
  assert.equal(err.code, 58, err.message)
  // The proxy's own credentials: a 503 to API clients (docs/security.md).
  assert.equal(adminError(err).key, 'clusterUnreachable')
  return true
}

test('SASL (PLAIN, SCRAM, OAUTHBEARER) and TLS settings in librdkafka\'s names reach the broker', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-sasl-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const cert = certificate(dir)
  const { plaintext, ports } = await startSecureBroker(t, {
    dir,
    listeners: { SASL_PLAINTEXT: '127.0.0.1', SASL_SSL: 'localhost' },
    keystore: { location: cert.keystore, password: 'changeit' },
    properties: {
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
      ...jaas('sasl_plaintext'),
      ...jaas('sasl_ssl')
    }
  })
  const { SASL_PLAINTEXT: saslPort, SASL_SSL: sslPort } = ports
  // SCRAM credentials live in the cluster metadata (KIP-554).
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    await kafkaTool('kafka.admin.ConfigCommand', ['--bootstrap-server', plaintext, '--alter', '--entity-type', 'users', '--entity-name', 'bob',
      '--add-config', `${mechanism}=[iterations=4096,password=bob-secret]`])
  }
  const sasl = `127.0.0.1:${saslPort}`
  const plain = (username: string, password: string): Record<string, string> =>
    ({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': username, 'sasl.password': password })

  await t.test('PLAIN authenticates; a wrong password is the broker\'s SASL_AUTHENTICATION_FAILED', async (t) => {
    await works(t, sasl, plain('alice', 'alice-secret'))
    await assert.rejects(admin(t, sasl, plain('alice', 'wrong')).describeCluster(), refusedAuthentication)
  })

  await t.test('SCRAM-SHA-256 and SCRAM-SHA-512 authenticate; a wrong password is refused', async (t) => {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const props = { 'security.protocol': 'sasl_plaintext', 'sasl.mechanism': mechanism, 'sasl.username': 'bob', 'sasl.password': 'bob-secret' }
      await works(t, sasl, props)
      await assert.rejects(admin(t, sasl, { ...props, 'sasl.password': 'wrong' }).describeAcls({
        resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY'
      }), refusedAuthentication)
    }
  })

  await t.test('OAUTHBEARER with an unsecured JWT, and with a token from an OIDC token endpoint', async (t) => {
    await works(t, sasl, {
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': 'OAUTHBEARER',
      'enable.sasl.oauthbearer.unsecure.jwt': 'true',
      'sasl.oauthbearer.config': 'principal=carol'
    })
    // The endpoint hands out unsecured JWTs, which the broker's default validator accepts.
    let requests = 0
    const endpoint = createHttpServer((req, res) => {
      requests++
      req.resume()
      const now = Math.floor(Date.now() / 1000)
      const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
      const token = `${part({ alg: 'none' })}.${part({ sub: 'dave', iat: now, exp: now + 600 })}.`
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'bearer', expires_in: 600 }))
    })
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
    t.after(() => endpoint.close())
    await works(t, sasl, {
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': 'OAUTHBEARER',
      'sasl.oauthbearer.method': 'oidc',
      'sasl.oauthbearer.token.endpoint.url': `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`,
      'sasl.oauthbearer.client.id': 'proxy',
      'sasl.oauthbearer.client.secret': 'secret'
    })
    assert.ok(requests >= 1)
  })

  await t.test('SASL_SSL verifies the broker certificate and host name unless told not to', async (t) => {
    const scram = { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'bob', 'sasl.password': 'bob-secret' }
    await works(t, `localhost:${sslPort}`, { ...scram, 'ssl.ca.location': cert.pem })
    const unverified = (err: unknown): boolean => {
      assert.equal((err as { code?: unknown }).code, -195, String(err))
      assert.equal(adminError(err).key, 'clusterUnreachable')
      return true
    }
    // The system CA store does not know the self-signed certificate.
    await assert.rejects(admin(t, `localhost:${sslPort}`, scram).describeCluster(), unverified)
    // The certificate names localhost, not 127.0.0.1.
    await assert.rejects(admin(t, `127.0.0.1:${sslPort}`, { ...scram, 'ssl.ca.location': cert.pem }).describeCluster(), unverified)
    await works(t, `127.0.0.1:${sslPort}`, { ...scram, 'ssl.ca.location': cert.pem, 'ssl.endpoint.identification.algorithm': 'none' })
    await works(t, `localhost:${sslPort}`, { ...scram, 'enable.ssl.certificate.verification': 'false' })
  })
})
