import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { forward, FORWARDED_HEADER } from '../../src/shards/forward.js'

async function listen (server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function readBody (req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

function echoOwner (): http.Server {
  return http.createServer(async (req, res) => {
    const body = (await readBody(req)).toString()
    const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body })
    res.writeHead(201, { 'content-type': 'application/vnd.kafka.v2+json', 'x-owner': 'yes', 'content-length': Buffer.byteLength(out) })
    res.end(out)
  })
}

async function front (t: any, owner: () => string, mode: 'buffer' | 'stream'): Promise<string> {
  const server = http.createServer(async (req, res) => {
    const body = mode === 'buffer' ? await readBody(req) : undefined
    await forward(req, res, owner(), body)
  })
  t.after(() => { server.closeAllConnections(); server.close() })
  return listen(server)
}

test('GET/POST relayed with host, query, headers, body; response unchanged', async (t) => {
  const o = echoOwner(); t.after(() => { o.closeAllConnections(); o.close() })
  const ownerUrl = await listen(o)
  for (const mode of ['buffer', 'stream'] as const) {
    const url = await front(t, () => ownerUrl, mode)
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get(`${url}/consumers/g/instances/i/records?timeout=5&max_bytes=10`, { headers: { host: 'proxy.example:8082', 'x-forwarded-proto': 'https', accept: 'application/vnd.kafka.binary.v2+json', connection: 'keep-alive, x-secret', 'x-secret': 's' } }, resolve))
    assert.equal(res.statusCode, 201)
    assert.equal(res.headers['x-owner'], 'yes')
    assert.equal(res.headers['content-type'], 'application/vnd.kafka.v2+json')
    const b = JSON.parse((await readBody(res)).toString())
    assert.equal(b.headers['x-secret'], undefined)
    assert.equal(b.method, 'GET')
    assert.equal(b.url, '/consumers/g/instances/i/records?timeout=5&max_bytes=10')
    assert.equal(b.headers.host, 'proxy.example:8082')
    assert.equal(b.headers['x-forwarded-proto'], 'https')
    assert.equal(b.headers[FORWARDED_HEADER], '1')
    assert.equal(b.headers.accept, 'application/vnd.kafka.binary.v2+json')
    const big = 'x'.repeat(200000)
    // chunked (stream body)
    const res2 = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const r = http.request(`${url}/consumers/g/instances/i/subscription`, { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.v2+json' } }, async (res) => resolve({ status: res.statusCode!, body: (await readBody(res)).toString() }))
      r.on('error', reject)
      r.write(big.slice(0, 1000)); setTimeout(() => r.end(big.slice(1000)), 20)
    })
    assert.equal(res2.status, 201)
    const b2 = JSON.parse(res2.body)
    assert.equal(b2.method, 'POST')
    assert.equal(b2.body.length, big.length, mode)
    assert.equal(b2.headers['transfer-encoding'] ?? 'none', mode === 'buffer' ? 'none' : 'chunked')
  }
})

test('already forwarded -> 40403; unreachable owner -> 40403', async (t) => {
  const dead = http.createServer(); const deadUrl = await listen(dead); await new Promise((resolve) => dead.close(resolve))
  const url = await front(t, () => deadUrl, 'stream')
  let res = await fetch(`${url}/consumers/g/instances/i`, { method: 'DELETE' })
  assert.equal(res.status, 404)
  assert.equal(res.headers.get('content-type'), 'application/json')
  assert.deepEqual(await res.json(), { error_code: 40403, message: 'Consumer instance not found.', retriable: false })
  res = await fetch(`${url}/consumers/g/instances/i/records`, { headers: { [FORWARDED_HEADER]: '1', accept: 'application/vnd.kafka.v2+json' } })
  assert.equal(res.status, 404)
  assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.v2+json')
  assert.equal((await res.json() as any).error_code, 40403)
  // streamed body to a dead owner
  res = await fetch(`${url}/consumers/g/instances/i/offsets`, { method: 'POST', body: 'x'.repeat(100000), headers: { 'content-type': 'application/json' } })
  assert.equal(res.status, 404)
  await res.text()
})

test('a kept-alive socket the owner closed is retried once on a fresh connection', async (t) => {
  let n = 0
  const o = http.createServer((req, res) => {
    n++
    const perSocket = ((req.socket as any).count = ((req.socket as any).count ?? 0) + 1)
    if (perSocket > 1) { req.socket.destroy(); return }
    res.end(`ok${n}`)
  })
  t.after(() => { o.closeAllConnections(); o.close() })
  const ownerUrl = await listen(o)
  const url = await front(t, () => ownerUrl, 'buffer')
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${url}/x`, { method: 'POST', body: 'abc' })
    assert.equal(res.status, 200, `request ${i}`)
    await res.text()
  }
})

test('owner dies mid-response: client sees a cut response; client abort aborts the hop', async (t) => {
  const hop = { closed: false }
  const o = http.createServer((req, res) => {
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': 1000 })
      res.write('partial')
      setTimeout(() => req.socket.destroy(), 20)
      return
    }
    req.on('close', () => { hop.closed = true })
    res.writeHead(200); res.write('waiting')
  })
  t.after(() => { o.closeAllConnections(); o.close() })
  const ownerUrl = await listen(o)
  const url = await front(t, () => ownerUrl, 'stream')
  const res = await fetch(`${url}/cut`)
  await assert.rejects(res.text())
  const ac = new AbortController()
  const r2 = await fetch(`${url}/long`, { signal: ac.signal })
  assert.equal(r2.status, 200)
  ac.abort()
  const deadline = Date.now() + 2000
  while (!hop.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(hop.closed)
})
