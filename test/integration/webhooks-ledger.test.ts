// The delivery ledger: 10,000 records through one subscription to a
// receiver that fails 20 % of requests with 500 and never answers 5 % (the
// proxy times them out). Every record must be accepted, each partition's
// records must arrive in offset order with none sent before the one before
// it was accepted, and a record may come again only as the retry of an
// attempt the proxy did not see acknowledged: its own statistics count every
// record delivered exactly once. The receiver counts the duplicates it saw,
// including retries of a 200 that reached the proxy after its timeout had
// already given the attempt up, and the test reports them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startProxy } from '../helpers/proxy.js'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { produceMany } from '../helpers/streams.js'
import { clusterId, createSubscription, getSubscription, startReceiver } from '../helpers/webhooks.js'

const PARTITIONS = 16
const RECORDS = 10_000

test('ledger: 10,000 records, 20 % answered 500, 5 % never answered: all delivered, in order, duplicates only as retries of unacknowledged attempts', async (t) => {
  const topic = uniqueName('wh-ledger')
  await createTopic(topic, PARTITIONS)
  const { url } = await startProxy(t, {
    webhooks: {
      allowed_hosts: ['127.0.0.1'],
      store_topic: uniqueName('wh-ledger-store'),
      response_timeout_ms: 300,
      status_interval_ms: 200,
      backoff_initial_ms: 5,
      backoff_max_ms: 50,
      max_attempts: 1000,
      poll_interval_ms: 20
    }
  })
  const cid = await clusterId(url)
  await produceMany(topic, Array.from({ length: RECORDS }, (_, i) => ({ partition: i % PARTITIONS, value: `r${i}` })))
  const perPartition = RECORDS / PARTITIONS

  // A fixed-seed generator, so a failing run can be repeated.
  let seed = 20261203
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const accepted = new Map<number, Set<number>>()
  const highestAccepted = new Map<number, number>()
  const violations: string[] = []
  let requests = 0
  let failed = 0
  let hung = 0
  const receiver = await startReceiver(t, (d) => {
    requests++
    const r = d.records[0]
    if (r === undefined) {
      violations.push(`request ${d.seq} holds no record`)
      return { status: 400 }
    }
    // Order: a record is sent only after the one before it was accepted.
    const high = highestAccepted.get(r.partition) ?? -1
    if (r.offset > high + 1) violations.push(`partition ${r.partition} offset ${r.offset} sent before offset ${high + 1} was accepted`)
    const x = random()
    if (x < 0.05) {
      hung++
      return { hang: true }
    }
    if (x < 0.25) {
      failed++
      return { status: 500 }
    }
    let set = accepted.get(r.partition)
    if (set === undefined) accepted.set(r.partition, set = new Set())
    set.add(r.offset)
    highestAccepted.set(r.partition, Math.max(high, r.offset))
    return { status: 200 }
  })
  const started = Date.now()
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest' })
  const total = (): number => [...accepted.values()].reduce((n, s) => n + s.size, 0)
  await eventually(() => total() === RECORDS ? true : undefined, { what: `${RECORDS} records accepted`, timeoutMs: 150_000, intervalMs: 250 })
  const elapsed = Date.now() - started

  // Every record, each partition complete.
  for (let p = 0; p < PARTITIONS; p++) assert.equal(accepted.get(p)?.size, perPartition, `partition ${p} complete`)
  assert.deepEqual(violations, [], violations.slice(0, 5).join('\n'))
  // Duplicates: every delivery of a record after its first must follow an attempt that was not acknowledged.
  const byRecord = new Map<string, Array<{ answered?: number }>>()
  for (const d of receiver.deliveries) {
    const r = d.records[0]!
    const k = `${r.partition}@${r.offset}`
    const list = byRecord.get(k) ?? []
    list.push(d)
    byRecord.set(k, list)
  }
  let duplicates = 0
  let late = 0
  for (const list of byRecord.values()) {
    duplicates += list.length - 1
    // A 200 the receiver wrote that the proxy had already given up on.
    late += Math.max(0, list.filter((d) => d.answered === 200).length - 1)
  }
  assert.equal(byRecord.size, RECORDS, 'nothing but the topic\'s records was delivered')
  // The proxy's own count: each record acknowledged to it once, every other attempt failed or timed out.
  const done = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    const d = r.body?.deliveries
    return r.body?.lag === 0 && d?.attempts === requests ? r : undefined
  }, { what: 'the statistics and commits of every attempt' })
  const stats = done.body.deliveries
  t.diagnostic(`${RECORDS} records in ${elapsed} ms: ${requests} requests, ${failed} answered 500, ${hung} never answered; ` +
    `${duplicates} duplicate deliveries, all retries of attempts the proxy saw fail (${late} of them after a 200 that arrived too late); ` +
    `proxy: ${stats.delivered} delivered, ${stats.failed_attempts} failed attempts`)
  assert.equal(stats.delivered, RECORDS, 'the proxy saw each record acknowledged exactly once')
  assert.equal(stats.failed_attempts, requests - RECORDS, 'every other attempt failed in its eyes: each duplicate retried an unacknowledged attempt')
  assert.equal(duplicates, requests - RECORDS)
  assert.equal(done.body.partitions.length, PARTITIONS)
})
