import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_CLUSTERS, ProduceRateLimiter, TokenBucket, type RateLimits } from '../../src/api/v3/rate-limit.js'

const HIGH = 1_000_000
const limits = (over: Partial<RateLimits>): RateLimits => ({
  max_records_per_sec: HIGH, max_records_global_per_sec: HIGH, max_bytes_per_sec: HIGH, max_bytes_global_per_sec: HIGH, ...over
})

function clock (): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => t, advance: (ms) => { t += ms } }
}

test('a token bucket holds one second of its rate and refills continuously', () => {
  const b = new TokenBucket(4, 0)
  for (let i = 0; i < 4; i++) {
    assert.ok(b.allows(1, 0))
    b.take(1)
  }
  assert.equal(b.allows(1, 0), false)
  assert.equal(b.allows(1, 249), false)
  assert.ok(b.allows(1, 250))
  b.take(1)
  // Idle time beyond a second adds nothing past the capacity.
  assert.ok(b.full(10_000))
  for (let i = 0; i < 4; i++) b.take(1)
  assert.equal(b.allows(1, 10_000), false)
})

test('a unit larger than the bucket passes when it is full and leaves it in debt', () => {
  const b = new TokenBucket(100, 0)
  assert.ok(b.allows(250, 0))
  b.take(250)
  assert.equal(b.allows(1, 1500), false, 'a debt of 150 plus one unit takes over 1.5 s to repay')
  assert.ok(b.allows(1, 1510))
})

test('records per second: the global limit refuses with 429 and takes nothing from a refused record', () => {
  const c = clock()
  const limiter = new ProduceRateLimiter(limits({ max_records_global_per_sec: 2 }), 1, c.now)
  assert.equal(limiter.check('a', 10), null)
  assert.equal(limiter.check('b', 10), null)
  const refused = limiter.check('a', 10)
  assert.ok(refused !== null)
  assert.equal(refused.errorCode, 429)
  assert.equal(refused.status, 429)
  assert.equal(refused.key, 'rateLimited')
  assert.equal(refused.persisted, 'no')
  assert.equal(refused.message, 'Request rate limit exceeded: more than 2 records per second to this proxy.')
  c.advance(500)
  assert.equal(limiter.check('a', 10), null)
  assert.notEqual(limiter.check('a', 10), null)
})

test('checks run in order global count, global bytes, cluster count, cluster bytes', () => {
  const c = clock()
  const limiter = new ProduceRateLimiter({ max_records_global_per_sec: 3, max_bytes_global_per_sec: 1000, max_records_per_sec: 1, max_bytes_per_sec: 100 }, 1, c.now)
  assert.equal(limiter.check('x', 60), null)
  assert.match(limiter.check('x', 10)?.message ?? '', /more than 1 records per second to cluster x/)
  assert.equal(limiter.check('y', 60), null)
  c.advance(1000)
  assert.equal(limiter.check('y', 150), null, 'a full bucket lets an oversized record through')
  c.advance(1000)
  assert.equal(limiter.check('y', 50), null)
  assert.match(limiter.check('z', 2000)?.message ?? '', /more than 1000 bytes per second to this proxy/)
  assert.equal(limiter.check('z', 10), null)
  assert.equal(limiter.check('w', 10), null)
  assert.match(limiter.check('v', 10)?.message ?? '', /more than 3 records per second to this proxy/)
})

test('cluster bytes refuse a record while the global limits still have room', () => {
  const c = clock()
  const limiter = new ProduceRateLimiter(limits({ max_bytes_per_sec: 100 }), 1, c.now)
  assert.equal(limiter.check('a', 80), null)
  assert.equal(limiter.check('a', 80)?.message, 'Request rate limit exceeded: more than 100 bytes per second to cluster a.')
  assert.equal(limiter.check('b', 80), null, 'another cluster has its own buckets')
})

test('each worker enforces its share of every rate', () => {
  const c = clock()
  const limiter = new ProduceRateLimiter(limits({ max_records_global_per_sec: 10 }), 4, c.now)
  let passed = 0
  while (limiter.check('a', 1) === null) passed++
  assert.equal(passed, 2, '10 records/s over 4 workers is 2.5 per worker')
  c.advance(1000)
  assert.equal(limiter.check('a', 1), null)
})

test('per-cluster buckets are bounded; full ones are evicted first', () => {
  const c = clock()
  const limiter = new ProduceRateLimiter(limits({}), 1, c.now)
  for (let i = 0; i < MAX_CLUSTERS; i++) limiter.check(`c${i}`, 1)
  assert.equal(limiter.clusterCount, MAX_CLUSTERS)
  c.advance(1000)
  limiter.check('new', 1)
  assert.equal(limiter.clusterCount, 1)
  for (let i = 0; i < MAX_CLUSTERS; i++) limiter.check(`d${i}`, 1)
  assert.ok(limiter.clusterCount <= MAX_CLUSTERS)
  assert.ok(limiter.clusterCount >= MAX_CLUSTERS * 0.9)
})
