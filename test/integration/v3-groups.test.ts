// v3 consumer groups, consumers, assignments, lags and lag summary against a
// real consumer group: a native librdkafka consumer (static member, so its
// instance id is known) subscribes to a 2-partition topic, reads, commits
// chosen offsets, and more records are produced after them, so every lag is
// an exact number. A second topic gets a committed offset on a partition no
// member holds, which must show up with empty member ids.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaConsumer, Producer, type ConsumerClient } from '../../src/kafka/binding.js'
import { createKafkaAdmin } from '../../src/kafka/admin.js'
import { createLogger } from '../../src/logger.js'
import { bootstrap, createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show } from '../helpers/consumers.js'

function cb<T> (f: (done: (err: unknown, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, value) => {
    if (err !== null && err !== undefined) reject(err)
    else resolve(value as T)
  }))
}

async function produce (topic: string, partition: number, count: number): Promise<void> {
  const producer = new Producer({ 'bootstrap.servers': bootstrap(), 'allow.auto.create.topics': false })
  await cb((done) => producer.connect({ timeout: 10000 }, done))
  try {
    for (let i = 0; i < count; i++) producer.produce(topic, partition, Buffer.from(`v${i}`))
    await cb((done) => producer.flush(10000, done))
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  }
}

/** The cluster id the proxy checks `{cluster_id}` against, asked of the cluster directly. */
async function clusterId (): Promise<string> {
  const admin = createKafkaAdmin({ bootstrapServers: bootstrap(), clientId: 'test-v3-groups', requestTimeoutMs: 10000, properties: {}, log: createLogger('silent', 'test') })
  try {
    return (await admin.describeCluster()).clusterId
  } finally {
    await admin.close()
  }
}

async function member (group: string, instanceId: string | null, clientId: string): Promise<ConsumerClient> {
  const props: Record<string, string | boolean> = {
    'bootstrap.servers': bootstrap(),
    'group.id': group,
    'client.id': clientId,
    'enable.auto.commit': false
  }
  if (instanceId !== null) props['group.instance.id'] = instanceId
  const c = new KafkaConsumer(props, { 'auto.offset.reset': 'earliest' }) as ConsumerClient
  await cb((done) => c.connect({ timeout: 10000 }, done))
  return c
}

/** Consumes until `count` records arrived (which also means the group assigned the partitions). */
async function consume (c: ConsumerClient, count: number): Promise<void> {
  let got = 0
  await eventually(async () => {
    const batch = await cb<unknown[]>((done) => c.consume(100, done))
    got += batch.length
    return got >= count ? true : undefined
  }, { timeoutMs: 60000, intervalMs: 10, what: `${count} records consumed` })
}

