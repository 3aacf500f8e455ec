// The protocol admin client against scripted brokers on real sockets: framing,
// correlation ids, version negotiation, routing, SASL, timeouts and transport
// failures. Kafka's own behaviour is covered by the integration test.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { createProtocolAdmin } from '../../src/kafka/protocol/client.js'
import { KafkaProtocolError, type ProtocolAdmin } from '../../src/kafka/protocol/admin.js'
import { Reader, Writer } from '../../src/kafka/protocol/codec.js'
import { parseSecurity, parseServers } from '../../src/kafka/protocol/security.js'
import { adminError } from '../../src/kafka/errors.js'
import { createLogger } from '../../src/logger.js'

interface Received {
  key: number
  version: number
  clientId: string | null
  body: Reader
  socket: Socket
}

/** What a handler answers: a response body, or null to stay silent. */
type Handler = (req: Received) => Buffer | null | Promise<Buffer | null>

interface FakeBroker {
  port: number
  requests: Received[]
  connections: number
  sockets: Set<Socket>
}

const FLEXIBLE_FROM: Record<number, number> = { 17: 99, 18: 3, 19: 5, 20: 4, 29: 2, 30: 2, 31: 2, 32: 4, 36: 2, 37: 2, 44: 1, 46: 0, 60: 0 }

const ALL_APIS: Array<[number, number, number]> = [
  [17, 0, 1], [18, 0, 4], [19, 2, 7], [20, 1, 6], [29, 1, 3], [30, 1, 3], [31, 1, 3], [32, 1, 4], [36, 0, 2],
  [37, 0, 3], [44, 0, 1], [46, 0, 0], [60, 0, 2]
]

function apiVersionsBody (apis = ALL_APIS): Buffer {
  return new Writer().int16(0)
    .compactArray(apis, (w, [k, lo, hi]) => w.int16(k).int16(lo).int16(hi).tagged())
    .int32(0).tagged().finish()
}

function clusterBody (brokers: Array<{ id: number, port: number }>, controllerId = brokers[0]?.id ?? -1): Buffer {
  return new Writer().int32(0).int16(0).compactString(null).int8(1).compactString('fake-cluster').int32(controllerId)
    .compactArray(brokers, (w, b) => w.int32(b.id).compactString('127.0.0.1').int32(b.port).compactString(null).tagged())
    .int32(0).tagged().finish()
}

/** A DescribeConfigs v4 answer with one entry per resource, named after the resource. */
function configsBody (resources: Array<{ type: number, name: string }>, errorCode = 0): Buffer {
  return new Writer().int32(0)
    .compactArray(resources, (w, r) => {
      w.int16(errorCode).compactString(errorCode === 0 ? null : 'refused').int8(r.type).compactString(r.name)
        .compactArray([0], (c) => c.compactString(`entry.${r.name}`).compactString('v').bool(false).int8(5).bool(false)
          .compactArray([0], (s) => s.compactString(`entry.${r.name}`).compactString('v').int8(5).tagged())
          .int8(2).compactString(null).tagged())
        .tagged()
    })
    .tagged().finish()
}

function readConfigResources (body: Reader): Array<{ type: number, name: string }> {
  return body.compactArray((x) => {
    const r = { type: x.int8(), name: x.compactString() }
    x.compactArray((k) => k.compactString())
    x.tagged()
    return r
  }) ?? []
}

async function fakeBroker (t: TestContext, handler: Handler): Promise<FakeBroker> {
  const broker: FakeBroker = { port: 0, requests: [], connections: 0, sockets: new Set() }
  const server = createServer((socket) => {
    broker.connections++
    broker.sockets.add(socket)
    socket.on('close', () => broker.sockets.delete(socket))
    socket.on('error', () => {})
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0))
        buf = buf.subarray(4 + frame.length)
        const r = new Reader(Buffer.from(frame))
        const key = r.int16()
        const version = r.int16()
        const id = r.int32()
        const clientId = r.nullableString()
        const flexible = version >= (FLEXIBLE_FROM[key] ?? 99)
        if (flexible) r.tagged()
        const req: Received = { key, version, clientId, body: r, socket }
        broker.requests.push(req)
        Promise.resolve(handler(req)).then((body) => {
          if (body === null || socket.destroyed) return
          // ApiVersions always answers with response header v0 (KIP-511).
          const header = new Writer().int32(id)
          if (flexible && key !== 18) header.tagged()
          const h = header.finish()
          const size = Buffer.alloc(4)
          size.writeInt32BE(h.length + body.length)
          socket.write(Buffer.concat([size, h, body]))
        }, (err: unknown) => socket.destroy(err as Error))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  broker.port = (server.address() as AddressInfo).port
  t.after(() => {
    for (const s of broker.sockets) s.destroy()
    server.close()
  })
  return broker
}

