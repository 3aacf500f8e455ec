// Continuous re-authorization of streams (src/streams/reauth.ts) against a
// real proxy of two worker processes: a stream opened with a short JWT is
// challenged before the token expires, renewed with a fresh token (over
// HTTP for SSE, on whichever worker the POST lands; with a token frame for a
// WebSocket), ended with a final event carrying its id when not renewed, and
// ended when its key leaves the JWKS (revocation, on SIGHUP).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { bootProxy, type ProxyProcess } from '../helpers/process.js'
import { produceMany } from '../helpers/streams.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { WsClient } from '../helpers/ws.js'

const ISSUER = 'https://idp.test/'
const AUDIENCE = 'kafka-proxy'

interface Key { kid: string, privateKey: CryptoKey, jwk: JWK }

async function key (kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } }
}

/** A token of `sub` signed by `k`, valid for `seconds`. */
async function token (k: Key, seconds: number, sub = 'alice'): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: k.kid }).setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE)
    .setIssuedAt(now).setExpirationTime(now + seconds).sign(k.privateKey)
}

async function boot (t: TestContext, keys: Key[]): Promise<{ proxy: ProxyProcess, jwks: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-challenge-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const jwks = path.join(dir, 'jwks.json')
  writeFileSync(jwks, JSON.stringify({ keys: keys.map((k) => k.jwk) }))
  const proxy = await bootProxy(t, {
    workers: 2,
    env: {
      KAFKA_PROXY_AUTH__JWT__JWKS_FILE: jwks,
      KAFKA_PROXY_AUTH__JWT__ISSUER: ISSUER,
      KAFKA_PROXY_AUTH__JWT__AUDIENCE: AUDIENCE,
      // Tokens of a few seconds: no skew, so a deadline is the token's exp.
      KAFKA_PROXY_AUTH__JWT__CLOCK_SKEW_S: '0',
      KAFKA_PROXY_AUTH__CHALLENGE_AHEAD_S: '2'
    }
  })
  return { proxy, jwks }
}

