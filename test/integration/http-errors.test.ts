// HTTP-level failures (malformed requests, oversized headers and URLs, slow
// clients, too many connections) answer the right status with the proxy's
// error body, over raw sockets so that exactly what is on the wire is seen;
// errors come in the client's negotiated type; links never come from Host.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { uniqueName } from '../helpers/kafka.js'
import { startProxy, get } from '../helpers/proxy.js'
import { request, show, V2 } from '../helpers/consumers.js'

interface RawAnswer {
  statusLine: string
  headers: Record<string, string>
  body: any
}

/** Writes `chunks` (waiting `gapMs` between them), then reads until the server closes or `untilMs` passes. */
function raw (port: number, chunks: Array<string | Buffer>, opts: { gapMs?: number, untilMs?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const parts: Buffer[] = []
    const timer = setTimeout(() => socket.destroy(), opts.untilMs ?? 10000)
    socket.on('data', (d) => parts.push(d))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(parts).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) {
        reject(new Error(`no complete response: ${JSON.stringify(text.slice(0, 200))}`))
        return
      }
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
      const headers: Record<string, string> = {}
      for (const l of lines) {
        const colon = l.indexOf(':')
        headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim()
      }
      const bodyText = text.slice(end + 4)
      resolve({ statusLine, headers, body: bodyText === '' ? null : JSON.parse(bodyText) })
    })
    socket.once('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) return
        socket.write(c)
        if (opts.gapMs !== undefined) await new Promise((resolve) => setTimeout(resolve, opts.gapMs))
      }
    })
  })
}

function assertRawError (a: RawAnswer, status: number, retriable: boolean): void {
  assert.match(a.statusLine, new RegExp(`^HTTP/1\\.1 ${status} `), a.statusLine)
  assert.equal(a.headers['content-type'], 'application/json')
  assert.equal(a.headers.connection, 'close')
  assert.equal(a.body.error_code, status, JSON.stringify(a.body))
  assert.equal(typeof a.body.message, 'string')
  assert.ok(a.body.message.length > 0)
  assert.equal(a.body.retriable, retriable)
}

test('431 for headers over server.max_header_bytes, with our error body', async (t) => {
  const { server } = await startProxy(t, { server: { max_header_bytes: 4096 } }, { waitReady: false })
  const a = await raw(server.port, [`GET /topics HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(8000)}\r\n\r\n`])
  assertRawError(a, 431, false)
})

test('414 for a URL over server.max_url_bytes, whether or not it also overflows the header limit', async (t) => {
  const { url, server } = await startProxy(t, { server: { max_url_bytes: 1024, max_header_bytes: 4096 } }, { waitReady: false })
  const a = await raw(server.port, [`GET /topics/${'t'.repeat(2000)} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`])
  assert.match(a.statusLine, /^HTTP\/1\.1 414 /)
  assert.equal(a.body.error_code, 414)
  assert.equal(a.body.retriable, false)
  assert.match(a.body.message, /1024 bytes/)
  // Over the header limit too: node's parser stops it, and the request line is what overflowed.
  const b = await raw(server.port, [`GET /topics/${'t'.repeat(6000)} HTTP/1.1\r\nhost: x\r\n\r\n`])
  assertRawError(b, 414, false)
  // A URL under the limit is routed as usual.
  const ok = await get(`${url}/topics/${'t'.repeat(500)}`)
  assert.equal(ok.status, 404)
})

test('400 with our error body for malformed HTTP', async (t) => {
  const { server } = await startProxy(t, {}, { waitReady: false })
  for (const bad of ['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nbad header line\r\n\r\n', 'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n']) {
    const a = await raw(server.port, [bad])
    assertRawError(a, 400, false)
  }
})

test('408 with our error body when the headers do not arrive within server.headers_timeout_ms', async (t) => {
  const { server } = await startProxy(t, { server: { headers_timeout_ms: 1000 } }, { waitReady: false })
  const a = await raw(server.port, ['GET /topics HTTP/1.1\r\nhost: x\r\n'])
  assertRawError(a, 408, true)
})

test('408 with our error body and connection: close when the body does not arrive within server.request_timeout_ms', async (t) => {
  const { server } = await startProxy(t, { server: { request_timeout_ms: 1000 } }, { waitReady: false })
  const topic = uniqueName('slow-upload')
  const head = `POST /topics/${topic} HTTP/1.1\r\nhost: x\r\naccept: ${V2}\r\ncontent-type: application/vnd.kafka.binary.v2+json\r\ncontent-length: 100\r\n\r\n`
  const a = await raw(server.port, [head, '{"records":'])
  assert.match(a.statusLine, /^HTTP\/1\.1 408 /)
  assert.equal(a.headers.connection, 'close')
  assert.equal(a.headers['content-type'], V2, 'the negotiated type, as for every error of a routed request')
  assert.deepEqual([a.body.error_code, a.body.retriable], [408, true])
  assert.match(a.body.message, /1000 ms/)
})

