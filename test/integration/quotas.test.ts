// Quotas per principal against the real broker. The real main with two
// workers: a principal's records/s quota holds for the whole instance,
// within 10 % of the configured rate, whether the client spreads its
// requests over both workers (a new connection each) or keeps one
// connection (one worker); 429s carry Retry-After; another principal is
// unaffected; concurrent_streams refuses one stream more (SSE or WebSocket)
// across both workers and frees the slot when a stream ends. In process:
// the per-record 429 of the v3 streaming produce and the consume quota of
// v3 reads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { defaultConfig } from '../../src/config/schema.js'
import { hashPassword } from '../../src/security/passwords.js'
import { createTopic, eventually, produceNative, uniqueName } from '../helpers/kafka.js'
import { bootProxy } from '../helpers/process.js'
import { BINARY, get, post, startProxy } from '../helpers/proxy.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { WsClient } from '../helpers/ws.js'
import { b64, JSON_TYPE, openStream, recordsPath, str } from '../helpers/v3-stream.js'

const RATE = 400
const PER_REQUEST = 4
// One connection carries one request at a time, and an accepted one waits for Kafka's
// acknowledgement: its batches are larger (v3.batch_max_entries), so that the client can offer
// more than the quota.
const PER_BATCH = 10
const DRAIN_MS = 1500
const MEASURE_MS = 4000
const LOOPS = 4
// Between one loop's requests: the offered load stays several times the quota without saturating two cores.
const PACE_MS = 2

async function usersFile (dir: string, names: string[]): Promise<string> {
  const file = path.join(dir, 'users')
  writeFileSync(file, (await Promise.all(names.map(async (n) => `${n}:${await hashPassword(`${n}-pw`, { N: 1024, r: 8, p: 1 })}`))).join('\n') + '\n')
  return file
}

const basic = (name: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${name}:${name}-pw`).toString('base64')}` })

interface Answer { status: number, headers: http.IncomingHttpHeaders, body: any }

function request (url: string, agent: http.Agent | false, headers: Record<string, string>, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body)
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { data += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data === '' ? null : JSON.parse(data) }))
    })
    req.on('error', reject)
    req.end(text)
  })
}

interface Measured {
  /** Records accepted per second in the measured window, after the burst was drained. */
  rate: number
  /** Records offered per second in that window. */
  offered: number
  refused: Answer[]
}

/**
 * Offers `send` from LOOPS loops for DRAIN_MS (the bucket's second of burst
 * and the workers' leases go) and MEASURE_MS more, counting the records
 * accepted by answers that arrived in the second window.
 */
async function overload (send: () => Promise<{ accepted: number, answer: Answer }>, perRequest: number): Promise<Measured> {
  const from = performance.now() + DRAIN_MS
  const to = from + MEASURE_MS
  let accepted = 0
  let offered = 0
  const refused: Answer[] = []
  await Promise.all(Array.from({ length: LOOPS }, async () => {
    while (performance.now() < to) {
      const r = await send()
      const at = performance.now()
      if (at >= from && at < to) {
        accepted += r.accepted
        offered += perRequest
      }
      if (r.answer.status === 429 || r.answer.headers['retry-after'] !== undefined) refused.push(r.answer)
      else if (r.answer.status !== 200 && r.answer.status !== 207) throw new Error(`unexpected ${r.answer.status}: ${JSON.stringify(r.answer.body)}`)
      await new Promise((resolve) => setTimeout(resolve, PACE_MS))
    }
  }))
  return { rate: accepted / (MEASURE_MS / 1000), offered: offered / (MEASURE_MS / 1000), refused }
}

/** A second principal producing well under the quota meanwhile: every request of it passes. */
function bystander (url: string, topic: string, until: () => boolean): Promise<number> {
  return (async () => {
    let sent = 0
    while (!until()) {
      const r = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('bob') }] }, basic('bob'))
      assert.equal(r.status, 200, `bob is refused: ${JSON.stringify(r.body)}`)
      sent++
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return sent
  })()
}

function within10 (measured: number, what: string): void {
  const off = Math.abs(measured - RATE) / RATE
  assert.ok(off <= 0.1, `${what}: ${measured.toFixed(1)} records/s accepted against a quota of ${RATE} (${(off * 100).toFixed(1)} % off)`)
}

