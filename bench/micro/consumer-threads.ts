// Sizing of `consumer.threads`: how many v2 records reads may run at once per
// HTTP worker process (each consume step holds one libuv thread; the pool is
// sized threads + 4). Two measurements:
//
// 1. What an idle libuv thread costs: RSS and virtual size of a bare Node
//    process whose pool was started with UV_THREADPOOL_SIZE = n, for several n.
// 2. Consumer groups read through the real proxy (dist/, its cluster of
//    workers, a broker started here): one proxy per `consumer.threads` value,
//    all running at once and used in turn (the order rotates each round, so
//    machine drift hits every value alike). Per run, a new group of G
//    instances drains a topic of 12 partitions (records/s, read latency,
//    retriable 503s for "all consumer threads busy"; reads return at 1 MiB or
//    after 200 ms), then keeps long-polling the drained topic with the
//    instance's 1 s request timeout for a few seconds (503s per second). A
//    client that gets the 503 retries after 50 ms, as a polite client would.
//    Ratios are to the default (64) in the same round.
//
// Run: node --import tsx bench/micro/consumer-threads.ts
//   [--threads 2,4,8,16,64] [--groups 6,12] [--records 200000] [--rounds 2] [--idle 3] [--no-build]
// Writes bench/results/consumer-threads.json.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import rdkafka from '@confluentinc/kafka-javascript'
import { startBroker, kafkaLibDir, projectRoot } from '../../src/dev/kafka-broker.js'
import { bootProxy, createTopic, median, rssOf, sleep, ROOT, type ProxyProcess } from '../lib.js'

const { values: flags } = parseArgs({
  options: {
    threads: { type: 'string', default: '2,4,8,16,64' },
    groups: { type: 'string', default: '6,12' },
    records: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '2' },
    idle: { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false }
  }
})
const THREADS = (flags.threads).split(',').map(Number)
const GROUPS = (flags.groups).split(',').map(Number)
const TOTAL = Number(flags.records)
const ROUNDS = Number(flags.rounds)
const IDLE_S = Number(flags.idle)
const DEFAULT_THREADS = 64
const PARTITIONS = 12
const RETRY_MS = 50
const DRAIN_TIMEOUT_MS = 200
const JSON_V2 = 'application/vnd.kafka.v2+json'

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN
}

/** RSS and virtual size of a bare Node process after its libuv pool of `n` threads started. */
async function uvPoolCost (n: number): Promise<{ threads: number, rssKiB: number, vmKiB: number, osThreads: number }> {
  // The first queued work item starts every pool thread; the idle ones then
  // block on the pool's condition variable.
  const script = `require('fs').stat('.', () => setTimeout(() => {
    const s = require('fs').readFileSync('/proc/self/status', 'utf8')
    const f = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(s)[1])
    console.log(JSON.stringify({ rssKiB: f('VmRSS'), vmKiB: f('VmSize'), osThreads: f('Threads') }))
  }, 500))`
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, UV_THREADPOOL_SIZE: String(n) }, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await new Promise((resolve) => child.once('exit', resolve))
  return { threads: n, ...JSON.parse(out) as { rssKiB: number, vmKiB: number, osThreads: number } }
}

/** Fills `topic` with `count` records of 100 B from a native producer. */
async function fill (bootstrap: string, topic: string, count: number): Promise<void> {
  const producer = new rdkafka.Producer({ 'bootstrap.servers': bootstrap, 'linger.ms': 20, 'batch.size': 1048576, 'queue.buffering.max.messages': 2_000_000, dr_cb: true })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  producer.setPollInBackground(true)
  let acked = 0
  const done = new Promise<void>((resolve) => producer.on('delivery-report', () => { if (++acked === count) resolve() }))
  const value = Buffer.alloc(100, 97)
  for (let i = 0; i < count; i++) producer.produce(topic, i % PARTITIONS, value, null, null)
  await done
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
}

interface Run {
  threads: number
  group: number
  recordsPerSec: number
  /** Seconds from the first read to the first record: group join and assignment. */
  joinS: number
  reads: number
  busy503: number
  readP50Ms: number
  readP99Ms: number
  idleReads: number
  idleBusy503PerSec: number
  rssMiB: number
}

async function call (url: string, method: string, p: string, body?: unknown): Promise<number> {
  const res = await fetch(url + p, { method, headers: { 'content-type': JSON_V2 }, body: body === undefined ? undefined : JSON.stringify(body) })
  await res.arrayBuffer()
  return res.status
}

