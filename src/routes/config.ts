// [[routes]] tables of config.toml: checked once at start, every problem
// reported at once with the route it belongs to (`routes[2] (GET /items)`)
// and the field, then compiled into the frozen shapes the handlers use. The
// schema (src/config/schema.ts) declares `routes` as an array of tables; the
// shape of each table is checked here because its capabilities are nested
// tables the generic schema walker does not describe.
import type { ConfigIssue } from '../config/schema.js'
import { compileExpression, fieldsOf, type Expression } from './expression.js'

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * First path segments a route may not take: the Confluent API (v2, v3), the
 * health, metrics and document paths and the console. A route whose first
 * segment is a parameter never matches these either (src/routes/match.ts).
 */
export const RESERVED_SEGMENTS: ReadonlySet<string> = new Set([
  'v3', 'topics', 'consumers', 'brokers', 'clusters', 'health', 'metrics', 'openapi.json', 'console'
])

/** The first segment of the reply resource of request/reply routes, `/_replies/{correlation id}`. */
export const REPLIES_SEGMENT = '_replies'

export interface CorsPolicy {
  /** Origins allowed (exact, or "*"); empty: CORS is off. */
  readonly allowedOrigins: readonly string[]
  readonly allowedMethods: readonly string[]
  readonly allowedHeaders: readonly string[]
  readonly exposedHeaders: readonly string[]
  readonly credentials: boolean
  readonly maxAgeS: number
}

export interface ProduceCapability {
  readonly topic: string
  readonly key: Expression | null
  readonly headers: ReadonlyArray<readonly [string, Expression]>
  readonly tombstone: boolean
  /** Request/reply: the topic a service answers on; null for fire-and-forget. */
  readonly replyTopic: string | null
  readonly timeoutMs: number
  /** `Prefer: respond-async` is honoured (202 + Location of the reply). */
  readonly async: boolean
}

export interface FetchCapability {
  readonly topic: string
  readonly key: Expression | null
  readonly merge: 'array' | null
}

export interface SseFilter {
  readonly key?: Expression
  readonly headers: ReadonlyArray<readonly [string, Expression]>
}

export interface SseCapability {
  readonly topic: string
  readonly filters: readonly SseFilter[]
}

export type Segment =
  | { readonly kind: 'static', readonly value: string }
  | { readonly kind: 'param', readonly name: string }
  /** The last segment only: the rest of the path, as the parameter `name`. */
  | { readonly kind: 'rest', readonly name: string }

export interface AppRoute {
  /** Position in the config, from 0. */
  readonly index: number
  /** `routes[0] (PUT,POST /items/{id})`, for messages and logs. */
  readonly label: string
  readonly methods: readonly RouteMethod[]
  readonly path: string
  readonly segments: readonly Segment[]
  readonly produce: ProduceCapability | null
  readonly fetch: FetchCapability | null
  readonly sse: SseCapability | null
  readonly maxBodyBytes: number
  /** The route's own CORS policy, replacing [cors]; null: [cors] applies. */
  readonly cors: CorsPolicy | null
}

export interface RouteDefaults {
  readonly maxBodyBytes: number
  readonly timeoutMs: number
}

type Raw = Record<string, unknown>

const ROUTE_KEYS = ['methods', 'path', 'produce', 'fetch', 'sse', 'max_body_bytes', 'cors']
const PRODUCE_KEYS = ['topic', 'key', 'headers', 'tombstone', 'reply_topic', 'timeout_ms', 'async']
const FETCH_KEYS = ['topic', 'key', 'merge']
const SSE_KEYS = ['topic', 'filters']
const FILTER_KEYS = ['key', 'header']
export const CORS_KEYS = ['allowed_origins', 'allowed_methods', 'allowed_headers', 'exposed_headers', 'credentials', 'max_age_s']

function isTable (v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
}

/** Checks collected for one route: each problem names the route and the field. */
class Checker {
  readonly issues: ConfigIssue[] = []
  constructor (readonly label: string) {}

  fail (field: string, message: string): void {
    this.issues.push({ path: `${this.label}.${field}`, message })
  }

  unknown (table: Raw, known: readonly string[], prefix: string): void {
    for (const k of Object.keys(table)) {
      if (!known.includes(k)) this.fail(prefix === '' ? k : `${prefix}.${k}`, `unknown key (known keys: ${known.join(', ')})`)
    }
  }

