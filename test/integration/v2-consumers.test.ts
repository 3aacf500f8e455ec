// The v2 consumer API (spec §1.2, §1.4–§1.6, error codes §3), endpoint by
// endpoint and error by error, against a real broker. Records are produced
// through the proxy; everything is observed over HTTP only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { bootstrap, createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { KafkaConsumer } from '../../src/kafka/binding.js'
import { startProxy } from '../helpers/proxy.js'
import {
  BINARY_V1, BINARY_V2, JSON_V2, V1, V2,
  assertError, assign, b64, commit, committed, consumerPath, createConsumer, deleteConsumer,
  produceBinary, positionKey, read, readOk, readUntil, request, show, subscribe, unb64,
  type ConsumedRecord, type ConsumerRef
} from '../helpers/consumers.js'

const offsetsOf = (records: ConsumedRecord[]): number[] => records.map((r) => r.offset)

test('create answers 200 with instance_id and a base_uri of the listener, whatever the Host header says', async (t) => {
  const { url, server } = await startProxy(t)
  const group = uniqueName('grp-create')

  const named = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: { name: 'alpha', format: 'binary' } })
  assert.equal(named.status, 200, show(named))
  assert.equal(named.headers['content-type'], V2)
  assert.deepEqual(named.body, { instance_id: 'alpha', base_uri: `http://127.0.0.1:${server.port}/consumers/${group}/instances/alpha` })

  const viaHost = await request('POST', `${url}/consumers/${group}`, {
    headers: { 'content-type': V2, host: 'proxy-7.example.com:9999' },
    body: { name: 'beta' }
  })
  assert.equal(viaHost.status, 200, show(viaHost))
  assert.equal(viaHost.body.base_uri, `http://127.0.0.1:${server.port}/consumers/${group}/instances/beta`)

  // The body is optional; without a name the proxy picks one.
  const unnamed = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 } })
  assert.equal(unnamed.status, 200, show(unnamed))
  assert.match(unnamed.body.instance_id, /^rest-consumer-./)
  assert.equal(unnamed.body.base_uri, `http://127.0.0.1:${server.port}/consumers/${group}/instances/${unnamed.body.instance_id}`)
  const another = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: {} })
  assert.equal(another.status, 200, show(another))
  assert.match(another.body.instance_id, /^rest-consumer-./)
  assert.notEqual(another.body.instance_id, unnamed.body.instance_id)

  // The instances exist: their subscription is readable.
  for (const name of ['alpha', 'beta', unnamed.body.instance_id, another.body.instance_id]) {
    const sub = await request('GET', `${consumerPath(url, group, name)}/subscription`, { headers: { accept: V2 } })
    assert.equal(sub.status, 200, `${name}: ${show(sub)}`)
  }
})

test('base_uri uses server.advertised_url when it is set', async (t) => {
  const { url } = await startProxy(t, { server: { advertised_url: 'https://kafka-proxy.example.com:8443' } })
  const group = uniqueName('grp-advertised')
  const res = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2, host: 'ignored.example.com' }, body: { name: 'c1' } })
  assert.equal(res.status, 200, show(res))
  assert.equal(res.body.base_uri, `https://kafka-proxy.example.com:8443/consumers/${group}/instances/c1`)
})

test('a second instance with the same name in the same group is 409/40902', async (t) => {
  const { url } = await startProxy(t)
  const group = uniqueName('grp-dup')
  await createConsumer(url, group, { name: 'same' })
  const dup = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: { name: 'same' } })
  assertError(dup, 409, 40902)
  // The name is only taken within its group.
  await createConsumer(url, uniqueName('grp-dup-other'), { name: 'same' })
})

test('an invalid format is 422 with error_code 422; format names are case-insensitive', async (t) => {
  const { url } = await startProxy(t)
  const group = uniqueName('grp-format')
  const bad = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: { name: 'x', format: 'xml' } })
  assertError(bad, 422, 422)
  // Nothing was created under that name.
  const gone = await request('GET', `${consumerPath(url, group, 'x')}/subscription`, { headers: { accept: V2 } })
  assertError(gone, 404, 40403)
  await createConsumer(url, group, { name: 'upper', format: 'BINARY' })
  await createConsumer(url, group, { name: 'mixed', format: 'Json' })
})

test('fetch.min.bytes outside -1..10000000 is HTTP 422 with error_code 40001', async (t) => {
  const { url } = await startProxy(t)
  const group = uniqueName('grp-fmb')
  for (const value of [-2, 10000001]) {
    const res = await request('POST', `${url}/consumers/${group}`, { headers: { 'content-type': V2 }, body: { name: `bad${value}`, 'fetch.min.bytes': value } })
    assertError(res, 422, 40001, `fetch.min.bytes ${value}`)
  }
  await createConsumer(url, group, { name: 'low', 'fetch.min.bytes': -1 })
  await createConsumer(url, group, { name: 'high', 'fetch.min.bytes': 10000000 })
})

