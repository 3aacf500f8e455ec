// v2 consumer calls at their edges: assignments that change quickly, lists
// with repeats or nothing in them, commits to partitions that do not exist.
// Each must answer in the API's error format (or succeed), never crash the
// process or wait out a deadline.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import {
  BINARY_V2, V2, assertError, assign, createConsumer, produceBinary, readUntil, request, show
} from '../helpers/consumers.js'

test('assignments replaced again and again while partitions start keep the process alive and keep positions', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('edges-assign')
  await createTopic(topic, 2)
  await produceBinary(url, topic, Array.from({ length: 20 }, (_, i) => ({ value: `r${i}`, partition: i % 2 })))
  const c = await createConsumer(url, uniqueName('grp-edges-assign'), { format: 'binary', 'auto.offset.reset': 'earliest' })
  const p0 = { topic, partition: 0 }
  const p1 = { topic, partition: 1 }
  // This sequence aborted the process inside librdkafka when each step
  // replaced the whole assignment (assert rktp->rktp_started).
  for (let round = 0; round < 30; round++) {
    await assign(c, [p1])
    const res = await request('GET', `${c.path}/records?timeout=50`, { headers: { accept: BINARY_V2 } })
    assert.equal(res.status, 200, show(res))
    await assign(c, [p1, p0])
    await assign(c, [p0])
    await assign(c, [])
  }
  // Still serving, and a fresh assignment reads both partitions from the start.
  await assign(c, [p0, p1])
  const records = await readUntil(c, 20)
  assert.equal(records.length, 20)
  assert.deepEqual(new Set(records.map((r) => `${r.partition}@${r.offset}`)).size, 20)
})

test('repeated entries in subscription and assignment lists are one entry each, not a 500', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('edges-dupes')
  await createTopic(topic, 1)
  const group = uniqueName('grp-edges-dupes')
  const sub = await createConsumer(url, group, { format: 'binary' })
  const s = await request('POST', `${sub.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [topic, topic] } })
  assert.equal(s.status, 204, show(s))
  const got = await request('GET', `${sub.path}/subscription`, { headers: { accept: V2 } })
  assert.deepEqual(got.body, { topics: [topic] })

  const asg = await createConsumer(url, group, { format: 'binary' })
  const a = await request('POST', `${asg.path}/assignments`, {
    headers: { 'content-type': V2 },
    body: { partitions: [{ topic, partition: 0 }, { topic, partition: 0 }] }
  })
  assert.equal(a.status, 204, show(a))
  const current = await request('GET', `${asg.path}/assignments`, { headers: { accept: V2 } })
  assert.deepEqual(current.body, { partitions: [{ topic, partition: 0 }] })
})

test('seeks with empty lists change nothing and answer 204', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('edges-seek')
  await createTopic(topic, 1)
  const c = await createConsumer(url, uniqueName('grp-edges-seek'), { format: 'binary' })
  await assign(c, [{ topic, partition: 0 }])
  for (const [path, body] of [
    ['positions', { offsets: [] }],
    ['positions/beginning', { partitions: [] }],
    ['positions/end', { partitions: [] }]
  ] as const) {
    const res = await request('POST', `${c.path}/${path}`, { headers: { 'content-type': V2 }, body })
    assert.equal(res.status, 204, `${path}: ${show(res)}`)
  }
})

test('a commit to a partition or topic the cluster does not have is refused at once with 40402/40401', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('edges-commit')
  await createTopic(topic, 1)
  const c = await createConsumer(url, uniqueName('grp-edges-commit'), { format: 'binary' })
  await assign(c, [{ topic, partition: 0 }])
  const started = Date.now()
  const res = await request('POST', `${c.path}/offsets`, {
    headers: { 'content-type': V2 },
    body: { offsets: [{ topic, partition: 7, offset: 1 }] }
  })
  assertError(res, 404, 40402, 'unknown partition')
  assert.equal(res.body.retriable, false, show(res))
  assert.ok(Date.now() - started < 5000, 'answered without waiting for the commit deadline')
  const noTopic = await request('POST', `${c.path}/offsets`, {
    headers: { 'content-type': V2 },
    body: { offsets: [{ topic: uniqueName('edges-missing'), partition: 0, offset: 1 }] }
  })
  assertError(noTopic, 404, 40401, 'unknown topic')
})