  string (table: Raw, key: string, prefix: string, required: boolean): string | null {
    const v = table[key]
    if (v === undefined) {
      if (required) this.fail(`${prefix}${key}`, 'is required')
      return null
    }
    if (typeof v !== 'string' || v === '') {
      this.fail(`${prefix}${key}`, 'must be a non-empty string')
      return null
    }
    return v
  }

  boolean (table: Raw, key: string, prefix: string): boolean {
    const v = table[key]
    if (v === undefined) return false
    if (typeof v !== 'boolean') {
      this.fail(`${prefix}${key}`, 'must be true or false')
      return false
    }
    return v
  }

  integer (table: Raw, key: string, prefix: string, fallback: number, minimum: number): number {
    const v = table[key]
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isInteger(v) || v < minimum) {
      this.fail(`${prefix}${key}`, `must be an integer >= ${minimum}`)
      return fallback
    }
    return v
  }

  strings (table: Raw, key: string, prefix: string): string[] {
    const v = table[key]
    if (v === undefined) return []
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
      this.fail(`${prefix}${key}`, 'must be an array of strings')
      return []
    }
    return v as string[]
  }

  expression (text: string | null, field: string, params: ReadonlySet<string>): Expression | null {
    if (text === null) return null
    try {
      const e = compileExpression(text)
      for (const p of fieldsOf(e, 'params')) {
        if (!params.has(p)) this.fail(field, `\${params.${p}}: the path has no {${p}} segment`)
      }
      return e
    } catch (err) {
      this.fail(field, (err as Error).message)
      return null
    }
  }

  headers (v: unknown, field: string, params: ReadonlySet<string>): Array<readonly [string, Expression]> {
    if (v === undefined) return []
    if (!isTable(v)) {
      this.fail(field, 'must be a table of header names to expressions')
      return []
    }
    const out: Array<readonly [string, Expression]> = []
    for (const [name, text] of Object.entries(v)) {
      if (typeof text !== 'string') {
        this.fail(`${field}.${name}`, 'must be a string')
        continue
      }
      const e = this.expression(text, `${field}.${name}`, params)
      if (e !== null) out.push([name.toLowerCase(), e])
    }
    return out
  }
}

export function parsePath (path: string): { segments: Segment[], problem: string | null } {
  if (!path.startsWith('/')) return { segments: [], problem: 'must start with /' }
  if (path.includes('?') || path.includes('#')) return { segments: [], problem: 'must not hold a query or fragment' }
  const raw = path.split('/').filter((s) => s !== '')
  const segments: Segment[] = []
  const names = new Set<string>()
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i] as string
    const last = i === raw.length - 1
    if (s === '*' || (s.startsWith('{') && s.endsWith('*}'))) {
      if (!last) return { segments: [], problem: 'a wildcard (* or {name*}) may only be the last segment' }
      const name = s === '*' ? 'rest' : s.slice(1, -2)
      segments.push({ kind: 'rest', name })
      names.add(name)
    } else if (s.startsWith('{') && s.endsWith('}')) {
      const name = s.slice(1, -1)
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) return { segments: [], problem: `{${name}} is not a parameter name (letters, digits, _ and -)` }
      if (names.has(name)) return { segments: [], problem: `{${name}} appears twice` }
      names.add(name)
      segments.push({ kind: 'param', name })
    } else if (s.includes('{') || s.includes('}') || s.includes('*')) {
      return { segments: [], problem: `segment ${JSON.stringify(s)}: a parameter is a whole segment, {name}` }
    } else {
      segments.push({ kind: 'static', value: s })
    }
  }
  if (segments.length === 0) return { segments, problem: 'may not be / (the Confluent API root)' }
  const first = segments[0] as Segment
  if (first.kind === 'static' && RESERVED_SEGMENTS.has(first.value)) {
    return { segments, problem: `may not shadow /${first.value} (reserved: ${[...RESERVED_SEGMENTS].map((r) => `/${r}`).join(', ')})` }
  }
  if (first.kind === 'static' && first.value === REPLIES_SEGMENT) return { segments, problem: `may not shadow /${REPLIES_SEGMENT}, the reply resource of request/reply routes` }
  return { segments, problem: null }
}

