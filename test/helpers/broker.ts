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

export async function startOwnBroker (t: TestContext): Promise<OwnBroker> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-test-'))
  const own: OwnBroker = {
    dataDir,
    current: await startBroker({ libDir: libDir(), dataDir }),
    async restart () {
      own.current = await startBroker({ libDir: libDir(), dataDir, port: own.current.port })
      return own.current
    }
  }
  t.after(async () => {
    await own.current.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  return own
}
