// The stateless partition read extension:
// GET /v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AdminClient } from '../../src/kafka/binding.js'
import { createKafkaAdmin } from '../../src/kafka/admin.js'
import { createLogger } from '../../src/logger.js'
import { bootstrap, createTopic, produceNative, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

let cachedClusterId: Promise<string> | null = null

/** The broker's cluster id, asked over the Kafka protocol (DescribeCluster). */
function clusterId (): Promise<string> {
  cachedClusterId ??= (async () => {
    const admin = createKafkaAdmin({
      bootstrapServers: bootstrap(),
      clientId: 'test-read',
      requestTimeoutMs: 10000,
      properties: {},
      log: createLogger('silent', 'test')
    })
    try {
      return (await admin.describeCluster()).clusterId
    } finally {
      await admin.close()
    }
  })()
  return cachedClusterId
}

interface TestRecord {
  key: string | null
  value: string | null
  headers?: Array<[string, string]>
}

/** Produces records to one partition with a plain librdkafka producer; resolves with their offsets. */
function produce (topic: string, partition: number, records: TestRecord[]): Promise<number[]> {
  return produceNative(topic, partition, records.map((r) => ({
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: r.headers?.map(([name, value]) => ({ [name]: Buffer.from(value) }))
  })))
}

function readPath (cluster: string, topic: string, partition: number | string, query = ''): string {
  return `/v3/clusters/${cluster}/topics/${topic}/partitions/${partition}/records${query === '' ? '' : `?${query}`}`
}

async function readOk (url: string, path: string): Promise<any> {
  const res = await request('GET', `${url}${path}`)
  assert.equal(res.status, 200, show(res))
  return res.body
}

test('pages through a partition with next_offset: keys, values, headers and timestamps, then an empty page at the end', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-pages')
  await createTopic(topic, 2)
  const records: TestRecord[] = Array.from({ length: 30 }, (_, i) => ({
    key: i % 5 === 0 ? null : `k${i}`,
    value: i === 7 ? null : `value-${i}-${'x'.repeat(20)}`,
    headers: i % 3 === 0 ? [['h1', `a${i}`], ['h2', '']] : []
  }))
  const before = Date.now()
  const offsets = await produce(topic, 1, records)
  assert.deepEqual(offsets, records.map((_, i) => i))

  const seen: any[] = []
  let offset = 0
  let pages = 0
  let first: any = null
  for (;;) {
    // About three records per page: 20-odd bytes of value plus the key.
    const body = await readOk(proxy.url, readPath(cluster, topic, 1, `offset=${offset}&max_bytes=100&timeout=200`))
    first ??= body
    assert.equal(body.kind, 'KafkaRecordList')
    assert.equal(body.cluster_id, cluster)
    assert.equal(body.topic_name, topic)
    assert.equal(body.partition_id, 1)
    assert.equal(body.metadata.self, `${proxy.url}${readPath(cluster, topic, 1, `offset=${offset}&max_bytes=100&timeout=200`)}`)
    assert.equal(body.metadata.next, `${proxy.url}${readPath(cluster, topic, 1, `offset=${body.next_offset}&max_bytes=100&timeout=200`)}`)
    if (body.data.length === 0) {
      assert.equal(body.next_offset, offset, 'an empty page points at the same offset')
      break
    }
    assert.ok(body.data.length <= 5, `max_bytes bounds the page (${body.data.length} records)`)
    assert.equal(body.data[0].offset, offset)
    assert.equal(body.next_offset, body.data[body.data.length - 1].offset + 1)
    seen.push(...body.data)
    offset = body.next_offset
    assert.ok(++pages < 40, 'paging ends')
  }
  assert.ok(pages >= 6, `several pages (${pages})`)
  assert.equal(seen.length, 30)
  seen.forEach((r, i) => {
    const want = records[i] as TestRecord
    assert.equal(r.partition_id, 1)
    assert.equal(r.offset, i)
    assert.deepEqual(r.key, want.key === null ? null : { type: 'BINARY', data: b64(want.key) })
    assert.deepEqual(r.value, want.value === null ? null : { type: 'BINARY', data: b64(want.value) })
    assert.deepEqual(r.headers, (want.headers ?? []).map(([name, value]) => ({ name, value: b64(value) })))
    const ts = Date.parse(r.timestamp)
    assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.ok(ts >= before - 1000 && ts <= Date.now() + 1000, `timestamp ${r.timestamp}`)
  })
  assert.ok(first !== null)

  // Without an offset the read starts at the log start; partition 0 is empty.
  const fromStart = await readOk(proxy.url, readPath(cluster, topic, 1, 'max_bytes=1'))
  assert.equal(fromStart.data.length, 1)
  assert.equal(fromStart.data[0].offset, 0)
  assert.equal(fromStart.next_offset, 1)
  const empty = await readOk(proxy.url, readPath(cluster, topic, 0, 'timeout=0'))
  assert.deepEqual(empty.data, [])
  assert.equal(empty.next_offset, 0)
})

