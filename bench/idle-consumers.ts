// Measures the resident memory an idle v2 consumer instance costs: the proxy's
// per-process server runs in this process against a broker started here;
// instances are created (and optionally subscribed, which creates their
// librdkafka client and joins the group) and the RSS growth is divided by
// their count. Run: node --import tsx bench/idle-consumers.ts [--count 200]
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startBroker, kafkaLibDir, projectRoot } from '../src/dev/kafka-broker.js'
import { startServer } from '../src/server.js'
import { createLogger } from '../src/logger.js'
import { defaultConfig, type Config } from '../src/config/schema.js'

const { values } = parseArgs({ options: { count: { type: 'string', default: '200' } } })
const count = Number(values.count)

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-idle-'))
const broker = await startBroker({ libDir: kafkaLibDir(projectRoot()), dataDir })
const base = defaultConfig()
const config: Config = { ...base, server: { ...base.server, host: '127.0.0.1', port: 0 }, kafka: { ...base.kafka, bootstrap_servers: broker.bootstrapServers }, log: { level: 'silent' } }
const server = await startServer({ config, log: createLogger('silent', 'bench'), workers: 1 })
const url = `http://127.0.0.1:${server.port}`

async function call (method: string, p: string, body?: unknown): Promise<void> {
  const res = await fetch(url + p, { method, headers: { 'content-type': 'application/vnd.kafka.v2+json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}

async function settledRss (): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return process.memoryUsage().rss
}

async function measure (label: string, subscribe: boolean): Promise<void> {
  const before = await settledRss()
  for (let i = 0; i < count; i++) {
    const group = `idle-${label}-${i % 10}`
    await call('POST', `/consumers/${group}`, { name: `c${i}` })
    if (subscribe) await call('POST', `/consumers/${group}/instances/c${i}/subscription`, { topics: ['idle-topic'] })
  }
  const after = await settledRss()
  console.log(`${label}: ${count} instances, RSS +${((after - before) / 1048576).toFixed(1)} MiB, ${((after - before) / count / 1024).toFixed(0)} KiB per instance`)
  for (let i = 0; i < count; i++) await call('DELETE', `/consumers/idle-${label}-${i % 10}/instances/c${i}`)
}

try {
  await measure('created', false)
  await measure('subscribed', true)
} finally {
  await server.shutdown()
  await broker.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
