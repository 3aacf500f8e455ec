import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { BINARY, post, startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const JSON_TYPE = 'application/json'

function call (method: string, url: string): Promise<HttpResult> {
  return request(method, url, { headers: { accept: JSON_TYPE } })
}

test('v3 partitions, offsets, replicas and reassignments', async (t) => {
  const { url } = await startProxy(t)
  const cid = (await call('GET', `${url}/v3/clusters`)).body.data[0].cluster_id as string
  const C = `${url}/v3/clusters/${cid}`
  const topic = uniqueName('v3p')
  await createTopic(topic, 2)
  const T = `${C}/topics/${topic}`

  await t.test('GET partitions lists PartitionData with leader, replicas and reassignment links', async () => {
    const res = await call('GET', `${T}/partitions`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaPartitionList')
    assert.deepEqual(res.body.metadata, { self: `${T}/partitions`, next: null })
    assert.deepEqual(res.body.data.map((p: { partition_id: number }) => p.partition_id), [0, 1])
    assert.deepEqual(res.body.data[1], {
      kind: 'KafkaPartition',
      metadata: { self: `${T}/partitions/1`, resource_name: `crn:///kafka=${cid}/topic=${topic}/partition=1` },
      cluster_id: cid,
      topic_name: topic,
      partition_id: 1,
      leader: { related: `${T}/partitions/1/replicas/1` },
      replicas: { related: `${T}/partitions/1/replicas` },
      reassignment: { related: `${T}/partitions/1/reassignment` }
    })
  })

  await t.test('GET partitions/{partition} answers one partition; unknown partition 404/40402; unknown topic 404/40403', async () => {
    const res = await call('GET', `${T}/partitions/0`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.partition_id, 0)
    assertError(await call('GET', `${T}/partitions/7`), 404, 40402)
    assertError(await call('GET', `${T}/partitions/-1`), 404, 40402)
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}/partitions`), 404, 40403)
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}/partitions/0`), 404, 40403)
  })

  await t.test('GET partitions/{partition}/offset answers earliest and latest offsets; offset_type is case-insensitive', async () => {
    const produced = await post(`${url}/topics/${topic}`, BINARY, {
      records: [{ value: 'YQ==', partition: 1 }, { value: 'Yg==', partition: 1 }, { value: 'Yw==', partition: 1 }]
    })
    assert.equal(produced.status, 200, JSON.stringify(produced.body))
    const res = await call('GET', `${T}/partitions/1/offset`)
    assert.equal(res.status, 200, show(res))
    assert.deepEqual(res.body, {
      kind: 'KafkaPartitionWithOffsets',
      metadata: {
        self: `${T}/partitions/1/offset`,
        resource_name: `crn:///kafka=${cid}/topic=${topic}/partition=1/offset_type=earliest_and_latest`
      },
      cluster_id: cid,
      topic_name: topic,
      partition_id: 1,
      earliest_offset: 0,
      latest_offset: 3
    })
    const upper = await call('GET', `${T}/partitions/1/offset?offset_type=EARLIEST_AND_LATEST`)
    assert.equal(upper.status, 200, show(upper))
    assert.equal(upper.body.latest_offset, 3)
    const lower = await call('GET', `${T}/partitions/0/offset?offset_type=earliest_and_latest`)
    assert.equal(lower.status, 200, show(lower))
    assert.equal(lower.body.latest_offset, 0)
    assertError(await call('GET', `${T}/partitions/1/offset?offset_type=latest`), 400, 400, 'bad offset_type')
    assertError(await call('GET', `${T}/partitions/9/offset`), 404, 40402, 'unknown partition')
  })

  await t.test('GET replicas lists ReplicaData; replicas/{broker_id} answers one; unknown replica 404', async () => {
    const res = await call('GET', `${T}/partitions/0/replicas`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaReplicaList')
    assert.deepEqual(res.body.data, [{
      kind: 'KafkaReplica',
      metadata: { self: `${T}/partitions/0/replicas/1`, resource_name: `crn:///kafka=${cid}/topic=${topic}/partition=0/replica=1` },
      cluster_id: cid,
      topic_name: topic,
      partition_id: 0,
      broker_id: 1,
      is_leader: true,
      is_in_sync: true,
      broker: { related: `${C}/brokers/1` }
    }])
    const one = await call('GET', `${T}/partitions/0/replicas/1`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, res.body.data[0])
    assertError(await call('GET', `${T}/partitions/0/replicas/42`), 404, 404)
    assertError(await call('GET', `${T}/partitions/5/replicas`), 404, 40402)
  })

  await t.test('reassignment listings are empty lists; a partition without one is 404', async () => {
    const all = await call('GET', `${C}/topics/-/partitions/-/reassignment`)
    assert.equal(all.status, 200, show(all))
    assert.equal(all.body.kind, 'KafkaReassignmentList')
    assert.equal(all.body.metadata.self, `${C}/topics/-/partitions/-/reassignment`)
    assert.ok(Array.isArray(all.body.data))
    assert.ok(!all.body.data.some((r: { topic_name: string }) => r.topic_name === topic))
    const ofTopic = await call('GET', `${T}/partitions/-/reassignment`)
    assert.equal(ofTopic.status, 200, show(ofTopic))
    assert.equal(ofTopic.body.kind, 'KafkaReassignmentList')
    assert.deepEqual(ofTopic.body.data, [])
    assertError(await call('GET', `${T}/partitions/0/reassignment`), 404, 404, 'not reassigning')
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}/partitions/-/reassignment`), 404, 40403, 'unknown topic')
    assertError(await call('GET', `${url}/v3/clusters/nope/topics/-/partitions/-/reassignment`), 404, 404, 'unknown cluster')
  })
})
