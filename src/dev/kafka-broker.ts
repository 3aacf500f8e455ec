// A single-node KRaft broker run from the jars that scripts/setup.mjs caches, for dev mode
// (`npm start` without bootstrap servers) and for the test harness.
//
// Ownership rule: a broker never outlives the process that started it. The JVM runs under a
// small Node guard whose stdin is a pipe from the owner; the kernel closes that pipe when the
// owner exits for any reason, including SIGKILL, and the guard then stops the JVM. The guard is
// detached (its own process group) so a terminal Ctrl-C reaches only the owner, which decides
// when the broker stops (the proxy flushes its producers first).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import type { Server } from 'node:net'
import { delimiter, dirname, join, resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export interface BrokerOptions {
  libDir: string
  /** Holds the log dirs, generated server.properties, log4j2.yaml, broker.log and broker.pid. */
  dataDir: string
  host?: string
  /** Preferred client port; 0 or omitted means any free port. */
  port?: number
  controllerPort?: number
  heapMb?: number
  startTimeoutMs?: number
  /** Extra or overriding server properties. */
  properties?: Record<string, string>
  log?: (msg: string, fields?: Record<string, unknown>) => void
}

export interface RunningBroker {
  bootstrapServers: string
  port: number
  /** The preferred port was in use, so the broker listens on another one. */
  portWasTaken: boolean
  /** The JVM's pid. */
  pid: number
  dataDir: string
  logFile: string
  /** Idempotent; resolves once the JVM has exited (SIGTERM, then SIGKILL after 20 s). */
  stop (): Promise<void>
}

const STOP_GRACE_MS = 20_000
// The line KafkaRaftServer logs once the broker and controller have finished starting up.
const STARTED_MESSAGE = 'Kafka Server started'
const LOG_TAIL_LINES = 30

let cachedRoot: string | undefined

/** The directory holding package.json, found by walking up from this module (src/ or dist/src/). */
export function projectRoot (): string {
  if (cachedRoot !== undefined) return cachedRoot
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
  cachedRoot = dir
  return dir
}

function readKafkaVersion (): string {
  const pkg: unknown = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8'))
  const config = typeof pkg === 'object' && pkg !== null && 'config' in pkg ? pkg.config : undefined
  const version = typeof config === 'object' && config !== null && 'kafka_version' in config ? config.kafka_version : undefined
  if (typeof version !== 'string' || version === '') throw new Error('package.json has no config.kafka_version')
  return version
}

/** The pinned Kafka version (package.json config.kafka_version). */
export const KAFKA_VERSION: string = readKafkaVersion()

export function kafkaLibDir (root: string): string {
  return join(root, '.cache', 'kafka', KAFKA_VERSION, 'libs')
}

// Runs as `node -e GUARD_SOURCE <java> <args...>`. Reports the JVM pid on fd 3, stops the JVM when
// its stdin ends (the owner is gone or called stop) or on a signal, and exits with the JVM.
const GUARD_SOURCE = `
'use strict'
const { spawn } = require('node:child_process')
const { writeSync, closeSync } = require('node:fs')
const { constants } = require('node:os')
const [java, ...args] = process.argv.slice(1)
const child = spawn(java, args, { stdio: ['ignore', 'inherit', 'inherit'] })
child.on('error', (err) => {
  process.stderr.write('broker guard: cannot run ' + java + ': ' + err.message + '\\n')
  process.exit(127)
})
try {
  if (child.pid !== undefined) writeSync(3, child.pid + '\\n')
  closeSync(3)
} catch {}
let stopping = false
function stop () {
  if (stopping) return
  stopping = true
  child.kill('SIGTERM')
  setTimeout(() => child.kill('SIGKILL'), ${STOP_GRACE_MS}).unref()
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)))
process.stdin.on('end', stop).on('close', stop).on('error', stop).resume()
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop)
`

interface StoredPorts {
  port?: number
  controllerPort?: number
}

interface Paths {
  dataDir: string
  logDirs: string
  propertiesFile: string
  log4jFile: string
  logFile: string
  pidFile: string
  portsFile: string
}

export async function startBroker (opts: BrokerOptions): Promise<RunningBroker> {
  const dataDir = resolve(opts.dataDir)
  const paths: Paths = {
    dataDir,
    logDirs: join(dataDir, 'data'),
    propertiesFile: join(dataDir, 'server.properties'),
    log4jFile: join(dataDir, 'log4j2.yaml'),
    logFile: join(dataDir, 'broker.log'),
    pidFile: join(dataDir, 'broker.pid'),
    portsFile: join(dataDir, 'ports.json')
  }
  const java = findJava()
  const classpath = checkLibDir(opts.libDir)
  mkdirSync(paths.logDirs, { recursive: true })
  await stopStaleBroker(paths, opts.log)
  writeFileSync(paths.log4jFile, LOG4J_CONFIG)

  // A port picked here can still be grabbed by someone else before the JVM binds it; when that
  // happens the broker exits at once and a fresh pick almost always succeeds.
  const attempts = 3
  for (let attempt = 1; ; attempt++) {
    const ports = await choosePorts(opts, paths)
    const host = opts.host ?? '127.0.0.1'
    writeFileSync(paths.propertiesFile, serverProperties(opts, paths, host, ports.port, ports.controllerPort))
    await formatStorageOnce(java, classpath, paths, opts.log)
    try {
      const broker = await launch(java, classpath, opts, paths, host, ports.port)
      writeFileSync(paths.portsFile, JSON.stringify({ port: ports.port, controllerPort: ports.controllerPort }) + '\n')
      return { ...broker, portWasTaken: ports.portWasTaken }
    } catch (err) {
      if (attempt >= attempts || !(err instanceof Error) || !err.message.includes('Address already in use')) throw err
      opts.log?.('kafka broker port was taken while starting, retrying on other ports', { attempt })
    }
  }
}

async function launch (
  java: string, classpath: string, opts: BrokerOptions, paths: Paths, host: string, port: number
): Promise<Omit<RunningBroker, 'portWasTaken'>> {
  const started = Date.now()
  rotateLog(paths.logFile)
  const heapMb = opts.heapMb ?? 512
  const javaArgs = [
    `-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`,
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${paths.log4jFile}`,
    '-cp', classpath,
    'kafka.Kafka', paths.propertiesFile
  ]
  const logFd = openSync(paths.logFile, 'a')
  let guard: ChildProcess
  try {
    guard = spawn(process.execPath, ['-e', GUARD_SOURCE, java, ...javaArgs], {
      cwd: paths.dataDir,
      detached: true,
      stdio: ['pipe', logFd, logFd, 'pipe']
    })
  } finally {
    closeSync(logFd)
  }
  // EPIPE here only means the guard is already gone, which the exit handler reports.
  guard.stdin?.on('error', () => {})

  let exitCode: number | null | undefined
  let exitSignal: NodeJS.Signals | null = null
  const exited = new Promise<void>((resolve) => {
    guard.once('exit', (code, signal) => {
      exitCode = code
      exitSignal = signal
      resolve()
    })
    guard.once('error', () => {
      exitCode ??= -1
      resolve()
    })
  })

  const javaPid = await readPid(guard.stdio[3] as Readable)
  if (javaPid !== undefined) writeFileSync(paths.pidFile, `${javaPid}\n`)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitCode === undefined) {
        guard.stdin?.end()
        guard.kill('SIGTERM')
        const fallback = setTimeout(() => killGroup(guard.pid, javaPid), STOP_GRACE_MS + 5_000)
        await exited
        clearTimeout(fallback)
      }
      if (javaPid !== undefined && isAlive(javaPid)) killGroup(undefined, javaPid)
      rmSync(paths.pidFile, { force: true })
    })()
    return stopping
  }

  try {
    if (javaPid === undefined) {
      await exited
      throw new Error('the broker guard could not start java')
    }
    await waitUntilReady(paths.logFile, host, port, opts.startTimeoutMs ?? 60_000, () => exitCode !== undefined)
  } catch (err) {
    const reason = exitCode !== undefined
      ? `exited (${exitSignal ?? `code ${exitCode}`})`
      : (err instanceof Error ? err.message : String(err))
    await stop()
    throw new Error(`Kafka broker failed to start: ${reason}\n--- last lines of ${paths.logFile} ---\n${await logTail(paths.logFile)}`)
  }

  opts.log?.('kafka broker started', { bootstrapServers: `${host}:${port}`, pid: javaPid, ms: Date.now() - started })
  return { bootstrapServers: `${host}:${port}`, port, pid: javaPid, dataDir: paths.dataDir, logFile: paths.logFile, stop }
}

async function waitUntilReady (
  logFile: string, host: string, port: number, timeoutMs: number, hasExited: () => boolean
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let started = false
  for (;;) {
    if (hasExited()) throw new Error('exited')
    if (!started) started = (await readFile(logFile, 'utf8')).includes(STARTED_MESSAGE)
    if (started && await canConnect(host, port)) return
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`)
    await delay(100)
  }
}

