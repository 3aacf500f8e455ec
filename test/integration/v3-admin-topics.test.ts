import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const JSON_TYPE = 'application/json'

function call (method: string, url: string, body?: unknown): Promise<HttpResult> {
  return request(method, url, {
    headers: body === undefined ? { accept: JSON_TYPE } : { accept: JSON_TYPE, 'content-type': JSON_TYPE },
    body
  })
}

async function clusterId (url: string): Promise<string> {
  const res = await call('GET', `${url}/v3/clusters`)
  assert.equal(res.status, 200, show(res))
  return res.body.data[0].cluster_id
}

test('v3 topics', async (t) => {
  const { url } = await startProxy(t)
  const cid = await clusterId(url)
  const C = `${url}/v3/clusters/${cid}`

  await t.test('GET topics lists user topics sorted by name with TopicData, without internal topics', async () => {
    const a = uniqueName('v3t-list-b')
    const b = uniqueName('v3t-list-a')
    await createTopic(a, 2)
    await createTopic(b, 1)
    const res = await call('GET', `${C}/topics`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.headers['content-type'], JSON_TYPE)
    assert.equal(res.body.kind, 'KafkaTopicList')
    assert.deepEqual(res.body.metadata, { self: `${C}/topics`, next: null })
    const names: string[] = res.body.data.map((d: { topic_name: string }) => d.topic_name)
    assert.deepEqual(names, [...names].sort())
    assert.ok(names.includes(a) && names.includes(b))
    assert.ok(!names.includes('__consumer_offsets'))
    const ta = res.body.data.find((d: { topic_name: string }) => d.topic_name === a)
    assert.equal(ta.partitions_count, 2)
    assert.equal(ta.replication_factor, 1)
  })

  await t.test('GET topics/{topic} answers TopicData with links and CRN', async () => {
    const name = uniqueName('v3t-get')
    await createTopic(name, 3)
    const res = await call('GET', `${C}/topics/${name}`)
    assert.equal(res.status, 200, show(res))
    assert.deepEqual(res.body, {
      kind: 'KafkaTopic',
      metadata: { self: `${C}/topics/${name}`, resource_name: `crn:///kafka=${cid}/topic=${name}` },
      cluster_id: cid,
      topic_name: name,
      is_internal: false,
      replication_factor: 1,
      partitions_count: 3,
      partitions: { related: `${C}/topics/${name}/partitions` },
      configs: { related: `${C}/topics/${name}/configs` },
      partition_reassignments: { related: `${C}/topics/${name}/partitions/-/reassignment` }
    })
  })

  await t.test('GET of an internal topic says is_internal: true', async () => {
    const res = await call('GET', `${C}/topics/__consumer_offsets`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.is_internal, true)
  })

  await t.test('GET of an unknown topic is 404/40403; of an unknown cluster 404/404', async () => {
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}`), 404, 40403)
    const res = await call('GET', `${url}/v3/clusters/no-such-cluster/topics`)
    assertError(res, 404, 404)
    assert.equal(res.body.message, 'Cluster no-such-cluster cannot be found.')
  })

  await t.test('POST topics creates a topic: 201, Location, TopicData, configs applied', async () => {
    const name = uniqueName('v3t-create')
    const res = await call('POST', `${C}/topics`, {
      topic_name: name,
      partitions_count: 3,
      replication_factor: 1,
      configs: [{ name: 'cleanup.policy', value: 'compact' }]
    })
    assert.equal(res.status, 201, show(res))
    assert.equal(res.headers.location, `${C}/topics/${name}`)
    assert.equal(res.body.kind, 'KafkaTopic')
    assert.equal(res.body.topic_name, name)
    assert.equal(res.body.partitions_count, 3)
    assert.equal(res.body.replication_factor, 1)
    const got = await call('GET', `${C}/topics/${name}`)
    assert.equal(got.status, 200, show(got))
    assert.equal(got.body.partitions_count, 3)
    const cfg = await call('GET', `${C}/topics/${name}/configs/cleanup.policy`)
    assert.equal(cfg.status, 200, show(cfg))
    assert.equal(cfg.body.value, 'compact')
  })

  await t.test('POST topics with broker defaults and with replicas_assignments', async () => {
    const plain = uniqueName('v3t-defaults')
    const res = await call('POST', `${C}/topics`, { topic_name: plain })
    assert.equal(res.status, 201, show(res))
    assert.ok(res.body.partitions_count >= 1, show(res))
    const got = await call('GET', `${C}/topics/${plain}`)
    assert.equal(got.status, 200, show(got))
    assert.equal(got.body.partitions_count, res.body.partitions_count)

    const assigned = uniqueName('v3t-assigned')
    const res2 = await call('POST', `${C}/topics`, { topic_name: assigned, replicas_assignments: { 0: [1], 1: [1] } })
    assert.equal(res2.status, 201, show(res2))
    assert.equal(res2.body.partitions_count, 2)
    const parts = await call('GET', `${C}/topics/${assigned}/partitions`)
    assert.equal(parts.status, 200, show(parts))
    assert.equal(parts.body.data.length, 2)
  })

  await t.test('POST topics with validate_only answers 200 and creates nothing', async () => {
    const name = uniqueName('v3t-validate')
    const res = await call('POST', `${C}/topics`, { topic_name: name, partitions_count: 2, replication_factor: 1, validate_only: true })
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.topic_name, name)
    assert.equal(res.body.partitions_count, 2)
    assert.equal(res.headers.location, undefined)
    assertError(await call('GET', `${C}/topics/${name}`), 404, 40403)
  })

  await t.test('POST topics refuses: duplicate and RF too large 400/40002; bad name, missing name, empty body 422/42206; bad types 400', async () => {
    const name = uniqueName('v3t-dup')
    await createTopic(name, 1)
    assertError(await call('POST', `${C}/topics`, { topic_name: name }), 400, 40002, 'duplicate')
    assertError(await call('POST', `${C}/topics`, { topic_name: uniqueName('v3t-rf'), partitions_count: 1, replication_factor: 5 }), 400, 40002, 'rf')
    assertError(await call('POST', `${C}/topics`, { topic_name: 'bad name!' }), 422, 42206, 'bad name')
    assertError(await call('POST', `${C}/topics`, { topic_name: 'x'.repeat(250) }), 422, 42206, 'long name')
    assertError(await call('POST', `${C}/topics`, { partitions_count: 1 }), 422, 42206, 'missing name')
    const empty = await request('POST', `${C}/topics`, { headers: { 'content-type': JSON_TYPE } })
    assertError(empty, 422, 42206, 'empty body')
    assert.equal(empty.body.message, 'Payload error. Null input provided. Data is required.')
    assertError(await call('POST', `${C}/topics`, { topic_name: uniqueName('v3t-type'), partitions_count: 'three' }), 400, 400, 'type')
    assertError(await call('POST', `${C}/topics`, '{not json'), 400, 400, 'malformed')
  })

  await t.test('PATCH topics/{topic} increases partitions_count; a decrease is 400/40002', async () => {
    const name = uniqueName('v3t-patch')
    await createTopic(name, 2)
    const res = await call('PATCH', `${C}/topics/${name}`, { partitions_count: 4 })
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaTopic')
    assert.equal(res.body.partitions_count, 4)
    const got = await call('GET', `${C}/topics/${name}`)
    assert.equal(got.body.partitions_count, 4, show(got))
    assertError(await call('PATCH', `${C}/topics/${name}`, { partitions_count: 1 }), 400, 40002, 'decrease')
    assertError(await call('PATCH', `${C}/topics/${name}`, { partitions_count: 4 }), 400, 40002, 'same count')
    assertError(await call('PATCH', `${C}/topics/${uniqueName('missing')}`, { partitions_count: 4 }), 404, 40403, 'unknown topic')
    assertError(await request('PATCH', `${C}/topics/${name}`, { headers: { 'content-type': JSON_TYPE } }), 422, 42206, 'empty body')
  })

  await t.test('DELETE topics/{topic} answers 204 and the topic is gone; unknown topic 404/40403', async () => {
    const name = uniqueName('v3t-delete')
    await createTopic(name, 1)
    const res = await call('DELETE', `${C}/topics/${name}`)
    assert.equal(res.status, 204, show(res))
    assert.equal(res.text, '')
    await eventually(async () => (await call('GET', `${C}/topics/${name}`)).status === 404 ? true : undefined, { what: 'topic gone' })
    assertError(await call('DELETE', `${C}/topics/${uniqueName('missing')}`), 404, 40403)
  })

  await t.test('Accept text/plain is 406', async () => {
    const res = await request('GET', `${C}/topics`, { headers: { accept: 'text/plain' } })
    assert.equal(res.status, 406, show(res))
  })
})
