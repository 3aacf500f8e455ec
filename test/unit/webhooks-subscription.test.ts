// Subscription bodies are checked strictly before anything happens: every
// field's type, range and enum, unknown fields, null where it is not allowed,
// and what a PATCH may change.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { applyPatch, decodeSubscription, encodeSubscription, parseCreate, parsePatch, type Subscription } from '../../src/webhooks/subscription.js'
import { rejects } from '../helpers/errors.js'

const SECRET = `whsec_${randomBytes(32).toString('base64')}`

test('a minimal body takes the defaults: latest, at-least-once, BINARY, one record per delivery, fail on undecodable', () => {
  const s = parseCreate({ callback_url: 'https://hooks.example/x' }, 7)
  assert.equal(s.from, 'latest')
  assert.deepEqual(s.startFrom, { kind: 'latest' })
  assert.equal(s.qos, 'at-least-once')
  assert.equal(s.key_format, 'BINARY')
  assert.equal(s.value_format, 'BINARY')
  assert.equal(s.undecodable, 'fail')
  assert.equal(s.batch, null)
  assert.equal(s.max_attempts, 7)
  assert.equal(s.secret, null)
  assert.equal(s.dead_letter_topic, null)
  assert.equal(s.state, 'active')
  assert.deepEqual(s.headers, {})
})

test('every field of a full body is read; format names are case-insensitive and key/value formats override format', () => {
  const s = parseCreate({
    callback_url: 'https://hooks.example/x',
    secret: SECRET,
    from: '2026-01-02T03:04:05Z',
    qos: 'at-most-once',
    key: 'k1',
    headers: { tenant: 'a' },
    format: 'json',
    key_format: 'string',
    undecodable: 'raw',
    batch: { max_records: 50 },
    max_attempts: 3,
    dead_letter_topic: 'dlq',
    state: 'paused'
  }, 10)
  assert.deepEqual(s.startFrom, { kind: 'time', ms: Date.parse('2026-01-02T03:04:05Z') })
  assert.equal(s.key_format, 'STRING')
  assert.equal(s.value_format, 'JSON')
  assert.deepEqual(s.batch, { max_records: 50, max_wait_ms: 1000 })
  assert.equal(s.secret, SECRET)
  assert.equal(s.state, 'paused')
})

test('a missing callback_url is a 422; wrong types, ranges, enums, nulls and unknown fields are 400s naming the field', () => {
  rejects(() => parseCreate({}, 10), 'invalidPayload', /callback_url is required/)
  const base = { callback_url: 'https://hooks.example/x' }
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ callback_url: 5 }, /callback_url must be a string/],
    [{ ...base, qos: 'exactly-once' }, /qos must be one of/],
    [{ ...base, qos: null }, /qos must not be null/],
    [{ ...base, from: 'yesterday' }, /from must be latest, earliest/],
    [{ ...base, format: 'XML' }, /format must be one of/],
    [{ ...base, headers: { a: 1 } }, /headers\.a must be a string/],
    [{ ...base, headers: ['a'] }, /headers must be an object/],
    [{ ...base, batch: { max_records: 0 } }, /max_records must be an integer from 1/],
    [{ ...base, batch: { max_wait_ms: 60001 } }, /max_wait_ms must be an integer from 0 to 60000/],
    [{ ...base, batch: { size: 3 } }, /unknown field "size" in batch/],
    [{ ...base, batch: 5 }, /batch must be an object/],
    [{ ...base, max_attempts: 0 }, /max_attempts must be an integer from 1 to 1000/],
    [{ ...base, max_attempts: 2.5 }, /max_attempts/],
    [{ ...base, secret: 'hunter2' }, /secret must be whsec_/],
    [{ ...base, dead_letter_topic: 'no spaces' }, /not a topic name/],
    [{ ...base, state: 'failed' }, /state must be one of active, paused/],
    [{ ...base, undecodable: 'skip' }, /undecodable must be one of fail, raw/],
    [{ ...base, callbackUrl: 'x' }, /unknown field "callbackUrl"/]
  ]
  for (const [body, message] of cases) rejects(() => parseCreate(body, 10), 'badRequest', message)
})

test('a PATCH changes the callback, the secret (null removes it), the state, attempts, batching and the dead-letter topic; nothing else', () => {
  assert.deepEqual(parsePatch({ state: 'paused', secret: null, batch: null, dead_letter_topic: null }), { state: 'paused', secret: null, batch: null, dead_letter_topic: null })
  assert.deepEqual(parsePatch({}), {})
  rejects(() => parsePatch({ qos: 'auto' }), 'badRequest', /qos cannot be changed/)
  rejects(() => parsePatch({ topic: 'x' }), 'badRequest', /unknown field "topic"/)
  rejects(() => parsePatch({ state: 'cancelled' }), 'badRequest', /state must be one of active, paused/)
  rejects(() => parsePatch({ callback_url: null }), 'badRequest', /must not be null/)
})

test('resuming a stopped subscription clears the reason it stopped for; the stored form reads back', () => {
  const sub: Subscription = {
    ...parseCreate({ callback_url: 'https://hooks.example/x', secret: SECRET }, 5),
    subscription_id: 'id-1',
    topic: 't',
    start: { 0: 4 },
    state: 'failed',
    state_reason: 'HTTP 500 (5 attempts)',
    created_at: 1,
    updated_at: 1
  } as Subscription
  const resumed = applyPatch(sub, { state: 'active' }, 2)
  assert.equal(resumed.state, 'active')
  assert.equal(resumed.state_reason, null)
  assert.equal(resumed.updated_at, 2)
  const renamed = applyPatch(sub, { callback_url: 'https://other.example/' }, 3)
  assert.equal(renamed.state_reason, 'HTTP 500 (5 attempts)', 'a change that is not a resume keeps the state')
  const { startFrom: _, ...stored } = sub as Subscription & { startFrom?: unknown }
  assert.deepEqual(decodeSubscription(encodeSubscription(stored as Subscription)), stored)
  assert.equal(decodeSubscription(Buffer.from('{"type":"other"}')), null)
  assert.equal(decodeSubscription(Buffer.from('not json')), null)
})
