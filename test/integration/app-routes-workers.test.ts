// The acceptance config, as written, served by the real main with two
// worker processes: a PUT through one connection is read back on fresh
// connections, which node:cluster spreads over both workers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTopic } from '../helpers/kafka.js'
import { bootProxy, workerPids } from '../helpers/process.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/app-routes.toml', import.meta.url))

async function ensureTopic (name: string): Promise<void> {
  // The acceptance config names fixed topics; an earlier run may have made them.
  await createTopic(name, 2).catch((err: Error) => { if (!/already exists/i.test(err.message)) throw err })
}

/** One request on a connection of its own, so node:cluster may hand it to either worker. */
function request (url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, connection: 'close' }, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('the acceptance config as written: PUT, then GET on every worker process, DELETE, then 404', async (t) => {
  await Promise.all(['items', 'task-requests', 'task-replies', 'events'].map(ensureTopic))
  const dir = mkdtempSync(join(tmpdir(), 'app-routes-main-'))
  const config = join(dir, 'config.toml')
  copyFileSync(FIXTURE, config)
  const proxy = await bootProxy(t, { workers: 2, env: { KAFKA_PROXY_CONFIG: config } })
  const id = `w-${Date.now()}`
  const put = await request(`${proxy.url}/items/${id}`, 'PUT', { 'content-type': 'application/json', 'x-source': 'workers-test' }, '{"n":1}')
  assert.equal(put.status, 204)
  const position = put.headers['kafka-position'] as string
  for (let i = 0; i < 12; i++) {
    const got = await request(`${proxy.url}/items/${id}`, 'GET', { 'kafka-position': position })
    assert.equal(got.status, 200)
    assert.equal(got.body, '{"n":1}')
  }
  // node:cluster's primary hands connections to its workers round-robin (SCHED_RR, the default
  // outside Windows), so twelve fresh connections reach both workers, the PUT's and the other.
  assert.equal(workerPids(proxy.logs).length, 2)
  const del = await request(`${proxy.url}/items/${id}`, 'DELETE', {})
  assert.equal(del.status, 204)
  for (let i = 0; i < 6; i++) {
    const gone = await request(`${proxy.url}/items/${id}`, 'GET', { 'kafka-position': del.headers['kafka-position'] as string })
    assert.equal(gone.status, 404)
  }
  const all = await request(`${proxy.url}/items`, 'GET', { 'kafka-position': del.headers['kafka-position'] as string })
  assert.equal(all.status, 200)
  assert.ok(Array.isArray(JSON.parse(all.body)))
})
