// The soak run (`npm run soak -- --minutes N`, not part of npm test or CI):
// the real entry point (primary + 2 workers) against a broker of its own for
// N minutes of mixed traffic: the delivery ledger's produce clients (v2
// binary, v2 json, v3 stream, an application route), a v2 consumer group reading what they write,
// and v3 admin calls (create, list, delete topics), with the broker SIGKILLed
// and restarted every --restart-every minutes. test/soak/probe.mjs samples
// every process every 10 s (RSS, heap, event-loop delay, active handles, open
// fds). The run fails on any lost record or a "no" found in Kafka, or when a
// process's RSS grows over the last half of the run by more than
// max(16 MiB, 10% of its mean) on a least-squares line. It writes
// <out>/soak.json and <out>/soak.svg (RSS per process, restarts marked).
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { kafkaLibDir, projectRoot, startBroker, type RunningBroker } from '../../src/dev/kafka-broker.js'
import { createTopic } from '../helpers/kafka.js'
import { Ledger, SOUND, formatReport, ledgerRoute, readTopic, soundness } from '../helpers/ledger.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'restart-every': { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results' }
  }
})
const minutes = Number(values.minutes)
const restartEveryMs = Number(values['restart-every']) * 60_000
const outDir = path.resolve(values.out)
if (!(minutes > 0) || !(restartEveryMs > 0)) throw new Error('--minutes and --restart-every must be positive numbers')

const ROOT = projectRoot()
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const log = (msg: string): void => { process.stderr.write(`[soak ${new Date().toISOString()}] ${msg}\n`) }

interface Sample { t: number, pid: number, role: string, rssMiB: number, heapMiB: number, eldP50Ms: number, eldP99Ms: number, eldMaxMs: number, handles: number, fds: number }

