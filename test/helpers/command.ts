// Runs the proxy as an operator would, as a command with exactly the environment a test gives it
// (nothing inherited from the test process), and kills it when the test ends if the test did not
// stop it.
import type { TestContext } from 'node:test'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { eventually } from './kafka.js'
import type { LogLine } from './process.js'

export interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

export interface Running {
  child: ChildProcess
  /** Every stdout line so far, parsed when it is JSON (the proxy's log lines). */
  logs: LogLine[]
  /** stderr so far. */
  stderr: () => string
  exited: Promise<number | null>
}

export interface CommandOptions {
  /** The whole environment of the command. */
  env: Record<string, string>
  cwd: string
  /**
   * Its own process group, killed as a whole when the test ends: for wrappers such as
   * scripts/start.mjs whose proxy would outlive a killed wrapper.
   */
  group?: boolean
}

export function tempDir (t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A PATH holding node and nothing else (on this machine node, java and mvn share /usr/bin, so
 * node's own directory would not do).
 */
export function nodeOnlyPath (t: TestContext, extra: Record<string, string> = {}): string {
  const dir = tempDir(t, 'node-only-path-')
  symlinkSync(process.execPath, join(dir, 'node'))
  for (const [name, target] of Object.entries(extra)) symlinkSync(target, join(dir, name))
  return dir
}

/** A port that was free a moment ago, for commands that must be told where to listen. */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return address.port
}

/** Runs a command that exits by itself (help, version, usage errors) and collects its output. */
export function runToEnd (argv: readonly string[], opts: CommandOptions): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Starts a long-running command and waits until the proxy says where it listens. */
export async function startToListen (t: TestContext, argv: readonly string[], opts: CommandOptions & { listenTimeoutMs?: number }): Promise<Running & { port: number }> {
  const child = spawn(process.execPath, argv, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.group === true })
  const logs: LogLine[] = []
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine)
    } catch {
      logs.push({ msg: line })
    }
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.after(async () => {
    if (opts.group === true && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGKILL')
    await exited
  })
  // A command that exits instead of listening fails the test at once, with what it printed.
  const died = exited.then((code) => {
    throw new Error(`exited with ${String(code)} before listening:\n${stderr}\n${logs.map(l => l.msg).join('\n')}`)
  })
  // Once it listens, its later exit is the test's business, not an unhandled rejection.
  died.catch(() => {})
  const listening = await Promise.race([
    eventually(() => logs.find((l) => l.msg.startsWith('proxy listening on')), { timeoutMs: opts.listenTimeoutMs ?? 60_000, what: 'the proxy to listen' }),
    died
  ])
  return { child, logs, stderr: () => stderr, exited, port: listening.port as number }
}

/** GET with the body parsed; this module imports nothing of the proxy, so it works from any build. */
export async function getJson (url: string): Promise<{ status: number, body: any }> {
  const res = await fetch(url)
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text) }
}