function canConnect (host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function readPid (pipe: Readable): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = ''
    pipe.setEncoding('utf8')
    pipe.on('data', (chunk: string) => { text += chunk })
    pipe.once('error', () => resolve(undefined))
    pipe.once('close', () => {
      const pid = Number.parseInt(text, 10)
      resolve(Number.isInteger(pid) && pid > 0 ? pid : undefined)
    })
  })
}

function killGroup (guardPid: number | undefined, javaPid: number | undefined): void {
  // The guard leads its own process group (detached) and the JVM is in it.
  for (const target of [guardPid === undefined ? undefined : -guardPid, javaPid]) {
    if (target === undefined) continue
    try {
      process.kill(target, 'SIGKILL')
    } catch {}
  }
}

/** True while `pid` runs; a zombie counts as gone. */
function isAlive (pid: number): boolean {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  return state !== 'Z' && state !== 'X'
}

// A broker left by an owner that died while its guard could not act (e.g. the whole process
// group was SIGKILLed) still holds the log dir lock; only ours is touched, identified by the
// data dir on its command line.
async function stopStaleBroker (paths: Paths, log: BrokerOptions['log']): Promise<void> {
  const pid = Number.parseInt(readOptional(paths.pidFile) ?? '', 10)
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const cmdline = (readOptional(`/proc/${pid}/cmdline`) ?? '').split('\0')
    if (cmdline.includes('kafka.Kafka') && cmdline.includes(paths.propertiesFile)) {
      log?.('stopping a stale kafka broker left by an earlier run', { pid, dataDir: paths.dataDir })
      await terminatePid(pid)
    }
  }
  rmSync(paths.pidFile, { force: true })
}

