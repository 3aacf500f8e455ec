// Starts the proxy's per-process server in the test process on a free port,
// against the test broker, and stops it when the test ends.
import type { TestContext } from 'node:test'
import { defaultConfig, type Config } from '../../src/config/schema.js'
import { createLogger } from '../../src/logger.js'
import { startServer, type ProxyServer } from '../../src/server.js'
import { bootstrap, eventually } from './kafka.js'

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] }

export interface TestProxy {
  url: string
  server: ProxyServer
}

export function testConfig (overrides: DeepPartial<Config> = {}): Config {
  const base = defaultConfig()
  const config = { ...base } as Record<string, unknown>
  for (const [table, values] of Object.entries(overrides)) {
    // An array of tables ([[routes]]) replaces the default; a table is merged into it.
    config[table] = Array.isArray(values) ? values : { ...(base as unknown as Record<string, object>)[table], ...values }
  }
  const c = config as unknown as Config
  return {
    ...c,
    server: { ...c.server, host: '127.0.0.1', port: 0, ...overrides.server },
    kafka: { ...c.kafka, bootstrap_servers: bootstrap(), ...overrides.kafka },
    log: { level: 'silent', ...overrides.log }
  }
}

export async function startProxy (t: TestContext, overrides: DeepPartial<Config> = {}, opts: { waitReady?: boolean } = {}): Promise<TestProxy> {
  const config = testConfig(overrides)
  const server = await startServer({ config, log: createLogger(config.log.level, 'test'), workers: 1 })
  t.after(() => server.shutdown())
  const url = `http://127.0.0.1:${server.port}`
  if (opts.waitReady !== false) {
    await eventually(() => server.metadata.reachable() ? true : undefined, { what: 'proxy readiness' })
  }
  return { url, server }
}

export const BINARY = 'application/vnd.kafka.binary.v2+json'
export const JSON_V2 = 'application/vnd.kafka.json.v2+json'

export async function post (url: string, contentType: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers }
}

export async function get (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any, headers: Headers }> {
  const res = await fetch(url, { headers })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers }
}