test('max_bytes bounds a page by key + value bytes, and a record larger than max_bytes still comes alone', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-max-bytes')
  await createTopic(topic, 1)
  await produce(topic, 0, [
    { key: 'aa', value: 'b'.repeat(98) },
    { key: null, value: 'c'.repeat(100) },
    { key: null, value: 'd'.repeat(1000) },
    { key: null, value: 'e'.repeat(10) }
  ])
  const two = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&max_bytes=200'))
  assert.deepEqual(two.data.map((r: any) => r.offset), [0, 1])
  assert.equal(two.next_offset, 2)
  const big = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=2&max_bytes=200'))
  assert.deepEqual(big.data.map((r: any) => r.offset), [2])
  assert.equal(Buffer.from(big.data[0].value.data, 'base64').length, 1000)
  assert.equal(big.next_offset, 3)
  const rest = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=3&max_bytes=200'))
  assert.deepEqual(rest.data.map((r: any) => r.offset), [3])
  // max_bytes above consumer.request_max_bytes is capped, not refused.
  const all = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&max_bytes=999999999999'))
  assert.deepEqual(all.data.map((r: any) => r.offset), [0, 1, 2, 3])
})

test('a read at the end of a partition waits about `timeout` and returns an empty page', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-timeout')
  await createTopic(topic, 1)
  await produce(topic, 0, [{ key: null, value: 'only' }])
  const started = Date.now()
  const body = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=1&timeout=700'))
  const elapsed = Date.now() - started
  assert.deepEqual(body.data, [])
  assert.equal(body.next_offset, 1)
  assert.ok(elapsed >= 650, `waited the timeout (${elapsed} ms)`)
  assert.ok(elapsed < 3000, `no longer than needed (${elapsed} ms)`)
})

test('a long poll returns as soon as a record arrives, without waiting out its timeout', async (t) => {
  const proxy = await startProxy(t, { consumer: { request_timeout_ms: 15000 } })
  const cluster = await clusterId()
  const topic = uniqueName('read-long-poll')
  await createTopic(topic, 1)
  const started = Date.now()
  const pending = request('GET', `${proxy.url}${readPath(cluster, topic, 0, 'offset=0&timeout=15000')}`)
  await produce(topic, 0, [{ key: 'k', value: 'arrived' }])
  const res = await pending
  const elapsed = Date.now() - started
  assert.equal(res.status, 200, show(res))
  assert.deepEqual(res.body.data.map((r: any) => Buffer.from(r.value.data, 'base64').toString()), ['arrived'])
  assert.equal(res.body.next_offset, 1)
  assert.ok(elapsed < 10000, `returned before the timeout (${elapsed} ms)`)
})

