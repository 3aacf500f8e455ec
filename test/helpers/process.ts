// Boots the real entry point (cluster primary + HTTP workers) as a child
// process, the way `npm start` runs it, against the test broker, and kills it
// when the test ends if the test did not stop it.
import type { TestContext } from 'node:test'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { bootstrap, eventually } from './kafka.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

export interface LogLine { msg: string, [k: string]: unknown }

export interface ProxyProcess {
  child: ChildProcess
  url: string
  /** Every line the proxy logged so far, parsed. */
  logs: LogLine[]
  exited: Promise<number | null>
}

export interface BootOptions {
  /** HTTP worker processes; 2 unless told. */
  workers?: number
  /** Added to (and overriding) the proxy's environment, e.g. `KAFKA_PROXY_CONSUMER__THREADS`. */
  env?: Record<string, string>
  /** How long to wait for the proxy to listen; dev mode starts a broker and a registry first. */
  listenTimeoutMs?: number
}

export async function bootProxy (t: TestContext, opts: BootOptions = {}): Promise<ProxyProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: bootstrap(),
      KAFKA_PROXY_SERVER__HOST: '127.0.0.1',
      KAFKA_PROXY_SERVER__PORT: '0',
      KAFKA_PROXY_SERVER__WORKERS: String(opts.workers ?? 2),
      KAFKA_PROXY_LOG__LEVEL: 'info',
      ...opts.env
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const logs: LogLine[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine)
    } catch {
      logs.push({ msg: line })
    }
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const listening = await eventually(() => logs.find((l) => l.msg.startsWith('proxy listening on')), { timeoutMs: opts.listenTimeoutMs ?? 60000, what: 'the proxy to listen' })
  return { child, url: `http://127.0.0.1:${listening.port as number}`, logs, exited }
}

/** Pids of the workers that announced they listen, in order, replacements included. */
export function workerPids (logs: LogLine[]): number[] {
  return logs.filter((l) => l.msg === 'worker listening').map((l) => l.worker_pid as number)
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
