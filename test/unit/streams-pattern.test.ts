// Topic patterns of topics/-/records: whole-name matching, internal topics
// left out, topics gained since a stream started, and the patterns refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gained, matching, parsePattern } from '../../src/streams/pattern.js'
import type { ClusterView } from '../../src/kafka/metadata.js'
import { rejects } from '../helpers/errors.js'

function view (topics: Record<string, number>): ClusterView {
  const map = new Map(Object.entries(topics).map(([name, n]) => [name, { name, partitions: Array.from({ length: n }, (_, id) => ({ id, leader: 1, replicas: [1], isrs: [1] })) }]))
  return { brokers: [], topics: map, fetchedAt: 0 }
}

test('a pattern matches whole topic names, never Kafka\'s internal topics', () => {
  const p = parsePattern('orders\\..*')
  const v = view({ 'orders.eu': 2, 'orders.us': 1, 'xorders.eu': 1, orders: 1, __consumer_offsets: 50 })
  assert.deepEqual([...matching(v, p)].sort(), [['orders.eu', [0, 1]], ['orders.us', [0]]])
  assert.deepEqual([...matching(v, parsePattern('.*')).keys()].sort(), ['orders', 'orders.eu', 'orders.us', 'xorders.eu'])
  assert.ok(parsePattern('a|b').test('b') && !parsePattern('a|b').test('ab'), 'alternation stays inside the anchors')
})

test('gained: topics and partitions newly matching, each from offset 0, once', () => {
  const p = parsePattern('t.*')
  const known = new Map([['t1', new Set([0])]])
  assert.deepEqual([...gained(view({ t1: 2, t2: 1, u: 1 }), p, known)].map(([t, o]) => [t, [...o]]), [['t1', [[1, 0]]], ['t2', [[0, 0]]]])
  assert.equal(gained(view({ t1: 2, t2: 1 }), p, known).size, 0)
})

test('refused: empty, too long, not a regular expression, exponential backtracking, backreferences', () => {
  for (const bad of [null, '', 'x'.repeat(257), '(unclosed', '[z-a]', '(a+)+', '(a*)*b', '(x{2})+', '(a|aa)+', '(.)\\1', '(?<n>a)\\k<n>']) {
    rejects(() => parsePattern(bad), 'badRequest', /topic_pattern/)
  }
  assert.ok(parsePattern('orders-(eu|us)').test('orders-eu'), 'a group with an alternation is fine unquantified')
})
