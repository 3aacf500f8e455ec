// Fuzzing every endpoint of the proxy's own OpenAPI document, as
// openapi-generated.test.ts does for the contract, but for robustness and at
// volume: at least 20,000 requests with a fixed seed (FUZZ_SEED and FUZZ_RUNS,
// requests per operation, for longer local runs), over keep-alive connections
// to one real entry point (primary + 1 worker) on a broker of its own, so that
// writes the generator makes (topics, ACLs, configs) touch no other test.
// Each request is schema-valid (values from the document's schemas) or
// hostile (bodies from a corpus: invalid UTF-8, 100,000-deep JSON, huge
// numbers, truncated JSON, random JSON; wrong content types; path
// parameters with traversal, encoded slashes, NUL, unicode, 300 characters;
// huge and malformed query values). Then the connection-level attacks:
// giant headers, a slowloris connection, truncated chunked bodies, invalid
// bytes in the request line. The worker must never crash, no answer may be a
// 500, and every error is in the API's error body.
//
// In npm test. Two crashes it found are fixed, each with its test in
// test/integration/consumer-group-ids.test.ts: a NUL in a group id, and the
// first DescribeGroups on a fresh cluster (the binding read a NULL assignor
// name when no coordinator had loaded the group). FUZZ_ONLY=<regex> limits it
// to matching operations; FUZZ_TRACE=1 prints every request and answer.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import fc from 'fast-check'
import { valueArbitrary, METHODS } from '../helpers/openapi.js'
import { startOwnBroker } from '../helpers/broker.js'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { bootProxy, workerPids, alive } from '../helpers/process.js'

type Schema = Record<string, any>

const SEED = Number(process.env.FUZZ_SEED ?? 20261203)
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
const CONCURRENCY = 8

const b = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))
const HOSTILE_BODIES: Buffer[] = [
  b('['.repeat(100_000), ']'.repeat(100_000)),
  b('{"a":'.repeat(50_000), '1', '}'.repeat(50_000)),
  b('"a', [0xff, 0xfe, 0xc3], 'b"'),
  b('{"records":[{"value":"', [0xc3, 0x28], '"}]}'),
  b('1e400'),
  b('{"partitions_count":18446744073709551616,"offset":-1e309}'),
  b('{"records":[{"partition":99999999999999999999,"value":null}]}'),
  b('{"records":[{"value":'),
  b('{"value":{"type":"BINARY","data":"%%%"}}'),
  b('{"a":1,"a":2}'),
  b('\u0000\u0001'),
  b(''),
  b('null'),
  b('[]'),
  b('"\\ud800"'),
  b('{"topic_name":"', 'x'.repeat(70_000), '"}')
]
const HOSTILE_NAMES = ['..', '../..', '%2e%2e', '.', 'a%2Fb', '%00', 'тема', '😀', 'x'.repeat(300), ' ', '%20', 'a\u202eb', '__consumer_offsets', '-1', '1e400', '99999999999999999999']
const HOSTILE_QUERY = ['', '-1', '1e400', '99999999999999999999', 'NaN', '%00', 'true', '[]', 'x'.repeat(3000), '😀']
const WRONG_TYPES = ['text/plain', 'application/xml', 'application/vnd.kafka.avro.v2+json', 'application/vnd.kafka.v2+json; charset=ebcdic', 'multipart/form-data; boundary=x', '', 'application/json; charset=utf-16']

interface Operation { method: string, template: string, op: Schema, parameters: Schema[] }
interface Generated { method: string, path: string, headers: Record<string, string>, body?: Buffer }
interface Outcome { status: number, type: string, text: string }

function operations (doc: Schema): Operation[] {
  const out: Operation[] = []
  for (const [template, item] of Object.entries(doc.paths as Schema)) {
    for (const m of METHODS) {
      const op = item[m]
      if (op !== undefined) out.push({ method: m.toUpperCase(), template, op, parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])] })
    }
  }
  return out
}

