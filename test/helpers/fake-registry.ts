// An in-process stand-in for a Confluent-compatible schema registry, for unit
// tests: the few endpoints the proxy calls, in memory, with a request log so
// tests can prove caching and request sharing, and knobs for failures.
// Integration tests use a real registry instead.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { SchemaRegistryClient, type RegistryOptions } from '../../src/registry/client.js'

export interface FakeReference {
  name: string
  subject: string
  version: number
}

interface StoredSchema {
  id: number
  schemaType: string
  schema: string
  references: FakeReference[]
}

export interface LoggedRequest {
  method: string
  /** Path below the registry's base URL (the prefix removed). */
  path: string
  headers: http.IncomingHttpHeaders
}

export interface FakeRegistryOptions {
  /** A path prefix the API lives under, like Apicurio's /apis/ccompat/v7. */
  prefix?: string
  /** Required basic auth credentials; none when absent. */
  auth?: { user: string, password: string }
}

export interface FakeRegistry {
  /** Base URL to configure the client with. */
  url: string
  requests: LoggedRequest[]
  /** Requests seen, optionally only those whose "METHOD path" starts with `prefix`. */
  count: (prefix?: string) => number
  /** Registers directly, without a request; returns the id and version. */
  seed: (subject: string, schemaType: string, schema: string, references?: FakeReference[]) => { id: number, version: number }
  /** Answers the next request(s) with this status and body instead. */
  failNext: (status: number, body: unknown, times?: number) => void
  /** Holds every answer until the returned function is called. */
  hold: () => () => void
  /** Stops answering at all (requests hang) until set back to false. */
  hang: boolean
}

