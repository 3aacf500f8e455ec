// What the SSE stream benchmarks (bench/streams-*.ts) share: a broker in a
// temp dir and the compiled proxy with its cluster of workers (bench/lib.ts
// bootProxy), the proxy's whole process tree for RSS, raw-socket SSE clients
// with a minimal event scanner, latency histograms, and helper roles (the
// stamping producer, a process of SSE clients) that run as child processes of
// the same script, so load and measurement never share the proxy's CPU time.
//
// Records are stamped by the producer: the value starts with
// "<seq> <send time in ms> " (performance.timeOrigin + performance.now(), a
// wall-clock time with sub-millisecond resolution that processes on one
// machine share) and is padded with "x" to its size. Streams are read with
// format=string, so the stamp is the start of the value's "data" string.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import rdkafka from '@confluentinc/kafka-javascript'
import { startBroker, kafkaLibDir, projectRoot, KAFKA_VERSION, type RunningBroker } from '../src/dev/kafka-broker.js'
import { defaultConfig } from '../src/config/schema.js'
import { Producer } from '../src/kafka/binding.js'
import { producerProperties } from '../src/kafka/options.js'
import { bootProxy, createTopic, sleep, ROOT, type ProxyProcess } from './lib.js'

export const MIB = 1048576

/** A wall-clock time in ms with sub-millisecond resolution, comparable across processes on one machine. */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

/** Every pid below `root` (its children, theirs, ...) and `root` itself, from /proc. */
export function treePids (root: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid)
      if (list === undefined) children.set(ppid, [Number(name)])
      else list.push(Number(name))
    } catch {
      // Gone between the listing and the read.
    }
  }
  const out = [root]
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i] as number) ?? []))
  return out
}

/**
 * librdkafka client instances in `pids`: each runs one thread it names
 * "rdk:main" (librdkafka's rd_kafka_thread_main), so a stream detached onto a
 * reader of its own shows as one more.
 */
export function librdkafkaClients (pids: number[]): number {
  let n = 0
  for (const pid of pids) {
    let tasks: string[]
    try {
      tasks = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const t of tasks) {
      try {
        if (readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim() === 'rdk:main') n++
      } catch {}
    }
  }
  return n
}

const HEAP_METRIC = /^(nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes)\{[^}]*process="([^"]+)"[^}]*\} (\S+)$/gm

/**
 * The V8 heap (used, total) and external memory of each proxy process in MiB,
 * from the proxy's /metrics: what part of the RSS is JavaScript.
 */
export async function heapOf (url: string): Promise<Record<string, Record<string, number>>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const out: Record<string, Record<string, number>> = {}
  for (const m of text.matchAll(HEAP_METRIC)) {
    const name = (m[1] as string).replace('nodejs_', '').replace('_bytes', 'MiB')
    ;(out[m[2] as string] ??= {})[name] = Math.round(Number(m[3]) / MIB)
  }
  return out
}

/** Latencies in 10 µs units, rounded to 3 significant digits above 100 ms so a long tail stays a short list. */
export class Histogram {
  private readonly counts = new Map<number, number>()
  count = 0

  add (ms: number): void {
    let u = Math.round(ms * 100)
    if (u >= 10000) {
      const step = 10 ** (Math.floor(Math.log10(u)) - 2)
      u = Math.round(u / step) * step
    }
    this.counts.set(u, (this.counts.get(u) ?? 0) + 1)
    this.count++
  }

  merge (pairs: ReadonlyArray<readonly [number, number]>): void {
    for (const [u, c] of pairs) {
      this.counts.set(u, (this.counts.get(u) ?? 0) + c)
      this.count += c
    }
  }

  pairs (): Array<[number, number]> {
    return [...this.counts]
  }

  /** p50, p99, p999 and max in ms; null without samples. */
  summary (): { samples: number, p50: number, p99: number, p999: number, max: number } | null {
    if (this.count === 0) return null
    const keys = [...this.counts.keys()].sort((a, b) => a - b)
    const at = (q: number): number => {
      const rank = Math.ceil(q * this.count)
      let seen = 0
      for (const k of keys) {
        seen += this.counts.get(k) as number
        if (seen >= rank) return k / 100
      }
      return (keys.at(-1) as number) / 100
    }
    return { samples: this.count, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: (keys.at(-1) as number) / 100 }
  }
}

