// Authentication against a real proxy: JWTs checked against a JWKS served by
// a local HTTP server (keys made by jose), every refusal the issue lists,
// key rotation, tokens outside the header for EventSource, HTTP Basic with
// scrypt and bcrypt hashes, and the anonymous principal allowed or refused.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import bcrypt from 'bcryptjs'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose'
import { defaultConfig, type AuthConfig } from '../../src/config/schema.js'
import { hashPassword } from '../../src/security/passwords.js'
import { startProxy, type TestProxy } from '../helpers/proxy.js'

interface Signer { kid: string, alg: string, privateKey: CryptoKey, publicKey: CryptoKey, jwk: JWK }

async function signer (alg: 'RS256' | 'ES256', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

const ISSUER = 'https://idp.test/'
const AUDIENCE = 'kafka-proxy'

async function token (s: Signer, claims: JWTPayload = {}, opts: { exp?: string | number, iss?: string, aud?: string } = {}): Promise<string> {
  return await new SignJWT({ roles: ['ops'], ...claims })
    .setProtectedHeader({ alg: s.alg, kid: s.kid })
    .setSubject(typeof claims.sub === 'string' ? claims.sub : 'alice')
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m')
    .sign(s.privateKey)
}

/** A JWKS endpoint whose keys the test swaps; counts its fetches. */
async function jwksServer (t: TestContext, keys: JWK[]): Promise<{ url: string, keys: JWK[], fetches: () => number }> {
  const state = { keys, fetched: 0 }
  const server = createServer((req, res) => {
    state.fetched++
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' }).end(JSON.stringify({ keys: state.keys }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    get keys () { return state.keys },
    set keys (k: JWK[]) { state.keys = k },
    fetches: () => state.fetched
  }
}

function authConfig (overrides: Omit<Partial<AuthConfig>, 'jwt' | 'basic'> & { jwt?: Partial<AuthConfig['jwt']>, basic?: Partial<AuthConfig['basic']> }): AuthConfig {
  const base = defaultConfig().auth
  return { ...base, ...overrides, jwt: { ...base.jwt, ...overrides.jwt }, basic: { ...base.basic, ...overrides.basic } }
}

async function status (proxy: TestProxy, headers: Record<string, string> = {}, pathAndQuery = '/v3/clusters'): Promise<{ status: number, body: any, challenge: string | null }> {
  const res = await fetch(`${proxy.url}${pathAndQuery}`, { headers })
  const text = await res.text()
  return { status: res.status, body: text === '' ? null : JSON.parse(text), challenge: res.headers.get('www-authenticate') }
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` })

test('JWT: valid tokens pass, each kind of bad token is refused with a reason code only, rotation is picked up', async (t) => {
  const rs = await signer('RS256', 'rs-1')
  const es = await signer('ES256', 'es-1')
  const jwks = await jwksServer(t, [rs.jwk, es.jwk])
  const proxy = await startProxy(t, {
    auth: authConfig({ jwt: { jwks_url: jwks.url, issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], jwks_cooldown_s: 0 } })
  })

  await t.test('no credentials: 401 with a Bearer challenge and our error body', async () => {
    const r = await status(proxy)
    assert.equal(r.status, 401)
    assert.match(r.challenge ?? '', /^Bearer realm="kafka-http-proxy"/)
    assert.equal(r.body.error_code, 40100)
    assert.equal((await status(proxy, {}, '/health/live')).status, 200, 'probes need no credentials')
  })

  await t.test('RS256 and ES256 tokens from the JWKS are accepted', async () => {
    assert.equal((await status(proxy, bearer(await token(rs)))).status, 200)
    assert.equal((await status(proxy, bearer(await token(es)))).status, 200)
  })

  const refused = async (tok: string, reason: string): Promise<void> => {
    const r = await status(proxy, bearer(tok))
    assert.equal(r.status, 401, reason)
    assert.equal(r.body.message, `Authentication failed: ${reason}`)
    assert.match(r.challenge ?? '', new RegExp(`error="invalid_token", error_description="${reason}"`))
  }

  await t.test('expired, wrong issuer, wrong audience', async () => {
    await refused(await token(rs, {}, { exp: Math.floor(Date.now() / 1000) - 120 }), 'expired')
    await refused(await token(rs, {}, { iss: 'https://evil.test/' }), 'invalid_issuer')
    await refused(await token(rs, {}, { aud: 'someone-else' }), 'invalid_audience')
  })

  await t.test('alg none, and HS256 signed with the RSA public key as its secret', async () => {
    const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const claims = { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 }
    await refused(`${part({ alg: 'none', kid: 'rs-1' })}.${part(claims)}.`, 'algorithm_not_allowed')
    const pem = await exportSPKI(rs.publicKey)
    const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rs-1' }).sign(new TextEncoder().encode(pem))
    await refused(confused, 'algorithm_not_allowed')
  })

  await t.test('unknown kid and a bad signature', async () => {
    const stranger = await signer('RS256', 'not-in-jwks')
    await refused(await token(stranger), 'unknown_key')
    // Signed by the right kid's algorithm but another key.
    const impostor = { ...(await signer('RS256', 'x')), kid: 'rs-1' }
    await refused(await token(impostor), 'invalid_signature')
    // A valid token whose payload was changed afterwards.
    const [h, , s] = (await token(rs)).split('.')
    await refused(`${h}.${Buffer.from(JSON.stringify({ sub: 'root', iss: ISSUER, aud: AUDIENCE, exp: 9999999999 })).toString('base64url')}.${s}`, 'invalid_signature')
  })

  await t.test('key rotation: a token with a new kid makes the proxy fetch the JWKS again', async () => {
    const before = jwks.fetches()
    const next = await signer('ES256', 'es-2')
    jwks.keys = [next.jwk]
    assert.equal((await status(proxy, bearer(await token(next)))).status, 200)
    assert.ok(jwks.fetches() > before, 'fetched again on the unknown kid')
  })

  await t.test('the token in the access_token query parameter (EventSource, WebSocket)', async () => {
    const next = await signer('ES256', 'es-3')
    jwks.keys = [next.jwk]
    assert.equal((await status(proxy, {}, `/v3/clusters?access_token=${await token(next)}`)).status, 200)
    assert.equal((await status(proxy, {}, '/v3/clusters?access_token=garbage')).status, 401)
  })
})

test('Basic: scrypt and bcrypt entries of the users file; wrong passwords and unknown users are 401', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-users-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const users = path.join(dir, 'users')
  writeFileSync(users, `# test users\nalice:${await hashPassword('alice-pw')}\nbob:${bcrypt.hashSync('bob-pw', 8)}\n`)
  const proxy = await startProxy(t, { auth: authConfig({ basic: { users_file: users } }) })
  const basic = (user: string, pw: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` })
  assert.equal((await status(proxy, basic('alice', 'alice-pw'))).status, 200)
  assert.equal((await status(proxy, basic('alice', 'alice-pw'))).status, 200, 'again, from the verified-credentials cache')
  assert.equal((await status(proxy, basic('bob', 'bob-pw'))).status, 200)
  const wrong = await status(proxy, basic('alice', 'nope'))
  assert.equal(wrong.status, 401)
  assert.match(wrong.challenge ?? '', /^Basic realm="kafka-http-proxy"/)
  assert.equal((await status(proxy, basic('carol', 'x'))).status, 401)
  assert.equal((await status(proxy)).status, 401)
  assert.equal((await status(proxy, bearer('x.y.z'))).status, 401, 'a scheme that is not configured')
})

test('anonymous = true: requests without credentials are served, bad credentials are still 401', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-users-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const users = path.join(dir, 'users')
  writeFileSync(users, `alice:${await hashPassword('alice-pw')}\n`)
  const proxy = await startProxy(t, { auth: authConfig({ anonymous: true, basic: { users_file: users } }) })
  assert.equal((await status(proxy)).status, 200)
  assert.equal((await status(proxy, { authorization: `Basic ${Buffer.from('alice:bad').toString('base64')}` })).status, 401)
})