test('v3 consumer groups, consumers, assignments, lags and lag summary of a live group', async (t) => {
  const { url } = await startProxy(t)
  const cid = await clusterId()
  const C = `${url}/v3/clusters/${cid}`
  const topic = uniqueName('t-v3g')
  const other = uniqueName('t-v3g-other')
  await createTopic(topic, 2)
  await createTopic(other, 1)
  const group = uniqueName('g-v3g')
  const instance = uniqueName('inst')
  const clientId = uniqueName('client')

  await produce(topic, 0, 5)
  await produce(topic, 1, 3)
  await produce(other, 0, 3)
  const c = await member(group, instance, clientId)
  t.after(() => new Promise<void>((resolve) => c.disconnect(() => resolve())))
  c.subscribe([topic])
  await consume(c, 8)
  // Offsets chosen so every lag is known: committing for `other` (which no
  // member is assigned) is accepted by the classic protocol's OffsetCommit.
  await cb((done) => c.commitCb([
    { topic, partition: 0, offset: 2 },
    { topic, partition: 1, offset: 3 },
    { topic: other, partition: 0, offset: 1 }
  ], done))
  await produce(topic, 0, 4) // log end 9: lag 7
  await produce(topic, 1, 1) // log end 4: lag 1
  // `other`: log end 3, committed 1: lag 2, held by nobody.

  const g = await eventually(async () => {
    const res = await request('GET', `${C}/consumer-groups/${group}`)
    return res.status === 200 && res.body.state === 'STABLE' ? res : undefined
  }, { what: 'group STABLE' })
  const gu = `${C}/consumer-groups/${group}`

  await t.test('GET a group returns its ConsumerGroupData', () => {
    const b = g.body
    assert.equal(b.kind, 'KafkaConsumerGroup')
    assert.equal(b.metadata.self, gu)
    assert.equal(b.metadata.resource_name, `crn:///kafka=${cid}/consumer-group=${group}`)
    assert.equal(b.cluster_id, cid)
    assert.equal(b.consumer_group_id, group)
    assert.equal(b.is_simple, false)
    assert.equal(b.partition_assignor, 'range')
    assert.equal(b.state, 'STABLE')
    assert.equal(b.type, 'CLASSIC')
    assert.equal(b.is_mixed_consumer_group, false)
    assert.match(b.coordinator.related, new RegExp(`^${C}/brokers/\\d+$`))
    assert.equal(b.consumers.related, `${gu}/consumers`)
    assert.equal(b.lag_summary.related, `${gu}/lag-summary`)
  })

  await t.test('GET consumer-groups lists the group', async () => {
    const res = await request('GET', `${C}/consumer-groups`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaConsumerGroupList')
    assert.deepEqual(res.body.metadata, { self: `${C}/consumer-groups`, next: null })
    const mine = res.body.data.find((x: any) => x.consumer_group_id === group)
    assert.deepEqual(mine, g.body)
    const ids = res.body.data.map((x: any) => x.consumer_group_id)
    assert.deepEqual(ids, [...ids].sort(), 'sorted by group id')
  })

  let consumerId = ''
  await t.test('consumers of the group, one by one', async () => {
    const res = await request('GET', `${gu}/consumers`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaConsumerList')
    assert.equal(res.body.metadata.self, `${gu}/consumers`)
    assert.equal(res.body.data.length, 1, show(res))
    const m = res.body.data[0]
    consumerId = m.consumer_id
    assert.ok(consumerId.startsWith(instance), consumerId)
    assert.deepEqual(m, {
      kind: 'KafkaConsumer',
      metadata: {
        self: `${gu}/consumers/${consumerId}`,
        resource_name: `crn:///kafka=${cid}/consumer-group=${group}/consumer=${consumerId}`
      },
      cluster_id: cid,
      consumer_group_id: group,
      consumer_id: consumerId,
      instance_id: instance,
      client_id: clientId,
      assignments: { related: `${gu}/consumers/${consumerId}/assignments` }
    })
    const one = await request('GET', `${gu}/consumers/${consumerId}`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, m)
    assertError(await request('GET', `${gu}/consumers/no-such-member`), 404, 404, 'unknown consumer')
  })

  await t.test('assignments of the consumer, sorted, and one by one', async () => {
    const au = `${gu}/consumers/${consumerId}/assignments`
    const res = await request('GET', au)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaConsumerAssignmentList')
    assert.equal(res.body.metadata.self, au)
    assert.deepEqual(res.body.data.map((a: any) => [a.topic_name, a.partition_id]), [[topic, 0], [topic, 1]])
    const a1 = res.body.data[1]
    assert.deepEqual(a1, {
      kind: 'KafkaConsumerAssignment',
      metadata: {
        self: `${au}/${topic}/partitions/1`,
        resource_name: `crn:///kafka=${cid}/consumer-group=${group}/consumer=${consumerId}/assignment=${topic}/partition=1`
      },
      cluster_id: cid,
      consumer_group_id: group,
      consumer_id: consumerId,
      topic_name: topic,
      partition_id: 1,
      partition: { related: `${C}/topics/${topic}/partitions/1` },
      lag: { related: `${gu}/lags/${topic}/partitions/1` }
    })
    const one = await request('GET', `${au}/${topic}/partitions/1`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, a1)
    assertError(await request('GET', `${au}/${other}/partitions/0`), 404, 404, 'partition not assigned')
    assertError(await request('GET', `${au}/${topic}/partitions/x`), 404, 404, 'non-numeric partition')
    assertError(await request('GET', `${gu}/consumers/no-such-member/assignments`), 404, 404, 'unknown consumer')
  })

  await t.test('lags: exact offsets, sorted by lag, unheld partitions with empty member ids', async () => {
    const res = await request('GET', `${gu}/lags`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaConsumerLagList')
    assert.equal(res.body.metadata.self, `${gu}/lags`)
    const rows = res.body.data.map((l: any) => [l.topic_name, l.partition_id, l.current_offset, l.log_end_offset, l.lag, l.consumer_id, l.instance_id, l.client_id])
    assert.deepEqual(rows, [
      [topic, 0, 2, 9, 7, consumerId, instance, clientId],
      [other, 0, 1, 3, 2, '', null, ''],
      [topic, 1, 3, 4, 1, consumerId, instance, clientId]
    ])
    const l0 = res.body.data[0]
    assert.equal(l0.kind, 'KafkaConsumerLag')
    assert.deepEqual(l0.metadata, {
      self: `${gu}/lags/${topic}/partitions/0`,
      resource_name: `crn:///kafka=${cid}/consumer-group=${group}/lag=${topic}/partition=0`
    })
    assert.equal(l0.cluster_id, cid)
    assert.equal(l0.consumer_group_id, group)
    const one = await request('GET', `${gu}/lags/${topic}/partitions/0`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, l0)
    assertError(await request('GET', `${gu}/lags/${topic}/partitions/7`), 404, 404, 'no lag for that partition')
  })

  await t.test('lag summary: the maximum lag with links, and the total', async () => {
    const res = await request('GET', `${gu}/lag-summary`)
    assert.equal(res.status, 200, show(res))
    assert.deepEqual(res.body, {
      kind: 'KafkaConsumerGroupLagSummary',
      metadata: {
        self: `${gu}/lag-summary`,
        resource_name: `crn:///kafka=${cid}/consumer-group=${group}/lag-summary`
      },
      cluster_id: cid,
      consumer_group_id: group,
      max_lag_consumer_id: consumerId,
      max_lag_instance_id: instance,
      max_lag_client_id: clientId,
      max_lag_topic_name: topic,
      max_lag_partition_id: 0,
      max_lag: 7,
      total_lag: 10,
      max_lag_consumer: { related: `${gu}/consumers/${consumerId}` },
      max_lag_partition: { related: `${C}/topics/${topic}/partitions/0` }
    })
  })

  await t.test('a group with members but no committed offset has no lags (404)', async () => {
    const idle = uniqueName('g-v3g-idle')
    const m = await member(idle, null, 'idle-client')
    t.after(() => new Promise<void>((resolve) => m.disconnect(() => resolve())))
    m.subscribe([other])
    await consume(m, 3)
    await eventually(async () => {
      const r = await request('GET', `${C}/consumer-groups/${idle}`)
      return r.status === 200 && r.body.state === 'STABLE' ? true : undefined
    }, { what: 'idle group STABLE' })
    const lags = await request('GET', `${C}/consumer-groups/${idle}/lags`)
    assertError(lags, 404, 404, 'lags')
    assert.equal(lags.body.message, 'Consumer lags not found.')
    assertError(await request('GET', `${C}/consumer-groups/${idle}/lag-summary`), 404, 404, 'lag summary')
  })

  await t.test('an unknown group is 404 on every resource under it', async () => {
    const missing = uniqueName('g-v3g-missing')
    for (const path of ['', '/consumers', '/consumers/x', '/consumers/x/assignments', '/lags', `/lags/${topic}/partitions/0`, '/lag-summary']) {
      const res = await request('GET', `${C}/consumer-groups/${missing}${path}`)
      assertError(res, 404, 404, path)
      assert.equal(res.body.message, `Consumer Group ${missing} could not be found.`, path)
    }
  })

  await t.test('an unknown cluster is 404', async () => {
    const res = await request('GET', `${url}/v3/clusters/no-such-cluster/consumer-groups/${group}`)
    assertError(res, 404, 404)
    assert.equal(res.body.message, 'Cluster no-such-cluster cannot be found.')
  })
})
