// Fault 5: the network between the proxy and its broker goes bad while the
// clients produce. Every Kafka connection of the proxy passes a relay
// (test/helpers/relay.ts) that slows, cuts, refuses or stalls it; the test's
// reader reaches the broker directly. Each phase has its own topic and
// ledger. A record may be answered `persisted: "unknown"` only when the
// client had it in flight or queued when the connection went silent; a
// slowdown or a cut connection (which librdkafka's idempotent producer
// retries) must not produce one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { startRelayedBroker } from '../helpers/relayed-broker.js'
import { Ledger, SOUND, formatReport, readTopic, soundness, type LedgerReport } from '../helpers/ledger.js'
import { SCALE, sleep } from './scale.js'

const DELIVERY_TIMEOUT_MS = 5000

test('network faults between proxy and broker: slow, cut, refused, stalled', async (t) => {
  const net = await startRelayedBroker(t)
  const { url } = await startProxy(t, {
    kafka: { bootstrap_servers: net.relayed },
    producer: { delivery_timeout_ms: DELIVERY_TIMEOUT_MS }
  })

  /** Runs the load on a fresh topic, applies `fault` once 150 records are acknowledged, and waits for 150 more after it. */
  const phase = async (name: string, fault: (ledger: Ledger) => Promise<void>): Promise<{ report: LedgerReport, ledger: Ledger }> => {
    const topic = uniqueName(`fault-net-${name}`)
    await createTopic(topic, 3, net.direct)
    const ledger = new Ledger()
    const load = ledger.start({ url, topic, clients: { 'v2-binary': 2, 'v2-json': 1, 'v3-stream': 2 }, ratePerClient: 40 })
    try {
      await eventually(() => ledger.acknowledged() >= 150 ? true : undefined, { timeoutMs: 30_000, what: `${name}: acknowledgements before the fault` })
      ledger.mark(name)
      await fault(ledger)
      net.relay.resume()
      ledger.mark('healed')
      const healed = Date.now()
      await eventually(() => ledger.ackedSince(healed) >= 150 * SCALE ? true : undefined, { timeoutMs: 60_000, what: `${name}: acknowledgements after the fault` })
    } finally {
      net.relay.resume()
      await load.stop()
    }
    const report = ledger.report(await readTopic(net.direct, topic))
    t.diagnostic(formatReport(`network ${name}`, report))
    assert.deepEqual(soundness(report), SOUND, name)
    assert.equal(report.duplicated, 0, `${name}: idempotent producer, no client retries: no duplicates`)
    assert.equal(report.noAnswer + report.refused, 0, `${name}: the proxy answered every request`)
    for (const [code, e] of Object.entries(report.errors)) {
      assert.equal(e.retriable, e.count, `${name} ${code}: a network fault is transient, so every failure is retriable`)
      assert.equal(e.persistedMissing, 0, `${name} ${code}: every failure says whether it was written`)
    }
    return { report, ledger }
  }

  // 200 ms each way on every chunk: slower, never failed.
  const { report: slow } = await phase('slow', async () => {
    net.relay.slow(200)
    await sleep(3000 * SCALE)
  })
  assert.equal(slow.failed, 0, 'latency alone fails nothing')

  // Every connection reset, three times a second apart: librdkafka reconnects and retries what was in flight.
  // Not more at a larger FAULT_SCALE: resets that go on past the delivery timeout (5 s) leave the records
  // sent before them timed out after being sent, which is "unknown" by right (12 resets at scale 4 did).
  const { report: cut } = await phase('cut', async () => {
    for (let i = 0; i < 3; i++) {
      net.relay.cut()
      await sleep(1000)
    }
  })
  assert.equal(cut.unknownPresent + cut.unknownAbsent, 0, 'a reset connection is retried by the idempotent producer: nothing is left unknown')
  // librdkafka reports every broker down when its connections reset, and has them back within
  // reconnect.backoff.ms: the proxy may refuse for a moment, not until its next periodic refresh.
  assert.ok(cut.longestFailureRunMs < 1500, `refused for ${cut.longestFailureRunMs} ms after a reset`)

  // No connection at all for longer than the delivery timeout: once the proxy sees the cluster gone,
  // requests are refused before any record is queued (50302, not written).
  let knownAt = 0
  let healAt = 0
  const { report: refused, ledger: refusedLedger } = await phase('refused', async () => {
    net.relay.refuse()
    net.relay.cut()
    // The client reports every broker down at once; a moment for that to reach the proxy.
    knownAt = Date.now() + 1000
    await sleep(DELIVERY_TIMEOUT_MS + 2000 * SCALE)
    healAt = Date.now()
  })
  assert.ok((refused.errors['503/50302']?.count ?? 0) > 0, 'requests during the outage get fast 503s')
  // Once the proxy knows the cluster is away, no record of any client is queued to time out as
  // "unknown": v2 requests and v3 stream records alike are refused, not written.
  const unknownAfter = refusedLedger.attempts.filter((a) => a.sentAt > knownAt && a.sentAt < healAt && a.outcome?.kind === 'failed' && a.outcome.persisted === 'unknown')
  assert.deepEqual(unknownAfter.map((a) => `${a.via} ${a.id}`), [], 'records sent while the cluster was known to be unreachable')

  // Connections open but silent (a partition TCP rides out) for longer than the delivery timeout:
  // records in flight or queued then time out as "unknown"; what was held reaches the broker after.
  const { report: stalled } = await phase('stall', async () => {
    net.relay.stall()
    await sleep(DELIVERY_TIMEOUT_MS + 2000 * SCALE)
  })
  assert.equal(stalled.persistedNoPresent, 0)
})