/** The stamp at `i` of `text` ("<seq> <sent ms> "), or null when it is not one. */
export function parseStamp (text: string, i: number): { seq: number, sent: number } | null {
  const space = text.indexOf(' ', i)
  const end = space === -1 ? -1 : text.indexOf(' ', space + 1)
  if (end === -1) return null
  const seq = Number(text.slice(i, space))
  const sent = Number(text.slice(space + 1, end))
  return Number.isInteger(seq) && Number.isFinite(sent) ? { seq, sent } : null
}

const VALUE_MARK = '"value":{"type":"STRING","data":"'
const HEARTBEAT = ': heartbeat\n'
const ERROR_MARK = 'event: error\ndata: '

/**
 * Just enough of an SSE parser for counting: the start (`retry:`),
 * heartbeats, the stamp of each record, and the data of a final error event.
 * Only complete lines are looked at; the rest waits for the next chunk.
 */
export class SseScanner {
  started = false
  heartbeats = 0
  records = 0
  bytes = 0
  /** The data of an `event: error` (our error body plus the id to resume from). */
  error: string | null = null
  private rest = ''

  constructor (private readonly onRecord: (seq: number, sent: number, received: number) => void = () => {}) {}

  feed (chunk: Buffer, received = now()): void {
    this.bytes += chunk.length
    const text = this.rest + chunk.toString('latin1')
    const end = text.lastIndexOf('\n') + 1
    this.rest = text.slice(end)
    if (end === 0) return
    if (!this.started && text.lastIndexOf('retry:', end) !== -1) this.started = true
    for (let i = text.indexOf(HEARTBEAT); i !== -1 && i < end; i = text.indexOf(HEARTBEAT, i + HEARTBEAT.length)) this.heartbeats++
    for (let i = text.indexOf(VALUE_MARK); i !== -1 && i < end; i = text.indexOf(VALUE_MARK, i + VALUE_MARK.length)) {
      this.records++
      const stamp = parseStamp(text, i + VALUE_MARK.length)
      if (stamp !== null) this.onRecord(stamp.seq, stamp.sent, received)
    }
    const e = text.indexOf(ERROR_MARK)
    if (e !== -1 && e < end) this.error = text.slice(e + ERROR_MARK.length, text.indexOf('\n', e + ERROR_MARK.length))
  }
}

export interface SseConnection {
  req: http.ClientRequest
  res: http.IncomingMessage
  /** From the request to the stream's first bytes (its `retry:` line); for `paused`, to the response head. */
  connectMs: number
  /** Set once the response or its socket is gone. */
  closed: boolean
}

/**
 * Opens one SSE stream on a socket of its own (agent: false). Resolves once
 * the stream started; rejects with the status and body of any other answer.
 * `paused`: resolves at the response head and leaves reading to the caller.
 */
export function openSse (url: string, scanner: SseScanner, opts: { paused?: boolean } = {}): Promise<SseConnection> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { body += c })
        res.on('end', () => reject(new Error(`${res.statusCode}: ${body.slice(0, 300)}`)))
        return
      }
      const conn: SseConnection = { req, res, connectMs: 0, closed: false }
      res.once('close', () => { conn.closed = true })
      if (opts.paused === true) {
        conn.connectMs = performance.now() - started
        resolve(conn)
        return
      }
      res.on('data', (chunk: Buffer) => {
        scanner.feed(chunk)
        if (conn.connectMs === 0 && scanner.started) {
          conn.connectMs = performance.now() - started
          resolve(conn)
        }
      })
      res.once('end', () => reject(new Error('the stream ended before it started')))
    })
    req.once('error', reject)
    req.end()
  })
}

