// TLS on the listener with certificates made by openssl: curl and node
// clients connect, mTLS refuses a client without a certificate under
// "required", HTTP/2 carries 50 SSE streams on one connection, and SIGHUP
// serves a renewed certificate without dropping the open connections.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFileSync } from 'node:fs'
import http2 from 'node:http2'
import https from 'node:https'
import tls from 'node:tls'
import type { ServerTlsConfig } from '../../src/config/schema.js'
import { makePki, type TestPki } from '../helpers/certs.js'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy } from '../helpers/process.js'
import { startProxy } from '../helpers/proxy.js'

function curl (args: string[]): Promise<{ code: number, stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout) => {
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout })
    })
  })
}

function tlsServer (pki: TestPki, clientAuth: ServerTlsConfig['client_auth'], http2 = true): { tls: ServerTlsConfig } {
  const server = pki.server()
  return { tls: { cert_file: server.cert, key_file: server.key, ca_file: clientAuth === 'none' ? '' : pki.ca.cert, client_auth: clientAuth, key_passphrase_file: '', http2 } }
}

/** The serial number of the certificate a fresh TLS connection to `port` is served. */
function servedSerial (port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }, () => {
      const serial = socket.getPeerCertificate().serialNumber
      socket.end()
      resolve(serial)
    })
    socket.on('error', reject)
  })
}

test('TLS: curl and node clients connect over HTTPS, plain HTTP is not served', async (t) => {
  const pki = makePki(t)
  const proxy = await startProxy(t, { server: tlsServer(pki, 'none', false) })
  const port = proxy.server.port
  const ok = await curl(['--cacert', pki.ca.cert, `https://localhost:${port}/v3/clusters`])
  assert.equal(ok.code, 0)
  assert.equal(typeof JSON.parse(ok.stdout).data[0].cluster_id, 'string')
  // An unknown CA is refused by the client.
  const untrusted = await curl([`https://localhost:${port}/v3/clusters`])
  assert.equal(untrusted.code, 60, 'curl: peer certificate cannot be authenticated with known CA certificates')
  const node = await new Promise<number>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/v3/clusters', ca: pki.read(pki.ca.cert), servername: 'localhost' }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', reject)
  })
  assert.equal(node, 200)
  // A plain HTTP request on the TLS port gets no HTTP answer.
  const plain = await curl([`http://127.0.0.1:${port}/v3/clusters`])
  assert.notEqual(plain.code, 0)
})

test('mTLS required: a client certificate from the CA connects, none or a stranger\'s is refused in the handshake', async (t) => {
  const pki = makePki(t)
  const proxy = await startProxy(t, { server: tlsServer(pki, 'required') })
  const port = proxy.server.port
  const alice = pki.client('alice', 'alice@example.com')
  const ok = await curl(['--cacert', pki.ca.cert, '--cert', alice.cert, '--key', alice.key, `https://localhost:${port}/v3/clusters`])
  assert.equal(ok.code, 0, ok.stdout)
  assert.equal(typeof JSON.parse(ok.stdout).data[0].cluster_id, 'string')
  const none = await curl(['--cacert', pki.ca.cert, `https://localhost:${port}/v3/clusters`])
  assert.notEqual(none.code, 0, 'no client certificate: the handshake fails')
  const mallory = pki.stranger('mallory')
  const stranger = await curl(['--cacert', pki.ca.cert, '--cert', mallory.cert, '--key', mallory.key, `https://localhost:${port}/v3/clusters`])
  assert.notEqual(stranger.code, 0, 'a certificate from an unknown CA: the handshake fails')
})

