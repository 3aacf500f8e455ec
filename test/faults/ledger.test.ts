// The ledger itself, without a fault: every record the four clients send is
// acknowledged and found exactly once by the independent reader, and the
// report does count what it is there to catch (an acknowledgement whose record
// is not in Kafka, a "not written" record that is, a record nobody sent).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bootstrap, createTopic, eventually, produceNative, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { Ledger, SOUND, formatReport, ledgerRoute, readTopic, soundness } from '../helpers/ledger.js'

test('without a fault every record of every client is acknowledged and read back once', async (t) => {
  const topic = uniqueName('ledger')
  await createTopic(topic, 3)
  const { url } = await startProxy(t, { routes: [ledgerRoute(topic)] })
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 2, 'v2-json': 2, 'v3-stream': 2, route: 2 }, routePath: '/ledger', ratePerClient: 50, recordsPerRequest: 2, streamRecords: 100 })
  // A count, not a duration: the machine may be busy.
  await eventually(() => ledger.acknowledged() >= 600 ? true : undefined, { timeoutMs: 60_000, what: '600 acknowledgements' })
  await load.stop()
  const report = ledger.report(await readTopic(bootstrap(), topic))
  t.diagnostic(formatReport('no fault', report))
  assert.deepEqual(soundness(report), SOUND)
  assert.ok(report.sent > 500, `sent ${report.sent}`)
  assert.equal(report.acknowledged, report.sent)
  assert.equal(report.duplicated, 0)
  assert.equal(report.records, report.sent)
  for (const via of ['v2-binary', 'v2-json', 'v3-stream', 'route']) assert.ok((report.byVia[via]?.acknowledged ?? 0) > 0, via)
})

test('the report catches a lost acknowledgement, a "not written" record in Kafka and a foreign record', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('ledger-check')
  await createTopic(topic, 1)
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 1, 'v2-json': 0, 'v3-stream': 0 }, ratePerClient: 20 })
  await new Promise((resolve) => setTimeout(resolve, 500))
  await load.stop()
  // A record acknowledged at an offset nobody wrote, and one answered "not written" that was.
  const lost = ledger.record('v2-binary', 99)
  lost.outcome = { kind: 'acked', at: Date.now(), partition: 0, offset: 1_000_000 }
  const liar = ledger.record('v2-binary', 99)
  liar.outcome = { kind: 'failed', at: Date.now(), status: 503, errorCode: 50302, retriable: true, persisted: 'no', message: '' }
  await produceNative(topic, 0, [{ key: null, value: Buffer.from(liar.id) }, { key: null, value: Buffer.from('nobody-sent-this') }])
  const report = ledger.report(await readTopic(bootstrap(), topic))
  t.diagnostic(formatReport('planted faults', report))
  assert.deepEqual(soundness(report), { ...SOUND, lost: 1, persistedNoPresent: 1, foreign: 1 })
  assert.equal(report.errors['503/50302']?.present, 1)
})
