// QoS levels of consumer group streams (`group=`), each checked by killing
// the connection mid-stream (and, for auto, restarting the proxy) and
// counting what was lost and what came twice against docs/streams.md.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'
import { WsClient } from '../helpers/ws.js'

const BATCH = 10
const small = { consumer: { max_poll_records: BATCH } }

async function streamUrl (base: string, topic: string, query: string): Promise<string> {
  return `${base}/v3/clusters/${await clusterIdOf(base)}/topics/${topic}/records?${query}`
}

/** Waits until `count()` has not moved for `quietMs` (and is at least `min`). */
async function quiet (count: () => number, min: number, quietMs = 2500, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = -1
  let since = Date.now()
  while (Date.now() < deadline) {
    const n = count()
    if (n !== last) {
      last = n
      since = Date.now()
    } else if (n >= min && Date.now() - since >= quietMs) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no quiet after ${count()} records`)
}

function tally (all: string[], expected: string[]): { lost: string[], duplicates: string[] } {
  const counts = new Map<string, number>()
  for (const v of all) counts.set(v, (counts.get(v) ?? 0) + 1)
  return { lost: expected.filter((v) => !counts.has(v)), duplicates: [...counts].filter(([, n]) => n > 1).map(([v]) => v) }
}

const values = (n: number, prefix = 'r'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

test('at-most-once: killed mid-stream, a record is never delivered twice; what is lost is at most the batches in flight', async (t) => {
  const proxy = await startProxy(t, small)
  const topic = uniqueName('qos-amo')
  await createTopic(topic, 2)
  const all = values(300)
  await produceMany(topic, all.map((value, i) => ({ partition: i % 2, value })))
  const group = uniqueName('qos-amo-group')
  const url = await streamUrl(proxy.url, topic, `group=${group}&qos=at-most-once&from=earliest&format=string`)
  const a = new SseClient()
  await a.open(url)
  await a.until(() => a.count('message') >= 100, 60_000, 'the first client')
  a.close()
  const got = a.records().map((r) => r.value.data as string)
  const b = new SseClient()
  t.after(() => b.close())
  await b.open(url)
  await quiet(() => b.count('message'), 1)
  const { lost, duplicates } = tally([...got, ...b.records().map((r) => r.value.data as string)], all)
  assert.deepEqual(duplicates, [], 'never twice')
  assert.ok(lost.length <= 2 * BATCH * 2, `lost ${lost.length}: at most the batches committed but not read`)
})

test('at-least-once over a WebSocket: acks commit; killed mid-stream, nothing is lost and only records after the last ack come again', async (t) => {
  const proxy = await startProxy(t, small)
  const topic = uniqueName('qos-alo-ws')
  await createTopic(topic, 2)
  const all = values(300)
  await produceMany(topic, all.map((value, i) => ({ partition: i % 2, value })))
  const group = uniqueName('qos-alo-group')
  const url = await streamUrl(proxy.url, topic, `group=${group}&qos=at-least-once&from=earliest&format=string`)
  const a = await WsClient.open(url)
  await a.until(() => a.records().length >= 150, 60_000, 'the first socket')
  const received = a.records()
  const acked = received.slice(0, 100)
  a.send({ ack: acked.at(-1).id })
  // The commit is confirmed by the coordinator before the socket drops.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  a.close()
  const b = await WsClient.open(url)
  t.after(() => b.close())
  await quiet(() => b.records().length, 1)
  const fromA = received.map((r) => r.value.data as string)
  const fromB = b.records().map((r) => r.value.data as string)
  const { lost, duplicates } = tally([...fromA, ...fromB], all)
  assert.deepEqual(lost, [], 'nothing lost')
  const unacked = new Set(received.slice(100).map((r) => r.value.data as string))
  assert.ok(duplicates.every((v) => unacked.has(v)), 'only records after the last ack come twice')
  assert.ok(!fromB.some((v) => acked.some((r) => r.value.data === v)), 'no acknowledged record comes again')
})

test('at-least-once over SSE: resuming from an id commits it, so even a new client without one starts there', async (t) => {
  const proxy = await startProxy(t, small)
  const topic = uniqueName('qos-alo-sse')
  await createTopic(topic, 2)
  const all = values(200)
  await produceMany(topic, all.map((value, i) => ({ partition: i % 2, value })))
  const group = uniqueName('qos-alo-sse-group')
  const url = await streamUrl(proxy.url, topic, `group=${group}&qos=at-least-once&from=earliest&format=string`)
  const a = new SseClient()
  await a.open(url)
  await a.until(() => a.count('message') >= 60, 60_000, 'the first client')
  a.close()
  const first = a.events.filter((e) => e.event === 'message').slice(0, 60)
  const id = (first.at(-1) as { id: string }).id
  const b = new SseClient()
  await b.open(url, { 'last-event-id': id })
  await quiet(() => b.count('message'), 1)
  b.close()
  const fromA = first.map((e) => JSON.parse(e.data).value.data as string)
  const fromB = b.records().map((r) => r.value.data as string)
  assert.deepEqual(tally([...fromA, ...fromB], all), { lost: [], duplicates: [] }, 'resuming from the id: exactly the rest')
  const c = new SseClient()
  t.after(() => c.close())
  await c.open(url)
  await quiet(() => c.count('message'), 1)
  assert.deepEqual(c.records().map((r) => r.value.data).sort(), [...fromB].sort(), 'the committed position is the id B resumed from')
})

test('auto: after a proxy restart a client of the group starts after what was delivered and committed; nothing is lost', async (t) => {
  const topic = uniqueName('qos-auto')
  await createTopic(topic, 2)
  await produceMany(topic, values(100).map((value, i) => ({ partition: i % 2, value })))
  const group = uniqueName('qos-auto-group')
  const first = await startProxy(t, small)
  const a = new SseClient()
  await a.open(await streamUrl(first.url, topic, `group=${group}&from=earliest&format=string`))
  await a.until(() => a.count('message') >= 100, 60_000, 'the first client')
  // Past one auto-commit interval (5 s), the offsets handed to the socket are committed.
  await new Promise((resolve) => setTimeout(resolve, 5500))
  await first.server.shutdown()
  a.close()
  await produceMany(topic, values(50, 's').map((value, i) => ({ partition: i % 2, value })))
  const second = await startProxy(t, small)
  const b = new SseClient()
  t.after(() => b.close())
  await b.open(await streamUrl(second.url, topic, `group=${group}&from=earliest&format=string`))
  await quiet(() => b.count('message'), 1)
  const fromA = a.records().map((r) => r.value.data as string)
  const fromB = b.records().map((r) => r.value.data as string)
  assert.deepEqual(tally([...fromA, ...fromB], [...values(100), ...values(50, 's')]), { lost: [], duplicates: [] })
})

test('group parameters: qos needs a group, a group stream takes no partitions= or from=<time>, cursor reads join no group', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('qos-params')
  await createTopic(topic, 1)
  for (const [query, accept] of [
    ['qos=at-least-once', 'text/event-stream'], ['group=g&qos=none', 'text/event-stream'], ['group=g&qos=sometimes', 'text/event-stream'],
    ['group=g&partitions=0', 'text/event-stream'], ['group=g&from=2024-01-01T00:00:00Z', 'text/event-stream'], ['group=g', 'application/json']
  ]) {
    const res = await fetch(await streamUrl(proxy.url, topic, query as string), { headers: { accept: accept as string } })
    assert.equal(res.status, 400, query)
    await res.body?.cancel()
  }
})