function labelOf (index: number, raw: Raw): string {
  const methods = Array.isArray(raw.methods) ? raw.methods.filter((m) => typeof m === 'string').join(',') : '?'
  const path = typeof raw.path === 'string' ? raw.path : '?'
  return `routes[${index}] (${methods} ${path})`
}

export function parseCors (c: Checker, v: Raw, prefix: string): CorsPolicy {
  c.unknown(v, CORS_KEYS, prefix.slice(0, -1))
  return Object.freeze({
    allowedOrigins: c.strings(v, 'allowed_origins', prefix),
    allowedMethods: c.strings(v, 'allowed_methods', prefix).map((m) => m.toUpperCase()),
    allowedHeaders: c.strings(v, 'allowed_headers', prefix).map((h) => h.toLowerCase()),
    exposedHeaders: c.strings(v, 'exposed_headers', prefix).map((h) => h.toLowerCase()),
    credentials: c.boolean(v, 'credentials', prefix),
    maxAgeS: c.integer(v, 'max_age_s', prefix, 600, 0)
  })
}

function parseRoute (index: number, raw: unknown, defaults: RouteDefaults): { route: AppRoute | null, issues: ConfigIssue[] } {
  if (!isTable(raw)) return { route: null, issues: [{ path: `routes[${index}]`, message: 'must be a table ([[routes]])' }] }
  const c = new Checker(labelOf(index, raw))
  c.unknown(raw, ROUTE_KEYS, '')
  const path = c.string(raw, 'path', '', true)
  let segments: Segment[] = []
  if (path !== null) {
    const parsed = parsePath(path)
    if (parsed.problem !== null) c.fail('path', parsed.problem)
    segments = parsed.segments
  }
  const params = new Set(segments.flatMap((s) => s.kind === 'static' ? [] : [s.name]))
  const methods: RouteMethod[] = []
  const rawMethods = raw.methods
  if (!Array.isArray(rawMethods) || rawMethods.length === 0) c.fail('methods', 'must be a non-empty array, e.g. ["GET"]')
  else {
    for (const m of rawMethods) {
      const upper = typeof m === 'string' ? m.toUpperCase() : ''
      if (upper !== 'GET' && !WRITE_METHODS.has(upper)) c.fail('methods', `${JSON.stringify(m)} is not one of GET, POST, PUT, PATCH, DELETE`)
      else if (methods.includes(upper as RouteMethod)) c.fail('methods', `${upper} is listed twice`)
      else methods.push(upper as RouteMethod)
    }
  }
  const capabilities = ['produce', 'fetch', 'sse'].filter((k) => raw[k] !== undefined)
  if (capabilities.length !== 1) c.fail(capabilities.length === 0 ? 'produce' : capabilities.join('/'), 'a route has exactly one of produce, fetch or sse')
  let produce: ProduceCapability | null = null
  let fetch: FetchCapability | null = null
  let sse: SseCapability | null = null
  if (raw.produce !== undefined) {
    const p = raw.produce
    if (!isTable(p)) c.fail('produce', 'must be a table')
    else {
      c.unknown(p, PRODUCE_KEYS, 'produce')
      for (const m of methods) if (!WRITE_METHODS.has(m)) c.fail('methods', `${m} cannot produce (POST, PUT, PATCH or DELETE)`)
      const tombstone = c.boolean(p, 'tombstone', 'produce.')
      const replyTopic = c.string(p, 'reply_topic', 'produce.', false)
      const async = c.boolean(p, 'async', 'produce.')
      if (tombstone && replyTopic !== null) c.fail('produce.tombstone', 'a tombstone cannot be a request with a reply_topic')
      if (async && replyTopic === null) c.fail('produce.async', 'needs reply_topic (async answers with the Location of the reply)')
      if (p.timeout_ms !== undefined && replyTopic === null) c.fail('produce.timeout_ms', 'applies to request/reply only: set reply_topic')
      produce = Object.freeze({
        topic: c.string(p, 'topic', 'produce.', true) ?? '',
        key: c.expression(c.string(p, 'key', 'produce.', false), 'produce.key', params),
        headers: c.headers(p.headers, 'produce.headers', params),
        tombstone,
        replyTopic,
        timeoutMs: c.integer(p, 'timeout_ms', 'produce.', defaults.timeoutMs, 1),
        async
      })
    }
  }
  if (raw.fetch !== undefined) {
    const f = raw.fetch
    if (!isTable(f)) c.fail('fetch', 'must be a table')
    else {
      c.unknown(f, FETCH_KEYS, 'fetch')
      for (const m of methods) if (m !== 'GET') c.fail('methods', `${m}: fetch answers GET only`)
      const merge = f.merge
      if (merge !== undefined && merge !== 'array') c.fail('fetch.merge', 'must be "array"')
      const key = c.expression(c.string(f, 'key', 'fetch.', false), 'fetch.key', params)
      if (key === null && merge === undefined && f.key === undefined) c.fail('fetch', 'needs key (one value) or merge = "array" (every live value)')
      if (key !== null && merge !== undefined) c.fail('fetch.merge', 'a route reads one key or merges all, not both')
      fetch = Object.freeze({ topic: c.string(f, 'topic', 'fetch.', true) ?? '', key, merge: merge === 'array' ? 'array' : null })
    }
  }
  if (raw.sse !== undefined) {
    const s = raw.sse
    if (!isTable(s)) c.fail('sse', 'must be a table')
    else {
      c.unknown(s, SSE_KEYS, 'sse')
      for (const m of methods) if (m !== 'GET') c.fail('methods', `${m}: sse answers GET only`)
      const filters: SseFilter[] = []
      const rawFilters = s.filters ?? []
      if (!Array.isArray(rawFilters)) c.fail('sse.filters', 'must be an array of tables')
      else {
        rawFilters.forEach((f: unknown, i) => {
          const field = `sse.filters[${i}]`
          if (!isTable(f)) {
            // eslint-disable-next-line no-template-curly-in-string
            c.fail(field, 'must be a table, { header = { name = "${params.x}" } } or { key = "${params.x}" }')
            return
          }
          c.unknown(f, FILTER_KEYS, field)
          const key = c.expression(c.string(f, 'key', `${field}.`, false), `${field}.key`, params)
          filters.push(Object.freeze({ ...(key === null ? {} : { key }), headers: c.headers(f.header, `${field}.header`, params) }))
        })
      }
      sse = Object.freeze({ topic: c.string(s, 'topic', 'sse.', true) ?? '', filters })
    }
  }
  const cors = raw.cors === undefined ? null : isTable(raw.cors) ? parseCors(c, raw.cors, 'cors.') : (c.fail('cors', 'must be a table'), null)
  const route: AppRoute = Object.freeze({
    index,
    label: c.label,
    methods,
    path: path ?? '',
    segments,
    produce,
    fetch,
    sse,
    maxBodyBytes: c.integer(raw, 'max_body_bytes', '', defaults.maxBodyBytes, 0),
    cors
  })
  return { route: c.issues.length === 0 ? route : null, issues: c.issues }
}

