// Fault 1: the only broker is SIGKILLed while v2 binary, v2 json, v3
// stream and application-route clients produce, and started again on the same data dir and port.
// The proxy is not restarted. Every acknowledged record must be in Kafka at
// its offset; every failure must be retriable and say whether it was written.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startOwnBroker } from '../helpers/broker.js'
import { startProxy } from '../helpers/proxy.js'
import { Ledger, SOUND, formatReport, ledgerRoute, readTopic, soundness } from '../helpers/ledger.js'
import { SCALE, sleep } from './scale.js'

test('broker SIGKILL and restart mid-produce: 0 acknowledged records lost, every failure retriable', async (t) => {
  const broker = await startOwnBroker(t)
  const servers = broker.current.bootstrapServers
  const topic = uniqueName('fault-kill')
  await createTopic(topic, 3, servers)
  const { url } = await startProxy(t, { kafka: { bootstrap_servers: servers, metadata_refresh_ms: 1000 }, routes: [ledgerRoute(topic)] })
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 3, 'v2-json': 2, 'v3-stream': 2, route: 1 }, routePath: '/ledger', ratePerClient: 40 })
  try {
    await eventually(() => ledger.acknowledged() >= 300 * SCALE ? true : undefined, { timeoutMs: 30_000 * SCALE, what: 'acknowledgements before the kill' })
    ledger.mark('kill')
    process.kill(broker.current.pid, 'SIGKILL')
    await sleep(2000 * SCALE)
    await broker.restart()
    ledger.mark('restart')
    const restarted = Date.now()
    await eventually(() => ledger.ackedSince(restarted) >= 300 * SCALE ? true : undefined, { timeoutMs: 60_000, what: 'acknowledgements after the restart' })
  } finally {
    await load.stop()
  }
  const report = ledger.report(await readTopic(servers, topic))
  t.diagnostic(formatReport('broker SIGKILL + restart', report))
  assert.deepEqual(soundness(report), SOUND)
  assert.equal(report.duplicated, 0, 'idempotent producer, no client retries: no duplicates')
  for (const [code, e] of Object.entries(report.errors)) {
    if (code.startsWith('conn/')) continue
    assert.equal(e.retriable, e.count, `${code}: a broker restart is transient, so every failure is retriable`)
    assert.equal(e.persistedMissing, 0, `${code}: every failure says whether it was written`)
  }
  assert.equal(report.noAnswer + report.refused, 0, 'the proxy answered every request')
  assert.notEqual(report.recoveryMs.restart, null)
})
