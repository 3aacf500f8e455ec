// The produce and fetch capabilities of [[routes]] against the real broker,
// with the acceptance routes: two proxy servers stand for two worker
// processes (each its own producer and its own view of the topic).
// The ${…} in strings below are route expressions, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createTopic, uniqueName, bootstrap, produceNative } from '../helpers/kafka.js'
import { testConfig } from '../helpers/proxy.js'
import { startServer } from '../../src/server.js'
import type { Logger } from '../../src/logger.js'

function itemRoutes (topic: string): unknown[] {
  return [
    { methods: ['PUT', 'POST'], path: '/items/{id}', produce: { topic, key: '${params.id}', headers: { source: '${headers.x-source}' } } },
    { methods: ['DELETE'], path: '/items/{id}', produce: { topic, key: '${params.id}', tombstone: true } },
    { methods: ['GET'], path: '/items/{id}', fetch: { topic, key: '${params.id}' } },
    { methods: ['GET'], path: '/items', fetch: { topic, merge: 'array' } },
    { methods: ['POST'], path: '/small/{id}', max_body_bytes: 8, produce: { topic, key: '${params.id}' } }
  ]
}

async function start (t: TestContext, routes: unknown[], opts: { viewMaxBytes?: number, log?: Logger } = {}): Promise<string> {
  const config = testConfig({ route_settings: { view_max_bytes: opts.viewMaxBytes ?? 268435456 } })
  config.routes = routes
  const log = opts.log ?? pino({ level: 'silent' })
  const server = await startServer({ config, log, workers: 1 })
  t.after(() => server.shutdown())
  return `http://127.0.0.1:${server.port}`
}

async function put (base: string, id: string, body: string, type = 'application/json', source = 'test'): Promise<Response> {
  return await fetch(`${base}/items/${id}`, { method: 'PUT', headers: { 'content-type': type, 'x-source': source }, body })
}

