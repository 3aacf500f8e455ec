import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import type { Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { startBroker } from '../../src/dev/kafka-broker.js'
import type { RunningBroker } from '../../src/dev/kafka-broker.js'

const HOST = '127.0.0.1'

function libDir (): string {
  const dir = process.env.TEST_KAFKA_LIB_DIR
  assert.ok(dir, 'TEST_KAFKA_LIB_DIR is not set: run the integration tests through `npm test`')
  return dir
}

// node:test runs after-hooks in registration order, but a broker must stop before its data dir
// goes, so each test unwinds its own stack of cleanups in one hook.
function deferrer (t: TestContext): (cleanup: () => unknown) => void {
  const stack: Array<() => unknown> = []
  t.after(async () => {
    let first: unknown
    for (const cleanup of stack.reverse()) {
      try {
        await cleanup()
      } catch (err) {
        first ??= err
      }
    }
    if (first !== undefined) throw first
  })
  return (cleanup) => { stack.push(cleanup) }
}

function tempDataDir (defer: (cleanup: () => unknown) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'dev-broker-test-'))
  defer(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function startOwned (
  defer: (cleanup: () => unknown) => void, dataDir: string, port?: number, controllerPort?: number
): Promise<RunningBroker> {
  const broker = await startBroker({ libDir: libDir(), dataDir, port, controllerPort, heapMb: 256 })
  defer(() => broker.stop())
  return broker
}

function listen (server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, HOST, () => {
      const address = server.address()
      assert.ok(typeof address === 'object' && address !== null)
      resolve(address.port)
    })
  })
}

async function freePort (): Promise<number> {
  const server = createServer()
  const port = await listen(server, 0)
  await new Promise((resolve) => server.close(resolve))
  return port
}

// An ApiVersions v0 round trip (KIP-35): proves a Kafka broker answers on the port, not just
// that something accepts TCP connections.
function apiVersionCount (port: number): Promise<number> {
  const correlationId = 4242
  const clientId = Buffer.from('dev-broker-test')
  const request = Buffer.alloc(14 + clientId.length)
  request.writeInt32BE(request.length - 4, 0)
  request.writeInt16BE(18, 4)
  request.writeInt16BE(0, 6)
  request.writeInt32BE(correlationId, 8)
  request.writeInt16BE(clientId.length, 12)
  clientId.copy(request, 14)

  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port }, () => socket.write(request))
    let received = Buffer.alloc(0)
    socket.setTimeout(10_000, () => socket.destroy(new Error('no ApiVersions response within 10 s')))
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return
      socket.end()
      try {
        assert.equal(received.readInt32BE(4), correlationId)
        assert.equal(received.readInt16BE(8), 0, 'ApiVersions error_code')
        resolve(received.readInt32BE(10))
      } catch (err) {
        reject(err)
      }
    })
  })
}

function isAlive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

async function waitFor (what: string, timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`)
    await delay(100)
  }
}

function clusterId (dataDir: string): string | undefined {
  return /^cluster\.id=(.+)$/m.exec(readFileSync(join(dataDir, 'data', 'meta.properties'), 'utf8'))?.[1]
}

test('a taken preferred port falls back to a free one', async (t) => {
  const blocker = createServer()
  const defer = deferrer(t)
  const taken = await listen(blocker, 0)
  defer(() => blocker.close())

  const dataDir = tempDataDir(defer)
  const broker = await startOwned(defer, dataDir, taken)

  assert.equal(broker.portWasTaken, true)
  assert.notEqual(broker.port, taken)
  assert.equal(broker.bootstrapServers, `${HOST}:${broker.port}`)
  assert.ok(await apiVersionCount(broker.port) > 0)
})

test('a kept data dir restarts on other ports with its data', async (t) => {
  const defer = deferrer(t)
  const dataDir = tempDataDir(defer)
  const first = await startOwned(defer, dataDir)
  const id = clusterId(dataDir)
  assert.ok(id)
  await first.stop()
  assert.equal(isAlive(first.pid), false)

  const port = await freePort()
  const controllerPort = await freePort()
  const second = await startOwned(defer, dataDir, port, controllerPort)
  assert.equal(second.port, port)
  assert.equal(second.portWasTaken, false)
  assert.equal(clusterId(dataDir), id, 'storage must not be formatted again')
  assert.ok(await apiVersionCount(second.port) > 0)
})

test('the broker dies with its owner, even on SIGKILL', async (t) => {
  const defer = deferrer(t)
  const dataDir = tempDataDir(defer)
  const brokerModule = new URL('../../src/dev/kafka-broker.ts', import.meta.url).href
  const ownerSource = `
    const { startBroker } = await import(process.env.BROKER_MODULE)
    const broker = await startBroker({ libDir: process.env.LIB_DIR, dataDir: process.env.DATA_DIR, heapMb: 256 })
    process.stdout.write(JSON.stringify({ pid: broker.pid, port: broker.port }) + '\\n')
    setInterval(() => {}, 60_000)
  `
  const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ownerSource], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, BROKER_MODULE: brokerModule, LIB_DIR: libDir(), DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  defer(() => owner.kill('SIGKILL'))

  const started = await new Promise<{ pid: number, port: number }>((resolve, reject) => {
    let out = ''
    let err = ''
    owner.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve(JSON.parse(line) as { pid: number, port: number })
    })
    owner.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
    owner.once('exit', (code) => reject(new Error(`owner exited with ${code} before the broker started:\n${err}`)))
  })
  defer(async () => {
    if (!isAlive(started.pid)) return
    process.kill(started.pid, 'SIGKILL')
    await waitFor('leftover broker killed', 10_000, () => !isAlive(started.pid))
  })
  assert.ok(isAlive(started.pid))
  assert.ok(await apiVersionCount(started.port) > 0)

  owner.kill('SIGKILL')
  await waitFor(`broker (pid ${started.pid}) exits after its owner was killed`, 30_000, () => !isAlive(started.pid))
})
