// The benchmark harness: boots a real broker and the real proxy (cluster
// workers, worker pool, librdkafka), runs named scenarios with autocannon, and
// measures a native baseline for each scenario in the same run, on the same
// broker and topic, interleaved with the proxy runs so machine drift cancels
// out. Results: bench/results/latest.json and a table on stdout. A scenario
// that sees errors fails the run.
//
// npm run bench [-- --quick] [-- --only <name>]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import avsc from 'avsc'
import rdkafka from '@confluentinc/kafka-javascript'
import { startBroker, kafkaLibDir, projectRoot, KAFKA_VERSION } from '../src/dev/kafka-broker.js'
import { startRegistry, REGISTRY_VERSION } from '../src/dev/schema-registry.js'
import { defaultConfig } from '../src/config/schema.js'
import { bootProxy, cpuSeconds, createTopic, median, parseProducerPerf, rssOf, runJson, runKafkaTool, sampleRss, sleep, stopChild, ROOT, type ProxyProcess } from './lib.js'

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    // Proxy settings for comparison runs, as config paths: --set pool.offload_threshold_bytes=1048576
    set: { type: 'string', multiple: true },
    // Write V8 CPU profiles of every proxy process to this directory.
    profile: { type: 'string' },
    // Sampling interval of those profiles in microseconds (V8's default: 1000).
    'profile-interval': { type: 'string' },
    // Extra Node.js options for the proxy's processes: --node-arg=--max-semi-space-size=64
    'node-arg': { type: 'string', multiple: true },
    // Write per-second event-loop delay, utilization and GC pauses of every
    // proxy process to this directory (bench/micro/eld-preload.mjs).
    eld: { type: 'string' },
    // Requests/s of the latency scenario; without it, half of the maximum
    // measured by v2-binary-100x100B in the same run.
    'latency-rate': { type: 'string' },
    // Connections of the open-loop latency client (bench/open-loop.ts).
    'latency-connections': { type: 'string' },
    // Records the v3 streaming and WebSocket produce clients keep unacknowledged (default: no bound).
    'stream-window': { type: 'string' },
    // The WebSocket produce socket also delivers the topic back (no filter).
    'ws-echo': { type: 'boolean', default: false },
    out: { type: 'string' }
  }
})
const quick = flags.quick === true
const ROUNDS = Number(flags.rounds ?? (quick ? 2 : 3))
const DURATION_S = Number(flags.duration ?? (quick ? 5 : 15))
const CONNECTIONS = 32
const SINGLE_CONNECTIONS = 256
const defaults = defaultConfig()

interface Measure {
  recordsPerSec: number
  mbPerSec: number
  p50?: number
  p99?: number
  p999?: number
  errors: number
  rssPeakMiB?: number
  /** Cores in use during the run, by the proxy's processes, the broker, and the load generator. */
  cores?: { proxy: number, broker: number, loadgen: number }
  /**
   * CPU time per record of the measured client (the proxy's processes, or
   * the native producer's process), in microseconds: steadier than records/s
   * on a machine that other work shares.
   */
  cpuUsPerRecord?: number
}

interface ScenarioResult {
  name: string
  description: string
  baseline: string
  proxy: Measure
  native: Measure
  ratio: number
  target: string
  met: boolean | null
  runs: { proxy: Measure[], native: Measure[] }
  /** Settings of the baseline client, printed with the results. */
  baselineSettings?: Record<string, unknown>
  /** A second reference from Kafka's own Java tools, measured in the same rounds. */
  reference?: { tool: string, recordsPerSec: number, runs: number[], settings: Record<string, unknown> }
  extra?: Record<string, number | string>
}

const b64 = (n: number, fill: number): string => Buffer.alloc(n, fill).toString('base64')

function produceBody (records: number, valueBytes: number, format: 'binary' | 'json'): string {
  if (format === 'json') {
    // A small JSON object of about valueBytes once serialized.
    const pad = 'x'.repeat(Math.max(0, valueBytes - 40))
    return JSON.stringify({ records: Array.from({ length: records }, (_, i) => ({ value: { id: i, name: 'bench', pad } })) })
  }
  return JSON.stringify({ records: Array.from({ length: records }, () => ({ value: b64(valueBytes, 120) })) })
}

/** An autocannon run against the proxy; records/s counts only records acknowledged without error. */
async function cannon (url: string, opts: { path: string, body: string, contentType: string, records: number, valueBytes: number, durationS: number, overallRate?: number, connections?: number }): Promise<Measure & { reqPerSec: number }> {
  let recordErrors = 0
  const result = await autocannon({
    url: url + opts.path,
    method: 'POST',
    connections: opts.connections ?? CONNECTIONS,
    duration: opts.durationS,
    headers: { 'content-type': opts.contentType },
    body: opts.body,
    ...(opts.overallRate === undefined ? {} : { overallRate: opts.overallRate }),
    requests: [{
      method: 'POST',
      onResponse: (status: number, body: string) => {
        // Any record-level error_code is a number; successes carry null.
        if (status === 200 && /"error_code":\d/.test(body)) recordErrors++
      }
    }]
  } as autocannon.Options)
  const ok = result['2xx']
  const seconds = result.duration
  const recordsPerSec = (ok - recordErrors) * opts.records / seconds
  return {
    reqPerSec: ok / seconds,
    recordsPerSec,
    mbPerSec: recordsPerSec * opts.valueBytes / 1e6,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    errors: result.errors + result.timeouts + result.non2xx + recordErrors
  }
}

function summarize (runs: Measure[]): Measure {
  const pick = (k: keyof Measure): number | undefined => {
    const xs = runs.map((r) => r[k]).filter((v): v is number => typeof v === 'number')
    return xs.length === 0 ? undefined : median(xs)
  }
  const out: Measure = {
    recordsPerSec: pick('recordsPerSec') as number,
    mbPerSec: pick('mbPerSec') as number,
    errors: runs.reduce((n, r) => n + r.errors, 0)
  }
  for (const k of ['p50', 'p99', 'p999', 'cpuUsPerRecord'] as const) {
    const v = pick(k)
    if (v !== undefined) out[k] = v
  }
  const rss = runs.map((r) => r.rssPeakMiB).filter((v): v is number => v !== undefined)
  if (rss.length > 0) out.rssPeakMiB = Math.max(...rss)
  const cores = runs.map((r) => r.cores).filter((c): c is NonNullable<Measure['cores']> => c !== undefined)
  if (cores.length > 0) out.cores = { proxy: median(cores.map((c) => c.proxy)), broker: median(cores.map((c) => c.broker)), loadgen: median(cores.map((c) => c.loadgen)) }
  return out
}

