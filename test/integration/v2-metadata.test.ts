import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy, get, post } from '../helpers/proxy.js'

test('GET / answers {} and POST / accepts a JSON map', async (t) => {
  const { url } = await startProxy(t)
  const root = await get(`${url}/`)
  assert.equal(root.status, 200)
  assert.deepEqual(root.body, {})
  const posted = await post(`${url}/`, 'application/vnd.kafka.v2+json', { any: 'thing' })
  assert.equal(posted.status, 200)
  assert.deepEqual(posted.body, {})
})

test('GET /topics lists user topics sorted, without Kafka internals', async (t) => {
  const { url } = await startProxy(t)
  const a = uniqueName('meta-b')
  const b = uniqueName('meta-a')
  await createTopic(a, 1)
  await createTopic(b, 1)
  const res = await get(`${url}/topics`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/vnd.kafka.v2+json')
  assert.ok(res.body.includes(a) && res.body.includes(b))
  assert.deepEqual(res.body, [...res.body].sort())
  assert.ok(!res.body.includes('__consumer_offsets'))
})

test('GET /topics/{topic} describes partitions, leaders and replicas', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('meta-describe')
  await createTopic(topic, 3)
  const res = await get(`${url}/topics/${topic}`)
  assert.equal(res.status, 200)
  assert.equal(res.body.name, topic)
  assert.equal(res.body.configs['cleanup.policy'], 'delete')
  assert.equal(res.body.partitions.length, 3)
  res.body.partitions.forEach((p: { partition: number, leader: number, replicas: Array<{ broker: number, leader: boolean, in_sync: boolean }> }, i: number) => {
    assert.equal(p.partition, i)
    assert.ok(p.leader >= 0)
    assert.deepEqual(p.replicas, [{ broker: p.leader, leader: true, in_sync: true }])
  })
})

test('GET /topics/{unknown} is 404 with error_code 40401', async (t) => {
  const { url } = await startProxy(t)
  const res = await get(`${url}/topics/${uniqueName('missing')}`)
  assert.equal(res.status, 404)
  assert.equal(res.body.error_code, 40401)
})

test('GET /brokers lists broker ids', async (t) => {
  const { url } = await startProxy(t)
  const res = await get(`${url}/brokers`)
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, { brokers: [1] })
})

test('metadata endpoints negotiate Accept: 406 without a body for text/plain, JSON for application/json', async (t) => {
  const { url } = await startProxy(t)
  const refused = await get(`${url}/topics`, { accept: 'text/plain' })
  assert.equal(refused.status, 406)
  assert.equal(refused.body, null)
  const plain = await get(`${url}/brokers`, { accept: 'application/json' })
  assert.equal(plain.status, 200)
  assert.equal(plain.headers.get('content-type'), 'application/json')
})

test('unknown routes are 404 and wrong methods 405, in the error format', async (t) => {
  const { url } = await startProxy(t)
  const missing = await get(`${url}/no/such/route`)
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error_code, 404)
  const wrong = await fetch(`${url}/brokers`, { method: 'DELETE' })
  assert.equal(wrong.status, 405)
  assert.equal((await wrong.json() as { error_code: number }).error_code, 405)
})

test('liveness is always up; readiness follows the cluster', async (t) => {
  const { url } = await startProxy(t)
  assert.equal((await get(`${url}/health/live`)).status, 200)
  const ready = await get(`${url}/health/ready`)
  assert.equal(ready.status, 200)
  assert.equal(ready.body.status, 'ready')
})

test('partition endpoints list, describe and report offsets of partitions', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('meta-partitions')
  await createTopic(topic, 2)
  const list = await get(`${url}/topics/${topic}/partitions`)
  assert.equal(list.status, 200)
  assert.deepEqual(list.body.map((p: { partition: number }) => p.partition), [0, 1])
  const one = await get(`${url}/topics/${topic}/partitions/1`)
  assert.equal(one.status, 200)
  assert.equal(one.body.partition, 1)
  assert.deepEqual(one.body.replicas, [{ broker: one.body.leader, leader: true, in_sync: true }])

  const empty = await get(`${url}/topics/${topic}/partitions/1/offsets`)
  assert.deepEqual(empty.body, { beginning_offset: 0, end_offset: 0 })
  const values = ['a', 'b', 'c'].map((v) => ({ value: Buffer.from(v).toString('base64') }))
  assert.equal((await post(`${url}/topics/${topic}/partitions/1`, 'application/vnd.kafka.binary.v2+json', { records: values })).status, 200)
  const filled = await get(`${url}/topics/${topic}/partitions/1/offsets`)
  assert.deepEqual(filled.body, { beginning_offset: 0, end_offset: 3 })

  for (const path of [`/topics/${topic}/partitions/2`, `/topics/${topic}/partitions/2/offsets`, `/topics/${topic}/partitions/x`]) {
    const res = await get(`${url}${path}`)
    assert.equal(res.status, 404, path)
    assert.equal(res.body.error_code, 40402, path)
  }
  const noTopic = await get(`${url}/topics/${uniqueName('nope')}/partitions`)
  assert.equal(noTopic.body.error_code, 40401)
})
