import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SchemaRegistryClient, subjectFor } from '../../src/registry/client.js'
import { ProxyError } from '../../src/errors.js'
import { registryClient, startFakeRegistry } from '../helpers/fake-registry.js'

const AVRO = JSON.stringify({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }] })
const PROTO = 'syntax = "proto3"; message M { int32 a = 1; }'

async function rejectsWith (p: Promise<unknown>, expected: { key: string, status: number, errorCode: number, retriable?: boolean, message?: RegExp }): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.key, expected.key)
    assert.equal(err.status, expected.status)
    assert.equal(err.errorCode, expected.errorCode)
    if (expected.retriable !== undefined) assert.equal(err.retriable, expected.retriable)
    if (expected.message !== undefined) assert.match(err.message, expected.message)
    return true
  })
}

test('getById reads type, schema and references, and caches by id', async (t) => {
  const fake = await startFakeRegistry(t)
  const dep = fake.seed('dep', 'PROTOBUF', 'syntax = "proto3"; message D {}')
  const { id } = fake.seed('t-value', 'PROTOBUF', PROTO, [{ name: 'dep.proto', subject: 'dep', version: dep.version }])
  const avro = fake.seed('u-value', 'AVRO', AVRO)
  const client = registryClient(t, fake.url)
  assert.deepEqual(await client.getById(id), { schemaType: 'PROTOBUF', schema: PROTO, references: [{ name: 'dep.proto', subject: 'dep', version: 1 }] })
  // No schemaType in the answer means AVRO.
  assert.deepEqual(await client.getById(avro.id), { schemaType: 'AVRO', schema: AVRO, references: [] })
  await client.getById(id)
  await client.getById(avro.id)
  assert.equal(fake.count(), 2)
})

test('concurrent calls for one key share one request', async (t) => {
  const fake = await startFakeRegistry(t)
  const { id } = fake.seed('s', 'AVRO', AVRO)
  const client = registryClient(t, fake.url)
  const release = fake.hold()
  const pending = Array.from({ length: 20 }, () => client.getById(id))
  const registering = Array.from({ length: 5 }, () => client.ensureRegistered('new-value', 'AVRO', AVRO))
  // Let every request reach the server before answering.
  while (fake.count() < 2) await new Promise((resolve) => setImmediate(resolve))
  release()
  const results = await Promise.all(pending)
  assert.ok(results.every((r) => r === results[0]), 'every caller gets the same answer')
  const ids = await Promise.all(registering)
  assert.ok(ids.every((i) => i === id), 'the same schema has the same id in every subject')
  assert.equal(fake.count('GET /schemas/ids/'), 1)
  assert.equal(fake.count('POST /subjects/new-value'), 2, 'one lookup and one registration for five callers')
})

test('failures are not cached', async (t) => {
  const fake = await startFakeRegistry(t)
  const { id } = fake.seed('s', 'AVRO', AVRO)
  const client = registryClient(t, fake.url)
  fake.failNext(500, { error_code: 50001, message: 'Error in the backend data store' })
  await rejectsWith(client.getById(id), { key: 'registryFailed', status: 422, errorCode: 42207, retriable: true, message: /backend data store/ })
  assert.equal((await client.getById(id)).schema, AVRO)
  assert.equal(fake.count(), 2)
})

test('register returns the id, the existing one when already registered, and caches it', async (t) => {
  const fake = await startFakeRegistry(t)
  const client = registryClient(t, fake.url)
  const id = await client.register('a-value', 'PROTOBUF', PROTO)
  assert.equal(await client.register('a-value', 'PROTOBUF', PROTO), id)
  assert.equal(fake.count(), 1)
  // Another subject: another request, the same id (the registry's choice, as Confluent's).
  assert.equal(await client.register('b-value', 'PROTOBUF', PROTO), id)
  assert.equal(fake.count(), 2)
  // What was registered is known by id without asking.
  assert.equal((await client.getById(id)).schemaType, 'PROTOBUF')
  assert.equal(fake.count(), 2)
  assert.equal(fake.requests[0]?.headers['content-type'], 'application/vnd.schemaregistry.v1+json')
})

