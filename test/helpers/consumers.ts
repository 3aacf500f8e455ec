// HTTP-level helpers for the v2 consumer API. They speak only HTTP to the
// proxy, so the tests that use them stay independent of the implementation.
// node:http instead of fetch: the v2 API has a GET with a JSON body
// (`GET …/offsets`), which fetch refuses to send, and tests need to set the
// Host header (to show that base_uri never comes from it).
import http from 'node:http'
import assert from 'node:assert/strict'

export const V2 = 'application/vnd.kafka.v2+json'
export const V1 = 'application/vnd.kafka.v1+json'
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json'
export const JSON_V2 = 'application/vnd.kafka.json.v2+json'
export const BINARY_V1 = 'application/vnd.kafka.binary.v1+json'

export interface HttpResult {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  /** Parsed JSON; null for an empty body, undefined when the body is not JSON. */
  body: any
}

export interface RequestOptions {
  headers?: Record<string, string>
  /** A string is sent as is; anything else as its JSON text. */
  body?: unknown
}

export function request (method: string, url: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const payload = opts.body === undefined
    ? undefined
    : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body))
  const headers: Record<string, string | number> = { ...opts.headers }
  // Node frames a GET or DELETE body only when the length is declared.
  if (payload !== undefined) headers['content-length'] = payload.length
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown
        if (text === '') {
          body = null
        } else {
          try {
            body = JSON.parse(text)
          } catch {
            body = undefined
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** For assertion messages. */
export function show (res: HttpResult): string {
  return `HTTP ${res.status} ${res.headers['content-type'] ?? ''} ${res.text.slice(0, 500)}`
}

export function assertError (res: HttpResult, status: number, errorCode: number, what = ''): void {
  assert.equal(res.status, status, `${what} ${show(res)}`)
  assert.equal(res.body?.error_code, errorCode, `${what} ${show(res)}`)
  assert.equal(typeof res.body?.message, 'string', `${what} ${show(res)}`)
}

export const b64 = (s: string | Buffer): string => (typeof s === 'string' ? Buffer.from(s) : s).toString('base64')
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8')

export interface ConsumerRef {
  /** The proxy's root URL. */
  url: string
  group: string
  name: string
  /** `${url}/consumers/${group}/instances/${name}` */
  path: string
  /** What the proxy answered as base_uri. */
  baseUri: string
}

export function consumerPath (url: string, group: string, name: string): string {
  return `${url}/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(name)}`
}

/** POST /consumers/{group}; asserts 200 and returns the instance. */
export async function createConsumer (url: string, group: string, body: Record<string, unknown> = {}, contentType = V2): Promise<ConsumerRef> {
  const res = await request('POST', `${url}/consumers/${encodeURIComponent(group)}`, { headers: { 'content-type': contentType }, body })
  assert.equal(res.status, 200, `create consumer in ${group}: ${show(res)}`)
  const name = res.body.instance_id as string
  assert.equal(typeof name, 'string')
  return { url, group, name, path: consumerPath(url, group, name), baseUri: res.body.base_uri }
}

export async function deleteConsumer (c: ConsumerRef): Promise<void> {
  const res = await request('DELETE', c.path, { headers: { 'content-type': V2 } })
  assert.equal(res.status, 204, `delete ${c.name}: ${show(res)}`)
}

export async function subscribe (c: ConsumerRef, topics: string[]): Promise<void> {
  const res = await request('POST', `${c.path}/subscription`, { headers: { 'content-type': V2 }, body: { topics } })
  assert.equal(res.status, 204, `subscribe ${c.name} to ${topics.join(',')}: ${show(res)}`)
}

export interface TopicPartition {
  topic: string
  partition: number
}

export async function assign (c: ConsumerRef, partitions: TopicPartition[]): Promise<void> {
  const res = await request('POST', `${c.path}/assignments`, { headers: { 'content-type': V2 }, body: { partitions } })
  assert.equal(res.status, 204, `assign ${c.name}: ${show(res)}`)
}

export interface ConsumedRecord {
  topic: string
  key: any
  value: any
  partition: number
  offset: number
  timestamp: number
  headers: Array<{ name: string, value: string | null }>
}

export interface ReadOptions {
  accept?: string
  /** The `timeout` query parameter, in ms. */
  timeout?: number
  /** The `max_bytes` query parameter. */
  maxBytes?: number
  /** Read through the v1-style `…/topics/{topic}` path instead of `…/records`. */
  topic?: string
}

export function recordsUrl (c: ConsumerRef, opts: ReadOptions = {}): string {
  const q: string[] = []
  if (opts.timeout !== undefined) q.push(`timeout=${opts.timeout}`)
  if (opts.maxBytes !== undefined) q.push(`max_bytes=${opts.maxBytes}`)
  const path = opts.topic === undefined ? `${c.path}/records` : `${c.path}/topics/${encodeURIComponent(opts.topic)}`
  return q.length === 0 ? path : `${path}?${q.join('&')}`
}

/** One GET …/records; returns the raw result (no status assertion). */
export function read (c: ConsumerRef, opts: ReadOptions = {}): Promise<HttpResult> {
  return request('GET', recordsUrl(c, opts), { headers: { accept: opts.accept ?? BINARY_V2 } })
}

/** One read that must succeed; returns its records. */
export async function readOk (c: ConsumerRef, opts: ReadOptions = {}): Promise<ConsumedRecord[]> {
  const res = await read(c, opts)
  assert.equal(res.status, 200, `read ${c.name}: ${show(res)}`)
  assert.ok(Array.isArray(res.body), `read ${c.name}: ${show(res)}`)
  return res.body as ConsumedRecord[]
}

/** Reads until at least `count` records arrived, failing at the deadline with what was read. */
export async function readUntil (c: ConsumerRef, count: number, opts: ReadOptions & { deadlineMs?: number } = {}): Promise<ConsumedRecord[]> {
  const deadline = Date.now() + (opts.deadlineMs ?? 30000)
  const out: ConsumedRecord[] = []
  while (out.length < count) {
    if (Date.now() > deadline) {
      assert.fail(`${c.name} read ${out.length} of ${count} records before the deadline: ${JSON.stringify(out.map((r) => `${r.topic}/${r.partition}@${r.offset}`))}`)
    }
    out.push(...await readOk(c, opts))
  }
  return out
}

export async function commit (c: ConsumerRef, offsets?: Array<TopicPartition & { offset: number, metadata?: string }>, contentType = V2): Promise<HttpResult> {
  return request('POST', `${c.path}/offsets`, { headers: { 'content-type': contentType }, ...(offsets === undefined ? {} : { body: { offsets } }) })
}

/** GET …/offsets with a JSON body, as the v2 API defines it. */
export async function committed (c: ConsumerRef, partitions: TopicPartition[]): Promise<HttpResult> {
  return request('GET', `${c.path}/offsets`, { headers: { 'content-type': V2, accept: V2 }, body: { partitions } })
}

export interface ProduceRecord {
  key?: string | Buffer | null
  value: string | Buffer | null
  partition?: number
  headers?: Array<{ name: string, value: string | null }>
}

/** Binary produce through the proxy; returns the offsets entries (asserting every record was written). */
export async function produceBinary (url: string, topic: string, records: ProduceRecord[]): Promise<Array<{ partition: number, offset: number }>> {
  const body = {
    records: records.map((r) => ({
      ...(r.key === undefined ? {} : { key: r.key === null ? null : b64(r.key) }),
      value: r.value === null ? null : b64(r.value),
      ...(r.partition === undefined ? {} : { partition: r.partition }),
      ...(r.headers === undefined ? {} : { headers: r.headers })
    }))
  }
  const res = await request('POST', `${url}/topics/${encodeURIComponent(topic)}`, { headers: { 'content-type': BINARY_V2 }, body })
  assert.equal(res.status, 200, `produce to ${topic}: ${show(res)}`)
  for (const o of res.body.offsets) assert.equal(o.error_code, null, `produce to ${topic}: ${show(res)}`)
  return res.body.offsets
}

export const positionKey = (r: { topic?: string, partition: number, offset: number }): string =>
  `${r.topic === undefined ? '' : `${r.topic}/`}${r.partition}@${r.offset}`
