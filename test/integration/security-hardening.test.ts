// Listener hardening: connections per client address, requests per
// HTTP/1.1 connection, and the headers of the OpenAPI document.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startProxy } from '../helpers/proxy.js'

function get (agent: http.Agent, port: number, path = '/v3/clusters'): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    }).on('error', reject)
  })
}

test('connections over server.max_connections_per_ip get a retriable 429 and are closed', async (t) => {
  const proxy = await startProxy(t, { server: { max_connections_per_ip: 2 } })
  const agents = [0, 1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }))
  t.after(() => { for (const a of agents) a.destroy() })
  const [a, b] = await Promise.all([get(agents[0] as http.Agent, proxy.server.port), get(agents[1] as http.Agent, proxy.server.port)])
  assert.equal(a.status, 200)
  assert.equal(b.status, 200)
  const third = await get(agents[2] as http.Agent, proxy.server.port)
  assert.equal(third.status, 429)
  assert.equal(JSON.parse(third.body).error_code, 42903)
  assert.equal(third.headers.connection, 'close')
})

test('server.max_requests_per_connection closes a connection after that many requests', async (t) => {
  const proxy = await startProxy(t, { server: { max_requests_per_connection: 2 } })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => agent.destroy())
  const first = await get(agent, proxy.server.port)
  assert.equal(first.headers.connection, 'keep-alive')
  const second = await get(agent, proxy.server.port)
  assert.equal(second.status, 200)
  assert.equal(second.headers.connection, 'close')
})

test('the OpenAPI document cannot be sniffed into a page or framed', async (t) => {
  const proxy = await startProxy(t)
  const res = await fetch(`${proxy.url}/openapi.json`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/)
  await res.arrayBuffer()
})
