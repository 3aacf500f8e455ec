// Faults 3 and 4, on the real entry point (cluster primary + HTTP workers as
// `npm start` runs it): SIGTERM with 500 requests in flight, and SIGKILL of
// one worker process under load. The broker is the shared test broker.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bootstrap, createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { alive, bootProxy, workerPids } from '../helpers/process.js'
import { Ledger, SOUND, formatReport, readTopic, soundness } from '../helpers/ledger.js'
import { SCALE } from './scale.js'

const SHUTDOWN_TIMEOUT_MS = 10_000

test('SIGTERM with 500 requests in flight: each answered or never taken, none acknowledged and lost, exit within shutdown_timeout_ms', async (t) => {
  const topic = uniqueName('fault-term')
  await createTopic(topic, 3)
  const proxy = await bootProxy(t, { workers: 2, env: { KAFKA_PROXY_SERVER__SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } })
  const ledger = new Ledger()
  // 500 clients with no pause between requests: each has one request in flight nearly all the time.
  const load = ledger.start({ url: proxy.url, topic, clients: { 'v2-binary': 400, 'v2-json': 100, 'v3-stream': 0 }, ratePerClient: 1000 })
  let signalled = 0
  let exitMs = 0
  let code: number | null = null
  try {
    await eventually(() => ledger.acknowledged() >= 2000 * SCALE ? true : undefined, { timeoutMs: 60_000 * SCALE, what: 'acknowledgements before SIGTERM' })
    signalled = Date.now()
    ledger.mark('sigterm')
    proxy.child.kill('SIGTERM')
    code = await proxy.exited
    exitMs = Date.now() - signalled
  } finally {
    await load.stop()
  }
  const inFlight = ledger.attempts.filter((a) => a.sentAt <= signalled && (a.outcome?.at ?? 0) >= signalled).length
  const report = ledger.report(await readTopic(bootstrap(), topic))
  t.diagnostic(`${inFlight} records in flight at SIGTERM; the primary exited with ${String(code)} after ${exitMs} ms`)
  const unanswered = new Map<string, number>()
  for (const a of ledger.attempts) {
    const o = a.outcome
    if (o?.kind !== 'no-answer' && o?.kind !== 'refused') continue
    const key = `${o.kind} ${o.error}, sent ${a.sentAt <= signalled ? 'before' : 'after'} the signal, ended ${Math.round((o.at - signalled) / 100) * 100} ms after it`
    unanswered.set(key, (unanswered.get(key) ?? 0) + 1)
  }
  t.diagnostic([...unanswered].map(([k, n]) => `${n}× ${k}`).join('\n'))
  t.diagnostic(formatReport('proxy SIGTERM', report))
  assert.equal(code, 0)
  assert.ok(exitMs < SHUTDOWN_TIMEOUT_MS, `exited ${exitMs} ms after SIGTERM`)
  assert.ok(inFlight >= 450, `${inFlight} requests in flight at the signal`)
  // Every request in flight at the signal was answered; what got no answer was sent after it, to a
  // connection that was refused or reset before the proxy read a byte of it.
  const cutOff = ledger.attempts.filter((a) => a.sentAt <= signalled && (a.outcome?.kind === 'no-answer' || a.outcome?.kind === 'refused'))
  assert.equal(cutOff.length, 0, 'requests in flight at SIGTERM left unanswered')
  assert.deepEqual(soundness(report), SOUND)
  assert.equal(report.duplicated, 0)
  for (const [code, e] of Object.entries(report.errors)) {
    if (code.startsWith('conn/')) {
      // Sent on a keep-alive connection the draining worker closed, or to a listener that had
      // just closed: never read, so never written.
      assert.equal(e.present, 0, `${code}: a request with no answer wrote nothing`)
      continue
    }
    assert.equal(code, '503/50303', 'a refusal during the drain says shutting down')
    assert.equal(e.persistedNo, e.count)
    assert.equal(e.retriable, e.count)
  }
  for (const pid of workerPids(proxy.logs)) assert.equal(alive(pid), false, `worker ${pid} is gone`)
})

test('SIGKILL of one worker under load: its requests fail at the connection, the other worker goes on, a replacement starts, 0 acknowledged lost', async (t) => {
  const topic = uniqueName('fault-worker')
  await createTopic(topic, 3)
  const proxy = await bootProxy(t, { workers: 2 })
  const original = await eventually(() => { const p = workerPids(proxy.logs); return p.length === 2 ? p : undefined }, { what: 'two workers' })
  const ledger = new Ledger()
  const load = ledger.start({ url: proxy.url, topic, clients: { 'v2-binary': 8, 'v2-json': 4, 'v3-stream': 4 }, ratePerClient: 25 })
  let replacedMs = 0
  try {
    await eventually(() => ledger.acknowledged() >= 500 * SCALE ? true : undefined, { timeoutMs: 30_000 * SCALE, what: 'acknowledgements before the kill' })
    const victim = original[0] as number
    const killed = Date.now()
    ledger.mark('kill')
    process.kill(victim, 'SIGKILL')
    await eventually(() => workerPids(proxy.logs).find((p) => !original.includes(p)), { timeoutMs: 30_000, what: 'a replacement worker' })
    replacedMs = Date.now() - killed
    ledger.mark('replaced')
    const replaced = Date.now()
    await eventually(() => ledger.ackedSince(replaced) >= 500 * SCALE ? true : undefined, { timeoutMs: 60_000, what: 'acknowledgements after the replacement' })
  } finally {
    await load.stop()
  }
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0)
  const report = ledger.report(await readTopic(bootstrap(), topic))
  t.diagnostic(`replacement listening ${replacedMs} ms after the kill`)
  t.diagnostic(formatReport('worker SIGKILL', report))
  assert.deepEqual(soundness(report), SOUND)
  assert.equal(report.duplicated, 0)
  // Only what the killed process held fails, and only at the connection: at most one request per
  // v2 client and one stream window per v3 client.
  assert.equal(report.failed, 0, 'no request is refused for the kill')
  assert.ok(report.noAnswer <= 12 + 4 * 32, `${report.noAnswer} records unanswered`)
  // The other worker kept acknowledging while the replacement started.
  assert.ok(report.longestAckGapMs < 2000, `no acknowledgement for ${report.longestAckGapMs} ms`)
})
