import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const JSON_TYPE = 'application/json'

function call (method: string, url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return request(method, url, { headers: { accept: JSON_TYPE, ...headers } })
}

test('v3 clusters and brokers', async (t) => {
  const { url } = await startProxy(t)

  let cid = ''
  await t.test('GET /v3/clusters lists the one cluster with its relationships', async () => {
    const res = await call('GET', `${url}/v3/clusters`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.headers['content-type'], JSON_TYPE)
    assert.equal(res.body.kind, 'KafkaClusterList')
    assert.deepEqual(res.body.metadata, { self: `${url}/v3/clusters`, next: null })
    assert.equal(res.body.data.length, 1)
    cid = res.body.data[0].cluster_id
    assert.equal(typeof cid, 'string')
    assert.ok(cid.length > 0)
  })

  await t.test('GET /v3/clusters/{cluster_id} answers ClusterData', async () => {
    const C = `${url}/v3/clusters/${cid}`
    const res = await call('GET', C)
    assert.equal(res.status, 200, show(res))
    const { controller, ...rest } = res.body
    assert.deepEqual(rest, {
      kind: 'KafkaCluster',
      metadata: { self: C, resource_name: `crn:///kafka=${cid}` },
      cluster_id: cid,
      acls: { related: `${C}/acls` },
      brokers: { related: `${C}/brokers` },
      broker_configs: { related: `${C}/broker-configs` },
      consumer_groups: { related: `${C}/consumer-groups` },
      topics: { related: `${C}/topics` },
      partition_reassignments: { related: `${C}/topics/-/partitions/-/reassignment` }
    })
    assert.deepEqual(controller, { related: `${C}/brokers/1` })
  })

  await t.test('an unknown cluster id is 404 "Cluster <id> cannot be found."', async () => {
    for (const path of ['', '/brokers', '/brokers/1', '/broker-configs', '/topics']) {
      const res = await call('GET', `${url}/v3/clusters/other-cluster${path}`)
      assertError(res, 404, 404, path)
      assert.equal(res.body.message, 'Cluster other-cluster cannot be found.')
    }
  })

  await t.test('GET brokers lists BrokerData; brokers/{broker_id} answers one', async () => {
    const C = `${url}/v3/clusters/${cid}`
    const res = await call('GET', `${C}/brokers`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaBrokerList')
    assert.deepEqual(res.body.metadata, { self: `${C}/brokers`, next: null })
    assert.equal(res.body.data.length, 1)
    const b = res.body.data[0]
    assert.equal(b.kind, 'KafkaBroker')
    assert.deepEqual(b.metadata, { self: `${C}/brokers/1`, resource_name: `crn:///kafka=${cid}/broker=1` })
    assert.equal(b.cluster_id, cid)
    assert.equal(b.broker_id, 1)
    assert.equal(typeof b.host, 'string')
    assert.equal(typeof b.port, 'number')
    assert.equal(b.rack, null)
    assert.deepEqual(b.configs, { related: `${C}/brokers/1/configs` })
    assert.deepEqual(b.partition_replicas, { related: `${C}/brokers/1/partition-replicas` })
    const one = await call('GET', `${C}/brokers/1`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, b)
  })

  await t.test('an unknown broker is 404', async () => {
    const C = `${url}/v3/clusters/${cid}`
    assertError(await call('GET', `${C}/brokers/99`), 404, 404)
    assertError(await call('GET', `${C}/brokers/abc`), 404, 404)
    assertError(await call('GET', `${C}/brokers/99/partition-replicas`), 404, 404)
    assertError(await call('GET', `${C}/brokers/99/configs`), 404, 404)
  })

  await t.test('GET brokers/{broker_id}/partition-replicas lists the replicas the broker hosts', async () => {
    const C = `${url}/v3/clusters/${cid}`
    const topic = uniqueName('v3c-replicas')
    await createTopic(topic, 2)
    const res = await call('GET', `${C}/brokers/1/partition-replicas`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaReplicaList')
    assert.equal(res.body.metadata.self, `${C}/brokers/1/partition-replicas`)
    const mine = res.body.data.filter((r: { topic_name: string }) => r.topic_name === topic)
    assert.deepEqual(mine.map((r: { partition_id: number }) => r.partition_id), [0, 1])
    assert.equal(mine[0].kind, 'KafkaReplica')
    assert.equal(mine[0].broker_id, 1)
    assert.equal(mine[0].is_leader, true)
  })

  await t.test('Accept text/plain is 406 without a body', async () => {
    const res = await call('GET', `${url}/v3/clusters`, { accept: 'text/plain' })
    assert.equal(res.status, 406, show(res))
  })
})