function admin (t: TestContext, servers: string, opts: { timeoutMs?: number, properties?: Record<string, string> } = {}): ProtocolAdmin {
  const a = createProtocolAdmin({
    bootstrapServers: servers,
    clientId: 'unit',
    requestTimeoutMs: opts.timeoutMs ?? 3000,
    properties: opts.properties ?? {},
    log: createLogger('silent', 'test')
  })
  t.after(() => a.close())
  return a
}

/** A broker that negotiates normally and hands every other request to `handler`. */
function standard (handler: Handler, apis = ALL_APIS): Handler {
  return (req) => req.key === 18 ? apiVersionsBody(apis) : handler(req)
}

test('negotiates with ApiVersions v3 and uses the highest shared version', async (t) => {
  const broker = await fakeBroker(t, standard((req) => req.key === 60 ? clusterBody([{ id: 1, port: 1 }]) : null))
  const a = admin(t, `127.0.0.1:${broker.port}`)
  const cluster = await a.describeCluster()
  assert.deepEqual(cluster, { clusterId: 'fake-cluster', controllerId: 1, brokers: [{ id: 1, host: '127.0.0.1', port: 1, rack: null }] })
  assert.deepEqual(broker.requests.map((r) => [r.key, r.version]), [[18, 3], [60, 1]])
  assert.equal(broker.requests[0]?.clientId, 'unit')
  const av = broker.requests[0]?.body as Reader
  assert.equal(av.compactString(), 'kafka-http-proxy')
  assert.match(av.compactString(), /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/)
})

test('an UNSUPPORTED_VERSION ApiVersions answer in the v0 format still yields the version table', async (t) => {
  const broker = await fakeBroker(t, (req) => {
    if (req.key === 18) {
      return new Writer().int16(35).array([[18, 0, 2], [60, 0, 0]], (w, [k, lo, hi]) => w.int16(k as number).int16(lo as number).int16(hi as number)).finish()
    }
    if (req.key === 60) {
      return new Writer().int32(0).int16(0).compactString(null).compactString('old').int32(-1).compactArray([], () => {}).int32(0).tagged().finish()
    }
    return null
  })
  const a = admin(t, `127.0.0.1:${broker.port}`)
  assert.deepEqual(await a.describeCluster(), { clusterId: 'old', controllerId: -1, brokers: [] })
  assert.deepEqual(broker.requests.map((r) => [r.key, r.version]), [[18, 3], [60, 0]])
})

