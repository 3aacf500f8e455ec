import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProxyError } from '../../src/errors.js'
import { isValidTopicName, parseCreateTopic } from '../../src/api/v3/topics.js'

function refused (fn: () => unknown, status: number, errorCode: number): void {
  assert.throws(fn, (err: unknown) => err instanceof ProxyError && err.status === status && err.errorCode === errorCode)
}

test('topic names follow Kafka\'s rule: 1..249 of [a-zA-Z0-9._-], not . or ..', () => {
  for (const ok of ['a', 'A.b_c-1', 'x'.repeat(249), '...']) assert.equal(isValidTopicName(ok), true, ok)
  for (const bad of ['', '.', '..', 'x'.repeat(250), 'a b', 'a/b', 'ü', 'a:b']) assert.equal(isValidTopicName(bad), false, bad)
})

test('CreateTopic: omitted count and RF ask for the broker defaults (-1)', () => {
  assert.deepEqual(parseCreateTopic({ topic_name: 't' }), {
    topic: { name: 't', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
    validateOnly: false
  })
})

test('CreateTopic: count, RF, configs and validate_only are read', () => {
  const r = parseCreateTopic({
    topic_name: 't',
    partitions_count: 3,
    replication_factor: 2,
    configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: null }],
    validate_only: true
  })
  assert.deepEqual(r, {
    topic: {
      name: 't',
      numPartitions: 3,
      replicationFactor: 2,
      assignments: [],
      configs: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: null }]
    },
    validateOnly: true
  })
})

test('CreateTopic: replicas_assignments as a map, as the OpenAPI array and as the example array; they override count and RF', () => {
  const expected = [{ partition: 0, brokers: [1, 2] }, { partition: 1, brokers: [2, 3] }]
  for (const raw of [
    { 1: [2, 3], 0: [1, 2] },
    [{ partition_id: 1, broker_ids: [2, 3] }, { partition_id: 0, broker_ids: [1, 2] }],
    [{ 0: [1, 2] }, { 1: [2, 3] }]
  ]) {
    const r = parseCreateTopic({ topic_name: 't', partitions_count: 9, replication_factor: 3, replicas_assignments: raw })
    assert.deepEqual(r.topic.assignments, expected, JSON.stringify(raw))
    assert.equal(r.topic.numPartitions, -1)
    assert.equal(r.topic.replicationFactor, -1)
  }
})

test('CreateTopic refuses a missing or invalid name with 422/42206 and wrong types with 400', () => {
  refused(() => parseCreateTopic({}), 422, 42206)
  refused(() => parseCreateTopic({ topic_name: 5 }), 422, 42206)
  refused(() => parseCreateTopic({ topic_name: 'a b' }), 422, 42206)
  refused(() => parseCreateTopic({ topic_name: 't', partitions_count: '3' }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', partitions_count: 0 }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', replication_factor: 1.5 }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', configs: { a: 'b' } }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', configs: [{ value: 'x' }] }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', replicas_assignments: { x: [1] } }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', replicas_assignments: { 0: [] } }), 400, 400)
  refused(() => parseCreateTopic({ topic_name: 't', validate_only: 'yes' }), 400, 400)
})