test('items routes: produce, fetch from every process, ETag, wait, tombstones', async (t) => {
  const topic = uniqueName('items')
  await createTopic(topic, 2)
  const a = await start(t, itemRoutes(topic))
  const b = await start(t, itemRoutes(topic))

  await t.test('PUT answers 204 with the position once Kafka acknowledged; GET on the same process returns it with its content type', async () => {
    const res = await put(a, '1', 'hello', 'text/plain')
    assert.equal(res.status, 204)
    const position = res.headers.get('kafka-position')
    assert.match(position ?? '', /^[01]:\d+$/)
    const got = await fetch(`${a}/items/1`)
    assert.equal(got.status, 200)
    assert.equal(got.headers.get('content-type'), 'text/plain')
    assert.equal(await got.text(), 'hello')
  })

  await t.test('another process returns the write when the GET carries the PUT\'s Kafka-Position', async () => {
    const res = await put(a, '2', '{"n":2}')
    const position = res.headers.get('kafka-position') as string
    const got = await fetch(`${b}/items/2`, { headers: { 'kafka-position': position } })
    assert.equal(got.status, 200)
    assert.equal(got.headers.get('content-type'), 'application/json')
    assert.deepEqual(await got.json(), { n: 2 })
  })

  await t.test('ETag and If-None-Match: 304 while unchanged, a new ETag after a change', async () => {
    const first = await fetch(`${a}/items/2`)
    const etag = first.headers.get('etag') as string
    assert.ok(etag.startsWith('"'))
    const again = await fetch(`${a}/items/2`, { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
    assert.equal(again.headers.get('etag'), etag)
    // The same value written again is the same answer: the ETag stays.
    const same = await put(a, '2', '{"n":2}')
    await fetch(`${a}/items/2`, { headers: { 'kafka-position': same.headers.get('kafka-position') as string } })
    assert.equal((await fetch(`${a}/items/2`, { headers: { 'if-none-match': etag } })).status, 304)
    await put(a, '2', '{"n":3}')
    const changed = await fetch(`${a}/items/2`, { headers: { 'if-none-match': etag } })
    assert.equal(changed.status, 200)
    assert.notEqual(changed.headers.get('etag'), etag)
  })

  await t.test('Prefer: wait=5 with If-None-Match wakes within 100 ms of a PUT by another client, and times out to 304', async () => {
    const current = await fetch(`${b}/items/2`)
    const etag = current.headers.get('etag') as string
    const waiting = fetch(`${b}/items/2`, { headers: { 'if-none-match': etag, prefer: 'wait=5' } }).then(async (r) => ({ r, at: performance.now(), body: await r.text() }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const acked = await put(a, '2', '{"n":4}')
    const ackedAt = performance.now()
    assert.equal(acked.status, 204)
    const { r, at, body } = await waiting
    assert.equal(r.status, 200)
    assert.equal(body, '{"n":4}')
    assert.ok(at - ackedAt < 100, `woke ${Math.round(at - ackedAt)} ms after the PUT was acknowledged`)
    const unchanged = r.headers.get('etag') as string
    const started = performance.now()
    const timedOut = await fetch(`${b}/items/2`, { headers: { 'if-none-match': unchanged, prefer: 'wait=1' } })
    assert.equal(timedOut.status, 304)
    assert.ok(performance.now() - started >= 950)
  })

  await t.test('a missing key: 404 at once, or after waiting for it to appear with Prefer: wait', async () => {
    const missing = await fetch(`${a}/items/never`)
    assert.equal(missing.status, 404)
    assert.equal((await missing.json() as { error_code: number }).error_code, 404)
    const waiting = fetch(`${b}/items/late`, { headers: { prefer: 'wait=5' } })
    await new Promise((resolve) => setTimeout(resolve, 200))
    await put(a, 'late', '"here"')
    const got = await waiting
    assert.equal(got.status, 200)
    assert.equal(await got.text(), '"here"')
  })

  await t.test('GET /items is the JSON array of live values; DELETE then GET is 404 on every process', async () => {
    const del = await fetch(`${a}/items/1`, { method: 'DELETE' })
    assert.equal(del.status, 204)
    const position = del.headers.get('kafka-position') as string
    for (const base of [a, b]) {
      const gone = await fetch(`${base}/items/1`, { headers: { 'kafka-position': position } })
      assert.equal(gone.status, 404)
      const all = await fetch(`${base}/items`, { headers: { 'kafka-position': position } })
      assert.equal(all.status, 200)
      assert.equal(all.headers.get('content-type'), 'application/json')
      assert.deepEqual(await all.json(), [{ n: 4 }, 'here'])
      const etag = all.headers.get('etag') as string
      assert.equal((await fetch(`${base}/items`, { headers: { 'if-none-match': etag } })).status, 304)
    }
  })

  await t.test('bad input: 400 for an expression resolving to nothing, 405 with Allow, 413 over max_body_bytes', async () => {
    const noSource = await fetch(`${a}/items/3`, { method: 'PUT', body: 'x' })
    assert.equal(noSource.status, 400)
    assert.match((await noSource.json() as { message: string }).message, /headers\.x-source/)
    const patch = await fetch(`${a}/items/3`, { method: 'PATCH', body: 'x' })
    assert.equal(patch.status, 405)
    assert.equal(patch.headers.get('allow'), 'PUT, POST, DELETE, GET, HEAD, OPTIONS')
    const big = await fetch(`${a}/small/1`, { method: 'POST', body: '123456789' })
    assert.equal(big.status, 413)
    const fits = await fetch(`${a}/small/1`, { method: 'POST', body: '12345678' })
    assert.equal(fits.status, 202)
  })

  await t.test('paths that match no route fall through to the Confluent API', async () => {
    const topics = await fetch(`${a}/topics`)
    assert.equal(topics.status, 200)
    assert.ok((await topics.json() as string[]).includes(topic))
    assert.equal((await fetch(`${a}/nothing/here`)).status, 404)
  })

  await t.test('the OpenAPI document lists the configured routes next to the Confluent API', async () => {
    const doc = await (await fetch(`${a}/openapi.json`)).json() as { paths: Record<string, Record<string, { operationId: string, tags: string[], responses: Record<string, unknown> }>> }
    assert.deepEqual(Object.keys(doc.paths['/items/{id}'] ?? {}).filter((k) => k !== 'parameters').sort(), ['delete', 'get', 'post', 'put'])
    assert.deepEqual(Object.keys(doc.paths['/items'] ?? {}), ['get'])
    assert.deepEqual(doc.paths['/items/{id}']?.put?.tags, ['routes'])
    assert.ok('204' in (doc.paths['/items/{id}']?.put?.responses ?? {}))
    assert.ok('304' in (doc.paths['/items/{id}']?.get?.responses ?? {}))
    assert.ok(doc.paths['/topics/{topic_name}'] !== undefined || doc.paths['/topics'] !== undefined)
  })

  await t.test('Kafka\'s console consumer sees the records, keys and headers the routes wrote', async () => {
    const lib = process.env.TEST_KAFKA_LIB_DIR
    assert.ok(lib !== undefined && lib !== '', 'TEST_KAFKA_LIB_DIR names the Kafka distribution\'s libs')
    const out = await new Promise<string>((resolve, reject) => {
      execFile('java', ['-cp', `${lib}/*`, 'org.apache.kafka.tools.consumer.ConsoleConsumer',
        '--bootstrap-server', bootstrap(), '--topic', topic, '--from-beginning', '--timeout-ms', '8000', '--max-messages', '8',
        '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'key.separator=|'],
      { timeout: 60000 }, (err, stdout) => { if (err !== null && stdout === '') reject(err); else resolve(stdout) })
    })
    const lines = out.trim().split('\n')
    assert.ok(lines.includes('content-type:text/plain,source:test|1|hello'), out)
    assert.ok(lines.includes('content-type:application/json,source:test|2|{"n":4}'), out)
    // The tombstone: a null value and no content-type of its own.
    assert.ok(lines.includes('NO_HEADERS|1|null'), out)
  })
})

test('a view over routes.view_max_bytes answers 503 and logs why', async (t) => {
  const topic = uniqueName('items-big')
  await createTopic(topic, 1)
  await produceNative(topic, 0, Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from('x'.repeat(100)) })))
  const lines: Array<{ msg: string, topic?: string }> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as { msg: string }); cb() } })
  const base = await start(t, itemRoutes(topic), { viewMaxBytes: 1000, log: pino({ level: 'error' }, sink) })
  const res = await fetch(`${base}/items/k1`)
  assert.equal(res.status, 503)
  const body = await res.json() as { error_code: number, retriable: boolean, message: string }
  assert.equal(body.error_code, 50308)
  assert.match(body.message, /view_max_bytes/)
  assert.ok(lines.some((l) => l.topic === topic && /over routes\.view_max_bytes/.test(l.msg)), JSON.stringify(lines))
})
