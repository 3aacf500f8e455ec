// A consumer group driven entirely through the proxy while its membership
// changes: 4 members, then 8, then 5, on an 8-partition topic. Records keep
// arriving on every partition throughout, as in a live system: a fixed backlog
// would be drained by the first members long before a rebalance completes
// (heartbeats come every 3 s), and the newcomers would have nothing to show.
//
// Delivery semantics this test holds the proxy to. Every member commits
// explicitly, with a body naming the last offset it delivered per partition,
// right after each read and before its next one (auto commit is off). So at any
// moment the only delivered-but-uncommitted records are those of reads whose
// commit has not completed yet. A rebalance hands a partition to a member that
// starts from the group's committed offset, which makes the API at-least-once:
//   - no record may be lost, ever;
//   - a record may be delivered twice only if the commit covering its first
//     delivery completed after a membership change began and before that
//     change's rebalance had time to settle (the new owner may have fetched the
//     committed offset before that commit landed). A duplicate of a record
//     committed outside those windows means the proxy re-delivered committed
//     data, e.g. records it had buffered for a partition it no longer owns.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import {
  V2, assertError, commit, committed, createConsumer, deleteConsumer, read, request, show, subscribe,
  type ConsumedRecord, type ConsumerRef
} from '../helpers/consumers.js'

const PARTITIONS = 8
// Time for a rebalance to complete after a member joins or leaves: librdkafka
// members learn of it on their next heartbeat (heartbeat.interval.ms 3000),
// then rejoin and sync; the broker's initial rebalance delay is 0 in tests.
const REBALANCE_SETTLE_MS = 15000

interface Member {
  ref: ConsumerRef
  alive: boolean
  /** Records delivered since the current phase began. */
  phaseDelivered: number
}

interface Delivery {
  key: string
  member: string
  /** When the commit covering this delivery completed. */
  committedAt: number
}

