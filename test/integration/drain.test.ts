// SIGTERM drain of the real entry point (cluster primary + worker), seen from
// outside: requests that arrive during the drain, or are still running when
// it ends, answer 503/50303 "shutting down" (retriable, connection: close),
// never 50302 "cluster unreachable"; requests already running complete; every
// acknowledged record is in Kafka.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { createTopic, eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { BINARY } from '../helpers/proxy.js'
import { bootProxy, type ProxyProcess } from '../helpers/process.js'
import { assign, createConsumer, read, V2 } from '../helpers/consumers.js'

interface Outcome {
  status: number
  connection: string | undefined
  body: any
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })

function produce (url: string, topic: string, value: string): Promise<Outcome> {
  const body = JSON.stringify({ records: [{ value: Buffer.from(value).toString('base64') }] })
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/topics/${topic}`, {
      method: 'POST',
      agent,
      headers: { 'content-type': BINARY, accept: V2, 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(Buffer.concat(chunks).toString()) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Opens a connection and sends all of a request but its last bytes, so that it is not idle and not yet dispatched. */
function partialRequest (url: string, head: string, rest: string): { finish: () => Promise<{ statusLine: string, headers: string, body: any }> } {
  const { port } = new URL(url)
  const socket = net.connect(Number(port), '127.0.0.1')
  const parts: Buffer[] = []
  socket.on('data', (d) => parts.push(d))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(head)
  return {
    finish: async () => {
      socket.write(rest)
      await closed
      const text = Buffer.concat(parts).toString()
      const end = text.indexOf('\r\n\r\n')
      assert.ok(end > 0, `a complete response, got ${JSON.stringify(text.slice(0, 200))}`)
      return { statusLine: text.slice(0, text.indexOf('\r\n')), headers: text.slice(0, end).toLowerCase(), body: JSON.parse(text.slice(end + 4)) }
    }
  }
}

function draining (proxy: ProxyProcess): boolean | undefined {
  return proxy.logs.some((l) => l.msg === 'worker draining') ? true : undefined
}

function assertShuttingDown (o: { status: number, body: any }, what: string): void {
  assert.equal(o.status, 503, `${what}: ${JSON.stringify(o.body)}`)
  assert.equal(o.body.error_code, 50303, `${what}: ${JSON.stringify(o.body)}`)
  assert.equal(o.body.retriable, true)
}

test('SIGTERM while requests flow: running requests complete, new ones get 50303 with connection: close, none 50302', async (t) => {
  const topic = uniqueName('drain-code')
  const idle = uniqueName('drain-idle')
  await createTopic(topic, 3)
  await createTopic(idle, 1)
  // One worker, so that the long read, the partial request and the producers share its drain.
  const proxy = await bootProxy(t, { workers: 1 })
  t.after(() => agent.destroy())

  // A long poll on an empty partition keeps the drain open for a few seconds.
  const consumer = await createConsumer(proxy.url, uniqueName('grp-drain'), { format: 'binary', 'consumer.request.timeout.ms': 4000 })
  await assign(consumer, [{ topic: idle, partition: 0 }])

  const outcomes: Outcome[] = []
  const acked: Array<{ value: string, partition: number, offset: number }> = []
  const state = { stop: false }
  const loop = async (id: number): Promise<void> => {
    for (let seq = 0; !state.stop; seq++) {
      const value = `d${id}-${seq}`
      try {
        const o = await produce(proxy.url, topic, value)
        outcomes.push(o)
        const r = o.body.offsets?.[0]
        if (o.status === 200 && r?.error_code === null) acked.push({ value, partition: r.partition, offset: r.offset })
      } catch {
        // Refused or reset once the listener is gone: nothing was acknowledged.
        if (proxy.child.exitCode !== null) return
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
  const loops = Array.from({ length: 4 }, (_, i) => loop(i))
  await eventually(() => acked.length >= 100 ? true : undefined, { timeoutMs: 30000, what: '100 acknowledged records' })

  const longRead = read(consumer, { timeout: 4000 })
  const body = JSON.stringify({ records: [{ value: Buffer.from('late').toString('base64') }] })
  const late = partialRequest(proxy.url,
    `POST /topics/${topic} HTTP/1.1\r\nhost: x\r\ncontent-type: ${BINARY}\r\naccept: ${V2}\r\ncontent-length: ${body.length}\r\n`,
    `\r\n${body}`)
  // Let the read reach the worker before the signal.
  await new Promise((resolve) => setTimeout(resolve, 300))
  proxy.child.kill('SIGTERM')
  await eventually(() => draining(proxy), { what: 'the worker to start draining' })

  const answer = await late.finish()
  assert.match(answer.statusLine, /^HTTP\/1\.1 503 /, JSON.stringify(answer.body))
  assert.match(answer.headers, /\r\nconnection: close/)
  assert.deepEqual(answer.body, { error_code: 50303, message: answer.body.message, retriable: true, persisted: 'no' })

  const readResult = await longRead
  assert.equal(readResult.status, 200, `the read running at SIGTERM completes: ${readResult.text}`)
  assert.deepEqual(readResult.body, [])

  const code = await proxy.exited
  state.stop = true
  await Promise.all(loops)
  assert.equal(code, 0)

  const failures = outcomes.filter((o) => o.status !== 200)
  for (const f of failures) {
    assertShuttingDown(f, 'a produce during the drain')
    assert.equal(f.connection, 'close')
    assert.equal(f.body.persisted, 'no')
  }
  assert.equal(outcomes.filter((o) => o.body?.error_code === 50302).length, 0, 'no request was told the cluster is unreachable')

  const inKafka = new Map((await readAll(topic, 3, acked.length)).map((r) => [`${r.partition}@${r.offset}`, r.value?.toString()]))
  for (const a of acked) assert.equal(inKafka.get(`${a.partition}@${a.offset}`), a.value, `acknowledged ${a.value}`)
  assert.ok(![...inKafka.values()].includes('late'), 'the refused request wrote nothing')
})

test('a request still running when server.shutdown_timeout_ms ends is answered 50303, not cut off', async (t) => {
  const idle = uniqueName('drain-cut')
  await createTopic(idle, 1)
  const proxy = await bootProxy(t, { workers: 1, env: { KAFKA_PROXY_SERVER__SHUTDOWN_TIMEOUT_MS: '1000' } })
  const consumer = await createConsumer(proxy.url, uniqueName('grp-cut'), { format: 'binary', 'consumer.request.timeout.ms': 20000 })
  await assign(consumer, [{ topic: idle, partition: 0 }])
  const longRead = read(consumer, { timeout: 20000 })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const signalled = Date.now()
  proxy.child.kill('SIGTERM')
  const res = await longRead
  // Its consumer is still inside a 20 s fetch at the deadline: the proxy answers for it.
  assertShuttingDown(res, 'the cut-off read')
  assert.equal(res.headers.connection, 'close')
  assert.ok(Date.now() - signalled < 15000, 'answered at the drain deadline, not at the read timeout')
  assert.equal(await proxy.exited, 0)
})