async function terminatePid (pid: number): Promise<void> {
  const signals: Array<[NodeJS.Signals, number]> = [['SIGTERM', STOP_GRACE_MS], ['SIGKILL', 5_000]]
  for (const [signal, waitMs] of signals) {
    try {
      process.kill(pid, signal)
    } catch {
      return
    }
    const deadline = Date.now() + waitMs
    while (isAlive(pid) && Date.now() < deadline) await delay(100)
    if (!isAlive(pid)) return
  }
  throw new Error(`could not stop the stale Kafka broker with pid ${pid}`)
}

interface ChosenPorts {
  port: number
  controllerPort: number
  portWasTaken: boolean
}

async function choosePorts (opts: BrokerOptions, paths: Paths): Promise<ChosenPorts> {
  const host = opts.host ?? '127.0.0.1'
  // Reusing the previous ports of a kept data dir keeps clients' bootstrap addresses valid
  // across dev restarts; a different port works too since the quorum is configured statically.
  const stored = readStoredPorts(paths.portsFile)
  const wanted = opts.port !== undefined && opts.port > 0 ? opts.port : undefined
  const held: Server[] = []
  try {
    const client = await reservePort(host, wanted ?? stored.port ?? 0, held)
    const controller = await reservePort(host, opts.controllerPort ?? stored.controllerPort ?? 0, held)
    return { port: client, controllerPort: controller, portWasTaken: wanted !== undefined && client !== wanted }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}

// Holds the port open until all ports are chosen so two picks can never coincide.
async function reservePort (host: string, preferred: number, held: Server[]): Promise<number> {
  if (preferred > 0) {
    const port = await listenOn(host, preferred, held)
    if (port !== undefined) return port
  }
  const port = await listenOn(host, 0, held)
  if (port === undefined) throw new Error(`cannot find a free port on ${host}`)
  return port
}

function listenOn (host: string, port: number, held: Server[]): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(undefined))
    server.listen({ host, port, exclusive: true }, () => {
      held.push(server)
      const address = server.address()
      resolve(typeof address === 'object' && address !== null ? address.port : undefined)
    })
  })
}