test('a group of up to 8 instances keeps making progress while members join and leave, and loses no record', async (t) => {
  const { url } = await startProxy(t, { consumer: { request_timeout_ms: 2000 } })
  const topic = uniqueName('t-group')
  await createTopic(topic, PARTITIONS)
  const group = uniqueName('grp-group')

  const produced = new Set<string>()
  let batch = 0
  const produceBatch = async (perPartition: number): Promise<void> => {
    const tag = batch++
    await Promise.all(Array.from({ length: PARTITIONS }, async (_, p) => {
      const records = Array.from({ length: perPartition }, (_, i) => ({ key: Buffer.from(`k${tag}-${p}-${i}`).toString('base64'), value: Buffer.from(`value-${tag}-${p}-${i}`).toString('base64') }))
      const res = await request('POST', `${url}/topics/${topic}/partitions/${p}`, { headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' }, body: { records } })
      assert.equal(res.status, 200, show(res))
      for (const o of res.body.offsets) {
        assert.equal(o.error_code, null, show(res))
        produced.add(`${o.partition}@${o.offset}`)
      }
    }))
  }
  await produceBatch(30)
  // A steady trickle: 2 records per partition every 100 ms until told to stop.
  const production = { on: true }
  const producer = (async () => {
    while (production.on) {
      await produceBatch(2)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  t.after(async () => {
    production.on = false
    await producer.catch(() => {})
  })

  const members: Member[] = []
  const deliveries: Delivery[] = []
  const changes: number[] = []

  const join = async (n: number): Promise<void> => {
    changes.push(Date.now())
    const joined = await Promise.all(Array.from({ length: n }, async () => {
      const ref = await createConsumer(url, group, {
        name: `member-${members.length}-${Math.random().toString(36).slice(2, 8)}`,
        format: 'binary',
        'auto.offset.reset': 'earliest',
        'auto.commit.enable': 'false',
        'fetch.min.bytes': 1
      })
      await subscribe(ref, [topic])
      return ref
    }))
    for (const ref of joined) members.push({ ref, alive: true, phaseDelivered: 0 })
  }

  const leave = async (victims: Member[]): Promise<void> => {
    changes.push(Date.now())
    await Promise.all(victims.map(async (m) => {
      m.alive = false
      await deleteConsumer(m.ref)
    }))
  }

  // One round: every live member reads once (small responses, so the group
  // needs many rounds), then commits exactly what that read delivered. A member
  // deleted mid-round is a client that stopped: what it was handed but could
  // not commit counts as never processed, and other members must read it.
  const round = async (): Promise<void> => {
    await Promise.all(members.filter((m) => m.alive).map(async (m) => {
      const res = await read(m.ref, { maxBytes: 300 })
      if (res.status === 404 && !m.alive) return
      assert.equal(res.status, 200, `${m.ref.name}: ${show(res)}`)
      const records = res.body as ConsumedRecord[]
      if (records.length === 0) return
      const last = new Map<number, number>()
      for (const r of records) {
        assert.equal(r.topic, topic)
        const prev = last.get(r.partition)
        assert.ok(prev === undefined || r.offset > prev, `${m.ref.name} delivered partition ${r.partition} out of order`)
        last.set(r.partition, r.offset)
      }
      const c = await commit(m.ref, [...last].map(([partition, offset]) => ({ topic, partition, offset })))
      if (c.status === 404 && !m.alive) return
      assert.equal(c.status, 200, `${m.ref.name} commit: ${show(c)}`)
      const committedAt = Date.now()
      for (const r of records) deliveries.push({ key: `${r.partition}@${r.offset}`, member: m.ref.name, committedAt })
      m.phaseDelivered += records.length
    }))
  }

  const deliveredKeys = (): Set<string> => new Set(deliveries.map((d) => d.key))
  const distinct = (): number => deliveredKeys().size
  const roundsUntil = async (done: () => boolean, what: string, timeoutMs = 90000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) {
        const perMember = members.map((m) => `${m.ref.name}${m.alive ? '' : ' (deleted)'}: ${m.phaseDelivered}`).join(', ')
        assert.fail(`no progress: ${what} (read ${distinct()} of ${produced.size} distinct records; this phase: ${perMember})`)
      }
      await round()
    }
  }
  const newPhase = (): void => { for (const m of members) m.phaseDelivered = 0 }

  // Phase 1: four members share the eight partitions.
  await join(4)
  await roundsUntil(() => distinct() >= 200, '4 members reading 200 records')

  // Phase 2: four more join while the first four keep reading; with eight
  // members each owns one partition, and every one of them delivers.
  newPhase()
  await Promise.all([join(4), round()])
  await roundsUntil(() => members.every((m) => m.phaseDelivered > 0), 'all 8 members delivering')
  assert.equal(members.length, 8)

  // Phase 3: three leave (two of the first four, one of the newcomers) while
  // the rest keep reading; the five left take over their partitions.
  newPhase()
  const leaving = [members[0], members[2], members[5]] as Member[]
  await Promise.all([leave(leaving), round()])
  for (const m of leaving) assertError(await read(m.ref), 404, 40403, `read by deleted ${m.ref.name}`)
  const remaining = members.filter((m) => m.alive)
  assert.equal(remaining.length, 5)
  await roundsUntil(() => remaining.every((m) => m.phaseDelivered > 0), 'all 5 remaining members delivering')

  // Production stops; the group reads everything that was produced.
  production.on = false
  await producer
  await roundsUntil(() => [...produced].every((k) => deliveredKeys().has(k)), 'the remaining 5 members reading every record')

  // No record lost, nothing foreign.
  const delivered = deliveredKeys()
  for (const k of produced) assert.ok(delivered.has(k), `record ${k} was never delivered`)
  for (const k of delivered) assert.ok(produced.has(k), `record ${k} was delivered but never produced`)

  // Duplicates only inside a rebalance window (see the header comment).
  const first = new Map<string, Delivery>()
  const unexplained: string[] = []
  let duplicates = 0
  for (const d of deliveries) {
    const earlier = first.get(d.key)
    if (earlier === undefined) {
      first.set(d.key, d)
      continue
    }
    duplicates++
    const inWindow = changes.some((c) => earlier.committedAt >= c && earlier.committedAt <= c + REBALANCE_SETTLE_MS)
    if (!inWindow) unexplained.push(`${d.key} by ${earlier.member} then ${d.member}`)
  }
  assert.deepEqual(unexplained, [], `${duplicates} duplicate deliveries, these outside any rebalance window`)

  // The group's committed offsets reached the end of every partition.
  const ends = new Map<number, number>()
  for (const k of produced) {
    const [p, o] = k.split('@').map(Number) as [number, number]
    ends.set(p, Math.max(ends.get(p) ?? 0, o + 1))
  }
  const survivor = remaining[0] as Member
  const got = await committed(survivor.ref, Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })))
  assert.equal(got.status, 200, show(got))
  assert.deepEqual(
    [...got.body.offsets].sort((x, y) => x.partition - y.partition).map((o: { partition: number, offset: number }) => [o.partition, o.offset]),
    Array.from({ length: PARTITIONS }, (_, p) => [p, ends.get(p)])
  )

  for (const m of members.filter((x) => x.alive)) {
    const res = await request('DELETE', m.ref.path, { headers: { 'content-type': V2 } })
    assert.equal(res.status, 204, show(res))
  }
})