function assertRefusal (a: Answer): void {
  const retryAfter = a.headers['retry-after']
  assert.ok(typeof retryAfter === 'string' && /^[1-9]\d*$/.test(retryAfter), `Retry-After is whole seconds, at least 1: ${String(retryAfter)}`)
}

test('real main, 2 workers: the records/s quota holds for the instance within 10 %, spread over both workers or on one connection; other principals are unaffected; concurrent_streams is shared', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quotas-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const proxy = await bootProxy(t, {
    workers: 2,
    env: {
      KAFKA_PROXY_AUTH__BASIC__USERS_FILE: await usersFile(dir, ['alice', 'bob']),
      KAFKA_PROXY_QUOTAS__PRODUCE_RECORDS_PER_S: String(RATE),
      KAFKA_PROXY_QUOTAS__CONCURRENT_STREAMS: '2'
    }
  })
  const topic = uniqueName('quotas')
  await createTopic(topic, 2)
  const records = Array.from({ length: PER_REQUEST }, (_, i) => ({ value: b64(`r${i}`) }))
  const v2 = { ...basic('alice'), 'content-type': BINARY }
  const v3 = { ...basic('alice'), 'content-type': JSON_TYPE }

  await t.test('v2 produce, a new connection per request (the primary hands them to both workers in turn)', async () => {
    let done = false
    const bob = bystander(proxy.url, topic, () => done)
    const m = await overload(async () => {
      const answer = await request(`${proxy.url}/topics/${topic}`, false, v2, { records })
      return { accepted: answer.status === 200 ? PER_REQUEST : 0, answer }
    }, PER_REQUEST)
    done = true
    const bobs = await bob
    t.diagnostic(`spread over both workers: ${m.rate.toFixed(1)} records/s accepted of ${m.offered.toFixed(0)} offered (quota ${RATE}), ${m.refused.length} refusals; bob: ${bobs} requests, all 200`)
    assert.ok(bobs >= 20, 'bob produced all along')
    within10(m.rate, 'spread')
    assert.ok(m.refused.length > 0)
    const refusal = m.refused[0] as Answer
    assert.equal(refusal.status, 429)
    assertRefusal(refusal)
    assert.equal(refusal.body.error_code, 42902)
    assert.equal(refusal.body.retriable, true)
    assert.equal(refusal.body.persisted, 'no')
    assert.match(refusal.body.message, /^Quota exceeded: alice may produce 400 records per second through this proxy instance; retry after \d+ s\.$/)
  })

  await t.test('v3 records:batch on one keep-alive connection (one worker): the same instance-wide rate, per-entry 429s', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    t.after(() => agent.destroy())
    const entries = Array.from({ length: PER_BATCH }, (_, i) => ({ id: `e${i}`, value: { type: 'BINARY', data: b64(`b${i}`) } }))
    let done = false
    const bob = bystander(proxy.url, topic, () => done)
    const m = await overload(async () => {
      const answer = await request(`${proxy.url}${recordsPath(topic)}:batch`, agent, v3, { entries })
      return { accepted: answer.status === 207 ? answer.body.successes.length : 0, answer }
    }, PER_BATCH)
    done = true
    const bobs = await bob
    t.diagnostic(`one connection: ${m.rate.toFixed(1)} records/s accepted of ${m.offered.toFixed(0)} offered (quota ${RATE}), ${m.refused.length} answers with refusals; bob: ${bobs} requests, all 200`)
    assert.ok(bobs >= 20, 'bob produced all along')
    within10(m.rate, 'one connection')
    const refusal = m.refused[0] as Answer
    assert.equal(refusal.status, 207)
    assertRefusal(refusal)
    const failure = refusal.body.failures[0]
    assert.deepEqual([failure.error_code, failure.retriable, failure.persisted], [42902, true, 'no'])
  })

  await t.test('concurrent_streams = 2 across both workers: the third stream is 429, another principal is not, and an ended stream frees its slot', async () => {
    const clusterId = (await get(`${proxy.url}/v3/clusters`, basic('alice'))).body.data[0].cluster_id as string
    const streamUrl = `${proxy.url}/v3/clusters/${clusterId}/topics/${topic}/records`
    const clients: SseClient[] = []
    t.after(() => { for (const c of clients) c.close() })
    const open = async (who: string): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string, client: SseClient }> => {
      const client = new SseClient()
      clients.push(client)
      return { ...await client.open(streamUrl, basic(who)), client }
    }
    const first = await open('alice')
    assert.equal(first.status, 200)
    assert.equal((await open('alice')).status, 200)
    const third = await open('alice')
    assert.equal(third.status, 429)
    assertRefusal({ status: third.status, headers: third.headers, body: null })
    assert.match(JSON.parse(third.body).message, /alice may hold 2 streams open at once on this proxy instance/)
    assert.equal((await open('bob')).status, 200, 'bob has streams of his own')
    first.client.close()
    await eventually(async () => {
      const again = await open('alice')
      if (again.status === 200) return true
      again.client.close()
      return undefined
    }, { what: 'the ended stream\'s slot to be free' })
    // Alice holds two streams again: a WebSocket is one stream more, refused before the handshake.
    const refused = await WsClient.open(streamUrl, basic('alice')).then(() => null, (err: { status?: number, body?: any }) => err)
    assert.equal(refused?.status, 429)
    assert.equal(refused?.body.error_code, 42902)
    const ws = await WsClient.open(streamUrl, basic('bob'))
    ws.ws.close()
  })
})

