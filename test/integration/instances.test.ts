// Two proxy instances (the real main, on their own ports, the same broker)
// behind Debian's HAProxy with plain round-robin and no stickiness: the
// Confluent examples' consumer flow works through the balancer whichever
// instance each request lands on, and killing one instance loses only the
// consumer instances it held.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy } from '../helpers/process.js'
import { freePort, tempDir } from '../helpers/command.js'
import { BINARY_V2, V2, request, show } from '../helpers/consumers.js'
import { scrape } from '../helpers/prometheus.js'

// Installed by scripts/setup.mjs (ensureBalancer) before the integration tests.
const HAPROXY = '/usr/sbin/haproxy'
// Every request on a connection of its own, so the balancer picks an instance for each.
const CLOSE = { connection: 'close' }

async function startBalancer (t: TestContext, port: number, backends: number[]): Promise<string> {
  const dir = tempDir(t, 'haproxy-')
  const cfg = join(dir, 'haproxy.cfg')
  writeFileSync(cfg, [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-server-close',
    'frontend proxy',
    `  bind 127.0.0.1:${port}`,
    '  default_backend instances',
    'backend instances',
    '  balance roundrobin',
    ...backends.map((p, i) => `  server instance${i} 127.0.0.1:${p}`),
    ''
  ].join('\n'))
  const child = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const url = `http://127.0.0.1:${port}`
  await eventually(async () => (await fetch(`${url}/health/live`, { headers: CLOSE }).catch(() => null))?.status === 200 ? true : undefined, { what: 'haproxy to forward' })
  return url
}

