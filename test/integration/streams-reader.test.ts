// The multi-partition stream reader (QoS none) against the real broker:
// where a stream starts (from, partitions, a resumed position, a position
// retention deleted), the id of every event, filters, and reader reuse.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger } from '../../src/logger.js'
import { readerProperties } from '../../src/kafka/options.js'
import { SchemaRegistryClient } from '../../src/registry/client.js'
import { openTopicStream, type OpenedStream } from '../../src/streams/open.js'
import { parsePosition, encodePosition, type StreamPosition } from '../../src/streams/position.js'
import { StreamReaders } from '../../src/streams/reader.js'
import type { StreamParams } from '../../src/streams/params.js'
import type { StreamEvent } from '../../src/streams/delivery.js'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy, testConfig } from '../helpers/proxy.js'
import { deleteRecordsBefore, produceMany } from '../helpers/streams.js'

function params (overrides: Partial<StreamParams> = {}): StreamParams {
  return {
    from: { kind: 'latest' },
    pattern: null,
    group: null,
    qos: 'none',
    resume: null,
    partitions: null,
    render: { keyFormat: 'STRING', valueFormat: 'STRING', policy: 'fail' },
    filter: { key: null, headers: [] },
    timeoutMs: 0,
    maxRecords: 1000,
    maxBytes: 1 << 20,
    ...overrides
  }
}

async function setup (t: TestContext, maxReaders = 4): Promise<{ open: (topic: string, p: StreamParams) => Promise<OpenedStream>, readers: StreamReaders }> {
  const proxy = await startProxy(t)
  const config = testConfig()
  const readers = new StreamReaders({
    properties: readerProperties(config.kafka, config.consumer),
    maxReaders,
    idleMs: 30_000,
    maxPollRecords: 500,
    callTimeoutMs: 10_000,
    log: createLogger('silent', 'test')
  })
  t.after(() => readers.close())
  const registry = new SchemaRegistryClient(config.schema_registry)
  const opened: OpenedStream[] = []
  t.after(() => { for (const s of opened) s.delivery.source.close(false) })
  return {
    readers,
    open: async (topic, p) => {
      const s = await openTopicStream({ metadata: proxy.server.metadata, readers, registry, encodeIds: false, tails: null }, topic, p)
      opened.push(s)
      return s
    }
  }
}

/** Reads events until `count` arrived (then checks that no more come for a moment). */
async function drain (s: OpenedStream, count: number, timeoutMs = 20_000): Promise<StreamEvent[]> {
  const out: StreamEvent[] = []
  const deadline = Date.now() + timeoutMs
  while (out.length < count && Date.now() < deadline) {
    const batch = await s.delivery.next({ maxRecords: 500, maxBytes: 1 << 20, timeoutMs: 200 })
    out.push(...batch.events)
  }
  const extra = await s.delivery.next({ maxRecords: 500, maxBytes: 1 << 20, timeoutMs: 300 })
  out.push(...extra.events)
  return out
}

const value = (e: StreamEvent): string => JSON.parse(e.json).value?.data

test('from=earliest reads every record of every partition once, each event id naming the position after it', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-earliest')
  await createTopic(topic, 3)
  const records = Array.from({ length: 90 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` }))
  await produceMany(topic, records)
  const s = await open(topic, params({ from: { kind: 'earliest' } }))
  assert.deepEqual(s.partitions, [0, 1, 2])
  const events = await drain(s, 90)
  assert.deepEqual(events.map(value).sort(), records.map((r) => r.value).sort())
  const next = new Map([[0, 0], [1, 0], [2, 0]])
  for (const e of events) {
    const r = JSON.parse(e.json)
    assert.equal(r.topic, topic)
    assert.equal(r.offset, next.get(r.partition), 'offsets in order per partition')
    next.set(r.partition, r.offset + 1)
    assert.deepEqual(parsePosition(e.id, 'id').get(topic), next, 'the id is the position after the record')
  }
  assert.equal(events.at(-1)?.id, `${topic}@0#30,1#30,2#30`)
})

test('from=latest skips what was there and streams what comes after', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-latest')
  await createTopic(topic, 2)
  await produceMany(topic, [{ partition: 0, value: 'old-0' }, { partition: 1, value: 'old-1' }])
  const s = await open(topic, params())
  assert.equal(s.delivery.tracker.id(), `${topic}@0#1,1#1`)
  await produceMany(topic, [{ partition: 0, value: 'new-0' }, { partition: 1, value: 'new-1' }])
  assert.deepEqual((await drain(s, 2)).map(value).sort(), ['new-0', 'new-1'])
})

test('from=<timestamp> starts at the first record at or after it on each partition', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-time')
  await createTopic(topic, 2)
  const base = Date.now() - 60_000
  await produceMany(topic, [
    { partition: 0, value: 'a0', timestamp: base }, { partition: 0, value: 'a1', timestamp: base + 1000 },
    { partition: 1, value: 'b0', timestamp: base + 500 }, { partition: 1, value: 'b1', timestamp: base + 2000 }
  ])
  const s = await open(topic, params({ from: { kind: 'time', ms: base + 600 } }))
  assert.deepEqual((await drain(s, 2)).map(value).sort(), ['a1', 'b1'])
  const after = await open(topic, params({ from: { kind: 'time', ms: Date.now() + 60_000 } }))
  assert.equal(after.delivery.tracker.id(), `${topic}@0#2,1#2`, 'no record after the time: the end')
})