test('in process: per-record 429 results in the v3 streaming produce, with the records after them going on once tokens are back', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quotas-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const base = defaultConfig().auth
  const { url } = await startProxy(t, { auth: { ...base, basic: { ...base.basic, users_file: await usersFile(dir, ['alice']) } }, quotas: { produce_records_per_s: 5, produce_bytes_per_s: 0, consume_bytes_per_s: 0, concurrent_streams: 0 } })
  const topic = uniqueName('quotas-stream')
  await createTopic(topic, 1)
  const client = openStream(url, recordsPath(topic), JSON_TYPE, basic('alice'))
  client.write(Array.from({ length: 8 }, (_, i) => JSON.stringify({ value: str(`s${i}`) })).join(''))
  const lines = []
  for (let i = 0; i < 8; i++) lines.push(await client.next())
  assert.deepEqual(lines.map((l) => l.error_code), [200, 200, 200, 200, 200, 42902, 42902, 42902], 'a second of the rate, then one 429 result per record')
  assert.deepEqual([lines[5].retriable, lines[5].persisted], [true, 'no'])
  assert.match(lines[5].message, /retry after 1 s\.$/)
  await new Promise((resolve) => setTimeout(resolve, 500))
  client.end(JSON.stringify({ value: str('later') }))
  assert.deepEqual((await client.ended).map((l) => l.error_code), [200], 'tokens came back at the rate')
})

test('in process: WebSocket produce frames count against the produce quota: a 429 result per record over it, the socket goes on', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quotas-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const base = defaultConfig().auth
  const { url } = await startProxy(t, { auth: { ...base, basic: { ...base.basic, users_file: await usersFile(dir, ['alice']) } }, quotas: { produce_records_per_s: 5, produce_bytes_per_s: 0, consume_bytes_per_s: 0, concurrent_streams: 0 } })
  const topic = uniqueName('quotas-ws')
  await createTopic(topic, 1)
  const ws = await WsClient.open(`${url}${recordsPath(topic, await clusterIdOf(url, basic('alice')))}`, basic('alice'))
  t.after(() => ws.close())
  await ws.until(() => ws.events('start').length === 1)
  for (let i = 0; i < 8; i++) ws.send({ correlation: i, value: str(`w${i}`) })
  await ws.until(() => ws.events('result').length === 8, 10_000, 'eight results')
  const codes = ws.events('result').sort((a, b) => a.correlation - b.correlation).map((r) => r.error_code)
  assert.deepEqual(codes, [200, 200, 200, 200, 200, 42902, 42902, 42902], 'a second of the rate, then one 429 result per record')
  const refused = ws.events('result').find((r) => r.error_code === 42902)
  assert.deepEqual([refused.retriable, refused.persisted], [true, 'no'])
  await new Promise((resolve) => setTimeout(resolve, 500))
  ws.send({ correlation: 8, value: str('later') })
  await ws.until(() => ws.events('result').length === 9, 10_000, 'the later result')
  assert.equal(ws.events('result').find((r) => r.correlation === 8).error_code, 200, 'tokens came back at the rate')
})