let brokerPid = 0
// The scenario running now, for the RSS timeline.
let currentScenario = 'start'
const rssTimeline: Array<{ t: number, mib: number, scenario: string }> = []

async function withRss<T extends Measure> (proxy: ProxyProcess, fn: () => Promise<T>): Promise<T> {
  const sampler = sampleRss(proxy.pids)
  const started = performance.now()
  const before = { proxy: cpuSeconds(proxy.pids()), broker: cpuSeconds([brokerPid]), loadgen: process.cpuUsage() }
  const m = await fn()
  const wall = (performance.now() - started) / 1000
  const loadgen = process.cpuUsage(before.loadgen)
  const cores = {
    proxy: (cpuSeconds(proxy.pids()) - before.proxy) / wall,
    broker: (cpuSeconds([brokerPid]) - before.broker) / wall,
    loadgen: (loadgen.user + loadgen.system) / 1e6 / wall
  }
  const peak = Math.max(...sampler.stop())
  // A scenario that times only part of its run measures its own.
  const cpuUsPerRecord = m.cpuUsPerRecord ?? (m.recordsPerSec > 0 ? cores.proxy / m.recordsPerSec * 1e6 : Number.NaN)
  return { ...m, rssPeakMiB: peak / 1048576, cores, cpuUsPerRecord }
}

// Alternates which side runs first in each round so drift hits both alike.
async function interleave (rounds: number, native: () => Promise<Measure>, proxy: () => Promise<Measure>): Promise<{ proxy: Measure[], native: Measure[] }> {
  const out = { proxy: [] as Measure[], native: [] as Measure[] }
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      out.native.push(await native())
      out.proxy.push(await proxy())
    } else {
      out.proxy.push(await proxy())
      out.native.push(await native())
    }
  }
  return out
}

