// A rolling restart behind a load balancer, on the real main: at SIGTERM
// readiness turns 503 first while every request is still served, for
// server.drain_grace_ms, and only then does the process drain and exit. And
// the access log: one line per request, with no query string or body.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy } from '../helpers/process.js'
import { BINARY_V2, V2, request, show } from '../helpers/consumers.js'

test('SIGTERM: readiness 503 first while requests are still served, then the drain; one access-log line per request', async (t) => {
  const topic = uniqueName('rolling')
  await createTopic(topic, 1)
  const proxy = await bootProxy(t, {
    workers: 1,
    env: { KAFKA_PROXY_SERVER__DRAIN_GRACE_MS: '3000', KAFKA_PROXY_ACCESS_LOG__MODE: 'all' }
  })
  await eventually(async () => (await fetch(`${proxy.url}/health/ready`)).status === 200 ? true : undefined, { what: 'readiness' })
  const secret = 'record-value-that-must-not-be-logged'
  const produced = await request('POST', `${proxy.url}/topics/${topic}?note=${secret}`, {
    headers: { 'content-type': BINARY_V2, accept: V2 },
    body: { records: [{ value: Buffer.from(secret).toString('base64') }] }
  })
  assert.equal(produced.status, 200, show(produced))

  const signalled = Date.now()
  proxy.child.kill('SIGTERM')
  await eventually(async () => (await fetch(`${proxy.url}/health/ready`, { headers: { connection: 'close' } })).status === 503 ? true : undefined, { what: 'readiness 503' })
  // Still served, on new connections too, during the grace period.
  const during = await request('POST', `${proxy.url}/topics/${topic}`, {
    headers: { connection: 'close', 'content-type': BINARY_V2, accept: V2 },
    body: { records: [{ value: Buffer.from('during').toString('base64') }] }
  })
  assert.equal(during.status, 200, show(during))
  assert.equal(during.body.offsets[0].error_code, null)
  assert.ok(Date.now() - signalled < 3000, 'within the grace period')
  assert.equal(await proxy.exited, 0)
  assert.ok(Date.now() - signalled >= 3000, 'the process waited for the grace period')

  const lines = proxy.logs.filter((l) => l.msg === 'request')
  const produce = lines.filter((l) => l.route === '/topics/{topic}')
  assert.equal(produce.length, 2)
  assert.deepEqual(Object.keys(produce[0] as object).filter((k) => ['method', 'path', 'route', 'status', 'duration_ms', 'bytes_in', 'bytes_out', 'remote', 'principal'].includes(k)).length, 9)
  assert.equal(produce[0]?.path, `/topics/${topic}`)
  assert.equal(produce[0]?.status, 200)
  assert.equal(produce[0]?.principal, null)
  assert.ok(lines.some((l) => l.path === '/health/ready' && l.status === 503))
  for (const l of proxy.logs) assert.ok(!JSON.stringify(l).includes(secret), 'no query string or record content in any log line')
  assert.ok(!proxy.logs.some((l) => JSON.stringify(l).includes(Buffer.from(secret).toString('base64'))))
})