test('delete answers 204, after which every instance path is 404/40403', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-delete')
  await createTopic(topic, 1)
  const group = uniqueName('grp-delete')
  const c = await createConsumer(url, group, { name: 'doomed' })
  await subscribe(c, [topic])
  const del = await request('DELETE', c.path, { headers: { 'content-type': V2 } })
  assert.equal(del.status, 204, show(del))
  assert.equal(del.text, '')

  const partitions = { partitions: [{ topic, partition: 0 }] }
  const calls: Array<[string, string, unknown, Record<string, string>]> = [
    ['DELETE', '', undefined, {}],
    ['POST', '/subscription', { topics: [topic] }, { 'content-type': V2 }],
    ['GET', '/subscription', undefined, { accept: V2 }],
    ['DELETE', '/subscription', undefined, {}],
    ['POST', '/assignments', partitions, { 'content-type': V2 }],
    ['GET', '/assignments', undefined, { accept: V2 }],
    ['POST', '/positions', { offsets: [{ topic, partition: 0, offset: 0 }] }, { 'content-type': V2 }],
    ['POST', '/positions/beginning', partitions, { 'content-type': V2 }],
    ['POST', '/positions/end', partitions, { 'content-type': V2 }],
    ['POST', '/offsets', { offsets: [{ topic, partition: 0, offset: 0 }] }, { 'content-type': V2 }],
    ['POST', '/offsets', undefined, { 'content-type': V2 }],
    ['GET', '/offsets', partitions, { 'content-type': V2, accept: V2 }],
    ['GET', '/records', undefined, { accept: BINARY_V2 }],
    ['GET', `/topics/${topic}`, undefined, { accept: BINARY_V2 }]
  ]
  for (const base of [c.path, consumerPath(url, uniqueName('grp-never'), 'never-created')]) {
    for (const [method, suffix, body, headers] of calls) {
      const res = await request(method, `${base}${suffix}`, { headers, body })
      assertError(res, 404, 40403, `${method} ${suffix}`)
    }
  }
})

test('subscription: POST topics is 204, GET lists them, DELETE is 204 and empties it', async (t) => {
  const { url } = await startProxy(t)
  const a = uniqueName('t-sub-a')
  const b = uniqueName('t-sub-b')
  await createTopic(a, 1)
  await createTopic(b, 1)
  const c = await createConsumer(url, uniqueName('grp-sub'), { name: 's' })

  const empty = await request('GET', `${c.path}/subscription`, { headers: { accept: V2 } })
  assert.equal(empty.status, 200, show(empty))
  assert.deepEqual(empty.body, { topics: [] })

  const post = await request('POST', `${c.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [a, b] } })
  assert.equal(post.status, 204, show(post))
  assert.equal(post.text, '')
  const got = await request('GET', `${c.path}/subscription`, { headers: { accept: V2 } })
  assert.equal(got.status, 200, show(got))
  assert.equal(got.headers['content-type'], V2)
  assert.deepEqual([...got.body.topics].sort(), [a, b].sort())

  // A new subscription replaces the previous one.
  await subscribe(c, [b])
  const replaced = await request('GET', `${c.path}/subscription`, { headers: { accept: V2 } })
  assert.deepEqual(replaced.body, { topics: [b] })

  const del = await request('DELETE', `${c.path}/subscription`, {})
  assert.equal(del.status, 204, show(del))
  const after = await request('GET', `${c.path}/subscription`, { headers: { accept: V2 } })
  assert.equal(after.status, 200, show(after))
  assert.deepEqual(after.body, { topics: [] })
})

test('the first read after subscribe waits for the partition assignment and returns records produced earlier', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 15000 } })
  const topic = uniqueName('t-first-read')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 5 }, (_, i) => ({ value: `first-${i}` })))
  const c = await createConsumer(url, uniqueName('grp-first-read'), { 'auto.offset.reset': 'earliest', 'fetch.min.bytes': 1 })
  await subscribe(c, [topic])
  // Confluent issue #432: a read right after subscribe used to return [] while
  // the group join was still in progress. Here the very first read returns data.
  const first = await readOk(c, { timeout: 15000 })
  assert.ok(first.length > 0, 'the first read returned no records')
  assert.equal(first[0]?.offset, 0)
  const rest = first.length < 5 ? await readUntil(c, 5 - first.length) : []
  assert.deepEqual([...first, ...rest].map((r) => unb64(r.value)), ['first-0', 'first-1', 'first-2', 'first-3', 'first-4'])
})

test('topic_pattern subscription reads records from every matching topic', async (t) => {
  const { url } = await startProxy(t)
  const prefix = uniqueName('t-pattern')
  const a = `${prefix}-alpha`
  const b = `${prefix}-beta`
  const other = uniqueName('t-pattern-other')
  await createTopic(a, 1)
  await createTopic(b, 2)
  await createTopic(other, 1)
  await produceBinary(url, a, [{ value: 'a0' }, { value: 'a1' }])
  await produceBinary(url, b, [{ value: 'b0', partition: 0 }, { value: 'b1', partition: 1 }])
  await produceBinary(url, other, [{ value: 'not-me' }])
  const c = await createConsumer(url, uniqueName('grp-pattern'), { 'auto.offset.reset': 'earliest' })
  const res = await request('POST', `${c.path}/subscription`, { headers: { 'content-type': V2 }, body: { topic_pattern: `${prefix}-.*` } })
  assert.equal(res.status, 204, show(res))
  const records = await readUntil(c, 4)
  assert.deepEqual(records.map((r) => `${r.topic}:${unb64(r.value)}`).sort(), [`${a}:a0`, `${a}:a1`, `${b}:b0`, `${b}:b1`].sort())
  // Nothing from the topic that does not match.
  const more = await readOk(c)
  assert.deepEqual(more, [])
})

test('assignments: POST is 204, GET returns them, and only those partitions are read', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-assign')
  await createTopic(topic, 3)
  await produceBinary(url, topic, [0, 1, 2].map((p) => ({ value: `p${p}`, partition: p })))
  const c = await createConsumer(url, uniqueName('grp-assign'), { 'auto.offset.reset': 'earliest' })

  const none = await request('GET', `${c.path}/assignments`, { headers: { accept: V2 } })
  assert.equal(none.status, 200, show(none))
  assert.deepEqual(none.body, { partitions: [] })

  const wanted = [{ topic, partition: 0 }, { topic, partition: 2 }]
  const post = await request('POST', `${c.path}/assignments`, { headers: { 'content-type': V2 }, body: { partitions: wanted } })
  assert.equal(post.status, 204, show(post))
  const got = await request('GET', `${c.path}/assignments`, { headers: { accept: V2 } })
  assert.equal(got.status, 200, show(got))
  assert.equal(got.headers['content-type'], V2)
  assert.deepEqual([...got.body.partitions].sort((x, y) => x.partition - y.partition), wanted)

  const records = await readUntil(c, 2)
  assert.deepEqual(records.map((r) => `${r.partition}:${unb64(r.value)}`).sort(), ['0:p0', '2:p2'])
  assert.deepEqual(await readOk(c), [])
})

test('subscribe after assign, and assign after subscribe, are 409/40903', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-mix')
  await createTopic(topic, 1)
  const assigned = await createConsumer(url, uniqueName('grp-mix-a'))
  await assign(assigned, [{ topic, partition: 0 }])
  const sub = await request('POST', `${assigned.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [topic] } })
  assertError(sub, 409, 40903, 'subscribe after assign')
  const pattern = await request('POST', `${assigned.path}/subscription`, { headers: { 'content-type': V2 }, body: { topic_pattern: `${topic}.*` } })
  assertError(pattern, 409, 40903, 'pattern after assign')

  const subscribed = await createConsumer(url, uniqueName('grp-mix-s'))
  await subscribe(subscribed, [topic])
  const asg = await request('POST', `${subscribed.path}/assignments`, { headers: { 'content-type': V2 }, body: { partitions: [{ topic, partition: 0 }] } })
  assertError(asg, 409, 40903, 'assign after subscribe')
})