async function main (): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-kafka-'))
  const [broker, registry] = await Promise.all([
    startBroker({ libDir: kafkaLibDir(projectRoot()), dataDir, heapMb: 1024 }),
    startRegistry({ dataDir: path.join(dataDir, 'registry') })
  ])
  const bootstrap = broker.bootstrapServers
  brokerPid = broker.pid
  const results: ScenarioResult[] = []
  let proxy: ProxyProcess | null = null
  const only = flags.only?.split(',')
  const want = (name: string): boolean => {
    const yes = only === undefined || only.some((o) => name.includes(o))
    if (yes) currentScenario = name
    return yes
  }
  try {
    const profileArgs = flags.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(flags.profile)}`]
    if (flags.profile !== undefined && flags['profile-interval'] !== undefined) profileArgs.push(`--cpu-prof-interval=${Number(flags['profile-interval'])}`)
    profileArgs.push(...(flags['node-arg'] ?? []))
    if (flags.eld !== undefined) {
      mkdirSync(path.resolve(flags.eld), { recursive: true })
      profileArgs.push('--import', `${ROOT}bench/micro/eld-preload.mjs`)
    }
    proxy = await bootProxy(bootstrap, {
      ...(flags.eld === undefined ? {} : { BENCH_ELD_DIR: path.resolve(flags.eld) }),
      KAFKA_PROXY_SCHEMA_REGISTRY__URL: registry.url,
      ...settingsEnv(flags.set ?? [])
    }, profileArgs)
    const p = proxy
    const bootedAt = performance.now()
    const timeline = setInterval(() => {
      rssTimeline.push({ t: Math.round((performance.now() - bootedAt) / 1000), mib: Math.round(rssOf(p.pids()) / 1048576), scenario: currentScenario })
    }, 1000)
    timeline.unref()
    await sleep(1000)

    // Interleaved rounds of `proxyRun` against the native producer, with Kafka's
    // Java producer as the reference, on the same topic and record size.
    const againstNativeProduce = async (topic: string, valueBytes: number, proxyRun: () => Promise<Measure>): Promise<Omit<ScenarioResult, 'name' | 'description' | 'target' | 'met'>> => {
      const java = javaReference()
      const runs = await interleave(ROUNDS,
        async () => {
          const n = await nativeProduce(bootstrap, topic, valueBytes)
          await java.run(bootstrap, topic, valueBytes, n.recordsPerSec)
          return n
        },
        () => withRss(p, proxyRun))
      const proxySummary = summarize(runs.proxy)
      const nativeSummary = summarize(runs.native)
      return {
        baseline: NATIVE_PRODUCE_BASELINE,
        proxy: proxySummary,
        native: nativeSummary,
        ratio: proxySummary.recordsPerSec / nativeSummary.recordsPerSec,
        runs,
        baselineSettings: nativeProduceSettings,
        reference: java.summary(),
        extra: librdkafkaAcked(runs.native)
      }
    }

    const produceScenario = async (name: string, description: string, records: number, valueBytes: number, format: 'binary' | 'json'): Promise<void> => {
      if (!want(name)) return
      const topic = `bench-${name}`
      await createTopic(bootstrap, topic, 3)
      await sleep(500)
      const body = produceBody(records, valueBytes, format)
      const wireValueBytes = format === 'json' ? Buffer.byteLength(JSON.stringify(JSON.parse(body).records[0].value)) : valueBytes
      const contentType = `application/vnd.kafka.${format}.v2+json`
      // Warm up both paths (JIT, connections, metadata).
      await cannon(p.url, { path: `/topics/${topic}`, body, contentType, records, valueBytes: wireValueBytes, durationS: 2 })
      const r = await againstNativeProduce(topic, wireValueBytes, () => cannon(p.url, { path: `/topics/${topic}`, body, contentType, records, valueBytes: wireValueBytes, durationS: DURATION_S }))
      const targeted = name === 'v2-binary-100x100B'
      results.push({ name, description, ...r, target: targeted ? '>= 0.90x native' : 'reported', met: targeted ? r.ratio >= 0.9 : null })
    }

    await produceScenario('v2-binary-100x100B', '100 records of 100 B per request, 32 connections', 100, 100, 'binary')
    await produceScenario('v2-binary-100x1KB', '100 records of 1 KB per request, 32 connections', 100, 1024, 'binary')
    await produceScenario('v2-binary-10x10KB', '10 records of 10 KB per request, 32 connections', 10, 10240, 'binary')
    await produceScenario('v2-json-100x100B', '100 JSON values of about 100 B per request, 32 connections', 100, 100, 'json')

    if (want('metrics-scrape-100x100B')) {
      // The cost of /metrics: the same produce against this proxy scraped once
      // a second, and against a second proxy with metrics.enabled = false and
      // no scraper (booted for this scenario only, idle while the other runs).
      const name = 'metrics-scrape-100x100B'
      const topic = `bench-${name}`
      await createTopic(bootstrap, topic, 3)
      const off = await bootProxy(bootstrap, { ...settingsEnv(flags.set ?? []), KAFKA_PROXY_METRICS__ENABLED: 'false' }, profileArgs)
      try {
        await sleep(500)
        const body = produceBody(100, 100, 'binary')
        const opts = { path: `/topics/${topic}`, body, contentType: 'application/vnd.kafka.binary.v2+json', records: 100, valueBytes: 100 }
        await cannon(p.url, { ...opts, durationS: 2 })
        await cannon(off.url, { ...opts, durationS: 2 })
        let scrapes = 0
        let scrapeBytes = 0
        const scraped = async (): Promise<Measure> => {
          const timer = setInterval(() => {
            fetch(`${p.url}/metrics`).then(async (r) => { scrapeBytes += (await r.text()).length; if (r.ok) scrapes++ }, () => {})
          }, 1000)
          try {
            return await withRss(p, () => cannon(p.url, { ...opts, durationS: DURATION_S }))
          } finally {
            clearInterval(timer)
          }
        }
        const runs = await interleave(ROUNDS, () => withRss(off, () => cannon(off.url, { ...opts, durationS: DURATION_S })), scraped)
        const on = summarize(runs.proxy)
        const base = summarize(runs.native)
        const ratio = on.recordsPerSec / base.recordsPerSec
        results.push({
          name,
          description: '100 records of 100 B per request, 32 connections, /metrics scraped every second',
          baseline: 'the same proxy with metrics.enabled = false and no scraper',
          proxy: on,
          native: base,
          ratio,
          target: '>= 0.99x metrics off',
          met: ratio >= 0.99,
          runs,
          extra: { scrapes, scrapeBytesAvg: scrapes === 0 ? 0 : Math.round(scrapeBytes / scrapes) }
        })
      } finally {
        await off.stop()
      }
    }

    if (want('v2-avro-100x100B')) {
      // Avro records of about 100 B by schema id (registered once, as clients
      // do after their first request). The baseline produces the same encoded
      // bytes, so the ratio is the cost of the proxy including Avro encoding.
      const topic = 'bench-avro'
      await createTopic(bootstrap, topic, 3)
      await sleep(500)
      const schema = JSON.stringify({ type: 'record', name: 'Event', fields: [{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }, { name: 'payload', type: 'string' }] })
      const value = { id: 1234567, name: 'bench', payload: 'x'.repeat(82) }
      const contentType = 'application/vnd.kafka.avro.v2+json'
      const first = await fetch(`${p.url}/topics/${topic}`, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify({ value_schema: schema, records: [{ value }] }) })
      const { value_schema_id: schemaId } = await first.json() as { value_schema_id: number }
      const body = JSON.stringify({ value_schema_id: schemaId, records: Array.from({ length: 100 }, () => ({ value })) })
      // The Confluent frame (magic byte + 4-byte id) + the Avro encoding of the value.
      const encodedBytes = 5 + avsc.Type.forSchema(JSON.parse(schema)).toBuffer(value).length
      const opts = { path: `/topics/${topic}`, body, contentType, records: 100, valueBytes: encodedBytes, durationS: DURATION_S }
      await cannon(p.url, { ...opts, durationS: 2 })
      const runs = await interleave(ROUNDS,
        () => nativeProduce(bootstrap, topic, encodedBytes),
        () => withRss(p, () => cannon(p.url, opts)))
      const proxySummary = summarize(runs.proxy)
      const nativeSummary = summarize(runs.native)
      results.push({
        name: 'v2-avro-100x100B',
        description: '100 Avro records of about 100 B per request by value_schema_id, 32 connections',
        baseline: 'native librdkafka producer from Node producing the same encoded bytes, unbounded',
        proxy: proxySummary,
        native: nativeSummary,
        ratio: proxySummary.recordsPerSec / nativeSummary.recordsPerSec,
        target: 'reported',
        met: null,
        runs,
        baselineSettings: nativeProduceSettings,
        extra: librdkafkaAcked(runs.native)
      })
    }

    if (want('v3-stream-1x100B')) {
      // One connection streaming records of 100 B as fast as the proxy takes
      // them; counts records whose result line says 200.
      const topic = 'bench-v3-stream'
      await createTopic(bootstrap, topic, 3)
      await sleep(500)
      await streamProduce(p.url, topic, 2)
      const r = await againstNativeProduce(topic, 100, () => streamProduce(p.url, topic, DURATION_S))
      results.push({
        name: 'v3-stream-1x100B',
        description: `one streaming connection, records of 100 B (BINARY), ${STREAM_WINDOW_TEXT} unacknowledged`,
        ...r,
        target: '>= 0.90x native',
        met: r.ratio >= 0.9
      })
    }

    if (want('ws-produce-1-socket')) {
      // One WebSocket sending records of 100 B as text frames, pipelined, as
      // fast as the socket takes them (bench/ws-produce-client.ts, its own
      // process); counts records whose result frame says 200.
      const topic = 'bench-ws-produce'
      await createTopic(bootstrap, topic, 3)
      await sleep(500)
      await wsProduce(p.url, topic, 2, p.pids)
      const r = await againstNativeProduce(topic, 100, () => wsProduce(p.url, topic, DURATION_S, p.pids))
      const proxyRuns = r.runs.proxy as WsProduceMeasure[]
      results.push({
        name: 'ws-produce-1-socket',
        description: `one WebSocket, a text frame per record of 100 B (BINARY) with a correlation, ${STREAM_WINDOW_TEXT} unacknowledged, ${WS_ECHO ? 'the stream delivering every record back' : 'the stream passing over every record (a key filter no record matches)'}; bench/ws-produce-client.ts in its own process`,
        ...r,
        target: '>= 0.90x native',
        met: r.ratio >= 0.9,
        extra: {
          ...r.extra,
          echoedPerRecord: median(proxyRuns.map((m) => m.echoed / (m.recordsPerSec * m.seconds))),
          clientCpuUsPerRecord: median(proxyRuns.map((m) => m.clientCpuUsPerRecord))
        }
      })
    }

    if (want('v2-binary-1x100B')) {
      // Single-record requests against a bare node:http no-op with the same
      // number of worker processes: the HTTP stack's share of the cost.
      const topic = 'bench-single'
      await createTopic(bootstrap, topic, 3)
      await sleep(500)
      const body = produceBody(1, 100, 'binary')
      const noop = await startNoop()
      try {
        // Each request waits for its acknowledgement (linger.ms + a broker round
        // trip), so closed-loop clients need many connections to load the
        // proxy rather than measure its latency.
        const opts = { path: `/topics/${topic}`, body, contentType: 'application/vnd.kafka.binary.v2+json', records: 1, valueBytes: 100, durationS: DURATION_S, connections: SINGLE_CONNECTIONS }
        await cannon(p.url, { ...opts, durationS: 2 })
        const runs = await interleave(ROUNDS,
          () => cannon(noop.url, opts),
          () => withRss(p, () => cannon(p.url, opts)))
        const proxySummary = summarize(runs.proxy)
        const nativeSummary = summarize(runs.native)
        const ratio = proxySummary.recordsPerSec / nativeSummary.recordsPerSec
        results.push({
          name: 'v2-binary-1x100B',
          description: `1 record of 100 B per request, ${SINGLE_CONNECTIONS} connections; baseline is requests/s of a bare node:http no-op`,
          baseline: 'bare node:http no-op, same worker count, req/s',
          proxy: proxySummary,
          native: nativeSummary,
          ratio,
          target: '>= 0.5x bare node:http',
          met: ratio >= 0.5,
          runs
        })
      } finally {
        await stopChild(noop.child)
      }
    }

    const maxRps = results.find((r) => r.name === 'v2-binary-100x100B')?.proxy.recordsPerSec
    const fixedRate = flags['latency-rate'] === undefined ? undefined : Number(flags['latency-rate'])
    if (want('latency') && (maxRps !== undefined || fixedRate !== undefined)) {
      // p99 at half of the maximum throughput measured above.
      const topic = 'bench-v2-binary-100x100B'
      if (maxRps === undefined) {
        await createTopic(bootstrap, topic, 3)
        await sleep(500)
      }
      const rate = fixedRate ?? Math.max(1, Math.round((maxRps as number) / 100 / 2))
      const body = produceBody(100, 100, 'binary')
      const bodyFile = path.join(dataDir, 'latency-body.json')
      writeFileSync(bodyFile, body)
      const contentType = 'application/vnd.kafka.binary.v2+json'
      const open = (url: string, durationS: number): Promise<Measure> => openLoop(url, `/topics/${topic}`, contentType, bodyFile, rate, LATENCY_CONNECTIONS, durationS)
      if (maxRps === undefined) {
        // Run alone, nothing has warmed the proxy up yet (JIT, connections, metadata).
        await open(p.url, 3)
      }
      // Three sides per round, the order rotating: the proxy; the same requests
      // at the same rate against a bare node:http no-op (the floor of the load
      // generator, node:http and this machine, measured the same way); and the
      // same batches straight from librdkafka (what Kafka costs without HTTP).
      const noop = await startNoop()
      const proxyRuns: Measure[] = []
      const floorRuns: Measure[] = []
      const nativeRuns: Measure[] = []
      let closedLoop: { proxyP99: number, noopP99: number }
      try {
        await open(noop.url, 1)
        const sides = [
          async () => { proxyRuns.push(await withRss(p, () => open(p.url, DURATION_S))) },
          async () => { floorRuns.push(await open(noop.url, DURATION_S)) },
          async () => {
            const n = await runJson<{ records: number, seconds: number, errors: number, p50: number, p99: number, p999: number, settings: Record<string, unknown> }>('native-latency.ts', [bootstrap, topic, '100', String(rate), String(DURATION_S * 1000)])
            nativeLatencySettings = n.settings
            nativeRuns.push({ recordsPerSec: n.records / n.seconds, mbPerSec: n.records / n.seconds * 100 / 1e6, errors: n.errors, p50: n.p50, p99: n.p99, p999: n.p999 })
          }
        ]
        for (let r = 0; r < ROUNDS; r++) {
          for (let i = 0; i < sides.length; i++) await (sides[(r + i) % sides.length] as () => Promise<void>)()
        }
        // The earlier method, for comparison: autocannon in this process,
        // closed loop per connection at the same overall rate.
        const cannonOpts = { path: `/topics/${topic}`, body, contentType, records: 100, valueBytes: 100, durationS: DURATION_S, overallRate: rate }
        closedLoop = { proxyP99: (await cannon(p.url, cannonOpts)).p99 ?? Number.NaN, noopP99: (await cannon(noop.url, cannonOpts)).p99 ?? Number.NaN }
      } finally {
        await stopChild(noop.child)
      }
      const m = summarize(proxyRuns)
      const floor = summarize(floorRuns)
      const native = summarize(nativeRuns)
      const spread = (runs: Measure[]): string => runs.map((x) => fmt(x.p99, 1)).join(' / ')
      // The target follows linger.ms, including one changed with --set.
      const lingerSet = settingsEnv(flags.set ?? []).KAFKA_PROXY_PRODUCER__LINGER_MS
      const limit = (lingerSet === undefined ? defaults.producer.linger_ms : Number(lingerSet)) + 3
      results.push({
        name: 'latency-at-half-max',
        description: `100 x 100 B per request at ${rate} req/s (half of the maximum), open loop on ${LATENCY_CONNECTIONS} connections (bench/open-loop.ts); baselines: a bare node:http no-op and the same batches from a native producer, at the same rate`,
        baseline: `native batch latency; target linger.ms + 3 ms = ${limit} ms`,
        proxy: m,
        native,
        ratio: (m.p99 ?? Number.NaN) / limit,
        target: `p99 <= ${limit} ms`,
        met: (m.p99 ?? Number.POSITIVE_INFINITY) <= limit,
        runs: { proxy: proxyRuns, native: nativeRuns },
        baselineSettings: nativeLatencySettings,
        extra: {
          rateReqPerSec: rate,
          connections: LATENCY_CONNECTIONS,
          nativeP99Ms: native.p99 ?? Number.NaN,
          addedP99Ms: (m.p99 ?? Number.NaN) - (native.p99 ?? Number.NaN),
          noopP50Ms: floor.p50 ?? Number.NaN,
          noopP99Ms: floor.p99 ?? Number.NaN,
          noopP999Ms: floor.p999 ?? Number.NaN,
          proxyP99PerRound: spread(proxyRuns),
          noopP99PerRound: spread(floorRuns),
          nativeP99PerRound: spread(nativeRuns),
          autocannonProxyP99Ms: closedLoop.proxyP99,
          autocannonNoopP99Ms: closedLoop.noopP99
        }
      })
    }

    for (const transport of ['sse', 'ws'] as const) {
      const name = `${transport}-consume-1-client`
      if (!want(name)) continue
      const topic = `bench-${transport}-consume`
      const total = quick ? 300_000 : 1_000_000
      await createTopic(bootstrap, topic, 6)
      await sleep(500)
      await fill(bootstrap, topic, total)
      let round = 0
      const java = javaConsumeReference()
      let nativeSettings: Record<string, unknown> | undefined
      const runs = await interleave(ROUNDS,
        async () => {
          const r = await runJson<{ records: number, seconds: number, cpuMicrosPerRecord: number, settings: Record<string, unknown> }>('native-consume.ts', [bootstrap, topic, `native-${name}-${round++}`, '1', String(total), String(NATIVE_CONSUME_BATCH)])
          nativeSettings = r.settings
          await java.run(bootstrap, topic, `java-${name}-${round}`, total)
          const rps = r.records / r.seconds
          return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors: 0, cpuUsPerRecord: r.cpuMicrosPerRecord }
        },
        () => withRss(p, () => (transport === 'sse' ? sseConsume : wsConsume)(p.url, topic, total, p.pids)))
      const proxySummary = summarize(runs.proxy)
      const nativeSummary = summarize(runs.native)
      const ratio = proxySummary.recordsPerSec / nativeSummary.recordsPerSec
      results.push({
        name,
        description: `${total} records of 100 B from 6 partitions over one ${transport === 'sse' ? 'Server-Sent Events stream' : 'WebSocket (one text frame per record)'} (from=earliest, BINARY values, no group), timed from the first record`,
        baseline: `1 native librdkafka consumer from Node at its own best: consume(${NATIVE_CONSUME_BATCH}) in a loop, librdkafka's queue and fetch defaults, timed from the first record`,
        proxy: proxySummary,
        native: nativeSummary,
        ratio,
        target: '>= 0.90x native',
        met: ratio >= 0.9,
        runs,
        ...(nativeSettings === undefined ? {} : { baselineSettings: nativeSettings }),
        reference: java.summary()
      })
    }

    for (const consumers of [1, 6]) {
      const name = `v2-consume-${consumers === 1 ? '1-consumer' : `group-of-${consumers}`}`
      if (!want(name)) continue
      const topic = `bench-consume-${consumers}`
      const total = quick ? 300_000 : 1_000_000
      await createTopic(bootstrap, topic, 6)
      await sleep(500)
      await fill(bootstrap, topic, total)
      let round = 0
      const java = javaConsumeReference()
      let nativeSettings: Record<string, unknown> | undefined
      const runs = await interleave(ROUNDS,
        async () => {
          const r = await runJson<{ records: number, seconds: number, cpuMicrosPerRecord: number, settings: Record<string, unknown> }>('native-consume.ts', [bootstrap, topic, `native-${name}-${round++}`, String(consumers), String(total), String(NATIVE_CONSUME_BATCH)])
          nativeSettings = r.settings
          await java.run(bootstrap, topic, `java-${name}-${round}`, total)
          const rps = r.records / r.seconds
          return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors: 0, cpuUsPerRecord: r.cpuMicrosPerRecord }
        },
        () => withRss(p, () => proxyConsume(p.url, topic, `proxy-${name}-${round++}`, consumers, total, p.pids)))
      const proxySummary = summarize(runs.proxy)
      const nativeSummary = summarize(runs.native)
      const ratio = proxySummary.recordsPerSec / nativeSummary.recordsPerSec
      const target = consumers === 1 ? 0.9 : 0.6
      results.push({
        name,
        description: `${total} records of 100 B from 6 partitions, ${consumers} consumer instance(s), max_bytes 8 MiB, ${consumers === 1 ? 'the instance\'s defaults (fetch.min.bytes -1, timeout 1 s)' : 'fetch.min.bytes 1 MiB'}, timed from the first record`,
        baseline: `${consumers} native librdkafka consumer(s) from Node in one group at their own best: consume(${NATIVE_CONSUME_BATCH}) in a loop, librdkafka's queue and fetch defaults, timed from the first record`,
        proxy: proxySummary,
        native: nativeSummary,
        ratio,
        target: `>= ${target.toFixed(2)}x native`,
        met: ratio >= target,
        runs,
        ...(nativeSettings === undefined ? {} : { baselineSettings: nativeSettings }),
        reference: java.summary()
      })
    }
  } finally {
    if (proxy !== null) await proxy.stop()
    await Promise.all([broker.stop(), registry.stop()])
    rmSync(dataDir, { recursive: true, force: true })
  }

  const environment = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kafka: KAFKA_VERSION,
    schemaRegistry: `Apicurio Registry ${REGISTRY_VERSION}`,
    librdkafka: rdkafka.librdkafkaVersion,
    proxyWorkers: os.availableParallelism(),
    acks: defaults.producer.acks,
    idempotence: defaults.producer.enable_idempotence,
    lingerMs: defaults.producer.linger_ms,
    compression: defaults.producer.compression,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    durationS: DURATION_S,
    quick,
    settings: flags.set ?? []
  }
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
  const rss = { everySeconds: 1, samples: rssTimeline }
  const file = path.join(ROOT, 'bench', 'results', flags.out ?? 'latest.json')
  writeFileSync(file, JSON.stringify({ environment, scenarios: results, rss }, null, 2) + '\n')
  printTable(results)
  const settingsShown = new Set<string>()
  for (const r of results) {
    for (const [who, settings] of [[r.baseline, r.baselineSettings], [r.reference?.tool, r.reference?.settings]] as const) {
      if (settings === undefined || who === undefined) continue
      const line = `${who}: ${JSON.stringify(settings)}`
      if (!settingsShown.has(line)) process.stdout.write(`\n${line}\n`)
      settingsShown.add(line)
    }
  }
  process.stdout.write(`\nresults: ${path.relative(ROOT, file)}\n`)
  const failed = results.filter((r) => r.proxy.errors > 0 || r.native.errors > 0)
  if (failed.length > 0) {
    process.stderr.write(`errors in: ${failed.map((r) => r.name).join(', ')}\n`)
    process.exitCode = 1
  }
}

