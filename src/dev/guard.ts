// Process plumbing shared by the dev services that run on the JVM (the Kafka broker and the
// schema registry): locating the project and java, picking ports, and running a JVM that never
// outlives its owner.
//
// Ownership rule: the JVM runs under a small Node guard whose stdin is a pipe from the owner; the
// kernel closes that pipe when the owner exits for any reason, including SIGKILL, and the guard
// then stops the JVM. The guard is detached (its own process group) so a terminal Ctrl-C reaches
// only the owner, which decides when the service stops (the proxy drains its workers first).
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { delimiter, dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/** How long a JVM gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 20_000
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

/** A pinned version from package.json `config` (where scripts/setup.mjs reads it too). */
export function pinnedVersion (key: string): string {
  const pkg: unknown = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8'))
  const config = typeof pkg === 'object' && pkg !== null && 'config' in pkg ? pkg.config : undefined
  const version = typeof config === 'object' && config !== null && key in config
    ? (config as Record<string, unknown>)[key]
    : undefined
  if (typeof version !== 'string' || version === '') throw new Error(`package.json has no config.${key}`)
  return version
}

/** The java executable; `who` names the service in the error when there is none. */
export function findJava (who: string): string {
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
  throw new Error(`java not found (set JAVA_HOME or put java on PATH): ${who} needs Java 17 or newer`)
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
  process.stderr.write('guard: cannot run ' + java + ': ' + err.message + '\\n')
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

export interface GuardedOptions {
  command: string
  args: string[]
  cwd: string
  /** Receives the JVM's stdout and stderr; the previous run's log is kept as `<logFile>.1`. */
  logFile: string
  /** Holds the JVM's pid while it runs, for stopStale after an owner that could not clean up. */
  pidFile: string
}

export interface GuardedProcess {
  /** The JVM's pid; undefined when the guard could not start it (the reason is in the log). */
  pid: number | undefined
  /** Resolves once the guard has exited. */
  exited: Promise<void>
  /** How the guard exited ('code 1', 'SIGKILL'), or undefined while it runs. */
  exitReason (): string | undefined
  /** Idempotent; resolves once the JVM has exited (SIGTERM, then SIGKILL after STOP_GRACE_MS). */
  stop (): Promise<void>
}

/** What a started dev JVM (broker or registry) gives its owner. */
export interface RunningJvm {
  port: number
  /** The preferred port was in use, so the service listens on another one. */
  portWasTaken: boolean
  /** The JVM's pid. */
  pid: number
  dataDir: string
  logFile: string
  /** Idempotent; resolves once the JVM has exited (SIGTERM, then SIGKILL after 20 s). */
  stop (): Promise<void>
}

export async function spawnGuarded (opts: GuardedOptions): Promise<GuardedProcess> {
  rotateLog(opts.logFile)
  const logFd = openSync(opts.logFile, 'a')
  let guard: ChildProcess
  try {
    guard = spawn(process.execPath, ['-e', GUARD_SOURCE, opts.command, ...opts.args], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['pipe', logFd, logFd, 'pipe']
    })
  } finally {
    closeSync(logFd)
  }
  // EPIPE here only means the guard is already gone, which the exit handler reports.
  guard.stdin?.on('error', () => {})

  let reason: string | undefined
  const exited = new Promise<void>((resolve) => {
    guard.once('exit', (code, signal) => {
      reason = signal ?? `code ${code}`
      resolve()
    })
    guard.once('error', (err) => {
      reason ??= `not started: ${err.message}`
      resolve()
    })
  })

  const pid = await readPid(guard.stdio[3] as Readable)
  if (pid !== undefined) writeFileSync(opts.pidFile, `${pid}\n`)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (reason === undefined) {
        guard.stdin?.end()
        guard.kill('SIGTERM')
        const fallback = setTimeout(() => killGroup(guard.pid, pid), STOP_GRACE_MS + 5_000)
        await exited
        clearTimeout(fallback)
      }
      if (pid !== undefined && isAlive(pid)) killGroup(undefined, pid)
      rmSync(opts.pidFile, { force: true })
    })()
    return stopping
  }

  return { pid, exited, exitReason: () => reason, stop }
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
export function isAlive (pid: number): boolean {
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

/**
 * Stops a JVM left by an owner that died while its guard could not act (e.g. the whole process
 * group was SIGKILLed); it may still hold the data dir's locks. Only a process that `isOurs`
 * recognises by its command line is touched: a pid file can outlive its process and the pid be
 * reused.
 */
export async function stopStale (
  pidFile: string, isOurs: (argv: string[]) => boolean, onStop: (pid: number) => void, name: string
): Promise<void> {
  const pid = Number.parseInt(readOptional(pidFile) ?? '', 10)
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && isOurs((readOptional(`/proc/${pid}/cmdline`) ?? '').split('\0'))) {
    onStop(pid)
    await terminatePid(pid, name)
  }
  rmSync(pidFile, { force: true })
}

async function terminatePid (pid: number, name: string): Promise<void> {
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
  throw new Error(`could not stop the stale ${name} with pid ${pid}`)
}

/**
 * Binds `preferred` (or any free port when it is 0 or taken) and keeps it bound in `held`, so
 * that several picks can never coincide; release them with releasePorts just before the JVM
 * binds. Someone else can still take a port in between, which callers handle by retrying.
 */
export async function reservePort (host: string, preferred: number, held: Server[]): Promise<number> {
  if (preferred > 0) {
    const port = await listenOn(host, preferred, held)
    if (port !== undefined) return port
  }
  const port = await listenOn(host, 0, held)
  if (port === undefined) throw new Error(`cannot find a free port on ${host}`)
  return port
}

export async function releasePorts (held: Server[]): Promise<void> {
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))))
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

// Keeps the previous run's log next to the new one: after a crash it is the one to read.
function rotateLog (logFile: string): void {
  try {
    renameSync(logFile, `${logFile}.1`)
  } catch {}
}

/** The last lines of a JVM log for an error message; Java stack frames would crowd the cause out. */
export async function logTail (logFile: string): Promise<string> {
  try {
    const lines = (await readFile(logFile, 'utf8')).trimEnd().split('\n')
    return lines.filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line)).slice(-LOG_TAIL_LINES).join('\n')
  } catch {
    return '(no log)'
  }
}

export function readOptional (file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
