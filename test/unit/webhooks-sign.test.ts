// Standard Webhooks signatures, checked against the convention's published
// example and against a verifier written here from the spec with node:crypto.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { secretKey, sign } from '../../src/webhooks/sign.js'
import { retryAfterMs } from '../../src/webhooks/sender.js'
import { retryDelay } from '../../src/webhooks/retry.js'

function verify (secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest()
  return header.split(' ').some((s) => {
    const [version, sig] = s.split(',')
    const got = Buffer.from(sig ?? '', 'base64')
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected)
  })
}

test('the example of the Standard Webhooks specification signs as published', () => {
  const key = secretKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
  assert.ok(Buffer.isBuffer(key))
  assert.equal(sign(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
})

test('signatures verify with an independent check, and fail with another secret, id, time or body', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  const other = `whsec_${randomBytes(32).toString('base64')}`
  const key = secretKey(secret) as Buffer
  const body = '{"topic":"t","partition":0,"offset":5}'
  const header = sign(key, 'dEAwIzY', 1700000000, body)
  assert.ok(verify(secret, 'dEAwIzY', '1700000000', body, header))
  assert.ok(!verify(other, 'dEAwIzY', '1700000000', body, header))
  assert.ok(!verify(secret, 'dEAwIzc', '1700000000', body, header))
  assert.ok(!verify(secret, 'dEAwIzY', '1700000001', body, header))
  assert.ok(!verify(secret, 'dEAwIzY', '1700000000', `${body} `, header))
})

test('secrets: whsec_ and canonical padded base64 of 24 to 64 bytes', () => {
  assert.ok(Buffer.isBuffer(secretKey(`whsec_${randomBytes(24).toString('base64')}`)))
  assert.ok(Buffer.isBuffer(secretKey(`whsec_${randomBytes(64).toString('base64')}`)))
  assert.match(secretKey(randomBytes(32).toString('base64')) as string, /whsec_/)
  assert.match(secretKey(`whsec_${randomBytes(16).toString('base64')}`) as string, /24 to 64 bytes/)
  assert.match(secretKey(`whsec_${randomBytes(65).toString('base64')}`) as string, /24 to 64 bytes/)
  assert.match(secretKey(`whsec_${'A'.repeat(30)}-_`) as string, /standard base64/)
  assert.match(secretKey(`whsec_${'A'.repeat(31)}`) as string, /padded/)
  assert.match(secretKey(`whsec_${'A'.repeat(32)}AB==`) as string, /canonical/, '25 bytes whose last group carries stray bits')
})

test('Retry-After: delay-seconds or an HTTP-date; anything else is ignored', () => {
  assert.equal(retryAfterMs('120'), 120_000)
  assert.equal(retryAfterMs(' 0 '), 0)
  const now = Date.parse('2026-01-01T00:00:00Z')
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000)
  assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0)
  assert.equal(retryAfterMs('soon'), null)
  assert.equal(retryAfterMs(undefined), null)
})

test('backoff doubles with 50-100 % jitter, honours Retry-After, never passes the maximum', () => {
  const opts = { initialMs: 100, maxMs: 5000 }
  assert.equal(retryDelay(1, opts, null, () => 0), 50)
  assert.equal(retryDelay(1, opts, null, () => 1), 100)
  assert.equal(retryDelay(3, opts, null, () => 1), 400)
  assert.equal(retryDelay(4, opts, null, () => 0), 400)
  assert.equal(retryDelay(30, opts, null, () => 1), 5000)
  assert.equal(retryDelay(1, opts, 2000, () => 0), 2000)
  assert.equal(retryDelay(1, opts, 60_000, () => 0), 5000)
  for (let i = 1; i < 50; i++) {
    const d = retryDelay(i, opts, null)
    assert.ok(d >= 50 && d <= 5000)
  }
})