/** `server.workers=1` -> KAFKA_PROXY_SERVER__WORKERS=1, the config's environment naming rule. */
function settingsEnv (settings: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const s of settings) {
    const eq = s.indexOf('=')
    if (eq < 1) throw new Error(`--set ${s}: expected path=value`)
    env['KAFKA_PROXY_' + s.slice(0, eq).split('.').map((p) => p.toUpperCase()).join('__')] = s.slice(eq + 1)
  }
  return env
}

async function startNoop (): Promise<{ child: import('node:child_process').ChildProcess, url: string }> {
  const { spawn } = await import('node:child_process')
  const workers = settingsEnv(flags.set ?? []).KAFKA_PROXY_SERVER__WORKERS ?? String(os.availableParallelism())
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}bench/noop-server.ts`, '0', workers], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`no-op server exited with ${code}`)))
    child.stdout?.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString())
      if (m !== null) resolve(Number(m[1]))
    })
  })
  return { child, url: `http://127.0.0.1:${port}` }
}

// Connections of the open-loop latency client: enough for the requests in
// flight at half of the maximum (rate x latency, about 9), few enough not to
// add 32 sockets' worth of scheduling to the machine being measured.
const LATENCY_CONNECTIONS = Number(flags['latency-connections'] ?? 16)

// The native latency baseline's properties, from its latest run.
let nativeLatencySettings: Record<string, unknown> | undefined