test('partitions=0,2 streams only those partitions, and the id names only them', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-parts')
  await createTopic(topic, 3)
  await produceMany(topic, [0, 1, 2, 0, 1, 2].map((p, i) => ({ partition: p, value: `p${p}-${i}` })))
  const s = await open(topic, params({ from: { kind: 'earliest' }, partitions: [2, 0] }))
  assert.deepEqual(s.partitions, [0, 2])
  const events = await drain(s, 4)
  assert.deepEqual(events.map(value).sort(), ['p0-0', 'p0-3', 'p2-2', 'p2-5'])
  assert.equal(events.at(-1)?.id, `${topic}@0#2,2#2`)
})

test('resuming from an event id delivers exactly the records after it', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-resume')
  await createTopic(topic, 3)
  await produceMany(topic, Array.from({ length: 60 }, (_, i) => ({ partition: i % 3, value: `v${i}` })))
  const first = await open(topic, params({ from: { kind: 'earliest' } }))
  const part = (await first.delivery.next({ maxRecords: 25, maxBytes: 1 << 20, timeoutMs: 5000 })).events
  assert.ok(part.length > 0 && part.length <= 25)
  const id = (part.at(-1) as StreamEvent).id
  first.delivery.source.close(false)
  const rest = await open(topic, params({ resume: parsePosition(id, 'Last-Event-ID') }))
  const restEvents = await drain(rest, 60 - part.length)
  const all = [...part, ...restEvents].map(value)
  assert.equal(all.length, 60)
  assert.equal(new Set(all).size, 60, 'no record twice')
})

test('a position retention deleted restarts at the earliest offset and says so; a partition the id lacks starts at its log start', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-deleted')
  await createTopic(topic, 2)
  await produceMany(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
  await deleteRecordsBefore(topic, 0, 6)
  const resume: StreamPosition = new Map([[topic, new Map([[0, 2]])]])
  const s = await open(topic, params({ resume }))
  assert.deepEqual(s.resets, [{ topic, partition: 0, requested: 2, offset: 6, reason: 'deleted' }])
  const events = await drain(s, 4 + 10)
  const byPartition = (p: number): number[] => events.map((e) => JSON.parse(e.json)).filter((r) => r.partition === p).map((r) => r.offset)
  assert.deepEqual(byPartition(0), [6, 7, 8, 9])
  assert.deepEqual(byPartition(1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
})

test('key= and header.<name>= filters: only matching records, and the position still moves past the others', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-filter')
  await createTopic(topic, 1)
  await produceMany(topic, Array.from({ length: 12 }, (_, i) => ({
    partition: 0,
    key: i % 3 === 0 ? 'wanted' : `other-${i}`,
    value: `v${i}`,
    headers: [{ kind: Buffer.from(i % 2 === 0 ? 'even' : 'odd') }, { seq: Buffer.from(String(i)) }] as Array<Record<string, Buffer>>
  })))
  const byKey = await open(topic, params({ from: { kind: 'earliest' }, filter: { key: Buffer.from('wanted'), headers: [] } }))
  assert.deepEqual((await drain(byKey, 4)).map(value), ['v0', 'v3', 'v6', 'v9'])
  assert.equal(byKey.delivery.tracker.id(), `${topic}@0#12`, 'past the filtered-out records at the end too')
  const both = await open(topic, params({
    from: { kind: 'earliest' },
    filter: { key: Buffer.from('wanted'), headers: [{ name: 'kind', value: Buffer.from('even') }] }
  }))
  assert.deepEqual((await drain(both, 2)).map(value), ['v0', 'v6'])
})

test('a read that continues where a reader stopped reuses it; at the cap every reader busy is a retriable 503', async (t) => {
  const { open, readers } = await setup(t, 1)
  const topic = uniqueName('streams-reuse')
  await createTopic(topic, 2)
  await produceMany(topic, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
  const a = await open(topic, params({ from: { kind: 'earliest' } }))
  const page = await a.delivery.next({ maxRecords: 3, maxBytes: 1 << 20, timeoutMs: 5000 })
  assert.equal(page.events.length, 3)
  await assert.rejects(open(topic, params()), (err: any) => err.key === 'tooManyStreams' && err.status === 503 && err.retriable === true)
  a.delivery.source.close(true)
  const cursor = a.delivery.tracker.position()
  const b = await open(topic, params({ resume: cursor }))
  assert.equal(readers.size, 1)
  const rest = await drain(b, 7)
  assert.equal(rest.length, 7)
  assert.equal(encodePosition(b.delivery.tracker.position(), false), `${topic}@0#5,1#5`)
})

test('an undecodable record stops the batch before it and is the next one read', async (t) => {
  const { open } = await setup(t)
  const topic = uniqueName('streams-undecodable')
  await createTopic(topic, 1)
  await produceMany(topic, [{ partition: 0, value: '{"a":1}' }, { partition: 0, value: 'not json' }, { partition: 0, value: '[2]' }])
  const s = await open(topic, params({ from: { kind: 'earliest' }, render: { keyFormat: 'STRING', valueFormat: 'JSON', policy: 'fail' } }))
  const got: StreamEvent[] = []
  let stopped = null
  for (let i = 0; i < 50 && stopped === null; i++) {
    const batch = await s.delivery.next({ maxRecords: 10, maxBytes: 1 << 20, timeoutMs: 200 })
    got.push(...batch.events)
    stopped = batch.stopped
  }
  assert.deepEqual(got.map(value), [{ a: 1 }])
  assert.equal(stopped?.offset, 1)
  assert.equal(s.delivery.tracker.id(), `${topic}@0#1`)
  const again = await s.delivery.next({ maxRecords: 10, maxBytes: 1 << 20, timeoutMs: 5000 })
  assert.equal(again.events.length, 0)
  assert.equal(again.stopped?.offset, 1)
})