test('connections over server.max_connections get a retriable 503 in our body and are closed; the limit frees up', async (t) => {
  const { server } = await startProxy(t, { server: { max_connections: 2 } }, { waitReady: false })
  const holders = await Promise.all([0, 1].map(() => new Promise<net.Socket>((resolve) => {
    const s = net.connect(server.port, '127.0.0.1', () => resolve(s))
  })))
  const refused = await raw(server.port, ['GET /health/live HTTP/1.1\r\nhost: x\r\n\r\n'])
  assert.match(refused.statusLine, /^HTTP\/1\.1 503 /)
  assert.equal(refused.headers.connection, 'close')
  assert.deepEqual([refused.body.error_code, refused.body.retriable], [50306, true])
  const closed = new Promise((resolve) => (holders[0] as net.Socket).once('close', resolve))
  ;(holders[0] as net.Socket).destroy()
  await closed
  // The server sees the close on its own turn of the event loop; poll briefly.
  let answer: RawAnswer | null = null
  for (let i = 0; i < 50; i++) {
    answer = await raw(server.port, ['GET /health/live HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'])
    if (answer.statusLine.startsWith('HTTP/1.1 200')) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.match(answer?.statusLine ?? '', /^HTTP\/1\.1 200 /)
  ;(holders[1] as net.Socket).destroy()
})

test('errors come in the negotiated content type: v2 clients get v2, embedded-format types stay, v3 and no Accept get JSON', async (t) => {
  const { url } = await startProxy(t)
  const missing = uniqueName('missing')
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    [V2, V2],
    ['application/vnd.kafka.v1+json', 'application/vnd.kafka.v1+json'],
    ['application/json;q=0.5, application/vnd.kafka.v2+json', V2]
  ]
  for (const [accept, expected] of cases) {
    const res = await get(`${url}/topics/${missing}`, accept === undefined ? {} : { accept })
    assert.equal(res.status, 404, `${accept ?? '(none)'}: ${JSON.stringify(res.body)}`)
    assert.equal(res.headers.get('content-type'), expected, `Accept ${accept ?? '(none)'}`)
    assert.equal(res.body.error_code, 40401)
  }
  // A records read names its embedded format in Accept; its errors keep that type.
  const read = await get(`${url}/consumers/${uniqueName('grp')}/instances/none/records`, { accept: 'application/vnd.kafka.binary.v2+json' })
  assert.equal(read.status, 404)
  assert.equal(read.body.error_code, 40403)
  assert.equal(read.headers.get('content-type'), 'application/vnd.kafka.binary.v2+json')
  const route404 = await get(`${url}/no/such/route`, { accept: V2 })
  assert.equal(route404.headers.get('content-type'), V2)
  const v3 = await get(`${url}/v3/clusters/no-such-cluster`, { accept: 'application/json' })
  assert.equal(v3.headers.get('content-type'), 'application/json')
})

test('a forged Host header changes neither v2 base_uri nor v3 metadata.self', async (t) => {
  const { url, server } = await startProxy(t)
  const group = uniqueName('grp-host')
  const created = await request('POST', `${url}/consumers/${group}`, {
    headers: { 'content-type': V2, host: 'attacker.example.com:666' },
    body: { name: 'c1' }
  })
  assert.equal(created.status, 200, show(created))
  assert.equal(created.body.base_uri, `http://127.0.0.1:${server.port}/consumers/${group}/instances/c1`)

  const clusters = await request('GET', `${url}/v3/clusters`, { headers: { host: 'attacker.example.com' } })
  assert.equal(clusters.status, 200, show(clusters))
  assert.ok(clusters.body.metadata.self.startsWith(`http://127.0.0.1:${server.port}/v3/clusters`), clusters.body.metadata.self)
  for (const c of clusters.body.data) assert.ok(!JSON.stringify(c).includes('attacker'), JSON.stringify(c))
  await request('DELETE', `${url}/consumers/${group}/instances/c1`)
})

test('consumer group and instance names outside the documented set are refused with 422, never rewritten', async (t) => {
  const { url } = await startProxy(t)
  const group = uniqueName('grp-names')
  const create = (g: string, body: unknown): ReturnType<typeof request> =>
    request('POST', `${url}/consumers/${encodeURIComponent(g)}`, { headers: { 'content-type': V2 }, body })

  const badInstances = ['x'.repeat(5000), 'a\u0000b', 'line\nbreak', 'sp ace', 'slash/name', 'caf\u00e9', '']
  for (const name of badInstances) {
    const res = await create(group, { name })
    assert.equal(res.status, 422, `${JSON.stringify(name.slice(0, 20))}: ${show(res)}`)
    assert.equal(res.body.error_code, 422)
    assert.match(res.body.message, /instance name/)
  }
  // Invalid UTF-8 in the body: whatever it decodes to is outside the set.
  const invalidUtf8 = Buffer.concat([Buffer.from('{"name":"ab'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])
  const utf8 = await fetch(`${url}/consumers/${group}`, { method: 'POST', headers: { 'content-type': V2 }, body: invalidUtf8 })
  const utf8Body = await utf8.json() as { error_code: number }
  assert.ok(utf8.status === 400 || utf8.status === 422, `${utf8.status} ${JSON.stringify(utf8Body)}`)
  assert.equal(utf8Body.error_code, utf8.status)

  // A percent-encoded group that is not UTF-8 never becomes a group.
  const undecodable = await request('POST', `${url}/consumers/ab%FF%FE`, { headers: { 'content-type': V2 }, body: { name: 'ok' } })
  assert.ok([404, 422].includes(undecodable.status), show(undecodable))
  assert.equal(typeof undecodable.body.error_code, 'number')

  for (const g of ['g'.repeat(5000), 'a\u0000b', 'line\nbreak', 'tab\tgroup']) {
    const res = await create(g, { name: 'ok' })
    assert.equal(res.status, 422, `${JSON.stringify(g.slice(0, 20))}: ${show(res)}`)
    assert.match(res.body.message, /group name/)
  }
  // Characters existing groups use are kept; the longest allowed names work.
  for (const g of [`${group}:eu@team`, `${group}.${'g'.repeat(249 - group.length - 1)}`]) {
    const name = 'n'.repeat(249)
    const res = await create(g, { name })
    assert.equal(res.status, 200, `${g}: ${show(res)}`)
    assert.equal(res.body.instance_id, name)
    const del = await request('DELETE', `${url}/consumers/${encodeURIComponent(g)}/instances/${name}`)
    assert.equal(del.status, 204, show(del))
  }
})
