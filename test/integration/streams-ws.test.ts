// WebSocket delivery on the stream path against the real broker: produce and
// consume over one socket, resuming, frames the proxy cannot take (error
// frames, the close codes of RFC 6455 §7.4.1), refusals before the handshake,
// the end of the process, and a client that never reads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { createTopic, eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { bootProxy } from '../helpers/process.js'
import { clusterIdOf } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'
import { WsClient } from '../helpers/ws.js'

async function streamUrl (base: string, topic: string, query = ''): Promise<string> {
  return `${base}/v3/clusters/${await clusterIdOf(base)}/topics/${topic}/records${query === '' ? '' : `?${query}`}`
}

test('produce and consume over one socket: every record sent is answered with its offset (echoing correlation) and comes back as a frame with its id', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('ws-roundtrip')
  await createTopic(topic, 3)
  const client = await WsClient.open(await streamUrl(proxy.url, topic, 'format=string'))
  t.after(() => client.close())
  await client.until(() => client.events('start').length === 1)
  assert.deepEqual(client.frames[0], { event: 'start', id: `${topic}@0#0,1#0,2#0` })
  const n = 300
  for (let i = 0; i < n; i++) {
    client.send({ correlation: { n: i }, partition_id: i % 3, key: { type: 'STRING', data: `k${i}` }, value: { type: 'STRING', data: `v${i}` }, headers: [{ name: 'h', value: Buffer.from(`x${i}`).toString('base64') }] })
  }
  await client.until(() => client.events('result').length === n && client.records().length === n, 30_000, 'every result and every record')
  const results = client.events('result')
  assert.deepEqual(results.map((r) => r.correlation.n).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i))
  for (const r of results) {
    assert.equal(r.error_code, 200)
    assert.equal(r.topic_name, topic)
    assert.equal(r.partition_id, r.correlation.n % 3)
    assert.equal(typeof r.offset, 'number')
    assert.deepEqual(r.key, { type: 'STRING', size: `k${r.correlation.n}`.length })
  }
  const records = client.records()
  assert.deepEqual(records.map((r) => r.value.data).sort(), Array.from({ length: n }, (_, i) => `v${i}`).sort())
  for (const r of records) {
    const sent = results.find((x) => x.correlation.n === Number(r.value.data.slice(1)))
    assert.deepEqual([r.partition, r.offset], [sent.partition_id, sent.offset])
    assert.match(r.id, new RegExp(`^${topic}@0#\\d+,1#\\d+,2#\\d+$`))
    assert.deepEqual(r.headers, [{ name: 'h', value: Buffer.from(`x${r.value.data.slice(1)}`).toString('base64') }])
  }
  assert.equal(records.at(-1).id, `${topic}@0#100,1#100,2#100`)
  const inKafka = await readAll(topic, 3, n)
  assert.equal(inKafka.length, n)
})

test('a socket resumes from Last-Event-ID in the handshake, or last_event_id, and misses nothing', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('ws-resume')
  await createTopic(topic, 2)
  await produceMany(topic, Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, value: `v${i}` })))
  const first = await WsClient.open(await streamUrl(proxy.url, topic, 'from=earliest&format=string'))
  await first.until(() => first.records().length >= 15)
  first.close()
  const kept = first.records().slice(0, 15)
  const id = kept.at(-1).id as string
  const byHeader = await WsClient.open(await streamUrl(proxy.url, topic, 'format=string'), { 'last-event-id': id })
  t.after(() => byHeader.close())
  await byHeader.until(() => byHeader.records().length >= 25)
  assert.deepEqual([...kept, ...byHeader.records()].map((r) => r.value.data).sort(), Array.from({ length: 40 }, (_, i) => `v${i}`).sort())
  const byQuery = await WsClient.open(await streamUrl(proxy.url, topic, `format=string&last_event_id=${id}`))
  t.after(() => byQuery.close())
  await byQuery.until(() => byQuery.records().length >= 25)
  assert.equal(byQuery.records().length, 25)
})