/** A POST on a connection of its own, so that node's cluster hands it to either worker. */
async function post (url: string, headers: Record<string, string>): Promise<{ status: number, body: any }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end()
  })
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` })

test('SSE: a stream under a 5-second token is challenged, renewed on any worker, then ended with its id when not renewed; nothing is lost', async (t) => {
  const k = await key('k1')
  const { proxy } = await boot(t, [k])
  const topic = uniqueName('challenge-sse')
  await createTopic(topic, 2)
  await produceMany(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `a${i}` })))
  const base = `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url, bearer(await token(k, 60)))}/topics/${topic}/records`
  const sse = new SseClient()
  t.after(() => sse.close())
  const opened = await sse.open(`${base}?from=earliest&format=string&access_token=${await token(k, 5)}`)
  assert.equal(opened.status, 200, opened.body)
  await sse.until(() => sse.count('challenge') === 1, 10_000, 'the challenge')
  const challenge = JSON.parse(sse.events.find((e) => e.event === 'challenge')?.data as string)
  assert.match(challenge.stream_id, /^[0-9a-f-]{36}$/)
  assert.equal(challenge.method, 'POST')
  assert.equal(challenge.path, `/v3/streams/${challenge.stream_id}/authorization`)
  assert.ok(Date.parse(challenge.expires_at) - Date.now() <= 2500, `challenged about 2 s before the exp: ${challenge.expires_at}`)
  const renewal = `${proxy.url}${challenge.path}`

  await t.test('refusals: no token, another principal, an unknown stream', async () => {
    assert.equal((await post(renewal, {})).status, 401)
    const other = await post(renewal, bearer(await token(k, 60, 'bob')))
    assert.equal(other.status, 403, JSON.stringify(other.body))
    assert.equal(other.body.error_code, 40300)
    const unknown = await post(`${proxy.url}/v3/streams/00000000-0000-0000-0000-000000000000/authorization`, bearer(await token(k, 60)))
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error_code, 40405)
  })

  // Four renewals on connections of their own: node's cluster hands new
  // connections to the workers in turn, so some land on the worker that
  // does not hold the stream and are forwarded to the one that does.
  // Every other one carries its token in the query parameter, as a browser client would.
  for (let i = 0; i < 4; i++) {
    const fresh = await token(k, 4)
    const renewed = i % 2 === 0 ? await post(renewal, bearer(fresh)) : await post(`${renewal}?access_token=${fresh}`, {})
    assert.equal(renewed.status, 204, JSON.stringify(renewed.body))
  }
  await produceMany(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `b${i}` })))
  await sse.until(() => sse.count('error') === 1, 15_000, 'the end of the stream at the renewed deadline')
  const ended = sse.events.find((e) => e.event === 'error') as { data: string }
  const final = JSON.parse(ended.data)
  assert.equal(final.error_code, 40102)
  assert.equal(final.retriable, true)
  assert.ok(sse.count('challenge') >= 2, 'the renewed token was challenged again before its own exp')
  const before = sse.records().map((r) => r.value.data)
  await sse.until(() => sse.ended, 5000, 'the close')

  // Resuming from the final event's id with a fresh token misses nothing and repeats nothing.
  await produceMany(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, value: `c${i}` })))
  const again = new SseClient()
  t.after(() => again.close())
  assert.equal((await again.open(`${base}?format=string&last_event_id=${encodeURIComponent(final.id)}`, bearer(await token(k, 60)))).status, 200)
  await again.until(() => before.length + again.records().length >= 60, 15_000, 'the rest of the records')
  const all = [...before, ...again.records().map((r) => r.value.data)]
  assert.equal(all.length, 60)
  assert.equal(new Set(all).size, 60, 'no record twice')
})

test('WebSocket: a challenge frame is answered with a token frame; unrenewed, the socket ends with 40102 and closes 1008', async (t) => {
  const k = await key('k1')
  const { proxy } = await boot(t, [k])
  const topic = uniqueName('challenge-ws')
  await createTopic(topic, 1)
  const url = `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url, bearer(await token(k, 60)))}/topics/${topic}/records?from=earliest`
  const ws = await WsClient.open(url, bearer(await token(k, 4)))
  t.after(() => ws.close())
  await ws.until(() => ws.events('challenge').length === 1, 10_000, 'the challenge frame')
  ws.send({ token: 'not.a.token' })
  await ws.until(() => ws.events('error').length === 1, 5000, 'the refusal of a bad token')
  assert.equal(ws.events('error')[0].error_code, 40100)
  ws.send({ token: await token(k, 4) })
  await ws.until(() => ws.events('authorized').length === 1, 5000, 'the authorized frame')
  assert.ok(Date.parse(ws.events('authorized')[0].expires_at) > Date.now() + 2000)
  await ws.until(() => ws.closed !== null, 15_000, 'the close at the renewed deadline')
  assert.equal(ws.closed?.code, 1008)
  const final = ws.events('error').at(-1)
  assert.equal(final.error_code, 40102)
  assert.equal(typeof final.id, 'string')
})

test('revocation: a stream whose key leaves the JWKS ends at the next SIGHUP with its id', async (t) => {
  const [k1, k2] = await Promise.all([key('k1'), key('k2')])
  const { proxy, jwks } = await boot(t, [k1, k2])
  const topic = uniqueName('challenge-revoke')
  await createTopic(topic, 1)
  const base = `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url, bearer(await token(k2, 60)))}/topics/${topic}/records`
  const revoked = new SseClient()
  const kept = new SseClient()
  t.after(() => { revoked.close(); kept.close() })
  assert.equal((await revoked.open(`${base}?from=earliest`, bearer(await token(k1, 600)))).status, 200)
  assert.equal((await kept.open(`${base}?from=earliest`, bearer(await token(k2, 600)))).status, 200)
  writeFileSync(jwks, JSON.stringify({ keys: [k2.jwk] }))
  proxy.child.kill('SIGHUP')
  await revoked.until(() => revoked.count('error') === 1, 10_000, 'the end of the revoked stream')
  assert.equal(JSON.parse(revoked.events.find((e) => e.event === 'error')?.data as string).error_code, 40102)
  await new Promise((resolve) => setTimeout(resolve, 1000))
  assert.equal(kept.count('error'), 0, 'a stream whose key stays goes on')
  assert.equal(kept.ended, false)
})
