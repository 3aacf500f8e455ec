// Extra brokers for tests that need to stop and restart one (outage tests).
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { startBroker, type RunningBroker } from '../../src/dev/kafka-broker.js'

export function libDir (): string {
  const dir = process.env.TEST_KAFKA_LIB_DIR
  if (dir === undefined || dir === '') throw new Error('TEST_KAFKA_LIB_DIR is not set: run integration tests through `npm test`')
  return dir
}

export interface OwnBroker {
  dataDir: string
  current: RunningBroker
  /** Starts the broker again on the same data dir and port. */
  restart (): Promise<RunningBroker>
}

export async function startOwnBroker (t: TestContext, overrides: Record<string, string> = {}): Promise<OwnBroker> {
  // Like the harness broker (scripts/test.mjs): auto-creation off unless a test turns it on.
  const properties = { 'auto.create.topics.enable': 'false', ...overrides }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-test-'))
  const own: OwnBroker = {
    dataDir,
    current: await startBroker({ libDir: libDir(), dataDir, properties }),
    async restart () {
      own.current = await startBroker({ libDir: libDir(), dataDir, port: own.current.port, properties })
      return own.current
    }
  }
  t.after(async () => {
    await own.current.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return own
}

/** Runs one of Kafka's own command-line tools (e.g. AclCommand) from the test broker's jars. */
export async function kafkaTool (mainClass: string, args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process')
  return await new Promise((resolve, reject) => {
    execFile('java', ['-cp', path.join(libDir(), '*'), mainClass, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${mainClass} failed: ${stderr || err.message}`))
      else resolve(stdout)
    })
  })
}
