// The HTTP side of a delivery against real local sockets: the address of
// every connection is checked (a denied address is never connected to, a name
// resolving into a denied network is refused at lookup), redirects are not
// followed, a large response is cut at the limit, a slow one times out.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Sender } from '../../src/webhooks/sender.js'
import { hostRules } from '../../src/webhooks/safety.js'

async function server (t: import('node:test').TestContext, handler: http.RequestListener): Promise<{ port: number, connections: () => number }> {
  let connections = 0
  const s = http.createServer(handler)
  s.on('connection', () => { connections++ })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()) }))
  return { port: (s.address() as AddressInfo).port, connections: () => connections }
}

function sender (t: import('node:test').TestContext, allowedHosts: string[], opts: { responseTimeoutMs?: number, maxResponseBytes?: number } = {}): Sender {
  const s = new Sender({
    rules: hostRules({ allowedHosts, onlyAllowedHosts: false, deniedNetworks: ['127.0.0.0/8', '::1/128'] }),
    connectTimeoutMs: 1000,
    responseTimeoutMs: opts.responseTimeoutMs ?? 2000,
    maxResponseBytes: opts.maxResponseBytes ?? 64,
    connectionsPerOrigin: 4
  })
  t.after(() => s.close())
  return s
}

const never = new AbortController().signal

test('a denied address is never connected to, and a name resolving to one is refused at lookup', async (t) => {
  const target = await server(t, (_req, res) => res.end('ok'))
  const s = sender(t, [])
  const byAddress = await s.post(new URL(`http://127.0.0.1:${target.port}/`), {}, '{}', never)
  assert.equal(byAddress.kind, 'failed')
  assert.ok(byAddress.kind === 'failed' && !byAddress.sent && /EWEBHOOKDENIED/.test(byAddress.reason), JSON.stringify(byAddress))
  const byName = await s.post(new URL(`http://localhost:${target.port}/`), {}, '{}', never)
  assert.ok(byName.kind === 'failed' && !byName.sent && /EWEBHOOKDENIED/.test(byName.reason), JSON.stringify(byName))
  assert.equal(target.connections(), 0, 'no connection reached the server')
  const allowed = await sender(t, ['127.0.0.1', 'localhost']).post(new URL(`http://localhost:${target.port}/`), {}, '{}', never)
  assert.deepEqual(allowed, { kind: 'delivered', status: 200 })
})

test('a redirect is an attempt that failed, and its target is not asked', async (t) => {
  const target = await server(t, (_req, res) => res.end('ok'))
  const redirect = await server(t, (_req, res) => { res.writeHead(302, { location: `http://127.0.0.1:${target.port}/` }); res.end() })
  const outcome = await sender(t, ['127.0.0.1']).post(new URL(`http://127.0.0.1:${redirect.port}/`), {}, '{}', never)
  assert.ok(outcome.kind === 'failed' && outcome.status === 302 && /redirects are not followed/.test(outcome.reason) && outcome.sent, JSON.stringify(outcome))
  assert.equal(target.connections(), 0)
})

test('a response body past the limit is not read to its end; a slow response times out; 410 and Retry-After are reported', async (t) => {
  let written = 0
  const big = await server(t, (_req, res) => {
    res.writeHead(200)
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const more = (): void => {
      while (written < 64 * 1024 * 1024) {
        written += chunk.length
        if (!res.write(chunk)) { res.once('drain', more); return }
      }
      res.end()
    }
    more()
  })
  const s = sender(t, ['127.0.0.1'], { responseTimeoutMs: 300 })
  assert.deepEqual(await s.post(new URL(`http://127.0.0.1:${big.port}/`), {}, '{}', never), { kind: 'delivered', status: 200 })
  assert.ok(written < 64 * 1024 * 1024, `the sender stopped reading (${written} bytes written)`)
  const slow = await server(t, () => {})
  const timedOut = await s.post(new URL(`http://127.0.0.1:${slow.port}/`), {}, '{}', never)
  assert.ok(timedOut.kind === 'failed' && timedOut.status === null && timedOut.sent && /no response within 300 ms/.test(timedOut.reason), JSON.stringify(timedOut))
  const gone = await server(t, (_req, res) => { res.writeHead(410); res.end() })
  assert.deepEqual(await s.post(new URL(`http://127.0.0.1:${gone.port}/`), {}, '{}', never), { kind: 'gone', status: 410 })
  const busy = await server(t, (_req, res) => { res.writeHead(429, { 'retry-after': '7' }); res.end() })
  const throttled = await s.post(new URL(`http://127.0.0.1:${busy.port}/`), {}, '{}', never)
  assert.ok(throttled.kind === 'failed' && throttled.retryAfterMs === 7000, JSON.stringify(throttled))
  const stop = new AbortController()
  const aborted = s.post(new URL(`http://127.0.0.1:${slow.port}/`), {}, '{}', stop.signal)
  stop.abort()
  assert.deepEqual(await aborted, { kind: 'aborted' })
})
