// Webhook delivery across real proxy processes (the real main, as `npm
// start` runs it), on one broker: two instances deliver one subscription
// between them, each partition by one of them at a time and each record
// once; a SIGKILLed instance's deliveries resume by themselves after a
// restart, losing nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { produceMany } from '../helpers/streams.js'
import { request } from '../helpers/consumers.js'
import { bootProxy, workerPids } from '../helpers/process.js'
import { clusterId, createSubscription, startReceiver } from '../helpers/webhooks.js'

function env (store: string): Record<string, string> {
  return {
    KAFKA_PROXY_WEBHOOKS__ALLOWED_HOSTS: '127.0.0.1',
    KAFKA_PROXY_WEBHOOKS__STORE_TOPIC: store,
    KAFKA_PROXY_WEBHOOKS__SESSION_TIMEOUT_MS: '6000',
    KAFKA_PROXY_WEBHOOKS__BACKOFF_INITIAL_MS: '20',
    KAFKA_PROXY_WEBHOOKS__BACKOFF_MAX_MS: '500',
    KAFKA_PROXY_WEBHOOKS__POLL_INTERVAL_MS: '20'
  }
}

/** Members of the group and the partitions each holds, through the proxy's v3 API. */
async function members (url: string, cid: string, group: string): Promise<number[][]> {
  const res = await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${group}/consumers`)
  if (res.status !== 200) return []
  const out: number[][] = []
  for (const c of res.body.data as any[]) {
    const a = await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${group}/consumers/${encodeURIComponent(c.consumer_id)}/assignments`)
    out.push((a.body?.data ?? []).map((x: any) => x.partition_id as number).sort())
  }
  return out
}

test('two instances on one broker share a subscription: every record delivered once, no partition sent by both at once', async (t) => {
  const topic = uniqueName('wh-two')
  await createTopic(topic, 4)
  const store = uniqueName('wh-two-store')
  const [a, b] = await Promise.all([bootProxy(t, { workers: 1, env: env(store) }), bootProxy(t, { workers: 1, env: env(store) })])
  const cid = await clusterId(a.url)
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 2 }))
  const sub = await createSubscription(a.url, cid, topic, { callback_url: receiver.url, from: 'latest' })
  const group = sub.consumer_group_id as string
  // A read through the other instance makes it read the store now rather than at its next metadata refresh.
  assert.equal((await request('GET', `${b.url}/v3/clusters/${cid}/topics/${topic}/subscriptions`)).status, 200)
  // Both instances joined and the partitions are split between them.
  await eventually(async () => {
    const m = await members(b.url, cid, group)
    return m.length === 2 && m.every((p) => p.length === 2) ? true : undefined
  }, { what: 'both instances to hold two partitions each', timeoutMs: 60000, intervalMs: 300 })
  await produceMany(topic, Array.from({ length: 400 }, (_, i) => ({ partition: i % 4, value: `r${i}` })))
  await eventually(() => receiver.deliveries.length >= 400 ? true : undefined, { what: '400 deliveries', timeoutMs: 60000 })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const seen = new Map<string, number>()
  for (const d of receiver.deliveries) {
    const r = d.records[0]!
    const k = `${r.partition}@${r.offset}`
    seen.set(k, (seen.get(k) ?? 0) + 1)
  }
  assert.equal(seen.size, 400, 'every record')
  assert.deepEqual([...seen.values()].filter((n) => n > 1), [], 'each record delivered once')
  for (const [p, n] of receiver.maxConcurrent) assert.equal(n, 1, `partition ${p} never had two deliveries at once`)
  for (let p = 0; p < 4; p++) {
    const offsets = receiver.deliveries.filter((d) => d.records[0]?.partition === p).map((d) => d.records[0]?.offset)
    assert.deepEqual(offsets, Array.from({ length: 100 }, (_, i) => i), `partition ${p} in order`)
  }
})

test('SIGKILL mid-delivery (at-least-once): after a restart delivery resumes by itself and nothing is lost', async (t) => {
  const topic = uniqueName('wh-kill')
  await createTopic(topic, 4)
  const store = uniqueName('wh-kill-store')
  const first = await bootProxy(t, { workers: 2, env: env(store) })
  const cid = await clusterId(first.url)
  const receiver = await startReceiver(t, () => ({ status: 200, delayMs: 15 }))
  await createSubscription(first.url, cid, topic, { callback_url: receiver.url, from: 'earliest' })
  await produceMany(topic, Array.from({ length: 600 }, (_, i) => ({ partition: i % 4, value: `r${i}` })))
  await eventually(() => receiver.deliveries.length >= 100 ? true : undefined, { what: '100 deliveries before the kill', timeoutMs: 60000 })
  const pids = [first.child.pid as number, ...workerPids(first.logs)]
  for (const pid of pids) process.kill(pid, 'SIGKILL')
  await first.exited
  const atKill = receiver.deliveries.length
  const second = await bootProxy(t, { workers: 2, env: env(store) })
  await eventually(() => {
    const accepted = new Set(receiver.deliveries.filter((d) => d.answered === 200).map((d) => `${d.records[0]?.partition}@${d.records[0]?.offset}`))
    return accepted.size === 600 ? true : undefined
  }, { what: 'every record accepted after the restart', timeoutMs: 90000, intervalMs: 200 })
  const byRecord = new Map<string, number>()
  for (const d of receiver.deliveries) {
    const k = `${d.records[0]?.partition}@${d.records[0]?.offset}`
    byRecord.set(k, (byRecord.get(k) ?? 0) + 1)
  }
  const duplicates = [...byRecord.values()].reduce((n, c) => n + c - 1, 0)
  t.diagnostic(`${atKill} deliveries before the kill, ${receiver.deliveries.length} in all; 0 lost, ${duplicates} delivered again after the restart (uncommitted when killed)`)
  for (let p = 0; p < 4; p++) {
    const firsts: number[] = []
    const got = new Set<number>()
    for (const d of receiver.deliveries) {
      const r = d.records[0]!
      if (r.partition === p && !got.has(r.offset)) {
        got.add(r.offset)
        firsts.push(r.offset)
      }
    }
    assert.deepEqual(firsts, Array.from({ length: 150 }, (_, i) => i), `partition ${p}: every record, first deliveries in order`)
  }
  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0)
})