test('frames the proxy cannot take: error frames, 1003 for binary, 1009 for oversized, and the socket and process go on otherwise', async (t) => {
  const proxy = await startProxy(t, { streams: { max_frame_bytes: 4096 } })
  const topic = uniqueName('ws-hostile')
  await createTopic(topic, 1)
  const url = await streamUrl(proxy.url, topic)

  const c = await WsClient.open(url)
  t.after(() => c.close())
  c.send('{"value": ')
  c.send('[1, 2]')
  c.send({ correlation: 'bad', value: { type: 'NOPE', data: 1 } })
  c.send({ correlation: 'nowhere', partition_id: 7, value: { type: 'STRING', data: 'x' } })
  c.send({ ack: 'not-an-id!' })
  c.send({ ack: 17 })
  c.send({ correlation: 'good', value: { type: 'STRING', data: 'still works' } })
  await c.until(() => c.events('result').length >= 4 && c.events('error').length >= 2)
  const errors = c.events('error')
  assert.equal(errors[0].error_code, 400)
  assert.match(errors[0].message, /^Bad Request: /)
  const byCorrelation = Object.fromEntries(c.events('result').map((r) => [r.correlation ?? 'none', r]))
  assert.equal(byCorrelation.none.error_code, 400, 'an array is not a record')
  assert.equal(byCorrelation.bad.error_code, 400)
  assert.equal(byCorrelation.bad.persisted, 'no')
  assert.equal(byCorrelation.nowhere.error_code, 40402)
  assert.equal(byCorrelation.good.error_code, 200)
  assert.ok(errors.some((e) => /Invalid ack/.test(e.message)))
  assert.equal(c.closed, null, 'still open')

  const big = await WsClient.open(url)
  big.send({ value: { type: 'STRING', data: 'x'.repeat(5000) } })
  await big.until(() => big.closed !== null)
  assert.equal(big.closed?.code, 1009)
  assert.match(big.events('error')[0].message, /larger than the limit of 4096 bytes/)

  const huge = await WsClient.open(url)
  huge.send({ value: { type: 'STRING', data: 'x'.repeat(10_000) } })
  await huge.until(() => huge.closed !== null)
  assert.equal(huge.closed?.code, 1009, 'past twice the limit: refused by the WebSocket layer')

  const binary = await WsClient.open(url)
  binary.ws.send(Buffer.from([1, 2, 3]))
  await binary.until(() => binary.closed !== null)
  assert.equal(binary.closed?.code, 1003)
  assert.match(binary.events('error')[0].message, /binary frames are not taken/)

  const res = await fetch(`${proxy.url}/health/live`)
  assert.equal(res.status, 200, 'the process is fine')
})

/** The close code a server sends after `frame` arrives on a raw, hand-shaken socket. */
async function closeCodeAfter (url: string, frame: Buffer): Promise<number> {
  const u = new URL(url)
  const socket = net.connect(Number(u.port), u.hostname)
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  let buf = Buffer.alloc(0)
  let handshaken = false
  return await new Promise<number>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (!handshaken) {
        const end = buf.indexOf('\r\n\r\n')
        if (end === -1) return
        if (!buf.subarray(0, 12).toString().includes('101')) reject(new Error(buf.toString()))
        handshaken = true
        buf = buf.subarray(end + 4)
        socket.write(frame)
      }
      // Server frames are unmasked: find the close frame (opcode 8).
      for (let i = 0; i + 1 < buf.length;) {
        const opcode = (buf[i] as number) & 0x0f
        const len = (buf[i + 1] as number) & 0x7f
        if (i + 2 + len > buf.length) break
        if (opcode === 8) {
          resolve(buf.readUInt16BE(i + 2))
          socket.destroy()
          return
        }
        i += 2 + len
      }
    })
    socket.on('error', reject)
  })
}

test('protocol violations close with their RFC 6455 codes: an unmasked client frame 1002, invalid UTF-8 in a text frame 1007', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('ws-protocol')
  await createTopic(topic, 1)
  const url = await streamUrl(proxy.url, topic)
  const unmasked = Buffer.from([0x81, 0x02, 0x7b, 0x7d])
  assert.equal(await closeCodeAfter(url, unmasked), 1002)
  const mask = [1, 2, 3, 4]
  const payload = [0xff, 0xfe, 0xfd]
  const invalidUtf8 = Buffer.from([0x81, 0x80 | payload.length, ...mask, ...payload.map((b, i) => b ^ (mask[i % 4] as number))])
  assert.equal(await closeCodeAfter(url, invalidUtf8), 1007)
  assert.equal((await fetch(`${proxy.url}/health/live`)).status, 200)
})

