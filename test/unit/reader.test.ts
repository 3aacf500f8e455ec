// The stateless reader pool without a broker: its client properties, its
// concurrency cap, failed connections and closing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultConfig } from '../../src/config/schema.js'
import { createLogger } from '../../src/logger.js'
import { ProxyError } from '../../src/errors.js'
import { readerProperties } from '../../src/kafka/options.js'
import { ReaderPool, type ReaderPoolOptions } from '../../src/kafka/reader.js'

// Nothing listens on port 1: every connection is refused.
const UNREACHABLE = '127.0.0.1:1'

function pool (overrides: Partial<ReaderPoolOptions> = {}): ReaderPool {
  const config = defaultConfig()
  return new ReaderPool({
    properties: readerProperties({ ...config.kafka, bootstrap_servers: UNREACHABLE }, config.consumer),
    maxReaders: 2,
    idleMs: 30_000,
    maxPollRecords: 100,
    callTimeoutMs: 300,
    log: createLogger('silent', 'test'),
    ...overrides
  })
}

const read = { topic: 't', partition: 0, offset: 0, maxBytes: 1000, timeoutMs: 0 }

function isProxyError (key: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.key, key)
    return true
  }
}

test('reader properties: a fixed group that never commits, whatever the operator pass-through says', () => {
  const config = defaultConfig()
  const kafka = {
    ...config.kafka,
    bootstrap_servers: 'b:9092',
    client_id: 'proxy',
    consumer: { 'enable.auto.commit': true, 'group.id': 'operator', 'security.protocol': 'sasl_ssl', 'fetch.wait.max.ms': 50 }
  }
  const { global, topic } = readerProperties(kafka, { ...config.consumer, prefetch_max_bytes: 1_000_000 })
  assert.equal(global['bootstrap.servers'], 'b:9092')
  assert.equal(global['client.id'], 'proxy-reader')
  assert.equal(global['group.id'], 'proxy-stateless-reader')
  assert.equal(global['enable.auto.commit'], false)
  assert.equal(global['enable.auto.offset.store'], false)
  assert.equal(global['security.protocol'], 'sasl_ssl', 'security settings pass through')
  assert.equal(global['fetch.wait.max.ms'], 50, 'tuning settings pass through')
  assert.equal(global['queued.max.messages.kbytes'], 977)
  assert.equal(global['fetch.queue.backoff.ms'], 20, 'a drained prefetch queue is refilled at once, not after librdkafka\'s 1 s')
  assert.equal(global['fetch.max.bytes'], 1_048_576)
  assert.equal(global['allow.auto.create.topics'], false)
  assert.equal(global['auto.offset.reset'], undefined, 'auto.offset.reset is topic-level')
  assert.deepEqual(topic, { 'auto.offset.reset': 'earliest' })
  assert.equal(readerProperties(config.kafka, config.consumer).global['fetch.wait.max.ms'], 100, 'short broker waits by default')
})

test('a reader that cannot connect fails the read with a retriable 503 and is dropped', async (t) => {
  const p = pool()
  t.after(() => p.close())
  await assert.rejects(p.read(read, () => 'never'), (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.status, 503)
    assert.equal(err.retriable, true)
    return true
  })
  assert.equal(p.size, 0)
})

test('reads beyond maxReaders are refused with consumerThreadsBusy, and the slot frees when a read ends', async (t) => {
  const p = pool({ maxReaders: 1 })
  t.after(() => p.close())
  const first = p.read(read, () => 'never')
  await assert.rejects(p.read({ ...read, partition: 1 }, () => 'never'), isProxyError('consumerThreadsBusy'))
  assert.equal(p.size, 1)
  await assert.rejects(first)
  // The failed reader was dropped; the next read may make a new one.
  await assert.rejects(p.read(read, () => 'never'), (err: unknown) => err instanceof ProxyError && err.key !== 'consumerThreadsBusy')
})

test('a closed pool refuses reads with shuttingDown, and close waits for the read in progress', async () => {
  const p = pool()
  let settled = false
  const running = p.read(read, () => 'never').catch(() => { settled = true })
  await p.close()
  // The read's own callbacks run within the same turn; a close that did not
  // wait would return while the connection attempt (300 ms) is still going.
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(settled, true, 'close returned only after the read in progress ended')
  await running
  await assert.rejects(p.read(read, () => 'never'), isProxyError('shuttingDown'))
  assert.equal(p.size, 0)
})
