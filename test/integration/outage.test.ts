import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startOwnBroker } from '../helpers/broker.js'
import { startProxy, get, post, BINARY } from '../helpers/proxy.js'

const record = { records: [{ value: Buffer.from('x').toString('base64') }] }

test('an unreachable cluster gives fast retriable 503s, never 404, and the proxy recovers without a restart', async (t) => {
  const broker = await startOwnBroker(t)
  const servers = broker.current.bootstrapServers
  const topic = uniqueName('outage')
  await createTopic(topic, 1, servers)
  const { url } = await startProxy(t, { kafka: { bootstrap_servers: servers, metadata_refresh_ms: 1000 } })
  assert.equal((await post(`${url}/topics/${topic}`, BINARY, record)).status, 200)

  await broker.current.stop()

  // While the proxy notices, answers are either still 200 (cached view) or
  // 503; a 404 would tell clients the topic is gone, which is false.
  const down = await eventually(async () => {
    const res = await get(`${url}/topics/${topic}`)
    assert.notEqual(res.status, 404)
    return res.status === 503 ? res : undefined
  }, { timeoutMs: 15000, what: 'a 503 from the proxy' })
  assert.equal(down.body.error_code, 50302)
  assert.equal(down.body.retriable, true)

  const started = Date.now()
  const produce = await post(`${url}/topics/${topic}`, BINARY, record)
  const elapsed = Date.now() - started
  assert.equal(produce.status, 503)
  assert.equal(produce.body.error_code, 50302)
  assert.equal(produce.body.retriable, true)
  assert.equal(produce.body.persisted, 'no')
  assert.ok(elapsed < 1000, `503 took ${elapsed} ms`)

  const unknown = await post(`${url}/topics/${uniqueName('other')}`, BINARY, record)
  assert.equal(unknown.status, 503, 'an unknown topic cannot be told apart while the cluster is away')
  assert.equal((await get(`${url}/health/ready`)).status, 503)
  assert.equal((await get(`${url}/health/live`)).status, 200)

  const restarted = await broker.restart()
  assert.equal(restarted.bootstrapServers, servers)
  const recovered = await eventually(async () => {
    const res = await post(`${url}/topics/${topic}`, BINARY, record)
    return res.status === 200 ? res : undefined
  }, { timeoutMs: 60000, intervalMs: 250, what: 'produce to succeed after the broker restart' })
  assert.equal(recovered.body.offsets[0].error_code, null)
  assert.equal(recovered.body.offsets[0].offset, 1)
  assert.equal((await get(`${url}/health/ready`)).status, 200)
})