test('positions: seek to an offset, to the beginning and to the end', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-seek')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })))
  const c = await createConsumer(url, uniqueName('grp-seek'), { 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])
  assert.deepEqual(offsetsOf(await readUntil(c, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])

  const seek = await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 7 }] } })
  assert.equal(seek.status, 204, show(seek))
  assert.deepEqual(offsetsOf(await readUntil(c, 3)), [7, 8, 9])

  const begin = await request('POST', `${c.path}/positions/beginning`, { headers: { 'content-type': V2 }, body: { partitions: [{ topic, partition: 0 }] } })
  assert.equal(begin.status, 204, show(begin))
  assert.deepEqual(offsetsOf(await readUntil(c, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])

  await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 2 }] } })
  const end = await request('POST', `${c.path}/positions/end`, { headers: { 'content-type': V2 }, body: { partitions: [{ topic, partition: 0 }] } })
  assert.equal(end.status, 204, show(end))
  assert.deepEqual(await readOk(c), [], 'nothing to read at the end')
  await produceBinary(url, topic, [{ value: 'after-end' }])
  const next = await readUntil(c, 1)
  assert.deepEqual(next.map((r) => [r.offset, unb64(r.value)]), [[10, 'after-end']])
})

test('positions set right after assign, before any read, take effect', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-seek-fresh')
  await createTopic(topic, 2)
  await produceBinary(url, topic, Array.from({ length: 6 }, (_, i) => ({ value: `f${i}`, partition: i % 2 })))
  // Several fresh instances: the seek races the start of fetching in the client.
  for (let i = 0; i < 3; i++) {
    const c = await createConsumer(url, uniqueName('grp-seek-fresh'), { 'auto.offset.reset': 'latest' })
    await assign(c, [{ topic, partition: 0 }, { topic, partition: 1 }])
    const seek = await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 1 }] } })
    assert.equal(seek.status, 204, `instance ${i}: ${show(seek)}`)
    const begin = await request('POST', `${c.path}/positions/beginning`, { headers: { 'content-type': V2 }, body: { partitions: [{ topic, partition: 1 }] } })
    assert.equal(begin.status, 204, `instance ${i}: ${show(begin)}`)
    const records = await readUntil(c, 5)
    assert.deepEqual(records.map((r) => `${r.partition}@${r.offset}`).sort(), ['0@1', '0@2', '1@0', '1@1', '1@2'])
    await deleteConsumer(c)
  }
})

