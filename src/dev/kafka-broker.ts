// A single-node KRaft broker run from the jars that scripts/setup.mjs caches, for dev mode
// (`npm start` without bootstrap servers) and for the test harness. It runs under the guard of
// ./guard.ts, so it never outlives the process that started it.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import type { Server } from 'node:net'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { findJava, logTail, pinnedVersion, releasePorts, reservePort, spawnGuarded, stopStale, type RunningJvm } from './guard.js'

export { projectRoot } from './guard.js'

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
  /** KRaft node id; 1 unless this node is one of a cluster (./kafka-cluster.ts). */
  nodeId?: number
  /** controller.quorum.voters of a cluster (`id@host:port,…`); by default this node alone. */
  quorumVoters?: string
  /** The id storage is formatted with, shared by every node of a cluster; random by default. */
  clusterId?: string
  log?: (msg: string, fields?: Record<string, unknown>) => void
}

export interface RunningBroker extends RunningJvm {
  bootstrapServers: string
}

// The line KafkaRaftServer logs once the broker and controller have finished starting up.
const STARTED_MESSAGE = 'Kafka Server started'

/** The pinned Kafka version (package.json config.kafka_version). */
export const KAFKA_VERSION: string = pinnedVersion('kafka_version')

export function kafkaLibDir (root: string): string {
  return join(root, '.cache', 'kafka', KAFKA_VERSION, 'libs')
}

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
  const java = findJava('the dev Kafka broker')
  const classpath = checkLibDir(opts.libDir)
  mkdirSync(paths.logDirs, { recursive: true })
  await stopStale(
    paths.pidFile,
    (argv) => argv.includes('kafka.Kafka') && argv.includes(paths.propertiesFile),
    (pid) => opts.log?.('stopping a stale kafka broker left by an earlier run', { pid, dataDir: paths.dataDir }),
    'Kafka broker'
  )
  writeFileSync(paths.log4jFile, LOG4J_CONFIG)

  // A port picked here can still be grabbed by someone else before the JVM binds it; when that
  // happens the broker exits at once and a fresh pick almost always succeeds.
  const attempts = 3
  for (let attempt = 1; ; attempt++) {
    const ports = await choosePorts(opts, paths)
    const host = opts.host ?? '127.0.0.1'
    writeFileSync(paths.propertiesFile, serverProperties(opts, paths, host, ports.port, ports.controllerPort))
    await formatStorageOnce(java, classpath, paths, opts.clusterId ?? randomClusterId(), opts.log)
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
  const heapMb = opts.heapMb ?? 512
  const javaArgs = [
    `-Xms${Math.min(256, heapMb)}m`, `-Xmx${heapMb}m`,
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${paths.log4jFile}`,
    '-cp', classpath,
    'kafka.Kafka', paths.propertiesFile
  ]
  const jvm = await spawnGuarded({ command: java, args: javaArgs, cwd: paths.dataDir, logFile: paths.logFile, pidFile: paths.pidFile })
  const javaPid = jvm.pid

  try {
    if (javaPid === undefined) {
      await jvm.exited
      throw new Error('the broker guard could not start java')
    }
    await waitUntilReady(paths.logFile, host, port, opts.startTimeoutMs ?? 60_000, () => jvm.exitReason() !== undefined)
  } catch (err) {
    const exit = jvm.exitReason()
    const reason = exit !== undefined ? `exited (${exit})` : (err instanceof Error ? err.message : String(err))
    await jvm.stop()
    throw new Error(`Kafka broker failed to start: ${reason}\n--- last lines of ${paths.logFile} ---\n${await logTail(paths.logFile)}`)
  }

  opts.log?.('kafka broker started', { bootstrapServers: `${host}:${port}`, pid: javaPid, ms: Date.now() - started })
  return { bootstrapServers: `${host}:${port}`, port, pid: javaPid, dataDir: paths.dataDir, logFile: paths.logFile, stop: jvm.stop }
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
    await releasePorts(held)
  }
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
    'node.id': String(opts.nodeId ?? 1),
    'controller.quorum.voters': opts.quorumVoters ?? `${opts.nodeId ?? 1}@${host}:${controllerPort}`,
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
    // Kafka's default, and what Confluent's quickstart runs: the first produce
    // to a missing topic creates it (see kafka.auto_create_topics). The test
    // harness turns it off to test the refusal.
    'auto.create.topics.enable': 'true',
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
async function formatStorageOnce (java: string, classpath: string, paths: Paths, clusterId: string, log: BrokerOptions['log']): Promise<void> {
  if (existsSync(join(paths.logDirs, 'meta.properties'))) return
  log?.('formatting kafka storage', { dir: paths.logDirs })
  const args = [
    '-Xmx256m', `-Dlog4j2.configurationFile=${paths.log4jFile}`, '-cp', classpath,
    'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', paths.propertiesFile
  ]
  const { code, output } = await runCaptured(java, args, paths.dataDir)
  if (code !== 0) throw new Error(`formatting Kafka storage in ${paths.logDirs} failed (exit ${code}):\n${output.trim()}`)
}

// Kafka's Uuid.randomUuid() also avoids a leading '-', which its command-line tools would take
// for an option.
export function randomClusterId (): string {
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
