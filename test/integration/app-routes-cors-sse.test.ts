// CORS of [[routes]] (global [cors] and a route's own table, preflight
// without Kafka) and sse routes through the push-delivery engine.
// The ${…} in strings below are route expressions, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { createTopic, produceNative, uniqueName } from '../helpers/kafka.js'
import { testConfig } from '../helpers/proxy.js'
import { SseClient } from '../helpers/sse.js'
import { startServer } from '../../src/server.js'

test('CORS and sse routes', async (t) => {
  const items = uniqueName('cors-items')
  const events = uniqueName('events')
  await Promise.all([createTopic(items, 1), createTopic(events, 1)])
  const config = testConfig({ cors: { allowed_origins: ['https://app.example'], max_age_s: 60 } })
  config.routes = [
    { methods: ['PUT'], path: '/items/{id}', produce: { topic: items, key: '${params.id}' } },
    { methods: ['GET'], path: '/items/{id}', fetch: { topic: items, key: '${params.id}' } },
    // A route of its own policy: another origin, credentials.
    { methods: ['POST'], path: '/never/{id}', produce: { topic: uniqueName('no-such-topic'), key: '${params.id}' }, cors: { allowed_origins: ['https://other.example'], credentials: true } },
    { methods: ['GET'], path: '/events/{tenant}', sse: { topic: events, filters: [{ header: { tenant: '${params.tenant}' } }] } }
  ]
  const server = await startServer({ config, log: pino({ level: 'silent' }), workers: 1 })
  t.after(() => server.shutdown())
  const base = `http://127.0.0.1:${server.port}`

  await t.test('a preflight is answered from the policy, without Kafka (the route\'s topic does not even exist)', async () => {
    const res = await fetch(`${base}/never/1`, { method: 'OPTIONS', headers: { origin: 'https://other.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, idempotency-key' } })
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://other.example')
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    assert.equal(res.headers.get('access-control-allow-methods'), 'POST, OPTIONS')
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type, idempotency-key')
    const global = await fetch(`${base}/items/1`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } })
    assert.equal(global.status, 204)
    assert.equal(global.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.equal(global.headers.get('access-control-max-age'), '60')
    const stranger = await fetch(`${base}/items/1`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } })
    assert.equal(stranger.status, 204)
    assert.equal(stranger.headers.get('access-control-allow-origin'), null)
  })

  await t.test('answers to an allowed origin carry the CORS headers, errors included', async () => {
    const put = await fetch(`${base}/items/1`, { method: 'PUT', headers: { origin: 'https://app.example' }, body: '{}' })
    assert.equal(put.status, 204)
    assert.equal(put.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.match(put.headers.get('access-control-expose-headers') ?? '', /kafka-position/)
    const missing = await fetch(`${base}/items/none`, { headers: { origin: 'https://app.example' } })
    assert.equal(missing.status, 404)
    assert.equal(missing.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.equal((await missing.json() as { error_code: number }).error_code, 404)
    const other = await fetch(`${base}/items/1`, { headers: { origin: 'https://other.example' } })
    assert.equal(other.headers.get('access-control-allow-origin'), null)
  })

  await t.test('an sse route streams the records its path\'s filter selects, and resumes with Last-Event-ID', async () => {
    await produceNative(events, 0, ['a', 'b', 'a', 'b', 'a'].map((tenant, i) => ({ key: Buffer.from(`e${i}`), value: Buffer.from(`event-${i}`), headers: [{ tenant: Buffer.from(tenant) }] })))
    const sse = new SseClient()
    t.after(() => sse.close())
    const opened = await sse.open(`${base}/events/a?from=earliest`)
    assert.equal(opened.status, 200, opened.body)
    assert.match(String(opened.headers['content-type']), /text\/event-stream/)
    await sse.until(() => sse.events.filter((e) => e.data !== '' && e.event !== 'position').length >= 3, 15000)
    const data = sse.events.filter((e) => e.data !== '' && e.event !== 'position')
      .map((e) => Buffer.from((JSON.parse(e.data) as { value: { data: string } }).value.data, 'base64').toString())
    assert.deepEqual(data, ['event-0', 'event-2', 'event-4'])
    const afterSecond = sse.events.filter((e) => e.data !== '' && e.event !== 'position')[1]?.id as string
    sse.close()
    const resumed = new SseClient()
    t.after(() => resumed.close())
    await resumed.open(`${base}/events/a`, { 'last-event-id': afterSecond })
    await resumed.until(() => resumed.events.some((e) => e.data !== '' && e.event !== 'position'), 15000)
    const first = resumed.events.find((e) => e.data !== '' && e.event !== 'position')
    assert.equal(first?.id, sse.events.filter((e) => e.data !== '' && e.event !== 'position')[2]?.id)
  })
})