test('positions by timestamp go to the first record at or after that time', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-seek-ts')
  await createTopic(topic, 1)
  await produceBinary(url, topic, [{ value: 'old-0' }, { value: 'old-1' }, { value: 'old-2' }])
  // Every record above carries a timestamp taken before its produce call
  // returned, so strictly before `boundary`; every record below one taken after.
  const boundary = Date.now() + 1
  await eventually(() => Date.now() > boundary ? true : undefined, { intervalMs: 1, what: 'the clock to pass the boundary' })
  await produceBinary(url, topic, [{ value: 'new-3' }, { value: 'new-4' }])

  const c = await createConsumer(url, uniqueName('grp-seek-ts'), { 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])
  const all = await readUntil(c, 5)
  assert.deepEqual(all.map((r) => r.timestamp < boundary), [true, true, true, false, false], `timestamps ${JSON.stringify(all.map((r) => r.timestamp))} vs ${boundary}`)

  const res = await request('POST', `${c.path}/positions`, {
    headers: { 'content-type': V2 },
    body: { timestamps: [{ topic, partition: 0, timestamp: new Date(boundary).toISOString() }] }
  })
  assert.equal(res.status, 204, show(res))
  const after = await readUntil(c, 2)
  assert.deepEqual(after.map((r) => [r.offset, unb64(r.value)]), [[3, 'new-3'], [4, 'new-4']])
})

test('seeking a partition that is not assigned to the instance is 409/40903', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-seek-unassigned')
  await createTopic(topic, 2)
  const c = await createConsumer(url, uniqueName('grp-seek-unassigned'))
  const bodies: Array<[string, unknown]> = [
    ['/positions', { offsets: [{ topic, partition: 1, offset: 0 }] }],
    ['/positions', { timestamps: [{ topic, partition: 1, timestamp: new Date().toISOString() }] }],
    ['/positions/beginning', { partitions: [{ topic, partition: 1 }] }],
    ['/positions/end', { partitions: [{ topic, partition: 1 }] }]
  ]
  for (const [suffix, body] of bodies) {
    const res = await request('POST', `${c.path}${suffix}`, { headers: { 'content-type': V2 }, body })
    assertError(res, 409, 40903, `${suffix} with nothing assigned`)
  }
  await assign(c, [{ topic, partition: 0 }])
  for (const [suffix, body] of bodies) {
    const res = await request('POST', `${c.path}${suffix}`, { headers: { 'content-type': V2 }, body })
    assertError(res, 409, 40903, `${suffix} on partition 1 with partition 0 assigned`)
  }
})

test('commit with a body stores offset + 1 and GET offsets with a body returns the committed offsets', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-commit')
  await createTopic(topic, 2)
  const c = await createConsumer(url, uniqueName('grp-commit'), { 'auto.commit.enable': 'false' })
  await assign(c, [{ topic, partition: 0 }, { topic, partition: 1 }])
  const res = await commit(c, [{ topic, partition: 0, offset: 4 }, { topic, partition: 1, offset: 9, metadata: 'checkpoint-9' }])
  assert.equal(res.status, 200, show(res))
  assert.deepEqual(res.body, [])

  const got = await committed(c, [{ topic, partition: 0 }, { topic, partition: 1 }])
  assert.equal(got.status, 200, show(got))
  assert.equal(got.headers['content-type'], V2)
  assert.deepEqual([...got.body.offsets].sort((x, y) => x.partition - y.partition), [
    { topic, partition: 0, offset: 5, metadata: '' },
    { topic, partition: 1, offset: 10, metadata: 'checkpoint-9' }
  ])

  // Committed offsets belong to the group: another instance of it sees them.
  const other = await createConsumer(url, c.group, { 'auto.commit.enable': 'false' })
  const seen = await committed(other, [{ topic, partition: 0 }])
  assert.equal(seen.status, 200, show(seen))
  assert.deepEqual(seen.body.offsets, [{ topic, partition: 0, offset: 5, metadata: '' }])

  // The 200 means committed: each commit is visible to the very next request.
  for (let i = 1; i <= 5; i++) {
    const again = await commit(c, [{ topic, partition: 0, offset: 4 + i * 10 }])
    assert.equal(again.status, 200, show(again))
    const now = await committed(c, [{ topic, partition: 0 }])
    assert.deepEqual(now.body?.offsets, [{ topic, partition: 0, offset: 5 + i * 10, metadata: '' }], `commit ${i}: ${show(now)}`)
  }
})

test('a commit the coordinator refuses at first is sent again and answers 200 once the group lets it through', async (t) => {
  const { url } = await startProxy(t, { kafka: { request_timeout_ms: 15000 } })
  const topic = uniqueName('t-recommit')
  await createTopic(topic, 1)
  const group = uniqueName('grp-recommit')
  // A native member holds the group, so a commit from an instance outside the
  // group (manual assignment, generation -1) is refused (UNKNOWN_MEMBER_ID)
  // until that member leaves and the group is empty.
  const native = new KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': group, 'enable.auto.commit': false }, { 'auto.offset.reset': 'earliest' })
  await new Promise<void>((resolve, reject) => native.connect({ timeout: 10000 }, (err) => { if (err !== null && err !== undefined) reject(err); else resolve() }))
  let nativeOpen = true
  t.after(() => { if (nativeOpen) native.disconnect() })
  native.subscribe([topic])
  await eventually(() => new Promise<true | undefined>((resolve) => {
    native.consume(1, () => resolve(native.assignments().length > 0 ? true : undefined))
  }), { timeoutMs: 30000, what: 'the native member joined and got the partition' })

  const c = await createConsumer(url, group, { 'auto.commit.enable': 'false' })
  await assign(c, [{ topic, partition: 0 }])
  const started = Date.now()
  const pending = commit(c, [{ topic, partition: 0, offset: 6 }])
  // Let the first commit be refused, then empty the group.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await new Promise<void>((resolve) => native.disconnect(() => resolve()))
  nativeOpen = false
  const res = await pending
  assert.equal(res.status, 200, show(res))
  assert.ok(Date.now() - started >= 1000, 'the commit could not land while the native member held the group')
  const got = await committed(c, [{ topic, partition: 0 }])
  assert.deepEqual(got.body.offsets, [{ topic, partition: 0, offset: 7, metadata: '' }])
})

