import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { eventErrorCode, produceError, requestError, RD } from '../../src/kafka/errors.js'

// The binding's own error wrapper, fed the way the client's event callback feeds it.
const LibrdKafkaError = createRequire(import.meta.url)('@confluentinc/kafka-javascript/lib/error.js')
const err2str = createRequire(import.meta.url)('@confluentinc/kafka-javascript/librdkafka.js').err2str

function asEvent (code: number): { code: number, message: string } {
  return LibrdKafkaError.create(new Error(err2str(code)))
}

test('error events keep their code even though the binding drops it', () => {
  assert.equal(asEvent(RD.ALL_BROKERS_DOWN).code, -1, 'the binding really drops the code')
  assert.equal(eventErrorCode(asEvent(RD.ALL_BROKERS_DOWN)), RD.ALL_BROKERS_DOWN)
  assert.equal(eventErrorCode(asEvent(RD.FATAL)), RD.FATAL)
  assert.equal(eventErrorCode({ code: RD.QUEUE_FULL, message: 'x' }), RD.QUEUE_FULL)
  assert.equal(eventErrorCode({ code: -1, message: 'something else' }), -1)
})

test('produce failures say whether the record may have been written', () => {
  const queueFull = produceError({ code: RD.QUEUE_FULL, message: 'queue full' }, false)
  assert.deepEqual([queueFull.errorCode, queueFull.retriable, queueFull.persisted], [50003, true, 'no'])
  const timedOut = produceError({ code: RD.MSG_TIMED_OUT, message: 'timed out' }, true)
  assert.deepEqual([timedOut.errorCode, timedOut.retriable, timedOut.persisted], [50003, true, 'unknown'])
  const tooLarge = produceError({ code: RD.MSG_SIZE_TOO_LARGE, message: 'too large' }, true)
  assert.deepEqual([tooLarge.errorCode, tooLarge.retriable, tooLarge.persisted], [50002, false, 'no'])
  const denied = produceError({ code: RD.TOPIC_AUTHORIZATION_FAILED, message: 'denied' }, true)
  assert.deepEqual([denied.errorCode, denied.status, denied.persisted], [40301, 403, 'no'])
  const auth = produceError({ code: RD.SASL_AUTHENTICATION_FAILED, message: 'bad password' }, true)
  assert.deepEqual([auth.errorCode, auth.status], [40101, 401])
  const refusedBeforeQueue = produceError({ code: RD.MSG_TIMED_OUT, message: 'x' }, false)
  assert.equal(refusedBeforeQueue.persisted, 'no', 'a record the client refused was never sent')
})

test('request errors: transport problems are 503, never 404', () => {
  for (const code of [RD.TRANSPORT, RD.ALL_BROKERS_DOWN, RD.TIMED_OUT]) {
    const e = requestError({ code, message: 'x' })
    assert.deepEqual([e.status, e.errorCode, e.retriable], [503, 50302, true])
  }
  assert.equal(requestError(new Error('not kafka')).status, 500)
})