test('round-robin over two instances: the Confluent consumer flow through the balancer; a killed instance loses only its consumers', async (t) => {
  const [portA, portB, portLb] = [await freePort(), await freePort(), await freePort()] as [number, number, number]
  const peers = `http://127.0.0.1:${portA},http://127.0.0.1:${portB}`
  const instance = (port: number): Record<string, string> => ({
    KAFKA_PROXY_SERVER__PORT: String(port),
    KAFKA_PROXY_INSTANCES__SELF_URL: `http://127.0.0.1:${port}`,
    KAFKA_PROXY_INSTANCES__PEERS: peers,
    KAFKA_PROXY_INSTANCES__SECRET: 'test-instances-secret',
    KAFKA_PROXY_CONSUMER__REQUEST_TIMEOUT_MS: '1000'
  })
  const [a, b] = await Promise.all([
    bootProxy(t, { workers: 2, env: instance(portA) }),
    bootProxy(t, { workers: 1, env: instance(portB) })
  ])
  const lb = await startBalancer(t, portLb, [portA, portB])

  const topic = uniqueName('lb')
  // A group per consumer, so each reads every record.
  const groupOf = (name: string): string => `${prefix}-${name}`
  const prefix = uniqueName('lb-group')
  await createTopic(topic, 1)
  const produced = await request('POST', `${lb}/topics/${topic}`, {
    headers: { ...CLOSE, 'content-type': BINARY_V2, accept: V2 },
    body: { records: Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`r${i}`).toString('base64') })) }
  })
  assert.equal(produced.status, 200, show(produced))

  // Two creates in a row: round-robin puts them on different instances; base_uri names the listener that took it.
  const names = ['consumer_one', 'consumer_two']
  const owners = new Map<string, number>()
  for (const name of names) {
    const create = await request('POST', `${lb}/consumers/${groupOf(name)}`, {
      headers: { ...CLOSE, 'content-type': V2 },
      body: { name, format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }
    })
    assert.equal(create.status, 200, show(create))
    assert.equal(create.body.instance_id, name)
    owners.set(name, Number(new URL(create.body.base_uri).port))
  }
  assert.deepEqual(new Set(owners.values()), new Set([portA, portB]), 'the two instances each hold one consumer')

  // The same name again, through the balancer, whichever instance gets it: 409.
  const again = await request('POST', `${lb}/consumers/${groupOf(names[0] as string)}`, { headers: { ...CLOSE, 'content-type': V2 }, body: { name: names[0], format: 'binary' } })
  assert.equal(again.status, 409, show(again))
  assert.equal(again.body.error_code, 40902)

  // The examples' flow with the URLs a client builds from the name, every call through the balancer.
  const seen = new Map<string, string[]>()
  for (const name of names) {
    const base = `${lb}/consumers/${groupOf(name)}/instances/${name}`
    const sub = await request('POST', `${base}/subscription`, { headers: { ...CLOSE, 'content-type': V2 }, body: { topics: [topic] } })
    assert.equal(sub.status, 204, show(sub))
    const got = await request('GET', `${base}/subscription`, { headers: { ...CLOSE, accept: V2 } })
    assert.deepEqual(got.body, { topics: [topic] })
    const values: string[] = []
    await eventually(async () => {
      const r = await request('GET', `${base}/records?timeout=500`, { headers: { ...CLOSE, accept: BINARY_V2 } })
      assert.equal(r.status, 200, show(r))
      for (const rec of r.body as Array<{ value: string }>) values.push(Buffer.from(rec.value, 'base64').toString())
      return values.length >= 10 ? true : undefined
    }, { timeoutMs: 30_000, what: `${name} to read the 10 records` })
    seen.set(name, values)
    const commit = await request('POST', `${base}/offsets`, {
      headers: { ...CLOSE, 'content-type': V2 },
      body: { offsets: [{ topic, partition: 0, offset: 9 }] }
    })
    assert.equal(commit.status, 200, show(commit))
    const committed = await request('GET', `${base}/offsets`, {
      headers: { ...CLOSE, 'content-type': V2, accept: V2 },
      body: { partitions: [{ topic, partition: 0 }] }
    })
    assert.equal(committed.status, 200, show(committed))
    // Kafka stores the next offset to read; the v2 API answers what is stored.
    assert.equal(committed.body.offsets[0].offset, 10)
  }
  for (const values of seen.values()) assert.deepEqual(values, Array.from({ length: 10 }, (_, i) => `r${i}`))

  // Each instance answered consumer calls for both consumers, its own and relayed ones.
  for (const url of [a.url, b.url]) {
    const m = await scrape(url)
    for (const route of ['/consumers/{group}/instances/{instance}/subscription', '/consumers/{group}/instances/{instance}/records']) {
      assert.ok((m.value('kafka_proxy_http_requests_total', { route }) ?? 0) > 0, `${url} took calls of ${route}`)
    }
  }

  // Instance B dies: its consumer is gone, A's goes on; asked of A directly (the balancer has no health checks).
  const onB = names.find((n) => owners.get(n) === portB) as string
  const onA = names.find((n) => owners.get(n) === portA) as string
  b.child.kill('SIGKILL')
  await b.exited
  await eventually(async () => (await fetch(`${b.url}/health/live`).catch(() => null)) === null ? true : undefined, { what: 'instance B to stop listening' })
  const lost = await request('GET', `${a.url}/consumers/${groupOf(onB)}/instances/${onB}/subscription`, { headers: { ...CLOSE, accept: V2 } })
  assert.equal(lost.status, 404, show(lost))
  assert.equal(lost.body.error_code, 40403)
  const kept = await request('GET', `${a.url}/consumers/${groupOf(onA)}/instances/${onA}/subscription`, { headers: { ...CLOSE, accept: V2 } })
  assert.equal(kept.status, 200, show(kept))
  assert.deepEqual(kept.body, { topics: [topic] })
  const recreated = await request('POST', `${a.url}/consumers/${groupOf(onB)}`, { headers: { ...CLOSE, 'content-type': V2 }, body: { name: onB, format: 'binary' } })
  assert.equal(recreated.status, 200, show(recreated))
  for (const name of names) {
    const del = await request('DELETE', `${a.url}/consumers/${groupOf(name)}/instances/${name}`, { headers: { ...CLOSE, 'content-type': V2 } })
    assert.equal(del.status, 204, show(del))
  }
})

test('the locate route between instances refuses calls without a valid signature', async (t) => {
  const port = await freePort()
  const proxy = await bootProxy(t, {
    workers: 1,
    env: {
      KAFKA_PROXY_SERVER__PORT: String(port),
      KAFKA_PROXY_INSTANCES__SELF_URL: `http://127.0.0.1:${port}`,
      KAFKA_PROXY_INSTANCES__PEERS: `http://127.0.0.1:${port},http://127.0.0.1:1`,
      KAFKA_PROXY_INSTANCES__SECRET: 'test-instances-secret'
    }
  })
  const group = uniqueName('peer-auth')
  const create = await request('POST', `${proxy.url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: { name: 'c', format: 'binary' } })
  assert.equal(create.status, 200, show(create))
  const path = `/_proxy/peers/consumers/${group}/instances/c`
  for (const header of [undefined, `${Date.now()}.forged`, `${Date.now() - 3_600_000}.x`]) {
    const res = await request('GET', `${proxy.url}${path}`, { headers: header === undefined ? {} : { 'x-kafka-proxy-peer': header } })
    assert.equal(res.status, 404, `${String(header)}: ${show(res)}`)
  }
  const del = await request('DELETE', `${proxy.url}/consumers/${group}/instances/c`, { headers: { 'content-type': V2 } })
  assert.equal(del.status, 204)
})
