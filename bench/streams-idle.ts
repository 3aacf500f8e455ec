// Idle SSE streams: what --streams open streams on a topic with no traffic
// cost the whole proxy (the RSS of its primary and every worker, from
// /proc/<pid>/status, before and after), how long each takes to open (from
// the request to its first bytes, the `retry:` line), and that heartbeats
// flow on every stream while they are held open. Target: the whole proxy at
// most 1 GB (10^9 bytes) of RSS with 10,000 streams.
//
// The compiled proxy (dist/, built first unless --no-build) runs with its
// cluster of workers against a broker started here; the clients are raw
// sockets of this process (agent: false, one connection each), opened
// --batch at a time so the listen backlog does not drop SYNs.
//
// The first streams open one at a time (two per worker), so each worker's
// topic tail is running before the batches arrive: streams that open at once
// before a tail exists each take a reader of their own to find the topic's
// end (src/streams/open.ts), up to streams.max_readers per process, and the
// rest are answered 503 (50307). --cold leaves this out to show that.
//
// Run: node --import tsx bench/streams-idle.ts [--streams 10000] [--hold-s 20]
//   [--heartbeat-ms 5000] [--batch 200] [--workers N] [--cold] [--no-build]
import os from 'node:os'
import { parseArgs } from 'node:util'
import { cpuSeconds, rssOf, sampleRss, sleep } from './lib.js'
import { environment, heapOf, Histogram, librdkafkaClients, MIB, openSse, report, SseScanner, withStreamsBench, type SseConnection } from './streams-lib.js'

const { values: flags } = parseArgs({
  options: {
    streams: { type: 'string', default: '10000' },
    'hold-s': { type: 'string', default: '20' },
    'heartbeat-ms': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '200' },
    workers: { type: 'string' },
    cold: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false }
  }
})
const STREAMS = Number(flags.streams)
const HOLD_S = Number(flags['hold-s'])
const HEARTBEAT_MS = Number(flags['heartbeat-ms'])
const BATCH = Number(flags.batch)
const WARM = flags.cold === true ? 0 : Math.min(STREAMS, 2 * Number(flags.workers ?? os.availableParallelism()))
const TARGET_BYTES = 1e9
const TOPIC = 'streams-idle'

const env: Record<string, string> = {
  KAFKA_PROXY_STREAMS__HEARTBEAT_MS: String(HEARTBEAT_MS),
  ...(flags.workers === undefined ? {} : { KAFKA_PROXY_SERVER__WORKERS: flags.workers })
}

await withStreamsBench({ env, topics: [{ name: TOPIC, partitions: 1 }], build: flags['no-build'] !== true }, async (bench) => {
  const url = bench.streamUrl(TOPIC, 'format=string')
  await sleep(2000)
  const before = { rssBytes: rssOf(bench.pids()), processes: bench.pids().length, librdkafkaClients: librdkafkaClients(bench.pids()) }
  const sampler = sampleRss(bench.pids, 1000)
  const scanners: SseScanner[] = []
  const conns: SseConnection[] = []
  const connect = new Histogram()
  const failures = new Map<string, number>()
  const openStarted = performance.now()
  for (let i = 0; i < STREAMS;) {
    const size = i < WARM ? 1 : Math.min(BATCH, STREAMS - i)
    i += size
    const opened = await Promise.allSettled(Array.from({ length: size }, () => {
      const s = new SseScanner()
      scanners.push(s)
      return openSse(url, s)
    }))
    for (const o of opened) {
      if (o.status === 'fulfilled') {
        conns.push(o.value)
        connect.add(o.value.connectMs)
      } else {
        const why = (o.reason as Error).message
        failures.set(why, (failures.get(why) ?? 0) + 1)
      }
    }
  }
  const openSeconds = (performance.now() - openStarted) / 1000
  const afterOpenBytes = rssOf(bench.pids())
  const cpuBefore = cpuSeconds(bench.pids())
  await sleep(HOLD_S * 1000)
  const holdCpu = cpuSeconds(bench.pids()) - cpuBefore
  const after = { rssBytes: rssOf(bench.pids()), processes: bench.pids().length, librdkafkaClients: librdkafkaClients(bench.pids()) }
  const perProcessMiB = bench.pids().map((pid) => ({ pid, rssMiB: Math.round(rssOf([pid]) / MIB) }))
  const heapMiB = await heapOf(bench.proxy.url)
  const samples = sampler.stop()
  const maxBytes = Math.max(...samples)
  const endedEarly = conns.filter((c) => c.closed).length
  const errorEvents = scanners.filter((s) => s.error !== null).length
  // Every stream was open for the whole hold. A heartbeat goes out after
  // heartbeat_ms of silence, seen at the end of a read step of up to 100 ms,
  // so each interval is a little longer and the last one may fall just after
  // the hold: one fewer than the hold holds (and at least one) is expected.
  const expectedHeartbeats = Math.max(1, Math.floor(HOLD_S * 1000 / HEARTBEAT_MS) - 1)
  const beats = scanners.filter((s) => s.started).map((s) => s.heartbeats).sort((a, b) => a - b)
  const short = beats.filter((b) => b < expectedHeartbeats).length
  for (const c of conns) c.req.destroy()

  const opened = conns.length
  const connectMs = connect.summary()
  const mib = (b: number): number => Math.round(b / MIB)
  const result = {
    scenario: 'streams-idle',
    environment: environment(env),
    streams: { asked: STREAMS, opened, failed: STREAMS - opened, failures: Object.fromEntries(failures), endedEarly, errorEvents, batch: BATCH, openedOneByOneFirst: WARM },
    heartbeat: { intervalMs: HEARTBEAT_MS, holdSeconds: HOLD_S, expectedPerStream: expectedHeartbeats, min: beats[0] ?? 0, median: beats[Math.floor(beats.length / 2)] ?? 0, max: beats.at(-1) ?? 0, streamsWithFewer: short },
    connect: { ...connectMs, openSeconds },
    proxy: {
      before: { ...before, rssMiB: mib(before.rssBytes) },
      afterOpenMiB: mib(afterOpenBytes),
      after: { ...after, rssMiB: mib(after.rssBytes) },
      maxRssMiB: mib(maxBytes),
      afterPerProcess: perProcessMiB,
      afterHeapMiB: heapMiB,
      perStreamKiB: opened === 0 ? null : Math.round((after.rssBytes - before.rssBytes) / opened / 1024 * 10) / 10,
      holdCpuCores: Math.round(holdCpu / HOLD_S * 100) / 100,
      rssSamplesMiB: samples.map(mib)
    },
    target: { maxRssBytes: TARGET_BYTES, met: maxBytes <= TARGET_BYTES }
  }
  const ok = opened === STREAMS && endedEarly === 0 && errorEvents === 0 && short === 0
  report(result, `streams-idle: ${opened}/${STREAMS} streams, proxy RSS ${mib(before.rssBytes)} -> ${mib(after.rssBytes)} MiB (max ${mib(maxBytes)}, target <= 1 GB ${result.target.met ? 'met' : 'NOT met'}), ` +
    `${result.proxy.perStreamKiB ?? '-'} KiB/stream, connect p50 ${connectMs?.p50 ?? '-'} ms p99 ${connectMs?.p99 ?? '-'} ms, all opened in ${openSeconds.toFixed(1)} s, ` +
    `heartbeats min ${result.heartbeat.min}/stream (expected >= ${expectedHeartbeats}), proxy CPU ${result.proxy.holdCpuCores} cores while idle, ${ok ? 'no errors' : 'ERRORS'}`)
  return ok
})