test('an API the broker lacks or offers only in older versions rejects with UNSUPPORTED_VERSION (35)', async (t) => {
  const apis = ALL_APIS.filter(([k]) => k !== 29).map(([k, lo, hi]): [number, number, number] => k === 32 ? [k, 0, 3] : [k, lo, hi])
  const broker = await fakeBroker(t, standard(() => null, apis))
  const a = admin(t, `127.0.0.1:${broker.port}`)
  const filter = { resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY' } as const
  await assert.rejects(a.describeAcls(filter), (err: unknown) => err instanceof KafkaProtocolError && err.code === 35 && /DescribeAcls/.test(err.message))
  await assert.rejects(a.describeConfigs({ type: 'TOPIC', name: 't' }), (err: unknown) => err instanceof KafkaProtocolError && err.code === 35)
  assert.equal(adminError(new KafkaProtocolError(35, 'x', false)).key, 'kafkaBadRequest')
})

test('concurrent requests share one connection and are matched by correlation id', async (t) => {
  const held: Array<() => void> = []
  const broker = await fakeBroker(t, standard((req) => {
    if (req.key !== 32) return null
    const body = configsBody(readConfigResources(req.body))
    // Answer in reverse order of arrival.
    return new Promise((resolve) => {
      held.push(() => resolve(body))
      if (held.length === 3) for (const release of held.reverse()) release()
    })
  }))
  const a = admin(t, `127.0.0.1:${broker.port}`)
  const names = ['a', 'b', 'c']
  const results = await Promise.all(names.map((name) => a.describeConfigs({ type: 'TOPIC', name })))
  assert.deepEqual(results.map((entries) => entries[0]?.name), ['entry.a', 'entry.b', 'entry.c'])
  assert.equal(broker.connections, 1)
  const entry = results[0]?.[0]
  assert.deepEqual(entry, {
    name: 'entry.a',
    value: 'v',
    isDefault: true,
    isReadOnly: false,
    isSensitive: false,
    source: 'DEFAULT_CONFIG',
    synonyms: [{ name: 'entry.a', value: 'v', source: 'DEFAULT_CONFIG' }]
  })
})

test('broker-id config resources go to that broker; topics and the cluster default to any broker', async (t) => {
  const seen: Record<string, string[]> = { b1: [], b2: [] }
  let b2Port = 0
  const b1 = await fakeBroker(t, standard((req) => {
    if (req.key === 60) return clusterBody([{ id: 1, port: b1.port }, { id: 2, port: b2Port }])
    if (req.key !== 32) return null
    const resources = readConfigResources(req.body)
    seen.b1?.push(...resources.map((r) => `${r.type}:${r.name}`))
    return configsBody(resources)
  }))
  const b2 = await fakeBroker(t, standard((req) => {
    if (req.key !== 32) return null
    const resources = readConfigResources(req.body)
    seen.b2?.push(...resources.map((r) => `${r.type}:${r.name}`))
    // The second broker refuses one resource: only that resource carries the error.
    return configsBody(resources, resources.some((r) => r.type === 8) ? 40 : 0)
  }))
  b2Port = b2.port
  const a = admin(t, `127.0.0.1:${b1.port}`)
  const results = await a.describeConfigsMany([
    { type: 'TOPIC', name: 't' },
    { type: 'BROKER', name: '2' },
    { type: 'BROKER', name: '' }
  ])
  // The topic and the cluster default ride along with the first broker-bound group.
  assert.deepEqual(seen, { b1: [], b2: ['4:2', '2:t', '4:'] })
  assert.deepEqual(results.map((r) => 'entries' in r ? r.entries[0]?.name : r.error.code), ['entry.t', 'entry.2', 'entry.'])
  assert.equal(b2.requests.filter((r) => r.key === 32).length, 1)

  await a.describeConfigsMany([{ type: 'BROKER', name: '1' }, { type: 'BROKER', name: '2' }, { type: 'TOPIC', name: 'u' }])
  assert.deepEqual(seen, { b1: ['4:1', '2:u'], b2: ['4:2', '2:t', '4:', '4:2'] })
  // One request per broker.
  assert.equal(b1.requests.filter((r) => r.key === 32).length, 1)
  assert.equal(b2.requests.filter((r) => r.key === 32).length, 2)

  const logger = await a.describeConfigsMany([{ type: 'BROKER_LOGGER', name: '2' }])
  assert.ok(logger[0] !== undefined && 'error' in logger[0] && logger[0].error.code === 40 && logger[0].error.message === 'refused')
  await assert.rejects(a.describeConfigs({ type: 'BROKER', name: '7' }), (err: unknown) => err instanceof KafkaProtocolError && err.code === 42)
})

test('a silent broker times out with code -185 within requestTimeoutMs', async (t) => {
  const broker = await fakeBroker(t, standard(() => null))
  const a = admin(t, `127.0.0.1:${broker.port}`, { timeoutMs: 300 })
  const started = Date.now()
  await assert.rejects(a.describeCluster(), (err: any) => err.code === -185 && err.isRetriable === true)
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 250 && elapsed < 2000, `took ${elapsed} ms`)
  assert.equal(adminError(await a.describeCluster().catch((e: unknown) => e)).key, 'clusterUnreachable')
})

test('a broker that never finishes the handshake times out too', async (t) => {
  const broker = await fakeBroker(t, () => null)
  const a = admin(t, `127.0.0.1:${broker.port}`, { timeoutMs: 300 })
  await assert.rejects(a.describeCluster(), (err: any) => err.code === -185 && err.isRetriable === true)
})

test('unreachable bootstrap servers reject with code -195; each server is tried in turn', async (t) => {
  const dead = admin(t, '127.0.0.1:1')
  await assert.rejects(dead.describeCluster(), (err: any) => err.code === -195 && err.isRetriable === true)
  assert.equal(adminError(await dead.describeCluster().catch((e: unknown) => e)).key, 'clusterUnreachable')

  const broker = await fakeBroker(t, standard((req) => req.key === 60 ? clusterBody([{ id: 1, port: 1 }]) : null))
  const a = admin(t, `127.0.0.1:1, 127.0.0.1:${broker.port}`)
  assert.equal((await a.describeCluster()).clusterId, 'fake-cluster')
})