function send (agent: http.Agent, url: string, g: Generated): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...g.headers }
    if (g.body !== undefined) headers['content-length'] = g.body.length
    const req = http.request(`${url}${g.path}`, { method: g.method, agent, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')))
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A refused oversized upload may be cut off while it is still being sent.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') resolve({ status: -1, type: '', text: err.code })
      else reject(err)
    })
    req.end(g.body)
  })
}

/** What every answer must be: no 500, and an error in our error body. */
function problem (g: Generated, r: Outcome): string | null {
  if (r.status === -1) return null
  if (r.status === 500) return `500: ${r.text.slice(0, 200)}`
  // A 406 has no body: the client accepts none of the types an error body could have (error-response.ts).
  if (r.status < 400 || r.status === 406 || g.method === 'HEAD') return null
  if (!r.type.includes('json')) return `${r.status} with content type ${r.type}`
  let body: any
  try {
    body = JSON.parse(r.text.split('\r\n')[0] as string)
  } catch {
    return `${r.status} body is not JSON: ${r.text.slice(0, 200)}`
  }
  if (typeof body?.error_code !== 'number' || typeof body?.message !== 'string') return `${r.status} not our error body: ${r.text.slice(0, 200)}`
  return null
}

test(`fuzz every endpoint with ${RUNS} requests per operation and the hostile corpus: no 500, no crash, every error in our error body`, async (t) => {
  const broker = await startOwnBroker(t)
  const servers = broker.current.bootstrapServers
  const proxy = await bootProxy(t, {
    workers: 1,
    env: {
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: servers,
      // Short enough for the slowloris connection to be cut within the test.
      KAFKA_PROXY_SERVER__HEADERS_TIMEOUT_MS: '2000',
      KAFKA_PROXY_SERVER__REQUEST_TIMEOUT_MS: '3000',
      KAFKA_PROXY_CONSUMER__REQUEST_TIMEOUT_MS: '200'
    }
  })
  const worker = (await new Promise<number[]>((resolve) => {
    const check = (): void => { const p = workerPids(proxy.logs); if (p.length === 1) resolve(p); else setTimeout(check, 100) }
    check()
  }))[0] as number
  // A crashed worker says why in the primary's log only.
  t.after(() => {
    if (!alive(worker)) process.stderr.write(proxy.logs.filter((l) => l.msg.includes('exit') || l.level === 'error' || l.level === 'fatal').map((l) => JSON.stringify(l)).join('\n') + '\n')
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  t.after(() => agent.destroy())
  const doc = JSON.parse((await send(agent, proxy.url, { method: 'GET', path: '/openapi.json', headers: {} })).text) as Schema
  const topic = uniqueName('fuzz')
  await createTopic(topic, 2, servers)
  const cid = JSON.parse((await send(agent, proxy.url, { method: 'GET', path: '/v3/clusters', headers: {} })).text).data[0].cluster_id as string
  const group = uniqueName('fuzz-group')
  // One consumer instance, so that the v2 consumer operations reach their bodies.
  const created = await send(agent, proxy.url, { method: 'POST', path: `/consumers/${group}`, headers: { 'content-type': 'application/vnd.kafka.v2+json' }, body: Buffer.from('{"name":"fuzzer","format":"binary"}') })
  assert.equal(created.status, 200, created.text)
  const fixtures: Record<string, string> = { cluster_id: cid, topic, partition: '0', broker_id: '1', group, consumer: 'nobody', instance: 'fuzzer', name: 'no.such.config', subscription: 'nobody' }

  const problems: string[] = []
  const statuses = new Map<number, number>()
  let sent = 0
  const run = async (list: Generated[]): Promise<void> => {
    let next = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < list.length) {
        const g = list[next++] as Generated
        if (process.env.FUZZ_TRACE !== undefined) process.stderr.write(`> ${g.method} ${g.path.slice(0, 160)} [${g.headers.accept ?? ''}] [${g.headers['content-type'] ?? ''}]\n`)
        const r = await send(agent, proxy.url, g)
        sent++
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        if (process.env.FUZZ_TRACE !== undefined) process.stderr.write(`${r.status} ${g.method} ${g.path.slice(0, 160)} ${r.text.slice(0, 120)}\n`)
        const p = problem(g, r)
        if (p !== null && problems.length < 200) problems.push(`${g.method} ${g.path.slice(0, 200)} [${g.headers['content-type'] ?? ''}] ${g.body?.subarray(0, 80).toString() ?? ''} → ${p}`)
      }
    }))
  }

  const only = process.env.FUZZ_ONLY === undefined ? null : new RegExp(process.env.FUZZ_ONLY)
  for (const o of operations(doc).filter((x) => only === null || only.test(`${x.method} ${x.template}`))) {
    // An event stream never ends; its cursor form (Accept: application/json) is fuzzed instead.
    const streamRead = o.method === 'GET' && o.template.endsWith('/records') && o.template.startsWith('/v3/')
    const content = (o.op.requestBody?.content ?? {}) as Schema
    const types = Object.keys(content)
    const param = (name: string): fc.Arbitrary<string> => fc.oneof(
      { weight: 16, arbitrary: fc.constant(encodeURIComponent(fixtures[name] ?? 'x')) },
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NAMES).map((n) => n.includes('%') ? n : encodeURIComponent(n)) },
      { weight: 1, arbitrary: fc.constantFrom('..', '.', '..%2F..') })
    const queryValue = (p: Schema): fc.Arbitrary<string> => fc.oneof(
      { weight: 2, arbitrary: valueArbitrary(p.schema as Schema, `query.${p.name as string}`, {}).map((v) => String(v)) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_QUERY) })
    const query = o.parameters.filter((p) => p.in === 'query')
    const streamQuery = streamRead ? [['timeout', '50']] : []
    const body: fc.Arbitrary<{ type?: string, bytes?: Buffer }> = fc.oneof(
      { weight: types.length === 0 ? 1 : 4, arbitrary: types.length === 0 ? fc.constant({}) : fc.constantFrom(...types).chain((type) => valueArbitrary(content[type].schema as Schema, 'body', {}).map((v) => ({ type, bytes: Buffer.from(JSON.stringify(v) ?? '') }))) },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...(types.length === 0 ? ['application/json'] : types)), fc.constantFrom(...HOSTILE_BODIES)).map(([type, bytes]) => ({ type, bytes })) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...(types.length === 0 ? ['application/json'] : types)), fc.json({ maxDepth: 4 })).map(([type, json]) => ({ type, bytes: Buffer.from(json) })) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...WRONG_TYPES), fc.constantFrom(...HOSTILE_BODIES.slice(2))).map(([type, bytes]) => ({ type, bytes })) })
    const generated = fc.record({
      // From the template: some operations declare their path parameters by reference.
      params: fc.record(Object.fromEntries([...o.template.matchAll(/\{(\w+)\}/g)].map(([, n]) => [n as string, param(n as string)]))),
      query: fc.array(fc.constantFrom(...(query.length === 0 ? [null] : query)).chain((p) => p === null ? fc.constant(null) : queryValue(p).map((v) => [p.name as string, v] as [string, string])), { maxLength: 3 }),
      body,
      accept: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'application/vnd.kafka.v2+json', 'application/vnd.kafka.binary.v2+json', 'text/html', '*/*') })
    }).map(({ params, query: q, body: bd, accept }): Generated => {
      const path = o.template.replace(/\{(\w+)\}/g, (_, n: string) => params[n] as string)
      const pairs = [...streamQuery, ...q.filter((x): x is [string, string] => x !== null)]
      const qs = pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`
      const headers: Record<string, string> = {}
      if (streamRead) headers.accept = 'application/json'
      else if (accept !== undefined) headers.accept = accept
      const out: Generated = { method: o.method, path: path + qs, headers }
      if (bd.bytes !== undefined && o.method !== 'GET' && o.method !== 'HEAD') {
        if (bd.type !== undefined && bd.type !== '') headers['content-type'] = bd.type
        out.body = bd.bytes
      }
      return out
    })
    await run(fc.sample(generated, { seed: SEED, numRuns: RUNS }))
    assert.ok(alive(worker), `the worker died during ${o.method} ${o.template}`)
  }

  // Connection-level attacks, each on a raw socket.
  const { port } = new URL(proxy.url)
  const raw = (bytes: Buffer | string, opts: { end?: boolean, waitMs?: number } = {}): Promise<string> => new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1')
    let out = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { out += d })
    socket.on('error', () => {})
    socket.on('close', () => resolve(out))
    socket.write(bytes)
    if (opts.end === true) socket.end()
    setTimeout(() => socket.destroy(), opts.waitMs ?? 5000)
  })
  const attacks: Array<[string, Promise<string>, RegExp | null]> = [
    ['giant header', raw(`GET /v3/clusters HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /],
    ['slowloris', raw('GET /v3/clusters HTTP/1.1\r\nhost: x\r\nx-slow: ', { waitMs: 8000 }), /^HTTP\/1\.1 408 |^$/],
    ['truncated chunked body', raw(`POST /topics/${topic} HTTP/1.1\r\nhost: x\r\ncontent-type: application/vnd.kafka.binary.v2+json\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{"records":[{"va`, { end: true }), null],
    ['truncated chunked stream', raw(`POST /v3/clusters/${cid}/topics/${topic}/records HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n2a\r\n{"value":{"type":"STRING","data":"first"}}\r\n5\r\n{"val`, { end: true }), null],
    ['bad chunk size', raw(`POST /topics/${topic} HTTP/1.1\r\nhost: x\r\ncontent-type: application/vnd.kafka.binary.v2+json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n`), /^HTTP\/1\.1 400 /],
    ['invalid bytes in the request line', raw(Buffer.concat([Buffer.from('GET /topics/'), Buffer.from([0xff, 0x00, 0xfe]), Buffer.from(' HTTP/1.1\r\nhost: x\r\n\r\n')])), /^HTTP\/1\.1 400 /],
    ['path traversal', raw('GET /../../../etc/passwd HTTP/1.1\r\nhost: x\r\n\r\n'), /^HTTP\/1\.1 (400|404) /],
    ['content-length and chunked', raw(`POST /topics/${topic} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`), /^HTTP\/1\.1 400 /]
  ]
  for (const [name, answer, expected] of attacks) {
    const text = await answer
    sent++
    if (expected !== null && !expected.test(text)) problems.push(`${name}: ${JSON.stringify(text.slice(0, 200))}`)
    if (/^HTTP\/1\.1 500 /.test(text)) problems.push(`${name}: 500`)
    const end = text.indexOf('\r\n\r\n')
    if (end > 0 && /^HTTP\/1\.1 4/.test(text) && !/"error_code":\d+/.test(text.slice(end))) problems.push(`${name}: not our error body: ${JSON.stringify(text.slice(0, 300))}`)
  }

  // Still the same worker, still serving.
  assert.ok(alive(worker), 'the worker survived')
  assert.deepEqual(workerPids(proxy.logs), [worker], 'no worker was replaced')
  assert.equal((await send(agent, proxy.url, { method: 'GET', path: '/v3/clusters', headers: {} })).status, 200)
  const histogram = [...statuses].sort(([a], [c]) => a - c).map(([s, n]) => `${s}×${n}`).join(' ')
  t.diagnostic(`seed ${SEED}, ${RUNS} per operation: ${sent} requests; statuses ${histogram}`)
  assert.ok(sent >= 20_000 || RUNS < 300, `${sent} requests`)
  assert.deepEqual(problems.slice(0, 30), [], `${problems.length} problems (seed ${SEED})`)
})