/** The id of the cluster the proxy at `url` serves. */
async function clusterIdOf (url: string): Promise<string> {
  const res = await fetch(`${url}/v3/clusters`)
  if (!res.ok) throw new Error(`GET /v3/clusters: ${res.status} ${await res.text()}`)
  const body = await res.json() as { data: Array<{ cluster_id: string }> }
  return (body.data[0] as { cluster_id: string }).cluster_id
}

export interface StreamsBench {
  bootstrap: string
  proxy: ProxyProcess
  /** The SSE URL of a topic's records. */
  streamUrl: (topic: string, query?: string) => string
  /** The proxy's primary and everything below it. */
  pids: () => number[]
  /** Starts a helper role of `script` (see runRole); it is killed at the end if still running. */
  spawn: <T>(script: string, role: string, args: object) => RoleProcess<T>
}

export interface BenchOptions {
  /** Proxy settings as KAFKA_PROXY_<TABLE>__<KEY> variables. */
  env: Record<string, string>
  topics: Array<{ name: string, partitions: number }>
  /** Build dist/ first (incremental); false runs whatever dist/ holds. */
  build: boolean
}

function buildDist (build: boolean): void {
  if (build) {
    const out = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
    if (out.status !== 0) throw new Error('the build of dist/ failed')
    return
  }
  let built: number
  try {
    built = statSync(path.join(ROOT, 'dist/.tsbuildinfo')).mtimeMs
  } catch {
    throw new Error('dist/ is missing: run `npm run build` (or leave out --no-build)')
  }
  const src = path.join(ROOT, 'src')
  const newer = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && statSync(path.join(src, f)).mtimeMs > built)
  if (newer.length > 0) process.stderr.write(`warning: dist/ is older than ${newer.length} file(s) in src/ (e.g. src/${newer[0]}); measuring the last build\n`)
}

/**
 * Runs `fn` against a broker of its own and the compiled proxy, and stops
 * every process it started afterwards, on an error and on SIGINT/SIGTERM too.
 * `fn` resolves true when the run saw no errors; otherwise the exit code is 1.
 */
export async function withStreamsBench (opts: BenchOptions, fn: (bench: StreamsBench) => Promise<boolean>): Promise<void> {
  buildDist(opts.build)
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-streams-'))
  const children = new Set<ChildProcess>()
  let broker: RunningBroker | null = null
  let proxy: ProxyProcess | null = null
  let cleaning: Promise<void> | null = null
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      await proxy?.stop()
      await broker?.stop()
      rmSync(dataDir, { recursive: true, force: true })
    })()
    return cleaning
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: stopping the proxy and the broker\n`)
    cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    broker = await startBroker({ libDir: kafkaLibDir(projectRoot()), dataDir, heapMb: 1024 })
    for (const t of opts.topics) await createTopic(broker.bootstrapServers, t.name, t.partitions)
    // BENCH_PROXY_PROFILE=<dir>: V8 CPU profiles of the proxy's processes (summarise with bench/profile-summary.ts).
    const profile = process.env.BENCH_PROXY_PROFILE
    proxy = await bootProxy(broker.bootstrapServers, opts.env, profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`, '--cpu-prof-interval=1000'])
    const p = proxy
    const clusterId = await clusterIdOf(p.url)
    const ok = await fn({
      bootstrap: broker.bootstrapServers,
      proxy: p,
      streamUrl: (topic, query = '') => `${p.url}/v3/clusters/${clusterId}/topics/${encodeURIComponent(topic)}/records${query === '' ? '' : `?${query}`}`,
      pids: () => treePids(p.child.pid as number),
      spawn: <T>(script: string, role: string, args: object) => {
        const r = spawnRole<T>(script, role, args)
        children.add(r.child)
        return r
      }
    })
    if (!ok) process.exitCode = 1
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Where and with what the numbers were taken. */
export function environment (env: Record<string, string>): Record<string, unknown> {
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    kafka: KAFKA_VERSION,
    librdkafka: rdkafka.librdkafkaVersion,
    proxy: 'dist/src/main.js (cluster primary + workers), bench/lib.ts bootProxy',
    proxySettings: env
  }
}

