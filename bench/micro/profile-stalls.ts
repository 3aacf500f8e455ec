// How long each proxy thread's event loop was busy without a break, from the V8
// CPU profiles that `npm run bench -- --profile <dir>` writes. A request that
// arrives during a busy stretch waits for it to end, so the distribution of
// stretch lengths bounds the queueing delay the event loop adds to a request's
// latency; garbage-collection stretches are reported on their own, and the
// functions seen during long stretches say what made them long.
// The same directory may hold the per-second event-loop delay records of
// `bench/run.ts --eld <dir>` (eld-<pid>.json); they are summarised over the
// seconds in which the process was loaded (event-loop utilization >= 5%).
// Run: node --import tsx bench/micro/profile-stalls.ts <dir> [--min-ms 2]
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { 'min-ms': { type: 'string', default: '2' } } })
const dir = positionals[0] ?? '.'
const LONG_MS = Number(flags['min-ms'])
// The thread is waiting, not working: the event loop idle in epoll, or a pool
// thread parked for its next task.
const WAITING = /^(\(idle\)|atomicsWaitLoop)$/
const GC = '(garbage collector)'

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0
}

const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()
const inLong = new Map<string, number>()
let inLongTotal = 0
for (const file of files) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const wallMs = (profile.endTime - profile.startTime) / 1000
  const busy: number[] = []
  const gc: number[] = []
  let run = 0
  let gcRun = 0
  let busyMs = 0
  let gcMs = 0
  let stretch: string[] = []
  const close = (): void => {
    if (run > 0) busy.push(run)
    if (run >= LONG_MS) {
      for (const k of stretch) { inLong.set(k, (inLong.get(k) ?? 0) + 1); inLongTotal++ }
    }
    run = 0
    stretch = []
  }
  // timeDeltas[i] is the time from sample i-1 to sample i; the sample's
  // function is what ran during (approximately) that interval.
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number)
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    const name = node?.callFrame.functionName ?? ''
    if (node === undefined || WAITING.test(name)) {
      close()
      if (gcRun > 0) { gc.push(gcRun); gcRun = 0 }
      continue
    }
    run += ms
    busyMs += ms
    const url = node.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|src|workers|dist)\//, '$1/')
    stretch.push(`${name || '(anonymous)'} ${url}${url === '' ? '' : `:${node.callFrame.lineNumber + 1}`}`)
    if (name === GC) {
      gcRun += ms
      gcMs += ms
    } else if (gcRun > 0) {
      gc.push(gcRun)
      gcRun = 0
    }
  }
  close()
  if (gcRun > 0) gc.push(gcRun)
  if (busyMs < 0.01 * wallMs) continue
  const long = busy.filter((b) => b >= LONG_MS)
  process.stdout.write(`${file}: ${(wallMs / 1000).toFixed(1)} s, busy ${(busyMs / wallMs * 100).toFixed(0)}%, GC ${(gcMs / wallMs * 100).toFixed(1)}% of wall\n`)
  process.stdout.write(`  busy stretches: ${busy.length}, p50 ${q(busy, 0.5).toFixed(1)} ms, p99 ${q(busy, 0.99).toFixed(1)} ms, max ${Math.max(0, ...busy).toFixed(1)} ms; >= ${LONG_MS} ms: ${long.length} (${(long.reduce((a, b) => a + b, 0) / wallMs * 100).toFixed(1)}% of wall), >= 5 ms: ${busy.filter((b) => b >= 5).length}, >= 10 ms: ${busy.filter((b) => b >= 10).length}\n`)
  process.stdout.write(`  GC pauses: ${gc.length}, p50 ${q(gc, 0.5).toFixed(1)} ms, p99 ${q(gc, 0.99).toFixed(1)} ms, max ${Math.max(0, ...gc).toFixed(1)} ms\n`)
}
process.stdout.write(`\nwhat runs during busy stretches >= ${LONG_MS} ms (share of their samples, all threads):\n`)
for (const [k, n] of [...inLong].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  process.stdout.write(`  ${(n / Math.max(1, inLongTotal) * 100).toFixed(1).padStart(5)}%  ${k}\n`)
}

interface EldSecond { t: number, elu: number, eldP50: number, eldP99: number, eldMax: number, gcCount: number, gcTotalMs: number, gcMaxMs: number }
for (const file of readdirSync(dir).filter((f) => /^eld-\d+\.json$/.test(f)).sort()) {
  const { seconds } = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { seconds: EldSecond[] }
  const loaded = seconds.filter((s) => s.elu >= 0.05)
  if (loaded.length === 0) continue
  const gcPerSec = loaded.map((s) => s.gcCount)
  process.stdout.write(`\n${file}: ${loaded.length} loaded seconds, event-loop utilization median ${(median(loaded.map((s) => s.elu)) * 100).toFixed(0)}%\n`)
  process.stdout.write(`  event-loop delay per second: p50 median ${median(loaded.map((s) => s.eldP50)).toFixed(1)} ms, p99 median ${median(loaded.map((s) => s.eldP99)).toFixed(1)} ms (worst second ${Math.max(...loaded.map((s) => s.eldP99)).toFixed(1)}), max median ${median(loaded.map((s) => s.eldMax)).toFixed(1)} ms (worst ${Math.max(...loaded.map((s) => s.eldMax)).toFixed(1)}); seconds with a delay > 8 ms: ${loaded.filter((s) => s.eldMax > 8).length}\n`)
  process.stdout.write(`  GC: ${median(gcPerSec).toFixed(0)} pauses/s, ${median(loaded.map((s) => s.gcTotalMs)).toFixed(1)} ms/s, longest per second median ${median(loaded.map((s) => s.gcMaxMs)).toFixed(1)} ms (worst ${Math.max(...loaded.map((s) => s.gcMaxMs)).toFixed(1)})\n`)
}

function median (xs: number[]): number {
  return q(xs, 0.5)
}