test('an offset past the end waits at the end; an offset below the log start reads from the log start', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-range')
  await createTopic(topic, 1)
  await produce(topic, 0, Array.from({ length: 10 }, (_, i) => ({ key: null, value: `v${i}` })))

  const past = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=1000&timeout=200'))
  assert.deepEqual(past.data, [])
  assert.equal(past.next_offset, 10, 'next_offset is the end of the partition')

  const admin = AdminClient.create({ 'bootstrap.servers': bootstrap() })
  try {
    await new Promise<void>((resolve, reject) => admin.deleteRecords([{ topic, partition: 0, offset: 4 }], { timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  } finally {
    admin.disconnect()
  }
  const below = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=1'))
  assert.equal(below.data[0].offset, 4)
  assert.deepEqual(below.data.map((r: any) => r.offset), [4, 5, 6, 7, 8, 9])
  assert.equal(below.next_offset, 10)
  const noOffset = await readOk(proxy.url, readPath(cluster, topic, 0, 'max_bytes=1'))
  assert.deepEqual(noOffset.data.map((r: any) => r.offset), [4])
  assert.equal(noOffset.next_offset, 5)
})

test('format=string and format=json render keys and values; bytes that do not fit the format fail with 50002', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-format')
  await createTopic(topic, 1)
  await produce(topic, 0, [
    { key: '"k"', value: '{"a":[1,2],"b":"é"}' },
    { key: null, value: 'not json' }
  ])
  const str = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&format=string'))
  assert.deepEqual(str.data.map((r: any) => [r.key, r.value]), [
    [{ type: 'STRING', data: '"k"' }, { type: 'STRING', data: '{"a":[1,2],"b":"é"}' }],
    [null, { type: 'STRING', data: 'not json' }]
  ])
  const json = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&max_bytes=1&format=JSON'))
  assert.deepEqual(json.data.map((r: any) => [r.key, r.value]), [[{ type: 'JSON', data: 'k' }, { type: 'JSON', data: { a: [1, 2], b: 'é' } }]])
  const bad = await request('GET', `${proxy.url}${readPath(cluster, topic, 0, 'offset=1&format=json')}`)
  assertError(bad, 500, 50002)
  assert.match(bad.body.message, /offset 1/)
  // The same record still reads in binary, from the same reader's held records.
  const binary = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=1'))
  assert.deepEqual(binary.data.map((r: any) => r.value), [{ type: 'BINARY', data: b64('not json') }])
  // key_format and value_format override format for one side each.
  const mixed = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&format=json&key_format=string&value_format=string'))
  assert.deepEqual(mixed.data.map((r: any) => [r.key, r.value]), [
    [{ type: 'STRING', data: '"k"' }, { type: 'STRING', data: '{"a":[1,2],"b":"é"}' }],
    [null, { type: 'STRING', data: 'not json' }]
  ])
  const keyOnly = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=0&max_bytes=1&key_format=json'))
  assert.deepEqual(keyOnly.data.map((r: any) => [r.key, r.value]), [[{ type: 'JSON', data: 'k' }, { type: 'BINARY', data: b64('{"a":[1,2],"b":"é"}') }]])
  assertError(await request('GET', `${proxy.url}${readPath(cluster, topic, 0, 'offset=0&value_format=xml')}`), 400, 400, 'unknown value_format')
})

test('unknown topic, partition and cluster are 404s; bad parameters are 400', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-errors')
  await createTopic(topic, 2)
  const get = (path: string): Promise<HttpResult> => request('GET', `${proxy.url}${path}`)
  assertError(await get(readPath(cluster, uniqueName('read-missing'), 0)), 404, 40401, 'unknown topic')
  assertError(await get(readPath(cluster, topic, 2)), 404, 40402, 'unknown partition')
  assertError(await get(readPath(cluster, topic, -1)), 404, 40402, 'negative partition')
  assertError(await get(readPath(cluster, topic, 'abc')), 404, 404, 'partition id that is not a number')
  assertError(await get(readPath('no-such-cluster', topic, 0)), 404, 404, 'unknown cluster')
  for (const query of ['offset=-1', 'offset=abc', 'offset=1.5', 'offset=99999999999999999', 'max_bytes=0', 'max_bytes=x', 'timeout=-5', 'timeout=1e3', 'format=avro']) {
    const res = await get(readPath(cluster, topic, 0, query))
    assertError(res, 400, 400, query)
  }
})