/** One run of bench/open-loop.ts: a fixed rate, latency from each request's due time. */
async function openLoop (url: string, urlPath: string, contentType: string, bodyFile: string, rate: number, connections: number, durationS: number): Promise<Measure> {
  const r = await runJson<{ sent: number, ok: number, errors: number, seconds: number, p50: number, p99: number, p999: number }>('open-loop.ts', [url, urlPath, contentType, bodyFile, String(rate), String(connections), String(durationS * 1000)])
  const rps = r.ok * 100 / r.seconds
  return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors: r.errors, p50: r.p50, p99: r.p99, p999: r.p999 }
}

const NATIVE_PRODUCE_BASELINE = 'native librdkafka producer from Node, the proxy\'s producer properties, no bound on records in flight but librdkafka\'s queue; rate = records until the last delivery report reached JavaScript'

// The native producer's properties and loop, from its latest run.
let nativeProduceSettings: Record<string, unknown> | undefined

/** One run of bench/native-produce.ts on the scenario's topic and record size. */
async function nativeProduce (bootstrap: string, topic: string, valueBytes: number): Promise<Measure & { librdkafkaAckedPerSec: number }> {
  const r = await runJson<{ records: number, seconds: number, errors: number, flushedSeconds: number, cpuSeconds: number, settings: Record<string, unknown> }>('native-produce.ts', [bootstrap, topic, String(valueBytes), String(DURATION_S * 1000)])
  nativeProduceSettings = r.settings
  const rps = r.records / r.seconds
  return { recordsPerSec: rps, mbPerSec: rps * valueBytes / 1e6, errors: r.errors, librdkafkaAckedPerSec: r.records / r.flushedSeconds, cpuUsPerRecord: r.cpuSeconds / r.records * 1e6 }
}

