// The resume ledger: the real entry point with three HTTP workers; a client
// reads 20,000 records over 6 partitions by SSE (half produced before it
// starts, half while it reads), drops its connection at 10 random points
// (discarding whatever arrived after the point, as a crashed client would),
// and resumes each time from the last id it processed on a different worker
// process than the one before. Every record must arrive exactly once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy, type LogLine } from '../helpers/process.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'

const TOTAL = 20_000
const PARTITIONS = 6
const CUTS = 10

/** A deterministic pseudo-random sequence (mulberry32), so a failing run can be repeated. */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('resume ledger: 20,000 records over 6 partitions, 10 random disconnects, each resumed on a different worker: 0 lost, 0 duplicates', async (t) => {
  const seed = Number(process.env.STREAMS_LEDGER_SEED ?? 13)
  const next = random(seed)
  const topic = uniqueName('streams-ledger')
  await createTopic(topic, PARTITIONS)
  const values = Array.from({ length: TOTAL }, (_, i) => `r${i}`)
  await produceMany(topic, values.slice(0, TOTAL / 2).map((value, i) => ({ partition: i % PARTITIONS, value })))

  const proxy = await bootProxy(t, { workers: 3, env: { KAFKA_PROXY_LOG__LEVEL: 'debug' } })
  const base = `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url)}/topics/${topic}/records?format=string`
  const cuts = new Set<number>()
  while (cuts.size < CUTS) cuts.add(1 + Math.floor(next() * (TOTAL - 1)))
  const points = [...cuts].sort((a, b) => a - b)

  const producing = produceMany(topic, values.slice(TOTAL / 2).map((value, i) => ({ partition: i % PARTITIONS, value })))
  const received: string[] = []
  const workers: number[] = []
  let lastId: string | null = null

  /** Opens a stream from `lastId` on a worker other than the previous one; returns the client. */
  const connect = async (): Promise<SseClient> => {
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 20, 'reached a different worker')
      const seen = proxy.logs.length
      const client = new SseClient()
      const res = await client.open(lastId === null ? `${base}&from=earliest` : base, lastId === null ? {} : { 'last-event-id': lastId })
      assert.equal(res.status, 200, res.body)
      const opened = await eventually(() => proxy.logs.slice(seen).find((l: LogLine) => l.msg === 'stream opened' && l.topic === topic),
        { what: 'the stream opened log line' })
      if (lastId !== null) assert.equal(opened.from, lastId, 'the stream starts exactly at the resumed id')
      const pid = opened.pid as number
      if (workers.length > 0 && workers.at(-1) === pid) {
        client.close()
        continue
      }
      workers.push(pid)
      return client
    }
  }

  for (const point of [...points, TOTAL]) {
    const client = await connect()
    // Whatever arrives past the point is lost with the client, as in a crash.
    const wanted = point - received.length
    await client.until(() => client.records().length >= wanted, 60_000, `records up to ${point}`)
    const events = client.events.filter((e) => e.event === 'message')
    client.close()
    const taken = events.slice(0, wanted)
    for (const e of taken) received.push(JSON.parse(e.data).value.data)
    lastId = (taken.at(-1) as { id: string }).id
  }
  await producing

  // A last look: nothing more after the final id.
  const tail = await connect()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  tail.close()
  assert.equal(tail.records().length, 0, 'nothing after the last record')

  const counts = new Map<string, number>()
  for (const v of received) counts.set(v, (counts.get(v) ?? 0) + 1)
  const duplicates = [...counts.values()].filter((n) => n > 1).length
  const lost = values.filter((v) => !counts.has(v)).length
  assert.deepEqual({ lost, duplicates, received: received.length }, { lost: 0, duplicates: 0, received: TOTAL })
  for (let i = 1; i < workers.length; i++) assert.notEqual(workers[i], workers[i - 1], 'each resume on another worker')
  assert.ok(new Set(workers).size >= 2)
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0)
})