/** One group of `instances` drains the topic, then long-polls it for IDLE_S seconds. */
async function groupRun (proxy: ProxyProcess, threads: number, topic: string, group: string, instances: number): Promise<Run> {
  const url = proxy.url
  const names = Array.from({ length: instances }, (_, i) => `c${i}`)
  for (const name of names) {
    const created = await call(url, 'POST', `/consumers/${group}`, { name, format: 'binary', 'auto.offset.reset': 'earliest', 'fetch.min.bytes': 1048576, 'consumer.request.timeout.ms': 1000 })
    if (created !== 200) throw new Error(`create ${group}/${name}: ${created}`)
    const subscribed = await call(url, 'POST', `/consumers/${group}/instances/${name}/subscription`, { topics: [topic] })
    if (subscribed !== 204) throw new Error(`subscribe ${group}/${name}: ${subscribed}`)
  }
  let consumed = 0
  let firstRecordAt = 0
  let drainedAt = 0
  const drain = { reads: 0, busy: 0, latencies: [] as number[] }
  const idle = { reads: 0, busy: 0 }
  const started = performance.now()
  let idleUntil = Number.POSITIVE_INFINITY
  await Promise.all(names.map(async (name) => {
    while (performance.now() < idleUntil) {
      const draining = drainedAt === 0
      const t = performance.now()
      // While draining, a read that found fewer than fetch.min.bytes returns
      // after DRAIN_TIMEOUT_MS, so the last records do not wait a whole long
      // poll; once drained, reads are full long polls.
      const timeout = draining ? `&timeout=${DRAIN_TIMEOUT_MS}` : ''
      const res = await fetch(`${url}/consumers/${group}/instances/${name}/records?max_bytes=${8 * 1048576}${timeout}`, { headers: { accept: 'application/vnd.kafka.binary.v2+json' } })
      const text = await res.text()
      const side = draining ? drain : idle
      side.reads++
      if (res.status === 503) {
        side.busy++
        await sleep(RETRY_MS)
        continue
      }
      if (res.status !== 200) throw new Error(`read ${group}/${name}: ${res.status} ${text}`)
      if (draining) drain.latencies.push(performance.now() - t)
      // Each record has exactly one "offset" field; counting them avoids building objects.
      let n = 0
      for (let i = text.indexOf('"offset":'); i !== -1; i = text.indexOf('"offset":', i + 9)) n++
      if (n > 0 && firstRecordAt === 0) firstRecordAt = performance.now()
      consumed += n
      if (consumed >= TOTAL && drainedAt === 0) {
        drainedAt = performance.now()
        idleUntil = drainedAt + IDLE_S * 1000
      }
    }
  }))
  const rss = rssOf(proxy.pids())
  for (const name of names) await call(url, 'DELETE', `/consumers/${group}/instances/${name}`)
  return {
    threads,
    group: instances,
    recordsPerSec: consumed / ((drainedAt - started) / 1000),
    joinS: (firstRecordAt - started) / 1000,
    reads: drain.reads,
    busy503: drain.busy,
    readP50Ms: q(drain.latencies, 0.5),
    readP99Ms: q(drain.latencies, 0.99),
    idleReads: idle.reads,
    idleBusy503PerSec: idle.busy / IDLE_S,
    rssMiB: rss / 1048576
  }
}

