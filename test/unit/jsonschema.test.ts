import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compile, decode, encode, recordName } from '../../src/formats/jsonschema.js'
import { ProxyError } from '../../src/errors.js'
import { rejects } from '../helpers/errors.js'

function schema (s: unknown, id?: number): ReturnType<typeof compile> {
  return compile({ id, schema: JSON.stringify(s) })
}

const ORDER = {
  title: 'Order',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    address: {
      type: 'object',
      properties: { zip: { type: 'string' } },
      required: ['zip'],
      additionalProperties: false
    },
    email: { type: 'string', format: 'email' },
    status: { enum: ['NEW', 'PAID'] }
  },
  required: ['id']
}

test('a valid value is written as its UTF-8 JSON text', () => {
  const s = schema(ORDER)
  const value = { id: 1, address: { zip: '12345' }, note: 'ü' }
  const bytes = encode(s, value)
  assert.equal(bytes.toString('utf8'), '{"id":1,"address":{"zip":"12345"},"note":"ü"}')
  assert.deepEqual(decode(s, bytes), value)
})

test('invalid data is 42203 naming the field', () => {
  const s = schema(ORDER)
  rejects(() => encode(s, { id: 'x' }), 'schemaConversion', /^field \/id: must be integer$/)
  rejects(() => encode(s, { id: 1, address: { zip: 5 } }), 'schemaConversion', /^field \/address\/zip: must be string$/)
  rejects(() => encode(s, { id: 1, address: {} }), 'schemaConversion', /field \/address: must have required property 'zip'/)
  rejects(() => encode(s, { id: 1, address: { zip: '1', city: 'x' } }), 'schemaConversion', /field \/address: must NOT have additional properties \("city"\)/)
  rejects(() => encode(s, {}), 'schemaConversion', /^value: must have required property 'id'$/)
  rejects(() => encode(s, { id: 1, status: 'LOST' }), 'schemaConversion', /field \/status: must be equal to one of the allowed values: "NEW", "PAID"/)
  rejects(() => encode(s, [1]), 'schemaConversion', /^value: must be object$/)
})

test('formats are validated', () => {
  const s = schema(ORDER)
  encode(s, { id: 1, email: 'a@example.com' })
  rejects(() => encode(s, { id: 1, email: 'not-an-email' }), 'schemaConversion', /field \/email: must match format "email"/)
})

test('the draft comes from $schema: draft-07 by default, 2019-09 and 2020-12 by name', () => {
  // prefixItems exists only in 2020-12; earlier drafts ignore it.
  const tuple = { type: 'array', prefixItems: [{ type: 'integer' }], items: false }
  const d2020 = schema({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...tuple })
  encode(d2020, [1])
  rejects(() => encode(d2020, ['x']), 'schemaConversion', /field \/0: must be integer/)
  rejects(() => encode(d2020, [1, 2]), 'schemaConversion')
  // In draft-07 `items: false` forbids every item, and prefixItems means nothing.
  const d7 = schema(tuple)
  rejects(() => encode(d7, [1]), 'schemaConversion')
  encode(d7, [])
  // unevaluatedProperties exists from 2019-09 on.
  const closed = { type: 'object', allOf: [{ properties: { a: { type: 'integer' } } }], unevaluatedProperties: false }
  const d2019 = schema({ $schema: 'https://json-schema.org/draft/2019-09/schema#', ...closed })
  encode(d2019, { a: 1 })
  rejects(() => encode(d2019, { a: 1, b: 2 }), 'schemaConversion', /must NOT have unevaluated properties/)
  encode(schema({ $schema: 'http://json-schema.org/draft-07/schema#', ...closed }), { a: 1, b: 2 })
  // draft-06 has its meta-schema; draft-04 is read with draft-07 rules.
  encode(schema({ $schema: 'http://json-schema.org/draft-06/schema#', type: 'integer' }), 3)
  rejects(() => encode(schema({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'integer' }), 'x'), 'schemaConversion')
})

test('invalid schemas are 42205', () => {
  for (const bad of ['{"type": ', '"not a schema"', '[1]', '{"type": 5}', '{"$ref": "#/definitions/nope"}']) {
    assert.throws(() => compile({ schema: bad }), (err: unknown) => err instanceof ProxyError && err.errorCode === 42205 && err.status === 422, bad)
  }
})

test('referenced schemas resolve by reference name', () => {
  const s = compile({
    id: 2001,
    schema: JSON.stringify({ type: 'object', properties: { customer: { $ref: 'customer.json' } }, required: ['customer'] }),
    references: [{ name: 'customer.json', schema: JSON.stringify({ type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }) }]
  })
  encode(s, { customer: { name: 'a' } })
  rejects(() => encode(s, { customer: {} }), 'schemaConversion', /field \/customer: must have required property 'name'/)
})

test('recordName is the title', () => {
  assert.equal(recordName(schema(ORDER)), 'Order')
  assert.equal(recordName(schema({ type: 'string' })), undefined)
  assert.equal(recordName(compile({ schema: 'true' })), undefined)
})

test('a schema is compiled once per id', () => {
  const a = schema(ORDER, 6000)
  assert.equal(schema(ORDER, 6000), a)
  assert.notEqual(schema({ type: 'string' }, 6000), a)
})

test('decoding returns the document without validating; non-JSON is undecodable', () => {
  const s = schema({ type: 'string' })
  assert.deepEqual(decode(s, Buffer.from('{"not":"a string"}')), { not: 'a string' })
  assert.equal(decode(s, Buffer.from('null')), null)
  assert.throws(() => decode(s, Buffer.from('{oops')), (err: unknown) => err instanceof ProxyError && err.errorCode === 50002)
})