function readStoredPorts (file: string): StoredPorts {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (typeof parsed !== 'object' || parsed === null) return {}
    const port = 'port' in parsed && typeof parsed.port === 'number' ? parsed.port : undefined
    const controllerPort = 'controllerPort' in parsed && typeof parsed.controllerPort === 'number' ? parsed.controllerPort : undefined
    return { port, controllerPort }
  } catch {
    return {}
  }
}

function serverProperties (opts: BrokerOptions, paths: Paths, host: string, port: number, controllerPort: number): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': paths.logDirs,
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'true',
    'super.users': 'User:ANONYMOUS',
    ...opts.properties
  }
  const escape = (value: string): string => value.replaceAll('\\', '\\\\')
  return '# Generated on every start by src/dev/kafka-broker.ts; edits are overwritten.\n' +
    Object.entries(props).map(([key, value]) => `${key}=${escape(value)}\n`).join('')
}

const LOG4J_CONFIG = `# Generated by src/dev/kafka-broker.ts. KafkaRaftServer stays at INFO because its
# "${STARTED_MESSAGE}" line is the readiness signal.
Configuration:
  status: error
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
`

// Formatting writes meta.properties; a dir that has one keeps its cluster id and data.
async function formatStorageOnce (java: string, classpath: string, paths: Paths, log: BrokerOptions['log']): Promise<void> {
  if (existsSync(join(paths.logDirs, 'meta.properties'))) return
  log?.('formatting kafka storage', { dir: paths.logDirs })
  const args = [
    '-Xmx256m', `-Dlog4j2.configurationFile=${paths.log4jFile}`, '-cp', classpath,
    'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', paths.propertiesFile
  ]
  const { code, output } = await runCaptured(java, args, paths.dataDir)
  if (code !== 0) throw new Error(`formatting Kafka storage in ${paths.logDirs} failed (exit ${code}):\n${output.trim()}`)
}

// Kafka's Uuid.randomUuid() also avoids a leading '-', which its command-line tools would take
// for an option.
function randomClusterId (): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function runCaptured (cmd: string, args: string[], cwd: string): Promise<{ code: number | null, output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, output }))
  })
}

function findJava (): string {
  const candidates = [
    ...(process.env.JAVA_HOME ? [join(process.env.JAVA_HOME, 'bin', 'java')] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'java'))
  ]
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  throw new Error('java not found (set JAVA_HOME or put java on PATH): the dev Kafka broker needs Java 17 or newer')
}

function checkLibDir (libDir: string): string {
  let jars: string[] = []
  try {
    jars = readdirSync(libDir).filter((name) => name.endsWith('.jar'))
  } catch {}
  if (!jars.some((name) => name.startsWith('kafka_'))) {
    throw new Error(`no Kafka jars in ${libDir}: run \`node scripts/setup.mjs\` to download them`)
  }
  return join(resolve(libDir), '*')
}

// Keeps the previous run's log next to the new one: after a crash it is the one to read.
function rotateLog (logFile: string): void {
  try {
    renameSync(logFile, `${logFile}.1`)
  } catch {}
}

// Java stack frames would crowd the cause out of the tail, so they are left out.
async function logTail (logFile: string): Promise<string> {
  try {
    const lines = (await readFile(logFile, 'utf8')).trimEnd().split('\n')
    return lines.filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line)).slice(-LOG_TAIL_LINES).join('\n')
  } catch {
    return '(no broker log)'
  }
}

function readOptional (file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
