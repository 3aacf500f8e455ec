// Shared pieces of the benchmark harness: the proxy and helper processes,
// topic setup, memory sampling and summary statistics.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { AdminClient } from '../src/kafka/binding.js'
import { kafkaLibDir, projectRoot } from '../src/dev/kafka-broker.js'
import { findJava } from '../src/dev/guard.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface ProxyProcess {
  child: ChildProcess
  url: string
  pids: () => number[]
  stop: () => Promise<void>
}

/** Boots the compiled proxy (dist/) with its cluster of workers, the way `npm start` runs it. */
export async function bootProxy (bootstrap: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<ProxyProcess> {
  // Cluster workers inherit the primary's execArgv (e.g. --cpu-prof).
  const child = spawn(process.execPath, [...execArgv, `${ROOT}dist/src/main.js`], {
    env: {
      ...process.env,
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: bootstrap,
      KAFKA_PROXY_SERVER__HOST: '127.0.0.1',
      KAFKA_PROXY_SERVER__PORT: '0',
      KAFKA_PROXY_LOG__LEVEL: 'info',
      ...env
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const workers = new Set<number>()
  let port = 0
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`proxy exited with ${code} before listening`)))
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let msg: { msg?: string, port?: number, worker_pid?: number, level?: string }
      try { msg = JSON.parse(line) } catch { return }
      if (msg.msg === 'worker listening' && msg.worker_pid !== undefined) workers.add(msg.worker_pid)
      if (msg.msg?.startsWith('proxy listening on') === true && msg.port !== undefined) {
        port = msg.port
        resolve()
      }
      if (msg.level === 'error' || msg.level === 'fatal') process.stderr.write(`proxy: ${line}\n`)
    })
  })
  await ready
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    pids: () => [child.pid as number, ...workers],
    stop: () => stopChild(child)
  }
}

export function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 30000).unref()
  })
}

/** Runs a bench helper script (TypeScript via tsx) and returns its last stdout line as JSON. */
export async function runJson<T> (script: string, args: string[]): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}bench/${script}`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  const last = out.trim().split('\n').pop() ?? ''
  return JSON.parse(last) as T
}

/** Sum of the resident set sizes of `pids`, in bytes. */
export function rssOf (pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m !== null) total += Number(m[1]) * 1024
    } catch {
      // The process is gone.
    }
  }
  return total
}

/** Samples the RSS of `pids()` every `everyMs` until stopped; returns the samples. */
export function sampleRss (pids: () => number[], everyMs = 250): { stop: () => number[] } {
  const samples: number[] = []
  const timer = setInterval(() => samples.push(rssOf(pids())), everyMs)
  return {
    stop: () => {
      clearInterval(timer)
      samples.push(rssOf(pids()))
      return samples
    }
  }
}

export async function createTopic (bootstrap: string, topic: string, partitions: number): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': bootstrap })
  try {
    await new Promise<void>((resolve, reject) => admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, 15000, (err) => err ? reject(err) : resolve()))
  } finally {
    admin.disconnect()
  }
}

export function median (xs: number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** CPU seconds (user + system, all threads) used so far by `pids`, from /proc/<pid>/stat. */
export function cpuSeconds (pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      // Fields after the command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // The process is gone.
    }
  }
  return ticks / 100
}

/** Kafka's own command-line tools, by the names `npm run kafka` gives them (scripts/kafka.mjs). */
export const KAFKA_TOOLS = {
  'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance'
} as const

/**
 * Runs one of Kafka's tools from the jars the setup cached (the same classpath
 * and quiet logging as `npm run kafka`) and resolves with its stdout. A
 * non-zero exit rejects with the end of its stderr: a reference figure that
 * failed must fail the scenario, not print as zero.
 */
export async function runKafkaTool (tool: keyof typeof KAFKA_TOOLS, args: string[], opts: { heapMb?: number } = {}): Promise<string> {
  const classpath = `${kafkaLibDir(projectRoot())}/*`
  const child = spawn(findJava(`kafka ${tool}`), [
    `-Xmx${opts.heapMb ?? 512}m`, '-cp', classpath, `-Dlog4j2.configurationFile=${ROOT}scripts/tools-log4j2.yaml`,
    KAFKA_TOOLS[tool], ...args
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`kafka ${tool} exited with ${code}: ${err.trim()}`)
  return out
}

export interface ProducerPerfResult {
  records: number
  recordsPerSec: number
  mbPerSec: number
  p50: number
  p99: number
  p999: number
}

/** The closing summary line of `kafka-producer-perf-test` (ProducerPerformance.printTotal). */
export function parseProducerPerf (stdout: string): ProducerPerfResult {
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(stdout.trim().split('\n').pop() ?? '')
  if (m === null) throw new Error(`kafka producer-perf-test: no summary line in ${JSON.stringify(stdout.slice(-300))}`)
  return { records: Number(m[1]), recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), p50: Number(m[4]), p99: Number(m[5]), p999: Number(m[6]) }
}
