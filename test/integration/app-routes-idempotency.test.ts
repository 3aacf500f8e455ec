// Idempotency-Key on produce routes, counted in Kafka with a plain consumer.
// The ${…} in strings below are route expressions, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { testConfig } from '../helpers/proxy.js'
import { startServer } from '../../src/server.js'

test('Idempotency-Key: retries write once and get the first answer; another body is a 422', async (t) => {
  const orders = uniqueName('orders')
  const requests = uniqueName('idem-requests')
  const replies = uniqueName('idem-replies')
  await Promise.all([createTopic(orders, 2), createTopic(requests, 1), createTopic(replies, 1)])
  const config = testConfig()
  config.routes = [
    { methods: ['POST'], path: '/orders/{id}', produce: { topic: orders, key: '${params.id}' } },
    { methods: ['POST'], path: '/jobs/{id}', produce: { topic: requests, key: '${params.id}', reply_topic: replies, async: true } }
  ]
  const server = await startServer({ config, log: pino({ level: 'silent' }), workers: 1 })
  t.after(() => server.shutdown())
  const base = `http://127.0.0.1:${server.port}`
  const order = (i: number, key: string, body = `order-${i}`): Promise<Response> =>
    fetch(`${base}/orders/${i}`, { method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'text/plain' }, body })

  await t.test('100 requests retried with the same keys write 100 records, not 200, and answer the same', async () => {
    const first = await Promise.all(Array.from({ length: 100 }, (_, i) => order(i, `k-${i}`)))
    const retried = await Promise.all(Array.from({ length: 100 }, (_, i) => order(i, `k-${i}`)))
    for (let i = 0; i < 100; i++) {
      assert.equal(first[i]?.status, 202)
      assert.equal(retried[i]?.status, 202)
      assert.equal(retried[i]?.headers.get('kafka-position'), first[i]?.headers.get('kafka-position'))
      assert.equal(retried[i]?.headers.get('idempotent-replayed'), 'true')
    }
    const records = await readAll(orders, 2, 200, { timeoutMs: 2000 })
    assert.equal(records.length, 100)
  })

  await t.test('concurrent duplicates on one instance write one record', async () => {
    const same = await Promise.all(Array.from({ length: 20 }, () => order(500, 'concurrent')))
    const positions = new Set(same.map((r) => r.headers.get('kafka-position')))
    assert.equal(positions.size, 1)
    assert.ok(same.every((r) => r.status === 202))
    const records = await readAll(orders, 2, 200, { timeoutMs: 1500 })
    assert.equal(records.filter((r) => r.key?.toString() === '500').length, 1)
  })

  await t.test('the same key with a different body is a 422', async () => {
    const res = await order(0, 'k-0', 'something else')
    assert.equal(res.status, 422)
    assert.equal((await res.json() as { error_code: number }).error_code, 42211)
  })

  await t.test('a retried asynchronous request/reply request gets the same Location and writes once', async () => {
    const send = (): Promise<Response> => fetch(`${base}/jobs/1`, { method: 'POST', headers: { 'idempotency-key': 'job-1', prefer: 'respond-async' }, body: 'work' })
    const a = await send()
    const b = await send()
    assert.equal(a.status, 202)
    assert.equal(b.status, 202)
    assert.equal(b.headers.get('location'), a.headers.get('location'))
    const records = await readAll(requests, 1, 10, { timeoutMs: 1500 })
    assert.equal(records.length, 1)
  })
})
