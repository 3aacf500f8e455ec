// The admin client's own behaviour, without a broker: its deadlines and
// transport failures on real sockets that never answer, and how it reads the
// librdkafka security properties. Kafka's answers are covered by
// test/integration/kafka-admin.test.ts, SASL and TLS by kafka-admin-sasl.test.ts.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { createKafkaAdmin, KafkaProtocolError, type KafkaAdmin } from '../../src/kafka/admin.js'
import { adminError } from '../../src/kafka/errors.js'
import { adminSecurity, parseBootstrapServers } from '../../src/kafka/options.js'
import { oidcTokenProvider, unsecuredJwtProvider } from '../../src/kafka/oauth-token.js'
import { createLogger } from '../../src/logger.js'

/** A TCP listener that accepts connections and never writes a byte. */
async function silentBroker (t: TestContext): Promise<{ port: number, connections: () => number }> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return { port: (server.address() as AddressInfo).port, connections: () => connections }
}

/** A port nothing listens on. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

function admin (t: TestContext, servers: string, opts: { timeoutMs?: number, properties?: Record<string, string> } = {}): KafkaAdmin {
  const a = createKafkaAdmin({
    bootstrapServers: servers,
    clientId: 'unit',
    requestTimeoutMs: opts.timeoutMs ?? 3000,
    properties: opts.properties ?? {},
    log: createLogger('silent', 'test')
  })
  t.after(() => a.close())
  return a
}

const ANY_ACL = { resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY' } as const

test('a silent broker times out with code -185 within requestTimeoutMs', async (t) => {
  const broker = await silentBroker(t)
  const a = admin(t, `127.0.0.1:${broker.port}`, { timeoutMs: 300 })
  const started = Date.now()
  await assert.rejects(a.describeCluster(), (err: any) => err.code === -185 && err.isRetriable === true)
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`)
  assert.equal(adminError(await a.describeCluster().catch((e: unknown) => e)).key, 'clusterUnreachable')
  assert.ok(broker.connections() >= 1)
})

test('a broker that never answers the SASL handshake times out too', async (t) => {
  const broker = await silentBroker(t)
  const a = admin(t, `127.0.0.1:${broker.port}`, {
    timeoutMs: 300,
    properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p' }
  })
  await assert.rejects(a.describeAcls(ANY_ACL), (err: any) => err.code === -185 && err.isRetriable === true)
})

test('unreachable bootstrap servers reject with code -195; each server is tried in turn', async (t) => {
  const dead = admin(t, `127.0.0.1:${await closedPort()}`)
  await assert.rejects(dead.describeCluster(), (err: any) => err.code === -195 && err.isRetriable === true)
  assert.equal(adminError(await dead.describeCluster().catch((e: unknown) => e)).key, 'clusterUnreachable')

  // The first server refuses, so the second is asked (and stays silent).
  const broker = await silentBroker(t)
  const a = admin(t, `127.0.0.1:${await closedPort()}, 127.0.0.1:${broker.port}`, { timeoutMs: 500 })
  await assert.rejects(a.describeCluster(), (err: any) => err.code === -185)
  assert.ok(broker.connections() >= 1, 'the second bootstrap server was tried')
})

test('close() fails later calls with -195 without connecting', async (t) => {
  const broker = await silentBroker(t)
  const a = admin(t, `127.0.0.1:${broker.port}`)
  await a.close()
  await assert.rejects(a.createTopic({ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, false), (err: any) => err.code === -195)
  assert.equal(broker.connections(), 0)
})

test('GSSAPI, and OAUTHBEARER without a way to get a token, fail every call with UNSUPPORTED_SASL_MECHANISM (33), never the process', async (t) => {
  for (const mechanism of ['GSSAPI', 'OAUTHBEARER', undefined]) {
    const properties: Record<string, string> = { 'security.protocol': 'SASL_SSL' }
    if (mechanism !== undefined) properties['sasl.mechanisms'] = mechanism
    const a = admin(t, '127.0.0.1:1', { properties })
    await assert.rejects(a.describeCluster(), (err: unknown) => err instanceof KafkaProtocolError && err.code === 33, String(mechanism))
    await assert.rejects(a.describeAcls(ANY_ACL), (err: unknown) => err instanceof KafkaProtocolError && err.code === 33)
    assert.equal(adminError(await a.describeCluster().catch((e: unknown) => e)).key, 'kafkaAuthentication')
  }
})

test('security properties map to TLS options and SASL credentials', () => {
  const servers = parseBootstrapServers('broker.example:9093')
  assert.deepEqual(adminSecurity({}, servers, 1000), { tls: undefined, tlsServerName: false, sasl: undefined })
  const ssl = adminSecurity({ 'security.protocol': 'SSL', 'enable.ssl.certificate.verification': 'false', 'ssl.endpoint.identification.algorithm': 'none', 'ssl.key.password': 'pw', 'ssl.ca.pem': 'PEM' }, servers, 1000)
  assert.equal(ssl.tls?.rejectUnauthorized, false)
  assert.equal(ssl.tls?.passphrase, 'pw')
  assert.equal(ssl.tls?.ca, 'PEM')
  assert.equal(typeof ssl.tls?.checkServerIdentity, 'function')
  assert.equal(ssl.tlsServerName, true, 'host names are sent as SNI')
  assert.equal(adminSecurity({ 'security.protocol': 'ssl' }, parseBootstrapServers('10.0.0.1:9093'), 1000).tlsServerName, false, 'addresses are not')
  const verified = adminSecurity({ 'security.protocol': 'ssl', 'ssl.ca.location': 'probe' }, servers, 1000).tls
  assert.deepEqual([verified?.rejectUnauthorized, verified?.ca, verified?.checkServerIdentity], [true, undefined, undefined])
  assert.deepEqual(adminSecurity({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'u', 'sasl.password': 'p' }, servers, 1000).sasl,
    { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' })
  assert.deepEqual(adminSecurity({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'plain', 'sasl.username': 'u', 'sasl.password': 'p' }, servers, 1000),
    { tls: undefined, tlsServerName: false, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } })
  const oidc = adminSecurity({
    'security.protocol': 'sasl_ssl',
    'sasl.mechanisms': 'OAUTHBEARER',
    'sasl.oauthbearer.method': 'oidc',
    'sasl.oauthbearer.token.endpoint.url': 'http://127.0.0.1:1/token',
    'sasl.oauthbearer.extensions': 'a=1,b=2'
  }, servers, 1000).sasl
  assert.equal(oidc?.mechanism, 'OAUTHBEARER')
  assert.equal(typeof oidc?.token, 'function')
  assert.deepEqual(oidc?.oauthBearerExtensions, { a: '1', b: '2' })
  assert.throws(() => adminSecurity({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'OAUTHBEARER', 'sasl.oauthbearer.method': 'oidc' }, servers, 1000), /token\.endpoint\.url/)
  assert.throws(() => adminSecurity({ 'security.protocol': 'ssl', 'ssl.ca.location': '/nonexistent/ca.pem' }, servers, 1000), /ssl\.ca\.location/)
  assert.throws(() => adminSecurity({ 'security.protocol': 'quic' }, servers, 1000), /security\.protocol/)
})

test('an unsecured JWT carries the configured principal, scopes, lifetime and extensions', async () => {
  const sasl = adminSecurity({
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'OAUTHBEARER',
    'enable.sasl.oauthbearer.unsecure.jwt': 'true',
    'sasl.oauthbearer.config': 'principal=admin scope=read,write lifeSeconds=600 extension_traceId=42'
  }, [], 1000).sasl
  assert.deepEqual(sasl?.oauthBearerExtensions, { traceId: '42' })
  const token = await (sasl?.token as () => Promise<string>)()
  const [header, payload, signature] = token.split('.')
  assert.deepEqual(JSON.parse(Buffer.from(header as string, 'base64url').toString()), { alg: 'none' })
  const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString())
  assert.equal(claims.sub, 'admin')
  assert.deepEqual(claims.scope, ['read', 'write'])
  assert.equal(claims.exp - claims.iat, 600)
  assert.equal(signature, '')
  assert.throws(() => adminSecurity({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'OAUTHBEARER', 'enable.sasl.oauthbearer.unsecure.jwt': 'true' }, [], 1000), /principal/)
  const other = await unsecuredJwtProvider({ principal: 'p', principalClaim: 'user', scopes: [], scopeClaim: 'scope', lifetimeSeconds: 60 })()
  assert.equal(JSON.parse(Buffer.from(other.split('.')[1] as string, 'base64url').toString()).user, 'p')
})

test('the OIDC token provider uses the client credentials grant and keeps a token until 80% of its lifetime', async (t) => {
  const seen: Array<{ auth: string | undefined, body: string }> = []
  let expiresIn = 3600
  const server = createHttpServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push({ auth: req.headers.authorization, body })
      if (seen.length === 3) {
        res.writeHead(401).end('{"error":"invalid_client"}')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `token-${seen.length}`, token_type: 'bearer', expires_in: expiresIn }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
  const provider = oidcTokenProvider({ tokenEndpoint: url, clientId: 'proxy', clientSecret: 's3cret', scope: 'kafka', timeoutMs: 2000 })

  assert.deepEqual(await Promise.all([provider(), provider()]), ['token-1', 'token-1'], 'concurrent callers share one request')
  assert.equal(await provider(), 'token-1', 'a fresh token is reused')
  assert.equal(seen.length, 1)
  assert.equal(seen[0]?.auth, `Basic ${Buffer.from('proxy:s3cret').toString('base64')}`)
  assert.deepEqual(Object.fromEntries(new URLSearchParams(seen[0]?.body)), { grant_type: 'client_credentials', scope: 'kafka' })

  expiresIn = 0
  const shortLived = oidcTokenProvider({ tokenEndpoint: url, clientId: 'proxy', clientSecret: 's3cret', scope: undefined, timeoutMs: 2000 })
  assert.equal(await shortLived(), 'token-2')
  await assert.rejects(shortLived(), /answered 401/, 'an expired token is fetched again')
})
