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
  // The proxy's own Kafka credentials: not the API client's fault, and fine again once fixed.
  const auth = produceError({ code: RD.SASL_AUTHENTICATION_FAILED, message: 'bad password' }, true)
  assert.deepEqual([auth.errorCode, auth.status, auth.retriable, auth.persisted], [50003, 500, true, 'no'])
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

test('request errors: ACL refusals are 403/40301, the proxy failing to authenticate is 503', () => {
  for (const code of [RD.TOPIC_AUTHORIZATION_FAILED, RD.GROUP_AUTHORIZATION_FAILED, RD.CLUSTER_AUTHORIZATION_FAILED]) {
    const e = requestError({ code, message: 'x' })
    assert.deepEqual([e.status, e.errorCode], [403, 40301], String(code))
  }
  for (const code of [RD.SASL_AUTHENTICATION_FAILED, RD.AUTHENTICATION]) {
    const e = requestError({ code, message: 'broker detail' })
    assert.deepEqual([e.status, e.errorCode, e.retriable, e.message], [503, 50302, true, 'Kafka cluster is unreachable'], String(code))
  }
})

test('broker refusals of a whole batch are not written; failures after the batch left may be', () => {
  const refused = [
    RD.MSG_SIZE_TOO_LARGE, RD.RECORD_LIST_TOO_LARGE, RD.INVALID_RECORD, RD.INVALID_TIMESTAMP, RD.TOPIC_EXCEPTION,
    RD.INVALID_REQUIRED_ACKS, RD.UNKNOWN_TOPIC_OR_PART, RD.TOPIC_AUTHORIZATION_FAILED, RD.NOT_LEADER_FOR_PARTITION,
    RD.NOT_ENOUGH_REPLICAS, RD.KAFKA_STORAGE_ERROR, RD.UNSUPPORTED_FOR_MESSAGE_FORMAT
  ]
  for (const code of refused) assert.equal(produceError({ code, message: 'x' }, true).persisted, 'no', `code ${code}`)
  const local = [RD.QUEUE_FULL, RD.UNKNOWN_TOPIC, RD.UNKNOWN_PARTITION, RD.TIMED_OUT_QUEUE, RD.PURGE_QUEUE, RD.INVALID_ARG]
  for (const code of local) assert.equal(produceError({ code, message: 'x' }, true).persisted, 'no', `code ${code}`)
  const ambiguous = [
    RD.MSG_TIMED_OUT, RD.TRANSPORT, RD.TIMED_OUT, RD.REQUEST_TIMED_OUT, RD.NETWORK_EXCEPTION,
    RD.NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD.PURGE_INFLIGHT, RD.FATAL, RD.DESTROY, RD.BAD_MSG, 45, 46, -1, 9999
  ]
  for (const code of ambiguous) assert.equal(produceError({ code, message: 'x' }, true).persisted, 'unknown', `code ${code}`)
  const invalid = produceError({ code: RD.INVALID_RECORD, message: 'Broker: Invalid record' }, true)
  assert.deepEqual([invalid.status, invalid.errorCode, invalid.retriable], [500, 50002, false])
})
