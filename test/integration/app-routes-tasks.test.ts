// Request/reply routes against the real broker, with a responder written
// against the broker directly (a plain librdkafka consumer and producer, not
// the proxy). Two proxy servers stand for two worker processes.
// The ${…} in strings below are route expressions, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import rdkafka from '@confluentinc/kafka-javascript'
import { createTopic, uniqueName, bootstrap } from '../helpers/kafka.js'
import { testConfig } from '../helpers/proxy.js'
import { startServer } from '../../src/server.js'

type Headers = Array<Record<string, string | Buffer>>

const { KafkaConsumer, Producer } = rdkafka

function taskRoutes (requests: string, replies: string, silent: string): unknown[] {
  return [
    { methods: ['POST'], path: '/tasks/{id}', produce: { topic: requests, key: '${params.id}', reply_topic: replies, timeout_ms: 10000, async: true } },
    { methods: ['POST'], path: '/slow/{id}', produce: { topic: silent, key: '${params.id}', reply_topic: replies, timeout_ms: 300 } }
  ]
}

async function start (t: TestContext, routes: unknown[]): Promise<string> {
  const config = testConfig()
  config.routes = routes
  const server = await startServer({ config, log: pino({ level: 'silent' }), workers: 1 })
  t.after(() => server.shutdown())
  return `http://127.0.0.1:${server.port}`
}

/** Answers every request on `requests` with `{key, echo}` on `replies`: status 201, the same correlation-id. */
async function responder (t: TestContext, requests: string, replies: string, partitions: number): Promise<void> {
  const consumer = new KafkaConsumer({ 'bootstrap.servers': bootstrap(), 'group.id': uniqueName('responder'), 'enable.auto.commit': false }, {})
  const producer = new Producer({ 'bootstrap.servers': bootstrap(), 'linger.ms': 1 })
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  producer.setPollInterval(20)
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic: requests, partition, offset: 0 })))
  consumer.setDefaultConsumeTimeout(50)
  const state = { running: true }
  const loop = (async () => {
    while (state.running) {
      const batch = await new Promise<Array<{ key?: unknown, value: Buffer | null, headers?: Headers }>>((resolve, reject) => {
        consumer.consume(500, (err, messages) => err ? reject(err) : resolve(messages as never))
      })
      for (const m of batch) {
        const id = m.headers?.find((h) => h['correlation-id'] !== undefined)?.['correlation-id']
        const key = Buffer.isBuffer(m.key) ? m.key.toString() : String(m.key)
        const body = JSON.stringify({ key, echo: m.value?.toString() ?? null })
        producer.produce(replies, null, Buffer.from(body), null, Date.now(), undefined, [
          { 'correlation-id': id as Buffer }, { ':status': '201' }, { 'content-type': 'application/json' }
        ])
      }
    }
  })()
  t.after(async () => {
    state.running = false
    await loop
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  })
}

test('request/reply routes: sync, 1,000 concurrent without cross-talk, 504, async from another process', async (t) => {
  const requests = uniqueName('task-requests')
  const replies = uniqueName('task-replies')
  const silent = uniqueName('task-silent')
  await Promise.all([createTopic(requests, 2), createTopic(replies, 2), createTopic(silent, 1)])
  await responder(t, requests, replies, 2)
  const a = await start(t, taskRoutes(requests, replies, silent))
  const b = await start(t, taskRoutes(requests, replies, silent))

  await t.test('a synchronous request is answered with the reply, its :status and content type', async () => {
    const res = await fetch(`${a}/tasks/1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
    assert.equal(res.status, 201)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.match(res.headers.get('correlation-id') ?? '', /^[0-9a-f-]{36}$/)
    assert.deepEqual(await res.json(), { key: '1', echo: 'hello' })
  })

  await t.test('1,000 concurrent requests over two processes each get their own reply', async () => {
    const answers = await Promise.all(Array.from({ length: 1000 }, async (_, i) => {
      const res = await fetch(`${i % 2 === 0 ? a : b}/tasks/t${i}`, { method: 'POST', body: `body-${i}` })
      return { i, status: res.status, body: await res.json() as { key: string, echo: string } }
    }))
    for (const { i, status, body } of answers) {
      assert.equal(status, 201)
      assert.deepEqual(body, { key: `t${i}`, echo: `body-${i}` })
    }
  })

  await t.test('no reply within timeout_ms: 504 that says the request was written', async () => {
    const started = Date.now()
    const res = await fetch(`${a}/slow/1`, { method: 'POST', body: 'x' })
    assert.equal(res.status, 504)
    const body = await res.json() as { error_code: number, persisted: string, retriable: boolean }
    assert.equal(body.error_code, 50401)
    assert.equal(body.persisted, 'yes')
    assert.ok(Date.now() - started >= 290)
  })

  await t.test('Prefer: respond-async answers 202 with a Location another process answers', async () => {
    const res = await fetch(`${a}/tasks/async-1`, { method: 'POST', headers: { prefer: 'respond-async' }, body: 'later' })
    assert.equal(res.status, 202)
    const location = res.headers.get('location') as string
    assert.match(location, /^\/_replies\/[0-9a-f-]{36}$/)
    const reply = await fetch(`${b}${location}`, { headers: { prefer: 'wait=5' } })
    assert.equal(reply.status, 201)
    assert.deepEqual(await reply.json(), { key: 'async-1', echo: 'later' })
    const pending = await fetch(`${b}/_replies/00000000-0000-0000-0000-000000000000`)
    assert.equal(pending.status, 202)
  })
})

test('a reply_topic that does not exist stops the start', async () => {
  const config = testConfig()
  const requests = uniqueName('task-requests')
  await createTopic(requests, 1)
  config.routes = taskRoutes(requests, uniqueName('no-such-replies'), requests)
  await assert.rejects(startServer({ config, log: pino({ level: 'silent' }), workers: 1 }), /reply_topic .* does not exist/)
})