/** The routes of `raw` (the config's `routes` array), or every problem found in them. */
export function parseRoutes (raw: readonly unknown[], defaults: RouteDefaults): { routes: AppRoute[], issues: ConfigIssue[] } {
  const routes: AppRoute[] = []
  const issues: ConfigIssue[] = []
  raw.forEach((r, i) => {
    const parsed = parseRoute(i, r, defaults)
    issues.push(...parsed.issues)
    if (parsed.route !== null) routes.push(parsed.route)
  })
  // Two routes answering one method on one path template: the second could never be reached.
  const seen = new Map<string, AppRoute>()
  for (const r of routes) {
    const shape = r.segments.map((s) => s.kind === 'static' ? s.value : s.kind === 'param' ? '{}' : '*').join('/')
    for (const m of r.methods) {
      const other = seen.get(`${m} ${shape}`)
      if (other !== undefined) issues.push({ path: `${r.label}.methods`, message: `${m} ${r.path} is already served by ${other.label}` })
      else seen.set(`${m} ${shape}`, r)
    }
  }
  return { routes, issues }
}

/** The global [cors] table as a policy; its problems are reported under `cors`. */
export function parseGlobalCors (raw: Raw): { policy: CorsPolicy, issues: ConfigIssue[] } {
  const c = new Checker('cors')
  const policy = parseCors(c, raw, '')
  return { policy, issues: c.issues.map((i) => ({ path: i.path, message: i.message })) }
}