function send (res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function notFound (res: http.ServerResponse, code: number, message: string): void {
  send(res, 404, { error_code: code, message })
}

export async function startFakeRegistry (t: TestContext, opts: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const prefix = (opts.prefix ?? '').replace(/\/+$/, '')
  const schemas: StoredSchema[] = []
  const subjects = new Map<string, number[]>() // subject -> ids by version - 1
  const failures: Array<{ status: number, body: unknown }> = []
  let holding: Array<() => void> | null = null
  const hanging = new Set<http.ServerResponse>()

  function store (schemaType: string, schema: string, references: FakeReference[]): StoredSchema {
    // Like Confluent's registry, one schema has one id across subjects.
    const refs = JSON.stringify(references)
    const existing = schemas.find((s) => s.schemaType === schemaType && s.schema === schema && JSON.stringify(s.references) === refs)
    if (existing !== undefined) return existing
    const stored = { id: schemas.length + 1, schemaType, schema, references }
    schemas.push(stored)
    return stored
  }

  function register (subject: string, schemaType: string, schema: string, references: FakeReference[]): { id: number, version: number } {
    const stored = store(schemaType, schema, references)
    const versions = subjects.get(subject) ?? []
    subjects.set(subject, versions)
    const at = versions.indexOf(stored.id)
    if (at >= 0) return { id: stored.id, version: at + 1 }
    versions.push(stored.id)
    return { id: stored.id, version: versions.length }
  }

  function describe (s: StoredSchema): Record<string, unknown> {
    const out: Record<string, unknown> = { schema: s.schema }
    if (s.schemaType !== 'AVRO') out.schemaType = s.schemaType
    if (s.references.length > 0) out.references = s.references
    return out
  }

  function handle (req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const path = (req.url ?? '').slice(prefix.length)
    const failure = failures.shift()
    if (failure !== undefined) return send(res, failure.status, failure.body)
    if (opts.auth !== undefined) {
      const expected = 'Basic ' + Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')
      if (req.headers.authorization !== expected) return send(res, 401, { error_code: 401, message: 'Unauthorized' })
    }
    let m: RegExpMatchArray | null
    if (req.method === 'GET' && (m = path.match(/^\/schemas\/ids\/(\d+)$/)) !== null) {
      const s = schemas[Number(m[1]) - 1]
      return s === undefined ? notFound(res, 40403, 'Schema not found') : send(res, 200, describe(s))
    }
    if (req.method === 'GET' && (m = path.match(/^\/subjects\/([^/]+)\/versions\/(latest|-?\d+)$/)) !== null) {
      const subject = decodeURIComponent(m[1] as string)
      const versions = subjects.get(subject)
      if (versions === undefined) return notFound(res, 40401, `Subject '${subject}' not found.`)
      const v = m[2] === 'latest' || m[2] === '-1' ? versions.length : Number(m[2])
      const id = versions[v - 1]
      if (id === undefined) return notFound(res, 40402, `Version ${m[2] as string} not found.`)
      return send(res, 200, { subject, version: v, id, ...describe(schemas[id - 1] as StoredSchema) })
    }
    if (req.method === 'POST') {
      if (req.headers['content-type'] !== 'application/vnd.schemaregistry.v1+json') return send(res, 415, { error_code: 415, message: 'Unsupported Media Type' })
      let parsed: { schema?: unknown, schemaType?: unknown, references?: FakeReference[] }
      try {
        parsed = JSON.parse(body) as typeof parsed
      } catch {
        return send(res, 400, { error_code: 400, message: 'Unrecognized JSON' })
      }
      const schemaType = typeof parsed.schemaType === 'string' ? parsed.schemaType : 'AVRO'
      const references = parsed.references ?? []
      if (typeof parsed.schema !== 'string') return send(res, 422, { error_code: 42201, message: 'Invalid schema' })
      if (schemaType !== 'PROTOBUF') {
        try {
          JSON.parse(parsed.schema)
        } catch {
          return send(res, 422, { error_code: 42201, message: `Invalid schema ${parsed.schema}` })
        }
      }
      if ((m = path.match(/^\/subjects\/([^/]+)\/versions$/)) !== null) {
        const { id } = register(decodeURIComponent(m[1] as string), schemaType, parsed.schema, references)
        return send(res, 200, { id })
      }
      if ((m = path.match(/^\/subjects\/([^/]+)$/)) !== null) {
        const subject = decodeURIComponent(m[1] as string)
        const versions = subjects.get(subject)
        if (versions === undefined) return notFound(res, 40401, `Subject '${subject}' not found.`)
        const refs = JSON.stringify(references)
        const at = versions.findIndex((id) => {
          const s = schemas[id - 1] as StoredSchema
          return s.schemaType === schemaType && s.schema === parsed.schema && JSON.stringify(s.references) === refs
        })
        if (at < 0) return notFound(res, 40403, 'Schema not found')
        const id = versions[at] as number
        return send(res, 200, { subject, id, version: at + 1, schema: parsed.schema })
      }
    }
    notFound(res, 404, 'HTTP 404 Not Found')
  }

  const fake: FakeRegistry = {
    url: '',
    requests: [],
    count: (p) => p === undefined ? fake.requests.length : fake.requests.filter((r) => `${r.method} ${r.path}`.startsWith(p)).length,
    seed: (subject, schemaType, schema, references = []) => register(subject, schemaType, schema, references),
    failNext: (status, body, times = 1) => { for (let i = 0; i < times; i++) failures.push({ status, body }) },
    hold: () => {
      const held: Array<() => void> = []
      holding = held
      return () => {
        holding = null
        for (const go of held) go()
      }
    },
    hang: false
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', path: (req.url ?? '').slice(prefix.length), headers: req.headers })
      if (fake.hang) {
        hanging.add(res)
        return
      }
      const go = (): void => handle(req, res, Buffer.concat(chunks).toString('utf8'))
      if (holding !== null) holding.push(go)
      else go()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`
  t.after(() => new Promise<void>((resolve) => {
    for (const res of hanging) res.destroy()
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return fake
}

/** A registry client for `url` with test-friendly defaults, closed when the test ends. */
export function registryClient (t: TestContext, url: string, opts: Partial<RegistryOptions> = {}): SchemaRegistryClient {
  const client = new SchemaRegistryClient({ url, basic_auth_user: '', basic_auth_password: '', ca_file: '', request_timeout_ms: 2000, ...opts })
  t.after(() => client.close())
  return client
}
