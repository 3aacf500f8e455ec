// What v1 clients of Confluent's proxy see: binary produce under the v1
// generic content types (its v1 TopicsResource/PartitionsResource
// produceBinary), and the v1 commit answer, one entry per partition.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { b64, commit, committed, createConsumer, readUntil, request, show, V1, V2, BINARY_V1 } from '../helpers/consumers.js'

const GENERIC_V1 = ['application/vnd.kafka.v1+json', 'application/vnd.kafka+json', 'application/octet-stream']

test('v1 produce takes binary records under the v1 generic content types, to a topic and to a partition', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v1-generic')
  await createTopic(topic, 1)
  const expected: string[] = []
  for (const type of GENERIC_V1) {
    for (const path of [`/topics/${topic}`, `/topics/${topic}/partitions/0`]) {
      const value = `${type} ${path}`
      expected.push(value)
      const res = await request('POST', url + path, { headers: { 'content-type': type }, body: { records: [{ value: b64(value) }] } })
      assert.equal(res.status, 200, `${type} ${path}: ${show(res)}`)
      assert.equal(res.headers['content-type'], V1, `${type}: a v1 client gets v1 back`)
      assert.equal(res.body.offsets[0].error_code, null, show(res))
    }
  }
  const stored = await readAll(topic, 1, expected.length)
  assert.deepEqual(stored.map((r) => r.value?.toString()), expected)

  // Not base64: refused as bad input, nothing written.
  const bad = await request('POST', `${url}/topics/${topic}`, { headers: { 'content-type': 'application/octet-stream' }, body: { records: [{ value: { not: 'base64' } }] } })
  assert.ok(bad.status >= 400 && bad.status < 500, show(bad))
  assert.equal(bad.body.persisted, 'no', show(bad))
})

test('plain application/json and application/vnd.kafka.v2+json stay 415 on produce: they do not say whether values are base64 or JSON', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v1-ambiguous')
  await createTopic(topic, 1)
  for (const type of ['application/json', 'application/vnd.kafka.v2+json']) {
    const res = await request('POST', `${url}/topics/${topic}`, { headers: { 'content-type': type }, body: { records: [{ value: b64('x') }] } })
    assert.equal(res.status, 415, `${type}: ${show(res)}`)
    assert.equal(res.body.error_code, 415)
  }
})

test('a v1 commit answers one {topic, partition, consumed, committed} entry per partition; v2 keeps []', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v1-commit')
  await createTopic(topic, 2)
  for (const partition of [0, 1]) {
    const res = await request('POST', `${url}/topics/${topic}/partitions/${partition}`, {
      headers: { 'content-type': BINARY_V1 },
      body: { records: Array.from({ length: partition + 2 }, (_, i) => ({ value: b64(`p${partition}-${i}`) })) }
    })
    assert.equal(res.status, 200, show(res))
  }
  const c = await createConsumer(url, uniqueName('v1-commit-g'), { format: 'binary', 'auto.offset.reset': 'smallest', 'auto.commit.enable': 'false' }, V1)
  await readUntil(c, 5, { topic, accept: BINARY_V1, timeout: 1000 })

  // As a v1 client sends it: no body, a v1 Accept.
  const res = await request('POST', `${c.path}/offsets`, { headers: { accept: V1 } })
  assert.equal(res.status, 200, show(res))
  assert.equal(res.headers['content-type'], V1)
  const entries = (res.body as Array<Record<string, unknown>>).sort((a, b) => (a.partition as number) - (b.partition as number))
  assert.deepEqual(entries, [
    { topic, partition: 0, consumed: 1, committed: 1 },
    { topic, partition: 1, consumed: 2, committed: 2 }
  ])
  const stored = await committed(c, [{ topic, partition: 0 }, { topic, partition: 1 }])
  assert.deepEqual(stored.body.offsets.map((o: any) => [o.partition, o.offset]).sort(), [[0, 2], [1, 3]])

  const v2 = await commit(c, [{ topic, partition: 0, offset: 1 }], V2)
  assert.equal(v2.status, 200, show(v2))
  assert.deepEqual(v2.body, [])
  const del = await request('DELETE', c.path, { headers: { 'content-type': V2 } })
  assert.equal(del.status, 204, show(del))
})