test('lookup: the version of a registered schema, null when the subject lacks it (not cached)', async (t) => {
  const fake = await startFakeRegistry(t)
  fake.seed('s', 'AVRO', '"string"')
  const seeded = fake.seed('s', 'AVRO', AVRO)
  const client = registryClient(t, fake.url)
  const found = await client.lookup('s', AVRO, 'AVRO')
  assert.deepEqual(found, { subject: 's', id: seeded.id, version: 2, schemaType: 'AVRO', schema: AVRO, references: [] })
  await client.lookup('s', AVRO, 'AVRO')
  assert.equal(fake.count(), 1)
  assert.equal(await client.lookup('s', '"int"', 'AVRO'), null)
  assert.equal(await client.lookup('nope', AVRO, 'AVRO'), null)
  assert.equal(await client.lookup('nope', AVRO, 'AVRO'), null)
  assert.equal(fake.count(), 4)
})

test('ensureRegistered looks up first, registers only when missing, then asks no more', async (t) => {
  const fake = await startFakeRegistry(t)
  const existing = fake.seed('known-value', 'AVRO', AVRO)
  const client = registryClient(t, fake.url)
  assert.equal(await client.ensureRegistered('known-value', 'AVRO', AVRO), existing.id)
  assert.equal(fake.count('POST /subjects/known-value/versions'), 0, 'read-only credentials suffice for a known schema')
  const id = await client.ensureRegistered('fresh-value', 'JSON', '{"type":"object"}')
  assert.equal(fake.count(), 3)
  assert.equal(await client.ensureRegistered('fresh-value', 'JSON', '{"type":"object"}'), id)
  assert.equal(await client.ensureRegistered('known-value', 'AVRO', AVRO), existing.id)
  assert.equal(fake.count(), 3)
})

test('getVersion caches numbered versions; latest is fetched each time but fills the cache', async (t) => {
  const fake = await startFakeRegistry(t)
  fake.seed('s', 'AVRO', '"string"')
  const v2 = fake.seed('s', 'JSON', '{"type":"object"}')
  const client = registryClient(t, fake.url)
  const latest = await client.getVersion('s', 'latest')
  assert.deepEqual(latest, { subject: 's', id: v2.id, version: 2, schemaType: 'JSON', schema: '{"type":"object"}', references: [] })
  await client.getVersion('s', 'latest')
  assert.equal(fake.count(), 2)
  assert.deepEqual(await client.getVersion('s', 2), latest)
  assert.equal((await client.getVersion('s', 1)).schema, '"string"')
  await client.getVersion('s', 1)
  assert.equal(fake.count(), 3)
  // A version fetched also answers getById.
  await client.getById(v2.id)
  assert.equal(fake.count(), 3)
})

