// Fault 2 (npm run test:faults): a 3-node KRaft cluster started by the
// project's own src/dev/kafka-cluster.ts, a topic with replication 3 and
// min.insync.replicas=2. The partition leader is SIGKILLed (the others take
// over), then a second node (one in-sync replica left: produce must fail,
// retriably, and never be acknowledged), then both come back. 0 acknowledged
// records may be lost.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import rdkafka from '@confluentinc/kafka-javascript'
import { startCluster } from '../../src/dev/kafka-cluster.js'
import { libDir } from '../helpers/broker.js'
import { eventually, uniqueName, waitForTopic } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { Ledger, SOUND, formatReport, readTopic, soundness } from '../helpers/ledger.js'
import { SCALE, sleep } from './scale.js'

const DELIVERY_TIMEOUT_MS = 10_000

async function leaderOf (servers: string, topic: string, partition: number): Promise<number> {
  const producer = new rdkafka.Producer({ 'bootstrap.servers': servers })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 20_000 }, (err) => err ? reject(err) : resolve()))
  try {
    const md = await new Promise<any>((resolve, reject) => producer.getMetadata({ topic, timeout: 10_000 }, (err, m) => err ? reject(err) : resolve(m)))
    return md.topics.find((x: { name: string }) => x.name === topic).partitions.find((p: { id: number }) => p.id === partition).leader as number
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  }
}

test('3-node cluster: leader killed, then a second node, then restored: produce fails retriably and is never acknowledged below min.insync.replicas, 0 acknowledged lost', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-cluster-'))
  const cluster = await startCluster({
    libDir: libDir(),
    dataDir,
    heapMb: 384,
    // A crashed node is fenced after 3 s instead of Kafka's 9 s default.
    properties: { 'auto.create.topics.enable': 'false', 'broker.session.timeout.ms': '3000', 'broker.heartbeat.interval.ms': '500' }
  })
  t.after(async () => {
    await cluster.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const servers = cluster.bootstrapServers
  const topic = uniqueName('fault-cluster')
  const admin = rdkafka.AdminClient.create({ 'bootstrap.servers': servers })
  await new Promise<void>((resolve, reject) => admin.createTopic({ topic, num_partitions: 3, replication_factor: 3, config: { 'min.insync.replicas': '2' } }, 20_000, (err) => err ? reject(err) : resolve()))
  admin.disconnect()
  await waitForTopic(topic, 3, servers)

  const { url } = await startProxy(t, { kafka: { bootstrap_servers: servers }, producer: { delivery_timeout_ms: DELIVERY_TIMEOUT_MS } })
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 2, 'v2-json': 1, 'v3-stream': 2 }, ratePerClient: 30 })
  let leader = 0
  let second = 0
  let onlyOneFrom = 0
  let onlyOneUntil = 0
  try {
    await eventually(() => ledger.acknowledged() >= 300 * SCALE ? true : undefined, { timeoutMs: 60_000, what: 'acknowledgements before the first kill' })
    leader = await leaderOf(servers, topic, 0)
    ledger.mark('leader killed')
    await cluster.kill(leader)
    const killed = Date.now()
    await eventually(() => ledger.ackedSince(killed + 1000) >= 300 * SCALE ? true : undefined, { timeoutMs: 60_000, what: 'acknowledgements after the leader failover' })

    // A second node down: one replica in sync, below min.insync.replicas.
    second = [1, 2, 3].find((id) => id !== leader) as number
    ledger.mark('second killed')
    await cluster.kill(second)
    onlyOneFrom = Date.now()
    await sleep(DELIVERY_TIMEOUT_MS + 5000 * SCALE)
    onlyOneUntil = Date.now()

    ledger.mark('restored')
    await Promise.all([cluster.restart(leader), cluster.restart(second)])
    const restored = Date.now()
    await eventually(() => ledger.ackedSince(restored) >= 300 * SCALE ? true : undefined, { timeoutMs: 90_000, what: 'acknowledgements after the restore' })
  } finally {
    await load.stop()
  }
  const report = ledger.report(await readTopic(servers, topic))
  t.diagnostic(`killed node ${leader} (leader of partition 0), then node ${second}; one node alone for ${onlyOneUntil - onlyOneFrom} ms`)
  t.diagnostic(formatReport('3-node cluster failover', report))
  assert.deepEqual(soundness(report), SOUND)
  assert.equal(report.duplicated, 0)
  // With one node of three no record is acknowledged: acks=all needs two in-sync replicas. (A
  // moment after the kill is allowed for appends that two replicas already had.)
  const ackedAlone = ledger.attempts.filter((a) => a.outcome?.kind === 'acked' && a.sentAt > onlyOneFrom + 1000 && a.outcome.at < onlyOneUntil)
  assert.equal(ackedAlone.length, 0, 'records acknowledged while one node of three ran')
  for (const [code, e] of Object.entries(report.errors)) {
    assert.equal(e.retriable, e.count, `${code}: losing replicas is transient, so every failure is retriable`)
    assert.equal(e.persistedMissing, 0, `${code}: every failure says whether it was written`)
  }
})