async function main (): Promise<number> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'kafka-proxy-soak-'))
  const probeFile = path.join(work, 'samples.jsonl')
  const dataDir = path.join(work, 'broker')
  let broker: RunningBroker = await startBroker({ libDir: kafkaLibDir(ROOT), dataDir, properties: { 'auto.create.topics.enable': 'false' } })
  const servers = broker.bootstrapServers
  log(`broker at ${servers}`)
  const topic = `soak-${Date.now()}`
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PROBE, MAIN], {
    env: {
      ...process.env,
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: servers,
      KAFKA_PROXY_SERVER__HOST: '127.0.0.1',
      KAFKA_PROXY_SERVER__PORT: '0',
      KAFKA_PROXY_SERVER__WORKERS: '2',
      KAFKA_PROXY_LOG__LEVEL: 'info',
      KAFKA_PROXY_ROUTES: JSON.stringify([ledgerRoute(topic)]),
      SOAK_PROBE_FILE: probeFile
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const l = JSON.parse(line) as { msg?: string, port?: number }
        if (l.msg?.startsWith('proxy listening on') === true && typeof l.port === 'number') resolve(l.port)
      } catch {}
    })
    exited.then(() => reject(new Error('the proxy exited before listening')), () => {})
  })
  const url = `http://127.0.0.1:${port}`
  log(`proxy at ${url}`)

  await createTopic(topic, 3, servers)
  const ledger = new Ledger()
  const load = ledger.start({ url, topic, clients: { 'v2-binary': 2, 'v2-json': 1, 'v3-stream': 1, route: 1 }, routePath: '/ledger', ratePerClient: 25 })
  const state = { stop: false }
  const counts = { consumed: 0, readErrors: 0, adminCalls: 0, adminErrors: 0, restarts: 0, adminStatuses: {} as Record<string, number> }
  const restarts: number[] = []
  const started = Date.now()

  const consumer = async (name: string): Promise<void> => {
    const group = `${topic}-readers`
    const headers = { 'content-type': 'application/vnd.kafka.v2+json' }
    const base = `${url}/consumers/${group}/instances/${name}`
    while (!state.stop) {
      try {
        const created = await fetch(`${url}/consumers/${group}`, { method: 'POST', headers, body: JSON.stringify({ name, format: 'binary', 'auto.offset.reset': 'earliest' }) })
        if (created.status !== 200 && created.status !== 409) throw new Error(`create ${created.status}`)
        await created.arrayBuffer()
        const sub = await fetch(`${base}/subscription`, { method: 'POST', headers, body: JSON.stringify({ topics: [topic] }) })
        await sub.arrayBuffer()
        while (!state.stop) {
          const res = await fetch(`${base}/records?timeout=1000`, { headers: { accept: 'application/vnd.kafka.binary.v2+json' } })
          const body = await res.json() as unknown
          if (res.status === 200 && Array.isArray(body)) counts.consumed += body.length
          else if (res.status === 404) break
          else {
            counts.readErrors++
            await sleep(200)
          }
        }
      } catch {
        counts.readErrors++
        await sleep(500)
      }
    }
    await fetch(base, { method: 'DELETE', headers }).catch(() => {})
  }

  const admin = async (): Promise<void> => {
    const json = { 'content-type': 'application/json' }
    let n = 0
    while (!state.stop) {
      await sleep(5000)
      try {
        const clusters = await (await fetch(`${url}/v3/clusters`)).json() as { data?: Array<{ cluster_id: string }> }
        const cid = clusters.data?.[0]?.cluster_id
        if (cid === undefined) throw new Error('no cluster')
        const name = `${topic}-admin-${++n}`
        const steps = [
          fetch(`${url}/v3/clusters/${cid}/topics`, { method: 'POST', headers: json, body: JSON.stringify({ topic_name: name, partitions_count: 1, replication_factor: 1 }) }),
          fetch(`${url}/v3/clusters/${cid}/topics`),
          fetch(`${url}/v3/clusters/${cid}/topics/${name}`, { method: 'DELETE' })
        ]
        for (const step of steps) {
          const res = await step
          await res.arrayBuffer()
          counts.adminCalls++
          counts.adminStatuses[res.status] = (counts.adminStatuses[res.status] ?? 0) + 1
          if (res.status >= 500) counts.adminErrors++
        }
      } catch {
        counts.adminErrors++
      }
    }
  }

  const loops = [consumer('reader-1'), consumer('reader-2'), admin()]
  const deadline = started + minutes * 60_000
  let nextRestart = started + restartEveryMs
  while (Date.now() < deadline) {
    await sleep(Math.max(0, Math.min(deadline, nextRestart) - Date.now()))
    if (Date.now() >= nextRestart && Date.now() < deadline - 60_000) {
      log('broker SIGKILL and restart')
      restarts.push(Date.now())
      process.kill(broker.pid, 'SIGKILL')
      await broker.stop()
      broker = await startBroker({ libDir: kafkaLibDir(ROOT), dataDir, port: broker.port, properties: { 'auto.create.topics.enable': 'false' } })
      counts.restarts++
      nextRestart = Date.now() + restartEveryMs
    } else if (Date.now() >= nextRestart) {
      nextRestart = deadline + 1
    }
    log(`${Math.round((Date.now() - started) / 1000)} s: ${ledger.acknowledged()} acknowledged, ${counts.consumed} consumed`)
  }
  log('stopping the load')
  await load.stop()
  state.stop = true
  await Promise.all(loops)
  child.kill('SIGTERM')
  const code = await exited

  const report = ledger.report(await readTopic(servers, topic, { timeoutMs: 300_000 }))
  await broker.stop()

  const samples = readFileSync(probeFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Sample)
  const verdicts = analyse(samples, started)
  const result = { minutes, restartEveryMs, started: new Date(started).toISOString(), exitCode: code, counts, restarts, report, verdicts, environment: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version } }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'soak.json'), JSON.stringify({ ...result, samples }, null, 1) + '\n')
  writeFileSync(path.join(outDir, 'soak.svg'), chart(samples, restarts, started, result))
  rmSync(work, { recursive: true, force: true })

  process.stdout.write(formatReport(`soak ${minutes} min`, report) + '\n')
  process.stdout.write(`consumed ${counts.consumed}, read errors ${counts.readErrors}, admin calls ${counts.adminCalls} (by status ${JSON.stringify(counts.adminStatuses)}), broker restarts ${counts.restarts}, proxy exit code ${String(code)}\n`)
  for (const v of verdicts) process.stdout.write(`${v.role} ${v.pid}: RSS ${v.firstMiB.toFixed(1)} → ${v.lastMiB.toFixed(1)} MiB, last-half trend ${v.growthMiB.toFixed(1)} MiB (limit ${v.limitMiB.toFixed(1)}), event-loop delay p99 max ${v.eldP99MaxMs.toFixed(1)} ms, handles ${v.handlesMin}-${v.handlesMax}, fds ${v.fdsMin}-${v.fdsMax}${v.leak ? '  LEAK' : ''}\n`)
  process.stdout.write(`wrote ${path.join(outDir, 'soak.json')} and ${path.join(outDir, 'soak.svg')}\n`)
  const sound = JSON.stringify(soundness(report)) === JSON.stringify(SOUND)
  return sound && !verdicts.some((v) => v.leak) && code === 0 ? 0 : 1
}