test('a dropped connection fails in-flight requests with -195; reads retry once on a new connection', async (t) => {
  let drops = 1
  const broker = await fakeBroker(t, standard((req) => {
    if (req.key !== 60) return null
    if (drops-- > 0) {
      req.socket.destroy()
      return null
    }
    return clusterBody([{ id: 1, port: 1 }])
  }))
  const a = admin(t, `127.0.0.1:${broker.port}`)
  assert.equal((await a.describeCluster()).clusterId, 'fake-cluster')
  assert.equal(broker.connections, 2)

  const dropping = await fakeBroker(t, standard((req) => {
    req.socket.destroy()
    return null
  }))
  const b = admin(t, `127.0.0.1:${dropping.port}`)
  const topic = { name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }
  await assert.rejects(b.createTopic(topic, false), (err: any) => err.code === -195 && err.isRetriable === true)
  // A write is never repeated: the broker may have applied it.
  assert.equal(dropping.requests.filter((r) => r.key === 19).length, 1)
  await assert.rejects(b.describeCluster(), (err: any) => err.code === -195)
  assert.equal(dropping.requests.filter((r) => r.key === 60).length, 2)
})

test('CreateTopics sends -1 with explicit assignments and maps a per-topic error code', async (t) => {
  let sent: unknown
  const broker = await fakeBroker(t, standard((req) => {
    if (req.key !== 19) return null
    const r = req.body
    sent = r.compactArray((x) => {
      const topic = {
        name: x.compactString(),
        numPartitions: x.int32(),
        replicationFactor: x.int16(),
        assignments: x.compactArray((a) => { const v = { p: a.int32(), b: a.compactArray((y) => y.int32()) }; a.tagged(); return v }),
        configs: x.compactArray((c) => { const v = [c.compactString(), c.compactNullableString()]; c.tagged(); return v })
      }
      x.tagged()
      return topic
    })
    const timeoutMs = r.int32()
    const validateOnly = r.bool()
    assert.ok(timeoutMs > 0 && timeoutMs <= 3000)
    assert.equal(validateOnly, true)
    return new Writer().int32(0).compactArray([0], (w) => {
      w.compactString('t').uuid(null).int16(36).compactString('Topic t already exists.').int32(-1).int16(-1).compactArray(null, () => {}).tagged()
    }).tagged().finish()
  }))
  const a = admin(t, `127.0.0.1:${broker.port}`)
  await assert.rejects(
    a.createTopic({ name: 't', numPartitions: 3, replicationFactor: 2, assignments: [{ partition: 0, brokers: [1, 2] }], configs: [{ name: 'k', value: 'v' }] }, true),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === 36 && err.message === 'Topic t already exists.' && !err.isRetriable
  )
  assert.deepEqual(sent, [{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ p: 0, b: [1, 2] }], configs: [['k', 'v']] }])
  assert.equal(broker.requests.find((r) => r.key === 19)?.version, 7)
})

test('a NOT_CONTROLLER answer (ZooKeeper mode) repeats the topic request at the controller', async (t) => {
  const deleteTopicsBody = (errorCode: number): Buffer => new Writer().int32(0)
    .compactArray([0], (w) => w.compactString('t').uuid(null).int16(errorCode).compactString(null).tagged())
    .tagged().finish()
  let controllerPort = 0
  const b1 = await fakeBroker(t, standard((req) => {
    if (req.key === 60) return clusterBody([{ id: 1, port: b1.port }, { id: 2, port: controllerPort }], 2)
    return req.key === 20 ? deleteTopicsBody(41) : null
  }))
  const b2 = await fakeBroker(t, standard((req) => {
    if (req.key !== 20) return null
    const names = req.body.compactArray((x) => { const n = x.compactNullableString(); x.uuid(); x.tagged(); return n })
    assert.deepEqual(names, ['t'])
    return deleteTopicsBody(0)
  }))
  controllerPort = b2.port
  const a = admin(t, `127.0.0.1:${b1.port}`)
  await a.deleteTopic('t')
  assert.deepEqual(b1.requests.map((r) => r.key), [18, 20, 60])
  assert.deepEqual(b2.requests.map((r) => [r.key, r.version]), [[18, 3], [20, 6]])
})

