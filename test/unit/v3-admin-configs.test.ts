import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProxyError } from '../../src/errors.js'
import { isKnownBrokerConfig, parseAlterBatch, parseTopicsAlterBatch } from '../../src/api/v3/configs.js'
import { boolParam } from '../../src/api/v3/resource.js'
import { parseCreateTopic } from '../../src/api/v3/topics.js'

function refused (fn: () => unknown, status: number, errorCode: number): void {
  assert.throws(fn, (err: unknown) => err instanceof ProxyError && err.status === status && err.errorCode === errorCode)
}

test('AlterConfigBatch: operation defaults to SET, is case-insensitive, DELETE drops the value', () => {
  assert.deepEqual(parseAlterBatch({
    data: [
      { name: 'a', value: '1' },
      { name: 'b', value: '2', operation: 'set' },
      { name: 'c', value: 'ignored', operation: 'Delete' },
      { name: 'd', value: null }
    ]
  }), {
    ops: [
      { name: 'a', operation: 'SET', value: '1' },
      { name: 'b', operation: 'SET', value: '2' },
      { name: 'c', operation: 'DELETE', value: null },
      { name: 'd', operation: 'SET', value: null }
    ],
    validateOnly: false
  })
  assert.equal(parseAlterBatch({ data: [], validate_only: true }).validateOnly, true)
})

test('AlterConfigBatch refuses: missing data 422/42206; wrong shapes, names, values and operations 400', () => {
  refused(() => parseAlterBatch({}), 422, 42206)
  refused(() => parseAlterBatch({ data: { name: 'a' } }), 400, 400)
  refused(() => parseAlterBatch({ data: [{ value: '1' }] }), 400, 400)
  refused(() => parseAlterBatch({ data: [{ name: 'a', value: 1 }] }), 400, 400)
  refused(() => parseAlterBatch({ data: [{ name: 'a', operation: 'APPEND' }] }), 400, 400)
  refused(() => parseAlterBatch({ data: [], validate_only: 1 }), 400, 400)
})

test('multi-topic alter batch: per-topic configs, validate_only', () => {
  assert.deepEqual(parseTopicsAlterBatch({
    data: [{ topic_name: 't1', configs: [{ name: 'retention.ms', value: '1' }] }, { topic_name: 't2', configs: [{ name: 'x', operation: 'DELETE' }] }],
    validate_only: true
  }), {
    changes: [
      { topic: 't1', ops: [{ name: 'retention.ms', operation: 'SET', value: '1' }] },
      { topic: 't2', ops: [{ name: 'x', operation: 'DELETE', value: null }] }
    ],
    validateOnly: true
  })
  refused(() => parseTopicsAlterBatch({}), 422, 42206)
  refused(() => parseTopicsAlterBatch({ data: [{ configs: [] }] }), 422, 42206)
  refused(() => parseTopicsAlterBatch({ data: [{ topic_name: 't' }] }), 422, 42206)
  refused(() => parseTopicsAlterBatch({ data: 'x' }), 400, 400)
})

test('broker config names: listed ones, the replication throttles, and listed ones scoped to a listener', () => {
  const listed = new Set(['max.connections', 'ssl.keystore.location', 'sasl.jaas.config'])
  assert.equal(isKnownBrokerConfig('max.connections', listed), true)
  assert.equal(isKnownBrokerConfig('follower.replication.throttled.rate', listed), true)
  assert.equal(isKnownBrokerConfig('listener.name.internal.ssl.keystore.location', listed), true)
  assert.equal(isKnownBrokerConfig('listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config', listed), true)
  assert.equal(isKnownBrokerConfig('no.such.config', listed), false)
  assert.equal(isKnownBrokerConfig('listener.name.internal.no.such.config', listed), false)
  assert.equal(isKnownBrokerConfig('listener.name.x.y.ssl.keystore.location', listed), false)
})

test('null is refused where the document does not allow it, and boolean query parameters are checked', () => {
  for (const field of ['partitions_count', 'replication_factor', 'replicas_assignments', 'configs', 'validate_only']) {
    refused(() => parseCreateTopic({ topic_name: 't', [field]: null }), 400, 400)
  }
  refused(() => parseCreateTopic({ topic_name: 't', replication_factor: 32768 }), 400, 400)
  refused(() => parseAlterBatch({ data: [], validate_only: null }), 400, 400)
  refused(() => parseTopicsAlterBatch({ data: [], validate_only: 'true' }), 400, 400)
  assert.equal(boolParam('', 'flag'), false)
  assert.equal(boolParam('flag=TRUE', 'flag'), true)
  assert.equal(boolParam('flag=false', 'flag'), false)
  refused(() => boolParam('flag=yes', 'flag'), 400, 400)
  refused(() => boolParam('flag=', 'flag'), 400, 400)
})