/** Prints the result as JSON, then the one-line summary last. */
export function report (result: object, summary: string): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n${summary}\n`)
}

// Helper roles: `node --import tsx <script> --role <name> <json args>`. A role
// prints {"ready":true} once it is set up and its result as the last line of
// stdout; a line "stop" on stdin (or its end: the parent is gone) asks it to
// finish with what it has.

export interface RoleIo {
  ready: () => void
  /** Resolves when the parent asks the role to stop. */
  stopped: Promise<void>
  /** True once it has. */
  isStopped: () => boolean
}

/** A role takes the JSON args its parent passed; each role names their type. */
export type Role = (args: never, io: RoleIo) => Promise<object>

export interface RoleProcess<T> {
  child: ChildProcess
  ready: Promise<void>
  result: Promise<T>
  stop: () => void
}

function spawnRole<T> (script: string, role: string, args: object): RoleProcess<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--role', role, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] })
  let last: unknown = null
  let onReady = (): void => {}
  const ready = new Promise<void>((resolve) => { onReady = resolve })
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let msg: unknown
    try { msg = JSON.parse(line) } catch { return }
    if ((msg as { ready?: boolean }).ready === true) onReady()
    else last = msg
  })
  const result = new Promise<T>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      if (code === 0 && last !== null) resolve(last as T)
      else reject(new Error(`${path.basename(script)} --role ${role} exited with ${code ?? signal}`))
    })
  })
  result.catch(() => {})
  child.stdin?.on('error', () => {})
  return {
    child,
    ready: Promise.race([ready, result.then(() => { throw new Error(`${role} ended before it was ready`) })]),
    result,
    stop: () => { child.stdin?.end('stop\n') }
  }
}

/** When this process was started as a role of its script, runs it and exits; otherwise returns. */
export async function runRole (roles: Record<string, Role>): Promise<void> {
  if (process.argv[2] !== '--role') return
  const role = roles[process.argv[3] ?? '']
  if (role === undefined) throw new Error(`unknown role ${process.argv[3]}`)
  let isStopped = false
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      isStopped = true
      resolve()
    }
    process.stdin.on('data', (d: Buffer) => { if (d.toString().includes('stop')) stop() })
    process.stdin.once('end', stop)
  })
  const result = await role(JSON.parse(process.argv[4] ?? '{}') as never, {
    ready: () => { process.stdout.write('{"ready":true}\n') },
    stopped,
    isStopped: () => isStopped
  })
  await new Promise((resolve) => process.stdout.write(JSON.stringify(result) + '\n', resolve))
  process.exit(0)
}

export interface ProducerArgs {
  bootstrap: string
  topic: string
  /** Records per second, on an absolute schedule. */
  rate: number
  seconds: number
  bytes: number
  lingerMs: number
}

export interface ProducerResult {
  sent: number
  acked: number
  errors: number
  seconds: number
  /** The most the producer fell behind its schedule, in ms. */
  maxBehindMs: number
  settings: Record<string, unknown>
}

/**
 * The stamping producer: librdkafka with the proxy's producer properties
 * (linger.ms from the args), one record at a time as its time comes, each
 * stamped with the moment it is handed to produce().
 */
export const producerRole: Role = async (a: ProducerArgs, io): Promise<ProducerResult> => {
  const config = defaultConfig()
  const properties = producerProperties({ ...config.kafka, bootstrap_servers: a.bootstrap }, { ...config.producer, linger_ms: a.lingerMs })
  const producer = new Producer(properties)
  let acked = 0
  let errors = 0
  producer.on('delivery-report', (err) => {
    if (err !== null && err !== undefined) errors++
    else acked++
  })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  producer.setPollInBackground(true)
  const pad = Buffer.alloc(a.bytes, 'x')
  const total = Math.round(a.rate * a.seconds)
  io.ready()
  const start = performance.now()
  let sent = 0
  let maxBehindMs = 0
  while (sent < total && !io.isStopped()) {
    const due = Math.min(total, Math.floor((performance.now() - start) * a.rate / 1000) + 1)
    if (due > sent) maxBehindMs = Math.max(maxBehindMs, performance.now() - (start + sent * 1000 / a.rate))
    for (; sent < due; sent++) {
      const value = Buffer.from(pad)
      value.write(`${sent} ${now().toFixed(3)} `, 0, 'latin1')
      try {
        producer.produce(a.topic, null, value, null, Date.now())
      } catch {
        // librdkafka's queue is full: this record goes again at the next turn.
        errors++
        break
      }
    }
    await sleep(1)
  }
  const seconds = (performance.now() - start) / 1000
  await new Promise<void>((resolve) => producer.flush(30000, () => resolve()))
  await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  return { sent, acked, errors, seconds, maxBehindMs, settings: { ...properties, 'bootstrap.servers': undefined, schedule: `${a.rate} records/s of ${a.bytes} B, stamped at produce()` } }
}

/** Per receiver: which stamps arrived, and how often. */
export class Tally {
  private readonly seen: Uint8Array
  distinct = 0
  duplicated = 0
  /** Stamps outside 0..expected-1 (records of another run). */
  foreign = 0

  constructor (readonly expected: number, private readonly warmup: number, private readonly latency: Histogram) {
    this.seen = new Uint8Array(expected)
  }

  get complete (): boolean {
    return this.distinct >= this.expected
  }

  record (seq: number, sent: number, received: number): void {
    if (seq < 0 || seq >= this.expected) {
      this.foreign++
      return
    }
    if (this.seen[seq] === 1) {
      this.duplicated++
      return
    }
    this.seen[seq] = 1
    this.distinct++
    if (seq >= this.warmup) this.latency.add(received - sent)
  }
}

export interface ClientsArgs {
  url: string
  clients: number
  /** Records the producer sends; a client with all of them is done. */
  expected: number
  /** Stamps below this are counted but not timed. */
  warmup: number
}

export interface ClientsResult {
  clients: number
  received: number
  lost: number
  duplicated: number
  foreign: number
  /** Final error events, by their data. */
  errorEvents: string[]
  endedEarly: number
  minRecords: number
  latency: Array<[number, number]>
  /** This process's CPU time over its wall time while streaming: near 1, it was the bottleneck. */
  cpuCores: number
}

/** A process of SSE clients on one stream URL, each counting every stamp it gets; done when all have all, or at "stop". */
export const clientsRole: Role = async (a: ClientsArgs, io): Promise<ClientsResult> => {
  const latency = new Histogram()
  const tallies = Array.from({ length: a.clients }, () => new Tally(a.expected, a.warmup, latency))
  let done = 0
  let onDone = (): void => {}
  const allDone = new Promise<void>((resolve) => { onDone = resolve })
  const scanners = tallies.map((t) => new SseScanner((seq, sent, received) => {
    const was = t.complete
    t.record(seq, sent, received)
    if (!was && t.complete && ++done === a.clients) onDone()
  }))
  const conns = await Promise.all(scanners.map((s) => openSse(a.url, s)))
  io.ready()
  const cpu = process.cpuUsage()
  const wall = performance.now()
  await Promise.race([allDone, io.stopped])
  const used = process.cpuUsage(cpu)
  const endedEarly = conns.filter((c) => c.closed).length
  for (const c of conns) c.req.destroy()
  return {
    clients: a.clients,
    received: tallies.reduce((n, t) => n + t.distinct + t.duplicated, 0),
    lost: tallies.reduce((n, t) => n + t.expected - t.distinct, 0),
    duplicated: tallies.reduce((n, t) => n + t.duplicated, 0),
    foreign: tallies.reduce((n, t) => n + t.foreign, 0),
    errorEvents: scanners.flatMap((s) => s.error === null ? [] : [s.error]),
    endedEarly,
    minRecords: Math.min(...tallies.map((t) => t.distinct)),
    latency: latency.pairs(),
    cpuCores: Math.round((used.user + used.system) / 1000 / (performance.now() - wall) * 100) / 100
  }
}