test('in process: the consume quota caps a v3 read to a second of it, refuses the next read with Retry-After, and leaves other principals alone', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quotas-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const base = defaultConfig().auth
  const { url } = await startProxy(t, { auth: { ...base, basic: { ...base.basic, users_file: await usersFile(dir, ['alice', 'bob']) } }, quotas: { produce_records_per_s: 0, produce_bytes_per_s: 0, consume_bytes_per_s: 4000, concurrent_streams: 0 } })
  const topic = uniqueName('quotas-read')
  await createTopic(topic, 1)
  await produceNative(topic, 0, Array.from({ length: 20 }, () => ({ key: null, value: Buffer.alloc(1000, 120) })))
  const clusterId = (await get(`${url}/v3/clusters`, basic('alice'))).body.data[0].cluster_id as string
  const read = (who: string, offset = 0): Promise<{ status: number, body: any, headers: Headers }> =>
    get(`${url}/v3/clusters/${clusterId}/topics/${topic}/partitions/0/records?offset=${offset}&timeout=2000`, basic(who))
  // Reads follow next_offset until the quota refuses one: a second of the rate (the burst) and at
  // most one read more, which may overdraw it, each read asking for at most a second of it.
  let offset = 0
  let bytes = 0
  let refused: { status: number, body: any, headers: Headers } | null = null
  while (refused === null && offset < 20) {
    const r = await read('alice', offset)
    if (r.status === 429) {
      refused = r
      break
    }
    assert.equal(r.status, 200)
    assert.ok(r.body.data.length <= 4, `at most a second of the quota (4,000 bytes) per read: got ${r.body.data.length} records of 1,000 bytes`)
    bytes += r.body.data.length * 1000
    offset = r.body.next_offset
  }
  assert.ok(refused !== null, `a read was refused (read ${bytes} bytes)`)
  assert.ok(bytes >= 4000 && bytes <= 8000, `read ${bytes} bytes before the refusal: the burst of 4,000 and at most one read more`)
  assert.equal(refused.body.error_code, 42902)
  assert.equal(refused.body.persisted, undefined)
  assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/)
  assert.match(refused.body.message, /^Quota exceeded: alice may read 4000 record bytes per second through this proxy instance/)
  assert.equal((await read('bob')).status, 200, 'bob reads on')
  await eventually(async () => (await read('alice', offset)).status === 200 ? true : undefined, { what: 'alice\'s quota to refill', timeoutMs: 5000 })
})

test('in process: what an SSE stream delivers counts against the consume quota; over it the stream waits instead of reading, other principals stream on', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quotas-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const base = defaultConfig().auth
  const rate = 20_000
  const { url } = await startProxy(t, { auth: { ...base, basic: { ...base.basic, users_file: await usersFile(dir, ['alice', 'bob']) } }, quotas: { produce_records_per_s: 0, produce_bytes_per_s: 0, consume_bytes_per_s: rate, concurrent_streams: 0 } })
  const topic = uniqueName('quotas-sse')
  await createTopic(topic, 1)
  // 200 records of about 1,100 bytes of JSON each: about 11 s of alice's quota.
  await produceNative(topic, 0, Array.from({ length: 200 }, () => ({ key: null, value: Buffer.alloc(800, 120) })))
  const streamUrl = `${url}${recordsPath(topic, await clusterIdOf(url, basic('alice')))}?from=earliest`
  const alice = new SseClient()
  const bob = new SseClient()
  t.after(() => { alice.close(); bob.close() })
  const started = Date.now()
  assert.equal((await alice.open(streamUrl, basic('alice'))).status, 200)
  assert.equal((await bob.open(streamUrl, basic('bob'))).status, 200)
  // bob's own quota is as large, but he is another principal: he gets his share at once too.
  await bob.until(() => bob.count('message') >= 15, 10_000, 'bob\'s first second')
  await new Promise((resolve) => setTimeout(resolve, 4000 - (Date.now() - started)))
  const delivered = alice.events.filter((e) => e.event === 'message').reduce((n, e) => n + e.data.length, 0)
  const seconds = (Date.now() - started) / 1000
  // A second of burst, then the rate; a batch (at most a second of the rate) may overdraw once.
  const allowed = rate * (2 + seconds) * 1.1
  assert.ok(delivered <= allowed, `alice got ${delivered} bytes of records in ${seconds.toFixed(1)} s at ${rate} B/s (bound ${allowed})`)
  assert.ok(delivered >= rate * (seconds - 1) * 0.9, `alice still streams at about the rate: ${delivered} bytes in ${seconds.toFixed(1)} s`)
  assert.ok(alice.count('message') < 200, 'alice has not had the whole topic')
  assert.equal(alice.count('error'), 0, 'the stream waits; it is not ended')
})