/** The rate at which librdkafka had its acks, before its reports reached JavaScript. */
function librdkafkaAcked (runs: Measure[]): Record<string, number> {
  return { nativeLibrdkafkaAckedPerSec: median(runs.map((r) => (r as { librdkafkaAckedPerSec?: number }).librdkafkaAckedPerSec ?? Number.NaN)) }
}

/**
 * Kafka's own `kafka-producer-perf-test` (the Java client) on the same topic
 * and record size with the proxy's producer settings, one run per round. Its
 * record count aims at the round's duration from the rate seen so far.
 */
function javaReference (): { run: (bootstrap: string, topic: string, valueBytes: number, nativeRate: number) => Promise<void>, summary: () => NonNullable<ScenarioResult['reference']> } {
  const p = defaults.producer
  const settings = {
    acks: p.acks,
    'enable.idempotence': p.enable_idempotence,
    'linger.ms': p.linger_ms,
    'batch.size': p.batch_bytes,
    'max.in.flight.requests.per.connection': p.max_in_flight,
    'compression.type': p.compression
  }
  const rates: number[] = []
  return {
    async run (bootstrap, topic, valueBytes, nativeRate) {
      const rate = rates.length > 0 ? median(rates) : Math.max(nativeRate, 100_000) * 1.5
      const out = await runKafkaTool('producer-perf-test', [
        '--topic', topic, '--num-records', String(Math.round(rate * DURATION_S)), '--record-size', String(valueBytes), '--throughput', '-1',
        '--producer-props', `bootstrap.servers=${bootstrap}`, ...Object.entries(settings).map(([k, v]) => `${k}=${String(v)}`)
      ])
      rates.push(parseProducerPerf(out).recordsPerSec)
    },
    summary: () => ({ tool: 'kafka-producer-perf-test', recordsPerSec: median(rates), runs: rates, settings: { ...settings, 'record.size': 'the scenario\'s', throughput: -1 } })
  }
}

// Records the streaming client keeps unacknowledged. Unbounded by default:
// the client writes as fast as TCP takes it, and the proxy's own pause
// (MAX_PENDING_RECORDS per stream) is the back-pressure, as for any client;
// the native baseline is unbounded too. A bound below the proxy's makes the
// run a latency measurement (records/s = window / latency, Little's law).
const STREAM_WINDOW = flags['stream-window'] === undefined ? Number.POSITIVE_INFINITY : Number(flags['stream-window'])
const STREAM_WINDOW_TEXT = Number.isFinite(STREAM_WINDOW) ? `up to ${STREAM_WINDOW}` : 'any number'

/** Streams records over one v3 connection for `seconds`; records/s counts 200 results. */
async function streamProduce (url: string, topic: string, seconds: number): Promise<Measure> {
  const { request } = await import('node:http')
  const record = Buffer.from(JSON.stringify({ value: { type: 'BINARY', data: b64(100, 120) } }) + '\n')
  const chunk = Buffer.concat(Array.from({ length: 100 }, () => record))
  let sent = 0
  let ok = 0
  let errors = 0
  let partial = ''
  const started = performance.now()
  const deadline = started + seconds * 1000
  await new Promise<void>((resolve, reject) => {
    const req = request(`${url}/v3/clusters/bench/topics/${topic}/records`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } })
    const pump = (): void => {
      while (performance.now() < deadline) {
        if (sent - ok - errors >= STREAM_WINDOW) return
        sent += 100
        if (!req.write(chunk)) return
      }
      req.end()
    }
    req.on('response', (res) => {
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        const lines = (partial + d).split('\r\n')
        partial = lines.pop() ?? ''
        for (const line of lines) {
          if (line === '') continue
          if (line.startsWith('{"error_code":200')) ok++
          else errors++
        }
        // Results free room in the window.
        if (!req.writableEnded) pump()
      })
      res.on('end', () => resolve())
      res.on('error', reject)
    })
    req.on('drain', () => { if (!req.writableEnded) pump() })
    req.on('error', reject)
    pump()
  })
  const elapsed = (performance.now() - started) / 1000
  const rps = ok / elapsed
  return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors }
}

// The WebSocket produce socket is a stream of its topic too (from=latest).
// By default it passes over every record with a key filter (the records have
// no key, and a null key never matches: docs/streams.md), so the scenario
// measures produce alone, as v3-stream-1x100B does; the stream's consumer
// still reads the topic. --ws-echo opens it without the filter: every record
// also comes back as a frame, as for a client that reads its own topic.
const WS_ECHO = flags['ws-echo'] === true
const WS_PRODUCE_QUERY = WS_ECHO ? '' : 'key=none'