test('registry errors map to the proxy\'s codes', async (t) => {
  const fake = await startFakeRegistry(t)
  const client = registryClient(t, fake.url)
  // Unknown id: Confluent's REST proxy answers 42207 (SchemaManagerImplTest getSchema_avro_schemaId_nonExistingSchemaId).
  await rejectsWith(client.getById(99), { key: 'registryRefused', status: 422, errorCode: 42207, retriable: false, message: /^Error serializing message\. Error when fetching schema by id\. schemaId = 99: Schema not found; error code: 40403$/ })
  await rejectsWith(client.getVersion('nope', 1), { key: 'registryRefused', status: 422, errorCode: 42207, message: /error code: 40401/ })
  await rejectsWith(client.register('s', 'AVRO', '{not json'), { key: 'invalidSchema', status: 422, errorCode: 42205 })
  fake.failNext(409, { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' })
  await rejectsWith(client.register('s', 'AVRO', AVRO), { key: 'registryRefused', status: 422, errorCode: 42207, message: /incompatible/ })
  fake.failNext(403, { error_code: 40301, message: 'User is denied operation Write on Subject: s' })
  await rejectsWith(client.register('s', 'AVRO', AVRO), { key: 'registryForbidden', status: 403, errorCode: 40301, message: /denied/ })
  fake.failNext(401, { error_code: 401, message: 'Unauthorized' })
  await rejectsWith(client.register('s', 'AVRO', AVRO), { key: 'registryRefused', status: 422, errorCode: 42207 })
  fake.failNext(502, '<html>bad gateway</html>')
  await rejectsWith(client.register('s', 'AVRO', AVRO), { key: 'registryFailed', status: 422, errorCode: 42207, retriable: true })
})

test('a registry that does not answer in time is 408/40801, retriable', async (t) => {
  const fake = await startFakeRegistry(t)
  const client = registryClient(t, fake.url, { request_timeout_ms: 150 })
  fake.hang = true
  const started = Date.now()
  await rejectsWith(client.getById(1), { key: 'registryUnavailable', status: 408, errorCode: 40801, retriable: true, message: /no answer within 150 ms/ })
  assert.ok(Date.now() - started < 2000)
  fake.hang = false
  fake.seed('s', 'AVRO', AVRO)
  assert.equal((await client.getById(1)).schema, AVRO, 'the timeout was not cached')
})

test('an unreachable registry is 408/40801, retriable', async (t) => {
  // A port that was just free: nothing listens on it.
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const client = registryClient(t, `http://127.0.0.1:${port}`)
  await rejectsWith(client.getById(1), { key: 'registryUnavailable', status: 408, errorCode: 40801, retriable: true, message: /ECONNREFUSED/ })
})

test('without a URL every call is 42206', async () => {
  const client = new SchemaRegistryClient({ url: '', basic_auth_user: '', basic_auth_password: '', ca_file: '', request_timeout_ms: 1000 })
  assert.equal(client.configured, false)
  const expected = { key: 'registryNotConfigured', status: 422, errorCode: 42206, message: /^Schema Registry must be configured when using schemas\.$/ }
  await rejectsWith(client.getById(1), expected)
  await rejectsWith(client.register('s', 'AVRO', AVRO), expected)
  await rejectsWith(client.getVersion('s', 'latest'), expected)
  client.close()
})

test('basic auth and a path prefix (Apicurio\'s /apis/ccompat/v7)', async (t) => {
  const fake = await startFakeRegistry(t, { prefix: '/apis/ccompat/v7', auth: { user: 'proxy', password: 's3cret' } })
  const { id } = fake.seed('s', 'AVRO', AVRO)
  const client = registryClient(t, fake.url + '/', { basic_auth_user: 'proxy', basic_auth_password: 's3cret' })
  assert.equal((await client.getById(id)).schema, AVRO)
  assert.equal(fake.requests[0]?.path, `/schemas/ids/${id}`)
  const wrong = registryClient(t, fake.url, { basic_auth_user: 'proxy', basic_auth_password: 'wrong' })
  await rejectsWith(wrong.getVersion('s', 1), { key: 'registryRefused', status: 422, errorCode: 42207 })
})

test('subjects are URL-encoded', async (t) => {
  const fake = await startFakeRegistry(t)
  const client = registryClient(t, fake.url)
  await client.register('my topic/with:odd-value', 'AVRO', AVRO)
  assert.equal(fake.requests[0]?.path, '/subjects/my%20topic%2Fwith%3Aodd-value/versions')
  assert.equal((await client.getVersion('my topic/with:odd-value', 1)).subject, 'my topic/with:odd-value')
})

test('subject name strategies', () => {
  assert.equal(subjectFor('topic_name', 'orders', true), 'orders-key')
  assert.equal(subjectFor('topic_name', 'orders', false, 'com.x.Order'), 'orders-value')
  assert.equal(subjectFor('record_name', 'orders', false, 'com.x.Order'), 'com.x.Order')
  assert.equal(subjectFor('topic_record_name', 'orders', true, 'com.x.Order'), 'orders-com.x.Order')
  assert.throws(() => subjectFor('record_name', 'orders', false, undefined), (err: unknown) => err instanceof ProxyError && err.errorCode === 42205)
})