test('mTLS optional: clients with and without a certificate complete the handshake; only the one with a certificate is a principal', async (t) => {
  const pki = makePki(t)
  const proxy = await startProxy(t, { server: tlsServer(pki, 'optional') })
  const port = proxy.server.port
  const bob = pki.client('bob')
  const ask = async (args: string[]): Promise<string> => (await curl(['--cacert', pki.ca.cert, ...args, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://localhost:${port}/v3/clusters`])).stdout
  // HTTP/2 by ALPN either way; without a certificate (and auth.anonymous = false) the request is 401.
  assert.equal(await ask(['--cert', bob.cert, '--key', bob.key]), '200 2')
  assert.equal(await ask([]), '401 2')
  const mallory = pki.stranger('mallory')
  assert.equal(await ask(['--cert', mallory.cert, '--key', mallory.key]), '401 2', 'a certificate from an unknown CA names no one')
})

test('HTTP/2: 50 SSE streams share one connection and each gets the record produced', async (t) => {
  const pki = makePki(t)
  const proxy = await startProxy(t, { server: tlsServer(pki, 'none') })
  const port = proxy.server.port
  const topic = uniqueName('sec-h2')
  await createTopic(topic, 1)
  const session = http2.connect(`https://localhost:${port}`, { ca: pki.read(pki.ca.cert) })
  t.after(() => session.destroy())
  const clusterId = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':path': '/v3/clusters' })
    let body = ''
    req.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve(JSON.parse(body).data[0].cluster_id)).on('error', reject)
  })
  const texts: string[] = Array.from({ length: 50 }, () => '')
  const opened = await Promise.all(texts.map((_, i) => new Promise<number>((resolve, reject) => {
    const req = session.request({ ':path': `/v3/clusters/${clusterId}/topics/${topic}/records?from=latest`, accept: 'text/event-stream' })
    req.on('response', (headers) => resolve(Number(headers[':status'])))
    req.setEncoding('utf8').on('data', (c: string) => { texts[i] += c })
    req.on('error', reject)
  })))
  assert.deepEqual(new Set(opened), new Set([200]))
  // Every stream has sent its start position before the record is produced.
  await eventually(() => texts.every((s) => s.includes('id: ')) ? true : undefined, { what: 'every stream to start' })
  const produced = await new Promise<number>((resolve, reject) => {
    const req = session.request({ ':path': `/v3/clusters/${clusterId}/topics/${topic}/records`, ':method': 'POST', 'content-type': 'application/json' })
    req.on('response', (headers) => resolve(Number(headers[':status'])))
    req.on('error', reject)
    req.resume()
    req.end(JSON.stringify({ value: { type: 'JSON', data: { n: 1 } } }))
  })
  assert.equal(produced, 200)
  // The stream renders values as bytes unless told a format: {"n":1} in base64.
  const record = Buffer.from('{"n":1}').toString('base64')
  await eventually(() => texts.every((s) => s.includes(record)) ? true : undefined, { what: 'the record on all 50 streams', timeoutMs: 30000 })
  assert.equal(session.socket.remoteAddress, '127.0.0.1')
  assert.ok(session.state.localWindowSize !== undefined, 'all on one HTTP/2 session')
})

test('SIGHUP serves a renewed certificate to new connections and keeps the open ones', async (t) => {
  const pki = makePki(t)
  const first = pki.server('first')
  const second = pki.server('second')
  const live = { cert: `${pki.dir}/live.crt`, key: `${pki.dir}/live.key` }
  copyFileSync(first.cert, live.cert)
  copyFileSync(first.key, live.key)
  const proxy = await bootProxy(t, {
    workers: 1,
    env: { KAFKA_PROXY_SERVER__TLS__CERT_FILE: live.cert, KAFKA_PROXY_SERVER__TLS__KEY_FILE: live.key }
  })
  const port = Number(new URL(proxy.url).port)
  const ca = pki.read(pki.ca.cert)
  const before = await servedSerial(port, ca)
  const session = http2.connect(`https://localhost:${port}`, { ca })
  t.after(() => session.destroy())
  const status = (): Promise<number> => new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/health/live' })
    req.on('response', (h) => resolve(Number(h[':status'])))
    req.on('error', reject)
    req.resume()
  })
  assert.equal(await status(), 200)
  copyFileSync(second.cert, live.cert)
  copyFileSync(second.key, live.key)
  proxy.child.kill('SIGHUP')
  const after = await eventually(async () => {
    const serial = await servedSerial(port, ca)
    return serial !== before ? serial : undefined
  }, { what: 'the renewed certificate' })
  assert.notEqual(after, before)
  assert.equal(await status(), 200, 'the connection opened before the reload still serves')
  assert.equal(proxy.child.exitCode, null, 'SIGHUP does not stop the proxy')
  assert.ok(proxy.logs.some((l) => l.msg === 'reloaded TLS certificates and credentials files'))
})
