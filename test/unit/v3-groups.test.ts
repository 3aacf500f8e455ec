import { test } from 'node:test'
import assert from 'node:assert/strict'
import { computeLags, sortLags, summarize } from '../../src/api/v3/groups.js'
import { partitionKey, type GroupInfo } from '../../src/kafka/groups.js'

const member = { consumerId: 'm-1', instanceId: null, clientId: 'c-1', clientHost: '/127.0.0.1', assignments: [{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }] }
const group: GroupInfo = { groupId: 'g', isSimple: false, partitionAssignor: 'range', state: 'STABLE', type: 'CLASSIC', coordinatorId: 1, members: [member] }

test('computeLags pairs committed and log-end offsets, finds the holder, and skips partitions without a log end', () => {
  const lags = computeLags(group, [
    { topic: 'a', partition: 0, offset: 2 },
    { topic: 'a', partition: 1, offset: 9 },
    { topic: 'b', partition: 0, offset: 1 },
    { topic: 'c', partition: 0, offset: 1 }
  ], new Map([[partitionKey('a', 0), 9], [partitionKey('a', 1), 4], [partitionKey('b', 0), 3]]))
  assert.deepEqual(lags.map((l) => [l.topic, l.partition, l.currentOffset, l.logEndOffset, l.lag, l.member?.consumerId ?? '']), [
    ['a', 0, 2, 9, 7, 'm-1'],
    ['a', 1, 9, 4, 0, 'm-1'], // committed beyond the last stable offset: no negative lag
    ['b', 0, 1, 3, 2, '']
  ])
})

test('sortLags orders by lag descending, then topic, then partition', () => {
  const l = (topic: string, partition: number, lag: number): any => ({ topic, partition, lag, currentOffset: 0, logEndOffset: lag, member: null })
  const sorted = sortLags([l('b', 0, 1), l('a', 2, 5), l('a', 1, 1), l('a', 0, 5)])
  assert.deepEqual(sorted.map((x) => `${x.topic}/${x.partition}`), ['a/0', 'a/2', 'a/1', 'b/0'])
})

test('summarize reports the first partition with the largest lag and the total; null without lags', () => {
  const l = (topic: string, partition: number, lag: number): any => ({ topic, partition, lag, currentOffset: 0, logEndOffset: lag, member: null })
  const s = summarize([l('b', 0, 4), l('a', 3, 4), l('a', 1, 2)])
  assert.equal(s?.max.topic, 'a')
  assert.equal(s?.max.partition, 3)
  assert.equal(s?.total, 10)
  assert.equal(summarize([l('a', 0, 0)])?.max.partition, 0)
  assert.equal(summarize([]), null)
})