test('refusals before the handshake are HTTP answers in our error body; other upgrades are answered as plain requests', async (t) => {
  const proxy = await startProxy(t, { streams: { max_per_process: 1 } })
  const topic = uniqueName('ws-refused')
  await createTopic(topic, 1)
  const refused = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> => {
    try {
      const c = await WsClient.open(url, headers)
      c.close()
      throw new Error('the handshake was accepted')
    } catch (err: any) {
      if (err.status === undefined) throw err
      return { status: err.status, body: err.body }
    }
  }
  const bad = await refused(await streamUrl(proxy.url, topic, 'from=never'))
  assert.equal(bad.status, 400)
  assert.match(bad.body.message, /from must be/)
  assert.equal((await refused(await streamUrl(proxy.url, topic), { 'last-event-id': 'x@0#1' })).status, 400)
  assert.equal((await refused(await streamUrl(proxy.url, uniqueName('missing')))).body.error_code, 40403)
  assert.equal((await refused(`${proxy.url}/v3/clusters/nope/topics/${topic}/records`)).status, 404)
  assert.equal((await refused(`${proxy.url}/topics`)).status, 200, 'a path without WebSocket answers as usual (no 101)')
  const first = await WsClient.open(await streamUrl(proxy.url, topic))
  t.after(() => first.close())
  const full = await refused(await streamUrl(proxy.url, topic))
  assert.deepEqual([full.status, full.body.error_code, full.body.retriable], [503, 50307, true])

  // curl's h2c upgrade attempt on an ordinary GET gets the ordinary answer.
  const h2c = await new Promise<string>((resolve) => {
    const s = net.connect(proxy.server.port, '127.0.0.1', () => s.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n'))
    let out = ''
    s.on('data', (d) => { out += d.toString() })
    s.on('close', () => resolve(out))
  })
  assert.match(h2c, /^HTTP\/1\.1 200 /)
  assert.match(h2c, /"status":"ok"/)
})

test('shutdown ends every socket with an error frame carrying the id to resume from, then close 1001', async (t) => {
  const proxy = await startProxy(t, { streams: { encode_ids: false } })
  const topic = uniqueName('ws-shutdown')
  await createTopic(topic, 1)
  await produceMany(topic, [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }])
  const client = await WsClient.open(await streamUrl(proxy.url, topic, 'from=earliest'))
  await client.until(() => client.records().length === 2)
  await proxy.server.shutdown()
  await client.until(() => client.closed !== null)
  assert.equal(client.closed?.code, 1001)
  const err = client.events('error').at(-1)
  assert.deepEqual([err.error_code, err.retriable, err.id], [50303, true, `${topic}@0#2`])
})

test('a client that never reads does not grow the proxy\'s memory past its buffers', async (t) => {
  const prefetch = 4 << 20
  const proxy = await bootProxy(t, { workers: 1, env: { KAFKA_PROXY_CONSUMER__PREFETCH_MAX_BYTES: String(prefetch) } })
  const topic = uniqueName('ws-never-reads')
  await createTopic(topic, 2)
  const pid = await eventually(() => proxy.logs.find((l) => l.msg === 'worker listening')?.worker_pid as number | undefined, { what: 'the worker' })
  const rss = async (): Promise<number> => {
    const status = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/status`, 'utf8'))
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024
  }
  // A socket that completes the handshake and then reads nothing at all.
  const u = new URL(await streamUrl(proxy.url, topic, 'from=earliest'))
  const socket = net.connect(Number(u.port), u.hostname)
  t.after(() => socket.destroy())
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  await new Promise((resolve) => socket.once('data', resolve))
  socket.pause()
  const before = await rss()
  const value = 'x'.repeat(1000)
  // 8 rounds of 20 MB. The first two fill what the proxy may hold (the
  // reader's prefetch and one fetch in flight, one batch, the socket's
  // buffers) and warm V8's heap and the allocator up, whose slack alone was
  // 25-76 MiB depending on the machine's load (npm test runs two files at
  // once). From then on a proxy that keeps what the client does not read
  // grows with every round (120 MB more); a bounded one stays where it is.
  const rounds = 8
  const warmRounds = 2
  let warm = 0
  let highest = 0
  for (let round = 0; round < rounds; round++) {
    await produceMany(topic, Array.from({ length: 20_000 }, (_, i) => ({ partition: i % 2, value })))
    if (round === warmRounds - 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      warm = await rss()
    }
    if (round >= warmRounds) highest = Math.max(highest, await rss())
  }
  await new Promise((resolve) => setTimeout(resolve, 2000))
  highest = Math.max(highest, await rss())
  const mib = (n: number): string => (n / 1048576).toFixed(1)
  assert.ok(highest - warm < 32 << 20, `RSS grew ${mib(highest - warm)} MiB while 120 MB more were written (${mib(warm - before)} MiB in the first 40 MB)`)
  assert.ok(highest - before < 128 << 20, `RSS grew ${mib(highest - before)} MiB in all, for 160 MB written`)
  proxy.child.kill('SIGTERM')
  await proxy.exited
})
