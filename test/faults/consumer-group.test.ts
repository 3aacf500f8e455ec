// Fault 6: a consumer group of three v2 instances with manual commits reads a
// topic while records keep arriving, the broker is SIGKILLed and restarted,
// and one instance is deleted mid-way. At-least-once means: in the end every
// partition's committed offset is its end, and every offset below it was
// delivered to some instance (no gap); what was delivered twice (the deleted
// instance's uncommitted records, reads repeated around the restart) is
// counted. Committed offsets are read from Kafka with a plain librdkafka
// client, not through the proxy.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import rdkafka from '@confluentinc/kafka-javascript'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startOwnBroker } from '../helpers/broker.js'
import { startProxy } from '../helpers/proxy.js'
import { commit, createConsumer, read, subscribe, type ConsumerRef } from '../helpers/consumers.js'
import { Ledger, SOUND, formatReport, readTopic, soundness } from '../helpers/ledger.js'
import { SCALE, sleep } from './scale.js'

const PARTITIONS = 3

interface Delivered { instance: string, partition: number, offset: number }

async function groupOffsets (servers: string, group: string, topic: string): Promise<{ committed: number[], ends: number[] }> {
  const consumer = new rdkafka.KafkaConsumer({ 'bootstrap.servers': servers, 'group.id': group, 'enable.auto.commit': false }, {})
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 20_000 }, (err) => err ? reject(err) : resolve()))
  try {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))
    const committed = await new Promise<Array<{ partition: number, offset?: number }>>((resolve, reject) =>
      consumer.committed(partitions, 10_000, (err, tps) => err ? reject(err) : resolve(tps)))
    const ends: number[] = []
    for (const { partition } of partitions) {
      ends[partition] = await new Promise<number>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, partition, 10_000, (err, o) => err ? reject(err) : resolve(o.highOffset)))
    }
    return { committed: committed.sort((a, b) => a.partition - b.partition).map((c) => c.offset ?? -1), ends }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  }
}

test('a consumer group with manual commits through a broker restart and a deleted instance: no gap in committed progress', async (t) => {
  const broker = await startOwnBroker(t)
  const servers = broker.current.bootstrapServers
  const topic = uniqueName('fault-group')
  await createTopic(topic, PARTITIONS, servers)
  const { url } = await startProxy(t, { kafka: { bootstrap_servers: servers, metadata_refresh_ms: 1000 } })
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 2, 'v2-json': 0, 'v3-stream': 1 }, ratePerClient: 30 })

  const group = uniqueName('fault-grp')
  const delivered: Delivered[] = []
  const failures = new Map<string, number>()
  const state = { stop: false }
  const instances: ConsumerRef[] = []
  for (let i = 0; i < 3; i++) {
    const c = await createConsumer(url, group, { name: `member-${i}`, format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
    await subscribe(c, [topic])
    instances.push(c)
  }
  const gone = new Set<string>()
  const note = (what: string): void => { failures.set(what, (failures.get(what) ?? 0) + 1) }
  const member = async (c: ConsumerRef): Promise<void> => {
    while (!state.stop && !gone.has(c.name)) {
      let res
      try {
        res = await read(c, { timeout: 500 })
      } catch (err) {
        note(`read ${(err as Error).message}`)
        await sleep(100)
        continue
      }
      if (res.status !== 200) {
        note(`read ${res.status}/${String(res.body?.error_code)}`)
        await sleep(100)
        continue
      }
      const records = res.body as Array<{ partition: number, offset: number }>
      const last = new Map<number, number>()
      for (const r of records) {
        delivered.push({ instance: c.name, partition: r.partition, offset: r.offset })
        last.set(r.partition, Math.max(last.get(r.partition) ?? -1, r.offset))
      }
      if (last.size === 0) continue
      // Commits what this instance has just been given, never beyond it.
      const committed = await commit(c, [...last].map(([partition, offset]) => ({ topic, partition, offset }))).catch((err: Error) => ({ status: 0, body: { error_code: err.message } }))
      if (committed.status !== 200) note(`commit ${committed.status}/${String(committed.body?.error_code)}`)
    }
  }
  const members = instances.map((c) => member(c))
  let restartMs = 0
  try {
    await eventually(() => delivered.length >= 500 * SCALE ? true : undefined, { timeoutMs: 60_000, what: 'records delivered before the restart' })
    ledger.mark('kill')
    const killed = Date.now()
    process.kill(broker.current.pid, 'SIGKILL')
    await sleep(1000)
    await broker.restart()
    restartMs = Date.now() - killed
    ledger.mark('restart')
    const before = delivered.length
    await eventually(() => delivered.length >= before + 300 * SCALE ? true : undefined, { timeoutMs: 90_000, what: 'records delivered after the restart' })
    // One member leaves mid-way; its partitions go to the other two.
    const leaving = instances[0] as ConsumerRef
    gone.add(leaving.name)
    const deleted = await fetch(leaving.path, { method: 'DELETE', headers: { 'content-type': 'application/vnd.kafka.v2+json' } })
    assert.equal(deleted.status, 204)
    ledger.mark('deleted')
    const after = delivered.length
    await eventually(() => delivered.length >= after + 300 * SCALE ? true : undefined, { timeoutMs: 90_000, what: 'records delivered after the deletion' })
  } finally {
    await load.stop()
  }
  // The two remaining members read to the end and commit it.
  const final = await eventually(async () => {
    const o = await groupOffsets(servers, group, topic)
    return o.committed.every((c, p) => c === o.ends[p]) ? o : undefined
  }, { timeoutMs: 90_000, intervalMs: 1000, what: 'every partition committed to its end' }).finally(() => { state.stop = true })
  await Promise.all(members)

  const report = ledger.report(await readTopic(servers, topic))
  t.diagnostic(formatReport('consumer group: producers', report))
  const unique = new Set(delivered.map((d) => `${d.partition}@${d.offset}`))
  const gaps: string[] = []
  for (let p = 0; p < PARTITIONS; p++) {
    for (let o = 0; o < (final.committed[p] as number); o++) if (!unique.has(`${p}@${o}`)) gaps.push(`${p}@${o}`)
  }
  const total = final.ends.reduce((a, b) => a + b, 0)
  t.diagnostic(`consumer group: ${total} records in the topic, ${delivered.length} deliveries, ${unique.size} distinct, ${delivered.length - unique.size} duplicated, ${gaps.length} gaps below the committed offsets ${final.committed.join('/')}; broker back after ${restartMs} ms`)
  t.diagnostic(`consumer group failures: ${[...failures].map(([k, n]) => `${k}×${n}`).join('; ') || 'none'}`)
  assert.deepEqual(gaps.slice(0, 20), [], 'every offset below a committed one was delivered')
  assert.equal(unique.size, total, 'every record was delivered')
  assert.deepEqual(soundness(report), SOUND)
})