async function main (): Promise<void> {
  if (flags['no-build'] !== true) {
    // The benchmark runs the compiled proxy, as `npm start` does.
    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
    if (build.status !== 0) throw new Error('build failed')
  }

  const pool = []
  for (const n of [4, 36, 68, 132, 260]) pool.push(await uvPoolCost(n))
  const base = pool[0] as (typeof pool)[number]
  const last = pool[pool.length - 1] as (typeof pool)[number]
  const perThreadRss = (last.rssKiB - base.rssKiB) / (last.threads - base.threads)
  const perThreadVm = (last.vmKiB - base.vmKiB) / (last.threads - base.threads)
  process.stdout.write('libuv pool size -> RSS / virtual size / OS threads of a bare node process\n')
  for (const p of pool) process.stdout.write(`  ${String(p.threads).padStart(4)}: ${(p.rssKiB / 1024).toFixed(1)} MiB / ${(p.vmKiB / 1024).toFixed(0)} MiB / ${p.osThreads}\n`)
  process.stdout.write(`  per idle libuv thread: ${perThreadRss.toFixed(1)} KiB RSS, ${(perThreadVm / 1024).toFixed(1)} MiB virtual\n\n`)

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-consumer-threads-'))
  const broker = await startBroker({ libDir: kafkaLibDir(projectRoot()), dataDir, heapMb: 1024 })
  const proxies = new Map<number, ProxyProcess>()
  const runs: Run[] = []
  try {
    const topic = 'bench-consumer-threads'
    await createTopic(broker.bootstrapServers, topic, PARTITIONS)
    await sleep(500)
    await fill(broker.bootstrapServers, topic, TOTAL)
    for (const threads of THREADS) {
      proxies.set(threads, await bootProxy(broker.bootstrapServers, {
        KAFKA_PROXY_CONSUMER__THREADS: String(threads),
        KAFKA_PROXY_CONSUMER__PREFETCH_MAX_BYTES: String(16 * 1048576)
      }))
    }
    let serial = 0
    for (let round = 0; round < ROUNDS; round++) {
      for (const group of GROUPS) {
        for (let k = 0; k < THREADS.length; k++) {
          const threads = THREADS[(round + k) % THREADS.length] as number
          const r = await groupRun(proxies.get(threads) as ProxyProcess, threads, topic, `threads-${threads}-g${group}-${serial++}`, group)
          runs.push(r)
          process.stdout.write(`round ${round + 1} group ${group} threads ${threads}: ${r.recordsPerSec.toFixed(0)} rec/s, join ${r.joinS.toFixed(1)} s, ${r.busy503}/${r.reads} reads 503, read p50/p99 ${r.readP50Ms.toFixed(0)}/${r.readP99Ms.toFixed(0)} ms, idle ${r.idleBusy503PerSec.toFixed(1)} 503/s of ${(r.idleReads / IDLE_S).toFixed(1)} reads/s, RSS ${r.rssMiB.toFixed(0)} MiB\n`)
        }
      }
    }
  } finally {
    for (const p of proxies.values()) await p.stop()
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }

  const summary = []
  process.stdout.write(`\n${TOTAL} records of 100 B, ${PARTITIONS} partitions, ${ROUNDS} round(s); medians; ratio = records/s against consumer.threads=${DEFAULT_THREADS} in the same round\n`)
  process.stdout.write('group  threads   rec/s  ratio  join s  503 share  read p50/p99 ms  idle 503/s  RSS MiB\n')
  for (const group of GROUPS) {
    for (const threads of THREADS) {
      const mine = runs.filter((r) => r.group === group && r.threads === threads)
      const ratios = mine.map((r, i) => {
        const ref = runs.filter((x) => x.group === group && x.threads === DEFAULT_THREADS)[i]
        return ref === undefined ? Number.NaN : r.recordsPerSec / ref.recordsPerSec
      })
      const row = {
        group,
        threads,
        recordsPerSec: median(mine.map((r) => r.recordsPerSec)),
        ratio: median(ratios),
        joinS: median(mine.map((r) => r.joinS)),
        busyShare: median(mine.map((r) => r.busy503 / r.reads)),
        readP50Ms: median(mine.map((r) => r.readP50Ms)),
        readP99Ms: median(mine.map((r) => r.readP99Ms)),
        idleBusy503PerSec: median(mine.map((r) => r.idleBusy503PerSec)),
        rssMiB: Math.max(...mine.map((r) => r.rssMiB))
      }
      summary.push(row)
      process.stdout.write(`${String(group).padStart(5)}  ${String(threads).padStart(7)}  ${row.recordsPerSec.toFixed(0).padStart(6)}  ${row.ratio.toFixed(2).padStart(5)}  ${row.joinS.toFixed(1).padStart(6)}  ${(row.busyShare * 100).toFixed(0).padStart(8)}%  ${`${row.readP50Ms.toFixed(0)}/${row.readP99Ms.toFixed(0)}`.padStart(15)}  ${row.idleBusy503PerSec.toFixed(1).padStart(10)}  ${row.rssMiB.toFixed(0).padStart(7)}\n`)
    }
  }
  const result = JSON.stringify({ environment: { date: new Date().toISOString(), load: os.loadavg(), cores: os.availableParallelism() }, uvPool: { samples: pool, perThreadRssKiB: perThreadRss, perThreadVmKiB: perThreadVm }, consumerThreads: summary, runs })
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true })
  writeFileSync(path.join(ROOT, 'bench', 'results', 'consumer-threads.json'), result + '\n')
  process.stdout.write(result + '\n')
}

main().catch((err: unknown) => {
  process.stderr.write(`consumer-threads failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
