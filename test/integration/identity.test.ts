// Identity injection ([identity] with confluent_api = true) against the real
// broker: every record produced through v2 (topics and partitions) and v3
// (records, records:batch, the streaming produce) and WebSocket frames carries the principal's
// headers when read back from Kafka, after the client's own; a client-sent
// header with a reserved name, in any case, is refused (422/42212) and not
// written; without confluent_api nothing is reserved or written.
// The ${…} in strings below are identity templates, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { defaultConfig, type AuthConfig } from '../../src/config/schema.js'
import { hashPassword } from '../../src/security/passwords.js'
import { createTopic, readAll, uniqueName, type ReadRecord } from '../helpers/kafka.js'
import { BINARY, post, startProxy } from '../helpers/proxy.js'
import { b64, JSON_TYPE, openStream, recordsPath, str } from '../helpers/v3-stream.js'
import { WsClient } from '../helpers/ws.js'
import { clusterIdOf } from '../helpers/sse.js'

const HEADERS = ['x-principal=${identity.sub}', 'x-auth=${identity.method}', 'x-tenant=${identity.claims.tenant}']

/** JWTs (with a tenant claim) from a JWKS file, and a Basic user without claims. */
async function credentials (t: TestContext): Promise<{ auth: AuthConfig, bearer: (sub: string, claims?: Record<string, unknown>) => Promise<Record<string, string>>, basic: Record<string, string> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'identity-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwks = path.join(dir, 'jwks.json')
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }))
  const users = path.join(dir, 'users')
  writeFileSync(users, `bob:${await hashPassword('bob-pw', { N: 1024, r: 8, p: 1 })}\n`)
  const base = defaultConfig().auth
  return {
    auth: { ...base, jwt: { ...base.jwt, jwks_file: jwks, issuer: 'identity-test', audience: 'kafka-proxy', algorithms: ['ES256'] }, basic: { ...base.basic, users_file: users } },
    bearer: async (sub, claims = {}) => ({
      authorization: `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject(sub)
        .setIssuer('identity-test').setAudience('kafka-proxy').setIssuedAt().setExpirationTime('10m').sign(privateKey)}`
    }),
    basic: { authorization: `Basic ${Buffer.from('bob:bob-pw').toString('base64')}` }
  }
}

const headersOf = (r: ReadRecord): Array<[string, string]> => r.headers.map(([k, v]) => [k, v.toString()])
const ALICE: Array<[string, string]> = [['x-principal', 'alice'], ['x-auth', 'jwt'], ['x-tenant', 'acme']]