type WsProduceMeasure = Measure & { seconds: number, echoed: number, clientCpuUsPerRecord: number }

/**
 * One run of bench/ws-produce-client.ts on one socket for `seconds`;
 * records/s counts 200 results. CPU per record is the proxy's over the
 * client's whole run (its start-up included, when the proxy idles) per
 * record acknowledged.
 */
async function wsProduce (url: string, topic: string, seconds: number, pids: () => number[]): Promise<WsProduceMeasure> {
  const wsUrl = url.replace(/^http/, 'ws') + await streamPath(url, topic, WS_PRODUCE_QUERY)
  const cpuBefore = cpuSeconds(pids())
  const r = await runJson<{ sent: number, ok: number, errors: number, echoed: number, seconds: number, cpuSeconds: number, firstError: string | null }>('ws-produce-client.ts',
    [wsUrl, String(seconds * 1000), String(Number.isFinite(STREAM_WINDOW) ? STREAM_WINDOW : 0), '100'])
  const cpu = cpuSeconds(pids()) - cpuBefore
  if (r.firstError !== null) process.stderr.write(`ws-produce: ${r.errors} errors of ${r.sent} records, the first: ${r.firstError}\n`)
  const rps = r.ok / r.seconds
  return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors: r.errors, cpuUsPerRecord: cpu / r.ok * 1e6, seconds: r.seconds, echoed: r.echoed, clientCpuUsPerRecord: r.cpuSeconds / r.ok * 1e6 }
}

/** Fills a topic with `count` records of 100 B using the native producer. */
async function fill (bootstrap: string, topic: string, count: number): Promise<void> {
  const { Producer } = rdkafka
  const producer = new Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 20, 'batch.size': 1048576, 'queue.buffering.max.messages': 2_000_000, dr_cb: true })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  producer.setPollInBackground(true)
  let acked = 0
  const done = new Promise<void>((resolve) => producer.on('delivery-report', () => { if (++acked === count) resolve() }))
  const value = Buffer.alloc(100, 97)
  for (let i = 0; i < count; i++) {
    for (;;) {
      try {
        producer.produce(topic, -1, value, null, null)
        break
      } catch {
        await sleep(5)
      }
    }
  }
  await done
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
}

// The native consumer's batch: the size that gave it its best rate here
// (BENCHMARKS.md, "consume baselines").
const NATIVE_CONSUME_BATCH = 10000

/**
 * Kafka's own `kafka-consumer-perf-test` (the Java consumer with its
 * defaults) reading the scenario's topic in a new group, one run per round.
 * Its fetch rate (fetch.nMsg.sec) leaves out the group join, as the other
 * sides are timed from their first record.
 */
function javaConsumeReference (): { run: (bootstrap: string, topic: string, group: string, total: number) => Promise<void>, summary: () => NonNullable<ScenarioResult['reference']> } {
  const rates: number[] = []
  return {
    async run (bootstrap, topic, group, total) {
      const out = await runKafkaTool('consumer-perf-test', ['--bootstrap-server', bootstrap, '--topic', topic, '--group', group, '--messages', String(total), '--timeout', '60000'])
      rates.push(parseConsumerPerf(out))
    },
    summary: () => ({ tool: 'kafka-consumer-perf-test', recordsPerSec: median(rates), runs: rates, settings: { consumers: 1, 'fetch.max.bytes': '50 MiB (default)', 'max.partition.fetch.bytes': '1 MiB (default)', 'max.poll.records': '500 (default)', 'auto.offset.reset': 'earliest', rate: 'fetch.nMsg.sec, without the group join' } })
  }
}

/** fetch.nMsg.sec from the data line of `kafka-consumer-perf-test`'s output (ConsumerPerformance). */
function parseConsumerPerf (stdout: string): number {
  const lines = stdout.trim().split('\n')
  const header = lines.findIndex((l) => l.includes('fetch.nMsg.sec'))
  const cols = header === -1 ? [] : (lines[header] as string).split(',').map((c) => c.trim())
  const values = header === -1 ? [] : (lines[header + 1] ?? '').split(',').map((c) => c.trim())
  const rate = Number(values[cols.indexOf('fetch.nMsg.sec')])
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`kafka consumer-perf-test: no fetch.nMsg.sec in ${JSON.stringify(stdout.slice(-300))}`)
  return rate
}

/**
 * Consumes `total` records through the proxy with `instances` consumer
 * instances in one group, timed from the first record (the first response's
 * records are not timed). A single instance reads with its defaults
 * (fetch.min.bytes -1: a read answers at max_bytes or after its timeout) and
 * asks for no more bytes than it still needs, so its last read ends with its
 * last record; a group's members set fetch.min.bytes instead, since one
 * member's last read cannot know what the others still get.
 */