test('concurrent reads of different partitions each get their own records', async (t) => {
  const proxy = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('read-concurrent')
  await createTopic(topic, 4)
  await Promise.all([0, 1, 2, 3].map((p) => produce(topic, p, Array.from({ length: 5 + p }, (_, i) => ({ key: `p${p}`, value: `p${p}-${i}` })))))
  const pages = await Promise.all([0, 1, 2, 3].map((p) => readOk(proxy.url, readPath(cluster, topic, p, 'offset=0'))))
  pages.forEach((body, p) => {
    assert.equal(body.partition_id, p)
    assert.deepEqual(body.data.map((r: any) => Buffer.from(r.value.data, 'base64').toString()), Array.from({ length: 5 + p }, (_, i) => `p${p}-${i}`))
    assert.equal(body.next_offset, 5 + p)
  })
})

test('reads beyond the per-process reader limit get a retriable 503/50304', async (t) => {
  // consumer.threads bounds the readers of a process.
  const proxy = await startProxy(t, { consumer: { threads: 1, request_timeout_ms: 10000 } })
  const cluster = await clusterId()
  const topic = uniqueName('read-busy')
  await createTopic(topic, 2)
  const started = Date.now()
  // The long poll itself may meet a short read holding the reader; it retries until it has it.
  const long = (async () => {
    for (;;) {
      const res = await request('GET', `${proxy.url}${readPath(cluster, topic, 0, 'offset=0&timeout=5000')}`)
      if (res.status !== 503 || Date.now() - started > 4000) return res
    }
  })()
  let busy: HttpResult | null = null
  while (busy === null && Date.now() - started < 8000) {
    const res = await request('GET', `${proxy.url}${readPath(cluster, topic, 1, 'offset=0&timeout=0')}`)
    if (res.status === 503) busy = res
  }
  assert.ok(busy !== null, 'a second read was refused while the first held the only reader')
  assertError(busy, 503, 50304)
  assert.equal(busy.body.retriable, true)
  const first = await long
  assert.equal(first.status, 200, show(first))
  // Once the long poll has finished, its reader serves the other partition.
  const after = await readOk(proxy.url, readPath(cluster, topic, 1, 'offset=0&timeout=0'))
  assert.deepEqual(after.data, [])
})

test('a read from another offset of the same partition never returns records prefetched for the earlier position', async (t) => {
  // Two records per consume step, so records stay queued in librdkafka behind a one-record page;
  // one reader per process (consumer.threads), so the second read re-assigns the same consumer.
  const proxy = await startProxy(t, { consumer: { max_poll_records: 2, threads: 1 } })
  const cluster = await clusterId()
  const topic = uniqueName('read-reposition')
  await createTopic(topic, 1)
  await produce(topic, 0, Array.from({ length: 12 }, (_, i) => ({ key: null, value: `v${i}` })))
  const late = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=6&max_bytes=1'))
  assert.deepEqual(late.data.map((r: any) => r.offset), [6])
  const early = await readOk(proxy.url, readPath(cluster, topic, 0, 'offset=1&max_bytes=6'))
  assert.deepEqual(early.data.map((r: any) => r.offset), [1, 2, 3])
  const continued = await readOk(proxy.url, readPath(cluster, topic, 0, `offset=${early.next_offset}`))
  assert.deepEqual(continued.data.map((r: any) => Buffer.from(r.value.data, 'base64').toString()), ['v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10', 'v11'])
})
