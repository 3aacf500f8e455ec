// The identity of a client certificate over a real TLS connection, the
// listener's TLS options from [server.tls], and the exposed-listener warnings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import tls, { type TLSSocket } from 'node:tls'
import { defaultConfig } from '../../src/config/schema.js'
import { listenerTls, securityWarnings } from '../../src/security/setup.js'
import { certificateIdentity, tlsOptions, type CertificateIdentity } from '../../src/security/tls.js'
import { makePki, type KeyPair, type TestPki } from '../helpers/certs.js'

/** Connects with `client` (or no certificate) and resolves with what the server makes of it for each identity kind. */
async function identities (pki: TestPki, client: KeyPair | null): Promise<Record<CertificateIdentity, string | null>> {
  const server = pki.server()
  const opts = tlsOptions({ certFile: server.cert, keyFile: server.key, caFile: pki.ca.cert, keyPassphraseFile: '', clientAuth: 'optional' })
  const srv = tls.createServer(opts)
  const seen = new Promise<TLSSocket>((resolve) => srv.once('secureConnection', resolve))
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const socket = tls.connect({
    port: (srv.address() as AddressInfo).port,
    host: '127.0.0.1',
    servername: 'localhost',
    ca: pki.read(pki.ca.cert),
    ...(client === null ? {} : { cert: pki.read(client.cert), key: pki.read(client.key) })
  })
  socket.on('error', () => {})
  const accepted = await seen
  const out = {} as Record<CertificateIdentity, string | null>
  for (const kind of ['cn', 'san_dns', 'san_email', 'san_uri', 'subject'] as const) out[kind] = certificateIdentity(accepted, kind)
  socket.destroy()
  srv.close()
  return out
}

test('a verified client certificate names its principal by CN, SAN or subject', async (t) => {
  const pki = makePki(t)
  const ids = await identities(pki, pki.client('alice', 'alice@example.com'))
  assert.equal(ids.cn, 'alice')
  assert.equal(ids.san_email, 'alice@example.com')
  assert.equal(ids.san_dns, null)
  assert.equal(ids.san_uri, null)
  assert.equal(ids.subject, 'CN=alice,O=Proxy Tests')
})

test('no certificate, or one from an unknown CA under "optional", names no one', async (t) => {
  const pki = makePki(t)
  assert.deepEqual(Object.values(await identities(pki, null)), [null, null, null, null, null])
  assert.deepEqual(Object.values(await identities(pki, pki.stranger('mallory'))), [null, null, null, null, null])
})

test('[server.tls] becomes node:tls options; a missing file is named', (t) => {
  const pki = makePki(t)
  const server = pki.server()
  const base = defaultConfig().server.tls
  assert.equal(listenerTls(base), null, 'no cert_file: plain HTTP')
  const opts = listenerTls({ ...base, cert_file: server.cert, key_file: server.key, ca_file: pki.ca.cert, client_auth: 'required' })
  assert.ok(opts !== null)
  assert.equal(opts.requestCert, true)
  assert.equal(opts.rejectUnauthorized, true)
  assert.equal(opts.minVersion, 'TLSv1.2')
  const optional = listenerTls({ ...base, cert_file: server.cert, key_file: server.key, ca_file: pki.ca.cert, client_auth: 'optional' })
  assert.equal(optional?.rejectUnauthorized, false)
  assert.throws(() => listenerTls({ ...base, cert_file: '/nonexistent/tls.crt', key_file: server.key }), /cannot read the certificate \/nonexistent\/tls.crt \(ENOENT\)/)
})

test('a listener beyond loopback without TLS or authentication is warned about', () => {
  const config = defaultConfig()
  assert.deepEqual(securityWarnings({ ...config, server: { ...config.server, host: '127.0.0.1' } }), [])
  const open = securityWarnings({ ...config, server: { ...config.server, host: '0.0.0.0' } })
  assert.equal(open.length, 2)
  assert.match(open[0] as string, /without TLS/)
  assert.match(open[1] as string, /without authentication/)
  const secured = securityWarnings({
    ...config,
    server: { ...config.server, host: '0.0.0.0', tls: { ...config.server.tls, cert_file: '/c', key_file: '/k' } },
    auth: { ...config.auth, basic: { ...config.auth.basic, users_file: '/etc/proxy/users' } }
  })
  assert.deepEqual(secured, [])
})
