// A schema registry speaking the Confluent Schema Registry API, for dev mode (`npm start` with
// neither a Kafka cluster nor a registry configured) and for the test harness: Apicurio Registry
// (an independent implementation, docs/schema-registry.md) run from the runner jar that
// scripts/setup.mjs caches. It runs under the guard of ./guard.ts, so it never outlives the
// process that started it.
//
// Storage is an H2 database file in the data dir: no Kafka and no database server needed, and
// schemas survive restarts, so ids written into a kept dev broker's records stay resolvable.
import { existsSync, mkdirSync } from 'node:fs'
import { request } from 'node:http'
import type { Server } from 'node:net'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { findJava, logTail, pinnedVersion, projectRoot, releasePorts, reservePort, spawnGuarded, stopStale, type RunningJvm } from './guard.js'

export interface RegistryOptions {
  /** The project root holding .cache/schema-registry; defaults to the one above this module. */
  root?: string
  /** Holds the H2 database, registry.log, registry.pid and the JVM's temp files. */
  dataDir: string
  host?: string
  /** Preferred port; 0 or omitted means any free port. */
  port?: number
  heapMb?: number
  startTimeoutMs?: number
  log?: (msg: string, fields?: Record<string, unknown>) => void
}

export interface RunningRegistry extends RunningJvm {
  /** Base URL of the Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7. */
  url: string
}

/** The pinned Apicurio Registry version (package.json config.schema_registry_version). */
export const REGISTRY_VERSION: string = pinnedVersion('schema_registry_version')

/** Where Apicurio serves the Confluent Schema Registry API (v7 of its compatibility layer). */
export const CONFLUENT_API_PATH = '/apis/ccompat/v7'

/** The cache dir scripts/setup.mjs fills for the pinned version. */
export function registryDir (root: string): string {
  return join(root, '.cache', 'schema-registry', REGISTRY_VERSION)
}

function runnerJar (root: string): string {
  return join(registryDir(root), 'app', `apicurio-registry-app-${REGISTRY_VERSION}-runner.jar`)
}

interface Paths {
  dataDir: string
  jdbcUrl: string
  tmpDir: string
  logFile: string
  pidFile: string
}

export async function startRegistry (opts: RegistryOptions): Promise<RunningRegistry> {
  const dataDir = resolve(opts.dataDir)
  // H2 reads ';' as the start of its URL settings.
  if (dataDir.includes(';')) throw new Error(`the schema registry's data dir must not contain ';': ${dataDir}`)
  const paths: Paths = {
    dataDir,
    jdbcUrl: `jdbc:h2:file:${join(dataDir, 'db', 'registry')}`,
    tmpDir: join(dataDir, 'tmp'),
    logFile: join(dataDir, 'registry.log'),
    pidFile: join(dataDir, 'registry.pid')
  }
  const java = findJava('the dev schema registry')
  const jar = runnerJar(opts.root ?? projectRoot())
  if (!existsSync(jar)) throw new Error(`no schema registry at ${jar}: run \`node scripts/setup.mjs\` to download it`)
  mkdirSync(paths.tmpDir, { recursive: true })
  // A leftover registry holds the H2 file lock; it is recognised by its database URL.
  await stopStale(
    paths.pidFile,
    (argv) => argv.includes(`-Dapicurio.datasource.url=${paths.jdbcUrl}`),
    (pid) => opts.log?.('stopping a stale schema registry left by an earlier run', { pid, dataDir }),
    'schema registry'
  )

  // A port picked here can still be grabbed by someone else before the JVM binds it; Quarkus
  // then exits at once and a fresh pick almost always succeeds.
  const host = opts.host ?? '127.0.0.1'
  const wanted = opts.port !== undefined && opts.port > 0 ? opts.port : undefined
  const attempts = 3
  for (let attempt = 1; ; attempt++) {
    const held: Server[] = []
    let port: number
    try {
      port = await reservePort(host, wanted ?? 0, held)
    } finally {
      await releasePorts(held)
    }
    try {
      const registry = await launch(java, jar, opts, paths, host, port)
      return { ...registry, portWasTaken: wanted !== undefined && port !== wanted }
    } catch (err) {
      if (attempt >= attempts || !(err instanceof PortTakenError)) throw err
      opts.log?.('schema registry port was taken while starting, retrying on another port', { attempt })
    }
  }
}

class PortTakenError extends Error {}

async function launch (
  java: string, jar: string, opts: RegistryOptions, paths: Paths, host: string, port: number
): Promise<Omit<RunningRegistry, 'portWasTaken'>> {
  const started = Date.now()
  const heapMb = opts.heapMb ?? 384
  const javaArgs = [
    `-Xms${Math.min(64, heapMb)}m`, `-Xmx${heapMb}m`,
    // A dev registry serves few requests: with the C1 compiler alone it started in about 4 s
    // instead of 10-13 s on two busy cores, and the serial collector adds no GC threads.
    '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    // Vert.x and Apicurio write temp files; they go with the data dir instead of /tmp.
    `-Djava.io.tmpdir=${paths.tmpDir}`,
    `-Dquarkus.http.host=${host}`,
    `-Dquarkus.http.port=${port}`,
    `-Dapicurio.datasource.url=${paths.jdbcUrl}`,
    // Confluent's registry compares schemas in canonical form, so re-registering an Avro schema
    // that differs only in whitespace returns the existing id; Apicurio does so only with this.
    '-Dapicurio.ccompat.use-canonical-hash=true',
    // Confluent's default compatibility level; Apicurio has no rule (NONE) unless configured.
    '-Dapicurio.rules.global.compatibility=BACKWARD',
    '-Dquarkus.log.console.format=%d{yyyy-MM-dd HH:mm:ss,SSS} %p [%c{3.}] (%t) %m%n',
    '-jar', jar
  ]
  const jvm = await spawnGuarded({ command: java, args: javaArgs, cwd: paths.dataDir, logFile: paths.logFile, pidFile: paths.pidFile })
  const url = `http://${host}:${port}${CONFLUENT_API_PATH}`

  try {
    if (jvm.pid === undefined) {
      await jvm.exited
      throw new Error('the registry guard could not start java')
    }
    await waitUntilReady(url, opts.startTimeoutMs ?? 90_000, () => jvm.exitReason() !== undefined)
  } catch (err) {
    const exit = jvm.exitReason()
    const reason = exit !== undefined ? `exited (${exit})` : (err instanceof Error ? err.message : String(err))
    await jvm.stop()
    const tail = await logTail(paths.logFile)
    const message = `schema registry failed to start: ${reason}\n--- last lines of ${paths.logFile} ---\n${tail}`
    // Quarkus reports a taken port as "Port <n> seems to be in use by another process".
    throw exit !== undefined && /in use by another process|Address already in use/.test(tail)
      ? new PortTakenError(message)
      : new Error(message)
  }

  opts.log?.('schema registry started', { url, pid: jvm.pid, ms: Date.now() - started })
  return { url, port, pid: jvm.pid, dataDir: paths.dataDir, logFile: paths.logFile, stop: jvm.stop }
}

// Ready means the Confluent API answers a read from storage, not merely that the port is open.
async function waitUntilReady (url: string, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (hasExited()) throw new Error('exited')
    if (await statusOf(`${url}/subjects`) === 200) return
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`)
    await delay(100)
  }
}

function statusOf (url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 2_000, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(undefined))
    req.end()
  })
}