test('SASL/PLAIN handshakes with SaslHandshake v1 and authenticates with SaslAuthenticate v2 before any request', async (t) => {
  let token: Buffer | null = null
  const broker = await fakeBroker(t, standard((req) => {
    if (req.key === 17) {
      assert.equal(req.body.string(), 'PLAIN')
      return new Writer().int16(0).array(['PLAIN'], (w, m) => w.string(m)).finish()
    }
    if (req.key === 36) {
      token = req.body.compactBytes()
      return new Writer().int16(0).compactString(null).compactBytes(Buffer.alloc(0)).int64(0n).tagged().finish()
    }
    return req.key === 60 ? clusterBody([]) : null
  }))
  const a = admin(t, `127.0.0.1:${broker.port}`, {
    properties: { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'plain', 'sasl.username': 'alice', 'sasl.password': 'secret' }
  })
  await a.describeCluster()
  assert.deepEqual(broker.requests.map((r) => [r.key, r.version]), [[18, 3], [17, 1], [36, 2], [60, 1]])
  assert.deepEqual(token, Buffer.from('\u0000alice\u0000secret'))
})

test('a failed SASL authentication rejects with the broker error and code 58', async (t) => {
  const broker = await fakeBroker(t, standard((req) => {
    if (req.key === 17) return new Writer().int16(0).array(['SCRAM-SHA-256'], (w, m) => w.string(m)).finish()
    if (req.key === 36) return new Writer().int16(58).compactString('Authentication failed').compactBytes(Buffer.alloc(0)).int64(0n).tagged().finish()
    return null
  }))
  const a = admin(t, `127.0.0.1:${broker.port}`, {
    properties: { 'security.protocol': 'sasl_plaintext', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'u', 'sasl.password': 'p' }
  })
  await assert.rejects(a.describeCluster(), (err: unknown) => err instanceof KafkaProtocolError && err.code === 58 && err.message === 'Authentication failed')
  assert.equal(adminError(new KafkaProtocolError(58, 'x', false)).key, 'kafkaAuthentication')
})

test('GSSAPI and OAUTHBEARER fail every call with UNSUPPORTED_SASL_MECHANISM (33), never the process', async (t) => {
  for (const mechanism of ['GSSAPI', 'OAUTHBEARER', undefined]) {
    const properties: Record<string, string> = { 'security.protocol': 'SASL_SSL' }
    if (mechanism !== undefined) properties['sasl.mechanisms'] = mechanism
    const a = admin(t, '127.0.0.1:1', { properties })
    await assert.rejects(a.describeCluster(), (err: unknown) =>
      err instanceof KafkaProtocolError && err.code === 33 && /PLAIN/.test(err.message) && /SCRAM/.test(err.message))
    await assert.rejects(a.describeAcls({ resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY' }),
      (err: unknown) => err instanceof KafkaProtocolError && err.code === 33)
  }
})

test('security properties map to TLS options and SASL credentials', () => {
  assert.deepEqual(parseSecurity({}), { tls: null, sasl: null })
  const ssl = parseSecurity({ 'security.protocol': 'SSL', 'enable.ssl.certificate.verification': 'false', 'ssl.endpoint.identification.algorithm': 'none', 'ssl.key.password': 'pw' })
  assert.equal(ssl.tls?.rejectUnauthorized, false)
  assert.equal(ssl.tls?.passphrase, 'pw')
  assert.equal(typeof ssl.tls?.checkServerIdentity, 'function')
  assert.equal(parseSecurity({ 'security.protocol': 'ssl' }).tls?.rejectUnauthorized, true)
  assert.deepEqual(parseSecurity({ 'security.protocol': 'sasl_ssl', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'u', 'sasl.password': 'p' }).sasl,
    { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' })
  assert.throws(() => parseSecurity({ 'security.protocol': 'ssl', 'ssl.ca.location': '/nonexistent/ca.pem' }), /ssl\.ca\.location/)
  assert.throws(() => parseSecurity({ 'security.protocol': 'quic' }), /security\.protocol/)
})

test('bootstrap lists parse like bootstrap.servers', () => {
  assert.deepEqual(parseServers(' a:1, b , [::1]:3,PLAINTEXT://c:4,,bad:0'), [
    { host: 'a', port: 1 }, { host: 'b', port: 9092 }, { host: '::1', port: 3 }, { host: 'c', port: 4 }
  ])
})