test('GET offsets without a body is 404/40402', async (t) => {
  const { url } = await startProxy(t)
  const c = await createConsumer(url, uniqueName('grp-offsets-nobody'))
  const res = await request('GET', `${c.path}/offsets`, { headers: { accept: V2 } })
  assertError(res, 404, 40402)
})

test('commit without a body commits what was delivered, not what was prefetched', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-commit-delivered')
  await createTopic(topic, 1)
  const value = 'x'.repeat(50)
  await produceBinary(url, topic, Array.from({ length: 200 }, () => ({ value })))
  const group = uniqueName('grp-commit-delivered')
  const first = await createConsumer(url, group, { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await subscribe(first, [topic])
  // max_bytes 500 lets at most 10 of the 50-byte records through per read,
  // while librdkafka prefetches all 200.
  let delivered: ConsumedRecord[] = []
  await eventually(async () => {
    delivered = await readOk(first, { maxBytes: 500 })
    return delivered.length > 0 ? true : undefined
  }, { what: 'a first non-empty read' })
  const k = delivered.length
  assert.ok(k <= 10, `${k} records exceed max_bytes`)
  assert.deepEqual(offsetsOf(delivered), Array.from({ length: k }, (_, i) => i))

  const res = await commit(first)
  assert.equal(res.status, 200, show(res))
  await eventually(async () => {
    const got = await committed(first, [{ topic, partition: 0 }])
    return got.status === 200 && got.body.offsets[0]?.offset === k ? true : undefined
  }, { what: `committed offset ${k}` })
  await deleteConsumer(first)

  const second = await createConsumer(url, group, { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await subscribe(second, [topic])
  const resumed = await readUntil(second, 1)
  assert.equal(resumed[0]?.offset, k, 'the next instance resumes right after the delivered records')
})

test('auto.commit.enable "false": nothing is committed, the next instance starts over', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-noauto')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 5 }, (_, i) => ({ value: `n${i}` })))
  const group = uniqueName('grp-noauto')
  const first = await createConsumer(url, group, { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await subscribe(first, [topic])
  assert.deepEqual(offsetsOf(await readUntil(first, 5)), [0, 1, 2, 3, 4])
  await deleteConsumer(first)

  const second = await createConsumer(url, group, { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await subscribe(second, [topic])
  assert.deepEqual(offsetsOf(await readUntil(second, 5)), [0, 1, 2, 3, 4])
})

test('auto.commit.enable "true": delivered records are committed, the next instance resumes after them', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-auto')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 5 }, (_, i) => ({ value: `a${i}` })))
  const group = uniqueName('grp-auto')
  const first = await createConsumer(url, group, { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'true' })
  await subscribe(first, [topic])
  assert.deepEqual(offsetsOf(await readUntil(first, 5)), [0, 1, 2, 3, 4])
  // Closing a consumer with auto commit on commits what it delivered.
  await deleteConsumer(first)

  const second = await createConsumer(url, group, { 'auto.offset.reset': 'earliest' })
  await subscribe(second, [topic])
  await produceBinary(url, topic, [{ value: 'a5' }])
  const next = await readUntil(second, 1)
  assert.deepEqual(next.map((r) => [r.offset, unb64(r.value)]), [[5, 'a5']])
})

test('auto.offset.reset smallest and largest act as earliest and latest', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-reset')
  await createTopic(topic, 1)
  await produceBinary(url, topic, [{ value: 'old-0' }, { value: 'old-1' }, { value: 'old-2' }])

  const smallest = await createConsumer(url, uniqueName('grp-smallest'), { 'auto.offset.reset': 'smallest' })
  await subscribe(smallest, [topic])
  assert.deepEqual(offsetsOf(await readUntil(smallest, 3)), [0, 1, 2])

  const largest = await createConsumer(url, uniqueName('grp-largest'), { 'auto.offset.reset': 'largest' })
  await subscribe(largest, [topic])
  // Where "latest" lands depends on when the assignment resolves, so keep
  // producing until something arrives: it must never be an old record.
  const got: ConsumedRecord[] = []
  let n = 0
  await eventually(async () => {
    await produceBinary(url, topic, [{ value: `new-${n++}` }])
    got.push(...await readOk(largest))
    return got.length > 0 ? true : undefined
  }, { timeoutMs: 30000, what: 'a record for the largest consumer' })
  for (const r of got) assert.ok(r.offset >= 3, `largest consumer read old record ${r.offset}`)
})

test('binary records: topic, base64 key and value, null key, partition, offset; Accept */* reads binary', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-binary')
  await createTopic(topic, 1)
  const raw = Buffer.from([0, 1, 2, 254, 255])
  await produceBinary(url, topic, [{ key: 'k1', value: raw }, { value: 'no-key' }, { key: 'k3', value: null }])
  const c = await createConsumer(url, uniqueName('grp-binary'), { 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const res = await read(c, { timeout: 1000 })
  assert.equal(res.status, 200, show(res))
  assert.equal(res.headers['content-type'], BINARY_V2)
  const records = [...res.body as ConsumedRecord[], ...(res.body.length < 3 ? await readUntil(c, 3 - res.body.length) : [])]
  assert.deepEqual(records.map(({ topic, key, value, partition, offset }) => ({ topic, key, value, partition, offset })), [
    { topic, key: b64('k1'), value: raw.toString('base64'), partition: 0, offset: 0 },
    { topic, key: null, value: b64('no-key'), partition: 0, offset: 1 },
    { topic, key: b64('k3'), value: null, partition: 0, offset: 2 }
  ])

  await produceBinary(url, topic, [{ value: 'star' }])
  const star = await eventually(async () => {
    const r = await request('GET', `${c.path}/records`, { headers: { accept: '*/*' } })
    assert.equal(r.status, 200, show(r))
    return r.body.length > 0 ? r : undefined
  }, { what: 'a read with Accept */*' })
  assert.equal(star.headers['content-type'], BINARY_V2)
  assert.equal(star.body[0].value, b64('star'))
})

test('json format returns keys and values as parsed JSON', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-json')
  await createTopic(topic, 1)
  const values = [{ foo: 'bar', n: [1, 2.5, null] }, ['a', 'b'], 53.5, 'text', true, null]
  const produced = await request('POST', `${url}/topics/${topic}`, {
    headers: { 'content-type': JSON_V2 },
    body: { records: values.map((value, i) => (i === 0 ? { key: 'somekey', value } : { value })) }
  })
  assert.equal(produced.status, 200, show(produced))
  const c = await createConsumer(url, uniqueName('grp-json'), { format: 'json', 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const first = await eventually(async () => {
    const r = await read(c, { accept: JSON_V2 })
    assert.equal(r.status, 200, show(r))
    return r.body.length > 0 ? r : undefined
  }, { what: 'json records' })
  assert.equal(first.headers['content-type'], JSON_V2)
  const records = [...first.body as ConsumedRecord[]]
  if (records.length < values.length) records.push(...await readUntil(c, values.length - records.length, { accept: JSON_V2 }))
  assert.deepEqual(records.map((r) => r.value), values)
  assert.deepEqual(records.map((r) => r.key), ['somekey', null, null, null, null, null])
  assert.deepEqual(records.map((r) => r.topic), values.map(() => topic))
})

test('an Accept format other than the instance format is 406/40601', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-mismatch')
  await createTopic(topic, 1)
  const binary = await createConsumer(url, uniqueName('grp-mismatch-b'), { format: 'binary' })
  await subscribe(binary, [topic])
  assertError(await read(binary, { accept: JSON_V2 }), 406, 40601, 'json Accept on a binary instance')
  const json = await createConsumer(url, uniqueName('grp-mismatch-j'), { format: 'json' })
  await subscribe(json, [topic])
  assertError(await read(json, { accept: BINARY_V2 }), 406, 40601, 'binary Accept on a json instance')
  assertError(await read(json, { accept: '*/*' }), 406, 40601, '*/* (binary) on a json instance')
})

test('headers and timestamp round trip: produced headers come back, timestamp is ms since the epoch', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-headers')
  await createTopic(topic, 1)
  const before = Date.now()
  const headers = [
    { name: 'trace-id', value: b64('abc-123') },
    { name: 'empty', value: '' },
    { name: 'dup', value: b64('first') },
    { name: 'dup', value: b64('second') },
    { name: 'bin', value: Buffer.from([0, 255, 10]).toString('base64') }
  ]
  await produceBinary(url, topic, [{ value: 'with', headers }, { value: 'without' }])
  const jsonProduce = await request('POST', `${url}/topics/${topic}`, {
    headers: { 'content-type': JSON_V2 },
    body: { records: [{ value: { j: 1 }, headers: [{ name: 'from-json', value: b64('yes') }] }] }
  })
  assert.equal(jsonProduce.status, 200, show(jsonProduce))
  const after = Date.now()

  const c = await createConsumer(url, uniqueName('grp-headers'), { 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const records = await readUntil(c, 3)
  assert.deepEqual(records[0]?.headers, headers)
  assert.deepEqual(records[1]?.headers, [])
  assert.deepEqual(records[2]?.headers, [{ name: 'from-json', value: b64('yes') }])
  for (const r of records) {
    assert.ok(Number.isInteger(r.timestamp), `timestamp ${String(r.timestamp)}`)
    assert.ok(r.timestamp >= before - 1000 && r.timestamp <= after + 1000, `timestamp ${r.timestamp} outside [${before}, ${after}]`)
  }

  // The same headers through a json instance.
  const j = await createConsumer(url, uniqueName('grp-headers-json'), { format: 'json', 'auto.offset.reset': 'earliest' })
  await assign(j, [{ topic, partition: 0 }])
  const seek = await request('POST', `${j.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset: 2 }] } })
  assert.equal(seek.status, 204, show(seek))
  const jr = await readUntil(j, 1, { accept: JSON_V2 })
  assert.deepEqual(jr[0]?.value, { j: 1 })
  assert.deepEqual(jr[0]?.headers, [{ name: 'from-json', value: b64('yes') }])
  assert.equal(jr[0]?.timestamp, records[2]?.timestamp)
})

// The Kafka client binding can neither send nor receive a null header value
// (it carries strings and buffers only), so the proxy writes null as an empty
// value and reads give "" (documented in the README).
test('a header produced with a null value is written as an empty value', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-header-null')
  await createTopic(topic, 1)
  await produceBinary(url, topic, [{ value: 'v', headers: [{ name: 'absent', value: null }, { name: 'present', value: b64('x') }] }])
  const c = await createConsumer(url, uniqueName('grp-header-null'), { 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])
  const [r] = await readUntil(c, 1)
  assert.deepEqual(r?.headers, [{ name: 'absent', value: '' }, { name: 'present', value: b64('x') }])
})

test('with fetch.min.bytes -1 a read with data waits the whole timeout when max_bytes is not reached', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 10000 } })
  const topic = uniqueName('t-longpoll')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 3 }, (_, i) => ({ value: `lp${i}` })))
  const c = await createConsumer(url, uniqueName('grp-longpoll'), { 'auto.offset.reset': 'earliest', 'fetch.min.bytes': -1 })
  await assign(c, [{ topic, partition: 0 }])
  const started = performance.now()
  const records = await readOk(c, { timeout: 3000 })
  const elapsed = performance.now() - started
  assert.equal(records.length, 3)
  assert.ok(elapsed >= 2700, `returned after ${Math.round(elapsed)} ms, before the 3000 ms timeout`)
  assert.ok(elapsed < 8000, `returned after ${Math.round(elapsed)} ms`)
})

test('a small fetch.min.bytes returns as soon as that many bytes arrived', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 20000 } })
  const topic = uniqueName('t-minbytes')
  await createTopic(topic, 1)
  await produceBinary(url, topic, Array.from({ length: 3 }, (_, i) => ({ value: `mb${i}` })))
  const c = await createConsumer(url, uniqueName('grp-minbytes'), { 'auto.offset.reset': 'earliest', 'fetch.min.bytes': 1 })
  await assign(c, [{ topic, partition: 0 }])
  const started = performance.now()
  const records = await readOk(c, { timeout: 20000 })
  const elapsed = performance.now() - started
  assert.ok(records.length > 0)
  assert.ok(elapsed < 10000, `returned after ${Math.round(elapsed)} ms of a 20000 ms timeout`)
})

test('a read lasts the timeout query capped by the instance consumer.request.timeout.ms, else by the configured request_timeout_ms', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 1500 } })
  const topic = uniqueName('t-timeout')
  await createTopic(topic, 1)
  const timed = async (c: ConsumerRef, timeout?: number): Promise<number> => {
    const started = performance.now()
    assert.deepEqual(await readOk(c, timeout === undefined ? {} : { timeout }), [])
    return performance.now() - started
  }
  // An empty partition: with fetch.min.bytes -1 every read lasts its whole timeout.
  const byConfig = await createConsumer(url, uniqueName('grp-timeout-cfg'), { 'fetch.min.bytes': -1 })
  await assign(byConfig, [{ topic, partition: 0 }])
  await timed(byConfig, 100)
  const cfg = await timed(byConfig, 30000)
  assert.ok(cfg >= 1300 && cfg < 6000, `config 1500 ms, query 30000 ms: took ${Math.round(cfg)} ms`)
  const noQuery = await timed(byConfig)
  assert.ok(noQuery >= 1300 && noQuery < 6000, `config 1500 ms, no query: took ${Math.round(noQuery)} ms`)

  const byInstance = await createConsumer(url, uniqueName('grp-timeout-inst'), { 'fetch.min.bytes': -1, 'consumer.request.timeout.ms': 500 })
  await assign(byInstance, [{ topic, partition: 0 }])
  await timed(byInstance, 100)
  const inst = await timed(byInstance, 30000)
  assert.ok(inst >= 400 && inst < 1300, `instance 500 ms, query 30000 ms: took ${Math.round(inst)} ms`)

  const byQuery = await createConsumer(url, uniqueName('grp-timeout-query'), { 'fetch.min.bytes': -1, 'consumer.request.timeout.ms': 30000 })
  await assign(byQuery, [{ topic, partition: 0 }])
  const query = await timed(byQuery, 300)
  assert.ok(query >= 250 && query < 1300, `query 300 ms: took ${Math.round(query)} ms`)
})

test('max_bytes bounds the raw key + value bytes of a response; no record is lost or duplicated across reads', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-maxbytes')
  await createTopic(topic, 1)
  // 10-byte keys and 100-byte values: 110 raw bytes each, so 500 allows 4.
  const records = Array.from({ length: 50 }, (_, i) => ({ key: `key-${String(i).padStart(6, '0')}`, value: String(i).padStart(100, '.') }))
  await produceBinary(url, topic, records)
  const c = await createConsumer(url, uniqueName('grp-maxbytes'), { 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])
  const seen: ConsumedRecord[] = []
  const deadline = Date.now() + 60000
  while (seen.length < 50 && Date.now() < deadline) {
    const batch = await readOk(c, { maxBytes: 500 })
    const bytes = batch.reduce((n, r) => n + Buffer.from(r.key ?? '', 'base64').length + Buffer.from(r.value ?? '', 'base64').length, 0)
    assert.ok(bytes <= 500, `a response carried ${bytes} raw bytes (${batch.length} records)`)
    assert.ok(batch.length <= 4)
    seen.push(...batch)
  }
  assert.deepEqual(offsetsOf(seen), Array.from({ length: 50 }, (_, i) => i))
  assert.deepEqual(seen.map((r) => unb64(r.key)), records.map((r) => r.key))
  assert.deepEqual(seen.map((r) => unb64(r.value)), records.map((r) => r.value))
})

test('an instance expires after instance_timeout_ms without calls; calls keep an instance alive', async (t) => {
  const { url } = await startProxy(t, { consumer: { instance_timeout_ms: 2000 } })
  const group = uniqueName('grp-expire')
  const idle = await createConsumer(url, group, { name: 'idle' })
  const busy = await createConsumer(url, group, { name: 'busy' })
  // The waiting is the inactivity under test, not synchronisation: `idle` gets
  // no call for 2.5 times its timeout while `busy` gets one every 400 ms.
  const until = Date.now() + 5000
  while (Date.now() < until) {
    const res = await request('GET', `${busy.path}/subscription`, { headers: { accept: V2 } })
    assert.equal(res.status, 200, `busy instance: ${show(res)}`)
    await new Promise((resolve) => setTimeout(resolve, 400))
  }
  assertError(await request('GET', `${idle.path}/subscription`, { headers: { accept: V2 } }), 404, 40403, 'expired instance')
  assertError(await read(idle), 404, 40403, 'read of an expired instance')
  const alive = await request('GET', `${busy.path}/subscription`, { headers: { accept: V2 } })
  assert.equal(alive.status, 200, show(alive))
  // The expired instance's name is free again.
  await createConsumer(url, group, { name: 'idle' })
})

test('when every consumer thread is busy a read gets a retriable 503/50304 instead of waiting', async (t) => {
  const { url } = await startProxy(t, { consumer: { threads: 1, request_timeout_ms: 10000 } })
  const topic = uniqueName('t-threads')
  await createTopic(topic, 1)
  const a = await createConsumer(url, uniqueName('grp-threads-a'), { 'fetch.min.bytes': -1 })
  const b = await createConsumer(url, uniqueName('grp-threads-b'), { 'fetch.min.bytes': -1 })
  await assign(a, [{ topic, partition: 0 }])
  await assign(b, [{ topic, partition: 0 }])
  // Two long reads of an empty partition at once: one holds the only thread.
  const started = performance.now()
  const results = await Promise.all([read(a, { timeout: 3000 }), read(b, { timeout: 3000 })])
  const statuses = results.map((r) => r.status).sort()
  assert.deepEqual(statuses, [200, 503], results.map(show).join('\n'))
  const busy = results.find((r) => r.status === 503)
  assert.equal(busy?.body.error_code, 50304, busy === undefined ? '' : show(busy))
  assert.equal(busy?.body.retriable, true)
  assert.ok(performance.now() - started < 8000)
  // The thread is free again afterwards.
  assert.deepEqual(await readOk(b, { timeout: 200 }), [])
})

test('v1 forms: v1 content types, smallest, and reads through /instances/{i}/topics/{t} which subscribe on first use', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 10000 } })
  const topic = uniqueName('t-v1')
  await createTopic(topic, 1)
  await produceBinary(url, topic, [{ value: 'v1-0' }, { value: 'v1-1' }, { value: 'v1-2' }])
  const c = await createConsumer(url, uniqueName('grp-v1'), { format: 'binary', 'auto.offset.reset': 'smallest', 'auto.commit.enable': 'false' }, V1)
  assert.match(c.name, /^rest-consumer-/)

  const first = await read(c, { topic, accept: BINARY_V1, timeout: 5000 })
  assert.equal(first.status, 200, show(first))
  assert.equal(first.headers['content-type'], BINARY_V1)
  const records = [...first.body as ConsumedRecord[]]
  if (records.length < 3) records.push(...await readUntil(c, 3 - records.length, { topic, accept: BINARY_V1 }))
  assert.deepEqual(records.map((r) => [r.topic, r.partition, r.offset, unb64(r.value)]), [
    [topic, 0, 0, 'v1-0'], [topic, 0, 1, 'v1-1'], [topic, 0, 2, 'v1-2']
  ])
  const sub = await request('GET', `${c.path}/subscription`, { headers: { accept: V2 } })
  assert.deepEqual(sub.body, { topics: [topic] })

  const res = await commit(c, undefined, V1)
  assert.equal(res.status, 200, show(res))
  await eventually(async () => {
    const got = await committed(c, [{ topic, partition: 0 }])
    return got.status === 200 && got.body.offsets[0]?.offset === 3 ? true : undefined
  }, { what: 'committed offset 3 after the v1 commit' })
  const del = await request('DELETE', c.path, {})
  assert.equal(del.status, 204, show(del))
})

test('records produced to several partitions are all read once, in offset order per partition', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('t-many')
  await createTopic(topic, 4)
  const produced = await produceBinary(url, topic, Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })))
  const c = await createConsumer(url, uniqueName('grp-many'), { 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const records = await readUntil(c, 200)
  assert.equal(records.length, 200)
  assert.deepEqual(records.map(positionKey).sort(), produced.map((o) => positionKey({ topic, ...o })).sort())
  for (let p = 0; p < 4; p++) {
    const offsets = records.filter((r) => r.partition === p).map((r) => r.offset)
    assert.deepEqual(offsets, [...offsets].sort((x, y) => x - y), `partition ${p} out of order`)
  }
})