interface Verdict { pid: number, role: string, firstMiB: number, lastMiB: number, growthMiB: number, limitMiB: number, leak: boolean, eldP99MaxMs: number, handlesMin: number, handlesMax: number, fdsMin: number, fdsMax: number }

/** Per process that lived through the run: the least-squares RSS trend over its last half. */
function analyse (samples: Sample[], started: number): Verdict[] {
  const byPid = new Map<number, Sample[]>()
  for (const s of samples) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s])
  const out: Verdict[] = []
  for (const [pid, list] of byPid) {
    if (list.length < 6) continue
    const half = list.slice(Math.floor(list.length / 2))
    const xs = half.map((s) => (s.t - started) / 60_000)
    const ys = half.map((s) => s.rssMiB)
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length
    const my = ys.reduce((a, b) => a + b, 0) / ys.length
    let num = 0
    let den = 0
    for (let i = 0; i < xs.length; i++) {
      num += ((xs[i] as number) - mx) * ((ys[i] as number) - my)
      den += ((xs[i] as number) - mx) ** 2
    }
    const slope = den === 0 ? 0 : num / den
    const growthMiB = slope * ((xs[xs.length - 1] as number) - (xs[0] as number))
    const limitMiB = Math.max(16, 0.1 * my)
    out.push({
      pid,
      role: (list[0] as Sample).role,
      firstMiB: (list[0] as Sample).rssMiB,
      lastMiB: (list[list.length - 1] as Sample).rssMiB,
      growthMiB,
      limitMiB,
      leak: growthMiB > limitMiB,
      eldP99MaxMs: Math.max(...list.map((s) => s.eldP99Ms)),
      handlesMin: Math.min(...half.map((s) => s.handles)),
      handlesMax: Math.max(...half.map((s) => s.handles)),
      fdsMin: Math.min(...half.map((s) => s.fds)),
      fdsMax: Math.max(...half.map((s) => s.fds))
    })
  }
  return out
}

function chart (samples: Sample[], restarts: number[], started: number, result: { minutes: number, report: { lost: number, acknowledged: number } }): string {
  const W = 760
  const H = 340
  const L = 60
  const T = 50
  const B = 50
  const tMax = Math.max(1, ...samples.map((s) => (s.t - started) / 60_000))
  const mMax = Math.max(1, ...samples.map((s) => s.rssMiB)) * 1.1
  const px = (t: number): number => L + (W - L - 20) * t / tMax
  const py = (m: number): number => H - B - (H - T - B) * m / mMax
  const colors = ['#5b9bd5', '#ed7d31', '#70ad47', '#7030a0', '#c00000', '#808080']
  const byPid = new Map<number, Sample[]>()
  for (const s of samples) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s])
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">Soak: RSS per proxy process over ${result.minutes} min</text>`,
    `<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">${result.report.acknowledged} records acknowledged, ${result.report.lost} lost; dashed: broker SIGKILL + restart</text>`
  ]
  for (let m = 0; m <= mMax; m += mMax > 400 ? 100 : 50) parts.push(`<line x1="${L}" y1="${py(m)}" x2="${W - 20}" y2="${py(m)}" stroke="#eee"/>`, `<text x="${L - 6}" y="${py(m) + 4}" text-anchor="end" fill="#555">${m} MiB</text>`)
  const step = tMax > 30 ? 10 : tMax > 10 ? 5 : 1
  for (let t = 0; t <= tMax; t += step) parts.push(`<text x="${px(t)}" y="${H - B + 16}" text-anchor="middle" fill="#555">${t} min</text>`)
  for (const r of restarts) parts.push(`<line x1="${px((r - started) / 60_000)}" y1="${T}" x2="${px((r - started) / 60_000)}" y2="${H - B}" stroke="#999" stroke-dasharray="4 3"/>`)
  let i = 0
  for (const [pid, list] of byPid) {
    const color = colors[i % colors.length] as string
    const points = list.map((s) => `${px((s.t - started) / 60_000).toFixed(1)},${py(s.rssMiB).toFixed(1)}`).join(' ')
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points}"/>`,
      `<text x="${L + 10 + i * 150}" y="${H - 12}" fill="${color}">${(list[0] as Sample).role} ${pid}</text>`)
    i++
  }
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