async function proxyConsume (url: string, topic: string, group: string, instances: number, total: number, pids: () => number[]): Promise<Measure> {
  const names = Array.from({ length: instances }, (_, i) => `c${i}`)
  const conns = names.map(() => connection(url))
  for (const [i, name] of names.entries()) {
    const conn = conns[i] as Connection
    const settings = { name, format: 'binary', 'auto.offset.reset': 'earliest', 'consumer.request.timeout.ms': 1000, ...(instances > 1 ? { 'fetch.min.bytes': 1048576 } : {}) }
    const res = await conn.call('POST', `/consumers/${group}`, JSON.stringify(settings))
    if (res.status !== 200) throw new Error(`create: ${res.status} ${res.text}`)
    const sub = await conn.call('POST', `/consumers/${group}/instances/${name}/subscription`, JSON.stringify({ topics: [topic] }))
    if (sub.status !== 204) throw new Error(`subscribe: ${sub.status}`)
  }
  let consumed = 0
  let untimed = 0
  let errors = 0
  let started = 0
  let cpuAtStart = 0
  await Promise.all(names.map(async (name, i) => {
    const conn = conns[i] as Connection
    while (consumed < total) {
      const maxBytes = instances === 1 ? Math.min(8 * 1048576, (total - consumed) * 100) : 8 * 1048576
      const res = await conn.call('GET', `/consumers/${group}/instances/${name}/records?max_bytes=${maxBytes}`, undefined, 'application/vnd.kafka.binary.v2+json')
      if (res.status !== 200) {
        errors++
        continue
      }
      // Count records without building objects: each record has one "offset".
      let n = 0
      for (let j = res.text.indexOf('"offset":'); j !== -1; j = res.text.indexOf('"offset":', j + 9)) n++
      if (n > 0 && started === 0) {
        started = performance.now()
        cpuAtStart = cpuSeconds(pids())
        untimed = n
      }
      consumed += n
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const cpuUsPerRecord = (cpuSeconds(pids()) - cpuAtStart) / (consumed - untimed) * 1e6
  for (const [i, name] of names.entries()) await (conns[i] as Connection).call('DELETE', `/consumers/${group}/instances/${name}`)
  for (const conn of conns) conn.close()
  const rps = (consumed - untimed) / seconds
  return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors, cpuUsPerRecord }
}

/**
 * Reads `total` records over one SSE stream of the whole topic from its
 * start, counting events by their `data:` lines (one per record) without
 * parsing them; timed from the first record, as the v2 consume is.
 */
async function sseConsume (url: string, topic: string, total: number, pids: () => number[]): Promise<Measure> {
  const path = await streamPath(url, topic, 'from=earliest')
  return await new Promise<Measure>((resolve, reject) => {
    const counter = new RecordCounter(total, pids)
    let tail = ''
    const req = http.get(`${url}${path}`, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`sse: ${res.statusCode ?? 0}`))
        res.resume()
        return
      }
      res.setEncoding('latin1')
      res.on('data', (chunk: string) => {
        const text = tail + chunk
        let n = 0
        for (let j = text.indexOf('\ndata:'); j !== -1; j = text.indexOf('\ndata:', j + 6)) n++
        // A "data:" split across chunks is counted once, in the next chunk.
        const keep = text.lastIndexOf('\n')
        tail = keep === -1 ? text : text.slice(keep)
        if (tail.startsWith('\ndata:')) n--
        const done = counter.add(n)
        if (done !== null) {
          req.destroy()
          resolve(done)
        }
      })
      res.on('error', () => {})
    })
    req.on('error', (err) => { if (!counter.finished) reject(err) })
  })
}

/** One WebSocket on the stream path from the earliest offsets; counts record frames (those with an id first). */
async function wsConsume (url: string, topic: string, total: number, pids: () => number[]): Promise<Measure> {
  const { WebSocket } = await import('ws')
  const path = await streamPath(url, topic, 'from=earliest')
  return await new Promise<Measure>((resolve, reject) => {
    const counter = new RecordCounter(total, pids)
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`)
    socket.on('message', (data: Buffer, binary: boolean) => {
      if (binary || data[2] !== 0x69 || data[3] !== 0x64) return // not {"id":…
      const done = counter.add(1)
      if (done !== null) {
        socket.terminate()
        resolve(done)
      }
    })
    socket.on('error', (err) => { if (!counter.finished) reject(err) })
    socket.on('close', () => { if (!counter.finished) reject(new Error(`ws closed after ${counter.consumed} records`)) })
  })
}

/** The stream path of a whole topic with `query` ('' for none), on the proxy's cluster. */
async function streamPath (url: string, topic: string, query: string): Promise<string> {
  const clusters = await (await fetch(`${url}/v3/clusters`)).json() as { data: Array<{ cluster_id: string }> }
  return `/v3/clusters/${clusters.data[0]?.cluster_id ?? ''}/topics/${topic}/records${query === '' ? '' : `?${query}`}`
}

/**
 * Counts pushed records up to `total`, timed from the first arrival (whose
 * records are not timed), as the v2 consume is; the CPU of the proxy's processes over the same span.
 */
class RecordCounter {
  consumed = 0
  finished = false
  private untimed = 0
  private started = 0
  private cpuAtStart = 0

  constructor (private readonly total: number, private readonly pids: () => number[]) {}

  /** Adds `n` records; the measure once `total` arrived, else null. */
  add (n: number): Measure | null {
    if (n <= 0 || this.finished) return null
    if (this.started === 0) {
      this.started = performance.now()
      this.cpuAtStart = cpuSeconds(this.pids())
      this.untimed = n
    }
    this.consumed += n
    if (this.consumed < this.total) return null
    this.finished = true
    const seconds = (performance.now() - this.started) / 1000
    const timed = this.consumed - this.untimed
    const rps = timed / seconds
    return { recordsPerSec: rps, mbPerSec: rps * 100 / 1e6, errors: 0, cpuUsPerRecord: (cpuSeconds(this.pids()) - this.cpuAtStart) / timed * 1e6 }
  }
}

interface Connection {
  call: (method: string, path: string, body?: string, accept?: string) => Promise<{ status: number, text: string }>
  close: () => void
}

/**
 * One keep-alive connection, as a client that keeps its connection has. An
 * instance lives in the worker process that created it; calls arriving at
 * another worker are relayed to it, which `fetch` (undici) makes happen by
 * opening a second connection right after the first call.
 */
function connection (base: string): Connection {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    call: (method, path, body, accept) => new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = accept === undefined ? {} : { accept }
      if (body !== undefined) {
        headers['content-type'] = 'application/vnd.kafka.v2+json'
        headers['content-length'] = Buffer.byteLength(body)
      }
      const req = http.request(base + path, { method, agent, headers }, (res) => {
        res.setEncoding('utf8')
        let text = ''
        res.on('data', (chunk: string) => { text += chunk })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    }),
    close: () => agent.destroy()
  }
}

function fmt (n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function printTable (results: ScenarioResult[]): void {
  const rows = [['scenario', 'proxy rec/s', 'proxy MB/s', 'baseline rec/s', 'java rec/s', 'ratio', 'CPU µs/rec proxy/baseline', 'p50 ms', 'p99 ms', 'p999 ms', 'errors', 'peak RSS MiB', 'cores proxy/broker/loadgen', 'target', 'met']]
  for (const r of results) {
    rows.push([r.name, fmt(r.proxy.recordsPerSec), fmt(r.proxy.mbPerSec, 1), fmt(r.native.recordsPerSec), fmt(r.reference?.recordsPerSec), fmt(r.ratio, 2), r.native.cpuUsPerRecord === undefined ? '-' : `${fmt(r.proxy.cpuUsPerRecord, 1)}/${fmt(r.native.cpuUsPerRecord, 1)}`,
      fmt(r.proxy.p50, 1), fmt(r.proxy.p99, 1), fmt(r.proxy.p999, 1), String(r.proxy.errors + r.native.errors), fmt(r.proxy.rssPeakMiB),
      r.proxy.cores === undefined ? '-' : `${fmt(r.proxy.cores.proxy, 2)}/${fmt(r.proxy.cores.broker, 2)}/${fmt(r.proxy.cores.loadgen, 2)}`, r.target, r.met === null ? '-' : r.met ? 'yes' : 'no'])
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)))
  for (const row of rows) process.stdout.write(row.map((c, i) => i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)).join('  ') + '\n')
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
