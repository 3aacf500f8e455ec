// The schema registry the test runner starts (src/dev/schema-registry.ts) answers the parts of the
// Confluent Schema Registry API the proxy relies on, for all three schema types. Written against
// Confluent's documented behaviour, so it also runs against any other compatible registry.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') {
    throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  }
  return url
}

function uniqueSubject (prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}-value`
}

interface Reply {
  status: number
  body: unknown
}

async function call (method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(registryUrl() + path, {
    method,
    headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    assert.fail(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text}`)
  }
  return { status: res.status, body: parsed }
}

function field (body: unknown, name: string): unknown {
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `expected an object, got ${JSON.stringify(body)}`)
  return (body as Record<string, unknown>)[name]
}

function schemaId (reply: Reply): number {
  assert.equal(reply.status, 200, JSON.stringify(reply.body))
  const id = field(reply.body, 'id')
  assert.ok(typeof id === 'number' && Number.isInteger(id) && id > 0, `schema id ${JSON.stringify(id)}`)
  return id
}

interface Case {
  name: string
  /** Omitted for Avro, as Confluent clients do. */
  schemaType?: 'JSON' | 'PROTOBUF'
  schema: string
  /** Registries may return an equivalent text of the schema; compare what must not change. */
  normalize: (schema: string) => unknown
}

const asJson = (schema: string): unknown => JSON.parse(schema)
const withoutWhitespace = (schema: string): string => schema.replace(/\s+/g, '')

const cases: Case[] = [
  {
    name: 'avro',
    schema: JSON.stringify({
      type: 'record',
      name: 'Order',
      namespace: 'test.registry',
      fields: [{ name: 'id', type: 'long' }, { name: 'note', type: ['null', 'string'], default: null }]
    }),
    normalize: asJson
  },
  {
    name: 'jsonschema',
    schemaType: 'JSON',
    schema: JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { id: { type: 'integer' }, note: { type: 'string' } },
      required: ['id']
    }),
    normalize: asJson
  },
  {
    name: 'protobuf',
    schemaType: 'PROTOBUF',
    schema: 'syntax = "proto3";\npackage test.registry;\n\nmessage Order {\n  int64 id = 1;\n  string note = 2;\n}\n',
    normalize: withoutWhitespace
  }
]

for (const c of cases) {
  test(`${c.name}: register, read back by id and by subject/version, re-register to the same id`, async () => {
    const subject = uniqueSubject(c.name)
    const request = { schema: c.schema, ...(c.schemaType === undefined ? {} : { schemaType: c.schemaType }) }
    const expectedType = c.schemaType ?? 'AVRO'
    const sameType = (type: unknown): void => {
      // Confluent leaves schemaType out for Avro.
      if (type === undefined && expectedType === 'AVRO') return
      assert.equal(type, expectedType)
    }

    const id = schemaId(await call('POST', `/subjects/${subject}/versions`, request))

    const byId = await call('GET', `/schemas/ids/${id}`)
    assert.equal(byId.status, 200, JSON.stringify(byId.body))
    assert.deepEqual(c.normalize(String(field(byId.body, 'schema'))), c.normalize(c.schema))
    sameType(field(byId.body, 'schemaType'))

    for (const version of ['1', 'latest']) {
      const byVersion = await call('GET', `/subjects/${subject}/versions/${version}`)
      assert.equal(byVersion.status, 200, JSON.stringify(byVersion.body))
      assert.equal(field(byVersion.body, 'subject'), subject)
      assert.equal(field(byVersion.body, 'version'), 1)
      assert.equal(field(byVersion.body, 'id'), id)
      assert.deepEqual(c.normalize(String(field(byVersion.body, 'schema'))), c.normalize(c.schema))
      sameType(field(byVersion.body, 'schemaType'))
    }

    assert.equal(schemaId(await call('POST', `/subjects/${subject}/versions`, request)), id, 're-registering must return the same id')
    const versions = await call('GET', `/subjects/${subject}/versions`)
    assert.deepEqual(versions.body, [1], 're-registering must not add a version')

    // The lookup the proxy uses to find the id of a schema given inline.
    const lookup = await call('POST', `/subjects/${subject}`, request)
    assert.equal(schemaId(lookup), id)
    assert.equal(field(lookup.body, 'subject'), subject)
    assert.equal(field(lookup.body, 'version'), 1)

    const subjects = await call('GET', '/subjects')
    assert.ok(Array.isArray(subjects.body) && subjects.body.includes(subject), JSON.stringify(subjects.body))
  })
}

test('the same schema under another subject keeps its id', async () => {
  const request = { schema: JSON.stringify({ type: 'record', name: 'Shared', fields: [{ name: 'a', type: 'int' }] }) }
  const first = schemaId(await call('POST', `/subjects/${uniqueSubject('shared')}/versions`, request))
  const second = schemaId(await call('POST', `/subjects/${uniqueSubject('shared')}/versions`, request))
  assert.equal(second, first)
})

test('unknown ids, subjects and versions and invalid schemas answer with Confluent error codes', async () => {
  const unknownId = await call('GET', '/schemas/ids/2147483647')
  assert.equal(unknownId.status, 404)
  assert.equal(field(unknownId.body, 'error_code'), 40403)

  const unknownSubject = await call('GET', `/subjects/${uniqueSubject('missing')}/versions/1`)
  assert.equal(unknownSubject.status, 404)
  assert.equal(field(unknownSubject.body, 'error_code'), 40401)

  const subject = uniqueSubject('versions')
  schemaId(await call('POST', `/subjects/${subject}/versions`, { schema: '"string"' }))
  const unknownVersion = await call('GET', `/subjects/${subject}/versions/7`)
  assert.equal(unknownVersion.status, 404)
  assert.equal(field(unknownVersion.body, 'error_code'), 40402)

  const notRegistered = await call('POST', `/subjects/${subject}`, { schema: '"long"' })
  assert.equal(notRegistered.status, 404)
  assert.equal(field(notRegistered.body, 'error_code'), 40403)

  const invalid = await call('POST', `/subjects/${uniqueSubject('invalid')}/versions`, { schema: '{"type":"record","name":"R","fields":[{"name":"a","type":"no-such-type"}]}' })
  assert.equal(invalid.status, 422)
  assert.equal(field(invalid.body, 'error_code'), 42201)
})