test('identity headers go into every record of the Confluent API; forged reserved names are refused and not written', async (t) => {
  const creds = await credentials(t)
  const { url } = await startProxy(t, { auth: creds.auth, identity: { headers: HEADERS, confluent_api: true } })
  const alice = await creds.bearer('alice', { tenant: 'acme' })
  const topic = uniqueName('identity')
  await createTopic(topic, 2)
  const trace = { name: 'trace', value: b64('t-1') }

  await t.test('v2 produce to the topic and to a partition', async () => {
    const r1 = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('v2-a'), headers: [trace] }, { value: b64('v2-b') }] }, alice)
    assert.equal(r1.status, 200)
    const r2 = await post(`${url}/topics/${topic}/partitions/1`, BINARY, { records: [{ value: b64('v2-p') }] }, alice)
    assert.equal(r2.status, 200)
  })

  await t.test('v2: a reserved name in any case refuses the whole request (nothing written)', async () => {
    for (const name of ['x-principal', 'X-Tenant']) {
      const r = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('ok') }, { value: b64('forged'), headers: [{ name, value: b64('mallory') }] }] }, alice)
      assert.equal(r.status, 422)
      assert.equal(r.body.error_code, 42212)
      assert.equal(r.body.persisted, 'no')
      assert.equal(r.body.message, `records[1].headers: the header ${JSON.stringify(name)} is written by the proxy (identity.headers) and cannot be sent`)
    }
  })

  await t.test('v3 records and records:batch: a forged entry fails alone', async () => {
    const one = await post(`${url}${recordsPath(topic)}`, JSON_TYPE, { value: str('v3-one'), headers: [trace] }, alice)
    assert.equal(one.body.error_code, 200)
    const batch = await post(`${url}${recordsPath(topic)}:batch`, JSON_TYPE, {
      entries: [{ id: 'a', value: str('v3-batch') }, { id: 'f', value: str('forged'), headers: [{ name: 'X-PRINCIPAL', value: b64('mallory') }] }]
    }, alice)
    assert.equal(batch.status, 207)
    assert.deepEqual(batch.body.successes.map((s: any) => s.id), ['a'])
    assert.deepEqual(batch.body.failures, [{ id: 'f', error_code: 42212, message: 'headers: the header "X-PRINCIPAL" is written by the proxy (identity.headers) and cannot be sent', retriable: false, persisted: 'no' }])
  })

  await t.test('v3 streaming produce: a forged record gets its 422 line, the stream goes on', async () => {
    const client = openStream(url, recordsPath(topic), JSON_TYPE, alice)
    client.write(JSON.stringify({ value: str('v3-stream-1') }))
    assert.equal((await client.next()).error_code, 200)
    client.write(JSON.stringify({ value: str('forged'), headers: [{ name: 'x-auth', value: b64('basic') }] }))
    const forged = await client.next()
    assert.deepEqual([forged.error_code, forged.persisted], [42212, 'no'])
    client.end(JSON.stringify({ value: str('v3-stream-2'), headers: [trace] }))
    const rest = await client.ended
    assert.deepEqual(rest.map((l) => l.error_code), [200])
  })

  await t.test('WebSocket produce: identity headers on each record, a forged one is its 422 result and the socket goes on', async () => {
    // A stream names the real cluster (produce takes any cluster id in its path).
    const ws = await WsClient.open(`${url}${recordsPath(topic, await clusterIdOf(url, alice))}`, alice)
    t.after(() => ws.close())
    await ws.until(() => ws.events('start').length === 1)
    ws.send({ correlation: 1, value: str('ws-1'), headers: [trace] })
    ws.send({ correlation: 2, value: str('forged'), headers: [{ name: 'X-Principal', value: b64('mallory') }] })
    ws.send({ correlation: 3, value: str('ws-2') })
    await ws.until(() => ws.events('result').length === 3, 10_000, 'three results')
    const results = new Map(ws.events('result').map((r) => [r.correlation, r]))
    assert.deepEqual([1, 2, 3].map((c) => results.get(c)?.error_code), [200, 42212, 200])
    assert.equal(results.get(2)?.persisted, 'no')
  })

  await t.test('read back from Kafka: the identity headers after the client\'s own, and nothing forged', async () => {
    const records = await readAll(topic, 2, 9)
    const byValue = new Map(records.map((r) => [r.value?.toString() ?? '', headersOf(r)]))
    assert.deepEqual([...byValue.keys()].sort(), ['v2-a', 'v2-b', 'v2-p', 'v3-batch', 'v3-one', 'v3-stream-1', 'v3-stream-2', 'ws-1', 'ws-2'])
    assert.deepEqual(byValue.get('v2-a'), [['trace', 't-1'], ...ALICE])
    assert.deepEqual(byValue.get('v3-one'), [['trace', 't-1'], ...ALICE])
    assert.deepEqual(byValue.get('v3-stream-2'), [['trace', 't-1'], ...ALICE])
    assert.deepEqual(byValue.get('ws-1'), [['trace', 't-1'], ...ALICE])
    for (const v of ['v2-b', 'v2-p', 'v3-batch', 'v3-stream-1', 'ws-2']) assert.deepEqual(byValue.get(v), ALICE, v)
  })

  await t.test('another principal gets its own values; a Basic user has no claims, so no x-tenant', async () => {
    const other = uniqueName('identity-other')
    await createTopic(other, 1)
    assert.equal((await post(`${url}/topics/${other}`, BINARY, { records: [{ value: b64('carol') }] }, await creds.bearer('carol', { tenant: 'globex' }))).status, 200)
    assert.equal((await post(`${url}${recordsPath(other)}`, JSON_TYPE, { value: str('bob') }, creds.basic)).body.error_code, 200)
    const records = await readAll(other, 1, 2)
    assert.deepEqual(records.map(headersOf), [
      [['x-principal', 'carol'], ['x-auth', 'jwt'], ['x-tenant', 'globex']],
      [['x-principal', 'bob'], ['x-auth', 'basic']]
    ])
  })
})

test('confluent_api = false: no identity headers are written and none is reserved', async (t) => {
  const creds = await credentials(t)
  const { url } = await startProxy(t, { auth: creds.auth, identity: { headers: HEADERS, confluent_api: false } })
  const topic = uniqueName('identity-off')
  await createTopic(topic, 1)
  const r = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('v'), headers: [{ name: 'x-principal', value: b64('anyone') }] }] }, await creds.bearer('alice'))
  assert.equal(r.status, 200)
  const [record] = await readAll(topic, 1, 1)
  assert.deepEqual(headersOf(record as ReadRecord), [['x-principal', 'anyone']])
})
