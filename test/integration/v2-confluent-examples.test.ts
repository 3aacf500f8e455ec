// Confluent's own examples, replayed byte for byte: the same headers and
// bodies, with only the host and the topic/group names changed, asserting
// what the documentation shows (status, content type, and the body where it is
// deterministic). curl adds `Accept: */*` when a command sets no Accept, so the
// curl replays send it too.
//
// Sources:
// - REST Proxy quick start, "Produce and Consume Binary/JSON Messages" and
//   "Inspect Topic Metadata": https://docs.confluent.io/platform/current/kafka-rest/quickstart.html
//   (source text: docs/quickstart.rst in confluentinc/kafka-rest)
// - REST Proxy API reference, API v2 request/response examples:
//   https://docs.confluent.io/platform/current/kafka-rest/api.html
//   (source text: docs/api.rst in confluentinc/kafka-rest)
// - "A Comprehensive REST Proxy for Kafka" (Confluent blog, CP 1.0), its
//   produce/create/read/delete example in the binary variant:
//   /work/shared/seeds/001_2c777184cb70dfa0.txt
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { request, show, unb64, type ConsumedRecord } from '../helpers/consumers.js'

const CURL = { accept: '*/*' }
// The Accept header of most API reference examples.
const LEGACY_ACCEPT = 'application/vnd.kafka.v2+json, application/vnd.kafka+json, application/json'

/** The documented record fields only; this proxy adds `timestamp` and `headers`. */
function confluentFields (r: ConsumedRecord): Pick<ConsumedRecord, 'topic' | 'key' | 'value' | 'partition' | 'offset'> {
  return { topic: r.topic, key: r.key, value: r.value, partition: r.partition, offset: r.offset }
}

for (const variant of ['binary', 'json'] as const) {
  test(`quick start: produce and consume ${variant} messages`, async (t) => {
    // A records read with the default settings waits this long for data; the
    // quick start's single GET shows the record, so give the first read time
    // to join the group (an operator setting, not part of the request).
    const { url, server } = await startProxy(t, { consumer: { request_timeout_ms: 5000 } })
    const topic = uniqueName(`${variant}test`)
    const group = uniqueName(`my_${variant}_consumer`)
    await createTopic(topic, 1)

    const produce = variant === 'binary'
      ? await request('POST', `${url}/topics/${topic}`, {
        headers: { ...CURL, 'content-type': 'application/vnd.kafka.binary.v2+json', accept: 'application/vnd.kafka.v2+json' },
        body: '{"records":[{"value":"S2Fma2E="}]}'
      })
      : await request('POST', `${url}/topics/${topic}`, {
        headers: { ...CURL, 'content-type': 'application/vnd.kafka.json.v2+json', accept: 'application/vnd.kafka.v2+json' },
        body: '{"records":[{"value":{"foo":"bar"}}]}'
      })
    assert.equal(produce.status, 200, show(produce))
    assert.equal(produce.headers['content-type'], 'application/vnd.kafka.v2+json')
    assert.deepEqual(produce.body, { offsets: [{ partition: 0, offset: 0, error_code: null, error: null }], key_schema_id: null, value_schema_id: null })

    const create = await request('POST', `${url}/consumers/${group}`, {
      headers: { ...CURL, 'content-type': 'application/vnd.kafka.v2+json' },
      body: `{"name": "my_consumer_instance", "format": "${variant}", "auto.offset.reset": "earliest"}`
    })
    assert.equal(create.status, 200, show(create))
    assert.equal(create.headers['content-type'], 'application/vnd.kafka.v2+json')
    assert.deepEqual(create.body, {
      instance_id: 'my_consumer_instance',
      base_uri: `http://127.0.0.1:${server.port}/consumers/${group}/instances/my_consumer_instance`
    })

    const subscription = await request('POST', `${url}/consumers/${group}/instances/my_consumer_instance/subscription`, {
      headers: { ...CURL, 'content-type': 'application/vnd.kafka.v2+json' },
      body: `{"topics":["${topic}"]}`
    })
    assert.equal(subscription.status, 204, show(subscription))
    assert.equal(subscription.text, '')

    const accept = `application/vnd.kafka.${variant}.v2+json`
    const records = await request('GET', `${url}/consumers/${group}/instances/my_consumer_instance/records`, { headers: { accept } })
    assert.equal(records.status, 200, show(records))
    assert.equal(records.headers['content-type'], accept)
    assert.deepEqual((records.body as ConsumedRecord[]).map(confluentFields), [
      { key: null, value: variant === 'binary' ? 'S2Fma2E=' : { foo: 'bar' }, partition: 0, offset: 0, topic }
    ])

    const del = await request('DELETE', `${url}/consumers/${group}/instances/my_consumer_instance`, {
      headers: { ...CURL, 'content-type': 'application/vnd.kafka.v2+json' }
    })
    assert.equal(del.status, 204, show(del))
    assert.equal(del.text, '')
  })
}

test('quick start: inspect topic metadata', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('avrotest')
  await createTopic(topic, 1)
  const brokers = await request('GET', `${url}/brokers`, { headers: CURL })
  assert.equal(brokers.status, 200, show(brokers))
  const broker = brokers.body.brokers[0] as number

  const list = await request('GET', `${url}/topics`, { headers: CURL })
  assert.equal(list.status, 200, show(list))
  assert.ok(Array.isArray(list.body) && list.body.includes(topic), show(list))

  const one = await request('GET', `${url}/topics/${topic}`, { headers: CURL })
  assert.equal(one.status, 200, show(one))
  assert.equal(one.body.name, topic)
  assert.equal(typeof one.body.configs, 'object')
  assert.deepEqual(one.body.partitions, [{ partition: 0, leader: broker, replicas: [{ broker, leader: true, in_sync: true }] }])

  const partitions = await request('GET', `${url}/topics/${topic}/partitions`, { headers: CURL })
  assert.equal(partitions.status, 200, show(partitions))
  assert.deepEqual(partitions.body, [{ partition: 0, leader: broker, replicas: [{ broker, leader: true, in_sync: true }] }])
})

test('API reference v2: topics, partitions and brokers examples', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('test')
  await createTopic(topic, 3)
  const host = 'kafkaproxy.example.com'

  const topics = await request('GET', `${url}/topics`, { headers: { host, accept: 'application/vnd.kafka.v2+json' } })
  assert.equal(topics.status, 200, show(topics))
  assert.equal(topics.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.ok(topics.body.includes(topic))

  const one = await request('GET', `${url}/topics/${topic}`, { headers: { accept: 'application/vnd.kafka.v2+json' } })
  assert.equal(one.status, 200, show(one))
  assert.equal(one.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.equal(one.body.name, topic)
  assert.equal(typeof one.body.configs, 'object')
  assert.deepEqual(one.body.partitions.map((p: { partition: number }) => p.partition), [0, 1, 2])

  const binary = await request('POST', `${url}/topics/${topic}`, {
    headers: { host, 'content-type': 'application/vnd.kafka.binary.v2+json', accept: LEGACY_ACCEPT },
    body: `{
        "records": [
          {
            "key": "a2V5",
            "value": "Y29uZmx1ZW50"
          },
          {
            "value": "a2Fma2E=",
            "partition": 1
          },
          {
            "value": "bG9ncw=="
          }
        ]
      }`
  })
  assert.equal(binary.status, 200, show(binary))
  assert.equal(binary.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.equal(binary.body.key_schema_id, null)
  assert.equal(binary.body.value_schema_id, null)
  assert.equal(binary.body.offsets.length, 3)
  assert.equal(binary.body.offsets[1].partition, 1)
  for (const o of binary.body.offsets) assert.ok(Number.isInteger(o.partition) && Number.isInteger(o.offset), show(binary))

  const json = await request('POST', `${url}/topics/${topic}`, {
    headers: { host, 'content-type': 'application/vnd.kafka.json.v2+json', accept: LEGACY_ACCEPT },
    body: `{
        "records": [
          {
            "key": "somekey",
            "value": {"foo": "bar"}
          },
          {
            "value": [ "foo", "bar" ],
            "partition": 1
          },
          {
            "value": 53.5
          }
        ]
      }`
  })
  assert.equal(json.status, 200, show(json))
  assert.equal(json.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual([json.body.key_schema_id, json.body.value_schema_id], [null, null])
  assert.equal(json.body.offsets.length, 3)
  assert.equal(json.body.offsets[1].partition, 1)

  const partitions = await request('GET', `${url}/topics/${topic}/partitions`, { headers: { host, accept: LEGACY_ACCEPT } })
  assert.equal(partitions.status, 200, show(partitions))
  assert.equal(partitions.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual(partitions.body.map((p: { partition: number }) => p.partition), [0, 1, 2])

  const partition = await request('GET', `${url}/topics/${topic}/partitions/1`, { headers: { host, accept: LEGACY_ACCEPT } })
  assert.equal(partition.status, 200, show(partition))
  assert.equal(partition.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.equal(partition.body.partition, 1)
  assert.ok(Array.isArray(partition.body.replicas) && partition.body.replicas.length > 0)

  const toPartition = await request('POST', `${url}/topics/${topic}/partitions/1`, {
    headers: { host, 'content-type': 'application/vnd.kafka.binary.v2+json', accept: LEGACY_ACCEPT },
    body: `{
        "records": [
          {
            "key": "a2V5",
            "value": "Y29uZmx1ZW50"
          },
          {
            "value": "a2Fma2E="
          }
        ]
      }`
  })
  assert.equal(toPartition.status, 200, show(toPartition))
  assert.equal(toPartition.headers['content-type'], 'application/vnd.kafka.v2+json')
  const [p0, p1] = toPartition.body.offsets
  assert.deepEqual([p0.partition, p1.partition], [1, 1])
  assert.equal(p1.offset, p0.offset + 1)

  const jsonToPartition = await request('POST', `${url}/topics/${topic}/partitions/1`, {
    headers: { host, 'content-type': 'application/vnd.kafka.json.v2+json', accept: LEGACY_ACCEPT },
    body: `{
        "records": [
          {
            "key": "somekey",
            "value": {"foo": "bar"}
          },
          {
            "value": 53.5
          }
        ]
      }`
  })
  assert.equal(jsonToPartition.status, 200, show(jsonToPartition))
  assert.deepEqual(jsonToPartition.body.offsets.map((o: { partition: number }) => o.partition), [1, 1])

  const brokers = await request('GET', `${url}/brokers`, { headers: { host, accept: LEGACY_ACCEPT } })
  assert.equal(brokers.status, 200, show(brokers))
  assert.equal(brokers.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.ok(Array.isArray(brokers.body.brokers) && brokers.body.brokers.length > 0 && brokers.body.brokers.every(Number.isInteger))
})

test('API reference v2: consumer examples, from create to delete', async (t) => {
  // The reference's responses name the proxy instance the consumer lives on.
  const { url } = await startProxy(t, {
    server: { advertised_url: 'http://proxy-instance.kafkaproxy.example.com' },
    consumer: { request_timeout_ms: 5000 }
  })
  const base = uniqueName('test')
  const test1 = `${base}1`
  const test2 = `${base}2`
  const topic = base
  await createTopic(topic, 2)
  await createTopic(test1, 1)
  await createTopic(test2, 1)
  const group = uniqueName('testgroup')
  const instance = `${url}/consumers/${group}/instances/my_consumer`
  const host = 'proxy-instance.kafkaproxy.example.com'

  // Data for the records example, written with the produce examples' bodies.
  const produced = new Map<string, { key: string | null, value: string }>()
  for (const [path, records] of [
    [`/topics/${topic}`, [{ key: 'a2V5', value: 'Y29uZmx1ZW50' }, { value: 'a2Fma2E=', partition: 1 }, { value: 'bG9ncw==' }]],
    [`/topics/${topic}/partitions/1`, [{ key: 'a2V5', value: 'Y29uZmx1ZW50' }, { value: 'a2Fma2E=' }]]
  ] as const) {
    const res = await request('POST', `${url}${path}`, { headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' }, body: { records } })
    assert.equal(res.status, 200, show(res))
    res.body.offsets.forEach((o: { partition: number, offset: number }, i: number) => {
      const r = records[i] as { key?: string, value: string }
      produced.set(`${o.partition}@${o.offset}`, { key: r.key ?? null, value: r.value })
    })
  }

  const create = await request('POST', `${url}/consumers/${group}/`, {
    headers: { host: 'kafkaproxy.example.com', 'content-type': 'application/vnd.kafka.v2+json' },
    body: `{
        "name": "my_consumer",
        "format": "binary",
        "auto.offset.reset": "earliest",
        "auto.commit.enable": "false"
      }`
  })
  assert.equal(create.status, 200, show(create))
  assert.equal(create.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual(create.body, {
    instance_id: 'my_consumer',
    base_uri: `http://proxy-instance.kafkaproxy.example.com/consumers/${group}/instances/my_consumer`
  })

  const subscribe = await request('POST', `${instance}/subscription`, {
    headers: { host, 'content-type': 'application/vnd.kafka.v2+json' },
    body: `{
        "topics": [
          "${test1}",
\t  "${test2}"
        ]
      }`
  })
  assert.equal(subscribe.status, 204, show(subscribe))

  const subscription = await request('GET', `${instance}/subscription`, { headers: { host, accept: 'application/vnd.kafka.v2+json' } })
  assert.equal(subscription.status, 200, show(subscription))
  assert.equal(subscription.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual(Object.keys(subscription.body), ['topics'])
  assert.deepEqual([...subscription.body.topics].sort(), [test1, test2])

  const pattern = await request('POST', `${instance}/subscription`, {
    headers: { host, 'content-type': 'application/vnd.kafka.v2+json' },
    body: `{
        "topic_pattern": "${base}.*"
      }`
  })
  assert.equal(pattern.status, 204, show(pattern))

  const unsubscribe = await request('DELETE', `${instance}/subscription`, { headers: { host, accept: LEGACY_ACCEPT } })
  assert.equal(unsubscribe.status, 204, show(unsubscribe))

  const partitionsBody = `{
        "partitions": [
          {
            "topic": "${topic}",
            "partition": 0
          },
          {
            "topic": "${topic}",
            "partition": 1
          }

        ]
      }`
  const assignments = await request('POST', `${instance}/assignments`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: partitionsBody })
  assert.equal(assignments.status, 204, show(assignments))

  const assigned = await request('GET', `${instance}/assignments`, { headers: { host, accept: 'application/vnd.kafka.v2+json' } })
  assert.equal(assigned.status, 200, show(assigned))
  assert.equal(assigned.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual(assigned.body, { partitions: [{ topic, partition: 0 }, { topic, partition: 1 }] })

  const offsetsBody = `{
        "offsets": [
          {
            "topic": "${topic}",
            "partition": 0,
\t    "offset": 20
          },
          {
            "topic": "${topic}",
            "partition": 1,
\t    "offset": 30
          }
        ]
      }`
  // Right after the unsubscribe above, the coordinator may still hold the
  // instance's group membership (a join still in flight on a loaded machine)
  // and refuse a commit from outside the group until that settles. The proxy
  // then answers a retriable 50003, and a client retries, as this one does.
  const commitDeadline = Date.now() + 60_000
  let commit = await request('POST', `${instance}/offsets`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: offsetsBody })
  while (commit.status === 500 && commit.body?.error_code === 50003 && commit.body?.retriable === true && Date.now() < commitDeadline) {
    commit = await request('POST', `${instance}/offsets`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: offsetsBody })
  }
  assert.equal(commit.status, 200, show(commit))

  // The reference sends this GET's body without a Content-Type.
  const committed = await request('GET', `${instance}/offsets`, { headers: { host, accept: LEGACY_ACCEPT }, body: partitionsBody })
  assert.equal(committed.status, 200, show(committed))
  assert.equal(committed.headers['content-type'], 'application/vnd.kafka.v2+json')
  assert.deepEqual(committed.body, {
    offsets: [
      { topic, partition: 0, offset: 21, metadata: '' },
      { topic, partition: 1, offset: 31, metadata: '' }
    ]
  })

  const positions = await request('POST', `${instance}/positions`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: offsetsBody })
  assert.equal(positions.status, 204, show(positions))
  const end = await request('POST', `${instance}/positions/end`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: partitionsBody })
  assert.equal(end.status, 204, show(end))
  const beginning = await request('POST', `${instance}/positions/beginning`, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' }, body: partitionsBody })
  assert.equal(beginning.status, 204, show(beginning))

  const records = await request('GET', `${instance}/records?timeout=3000&max_bytes=300000`, { headers: { host, accept: 'application/vnd.kafka.binary.v2+json' } })
  assert.equal(records.status, 200, show(records))
  assert.equal(records.headers['content-type'], 'application/vnd.kafka.binary.v2+json')
  const got = (records.body as ConsumedRecord[]).map(confluentFields)
  assert.deepEqual(
    got.map((r) => `${r.partition}@${r.offset}`).sort(),
    [...produced.keys()].sort(),
    'one read returns every record of the two assigned partitions'
  )
  for (const r of got) {
    assert.equal(r.topic, topic)
    assert.deepEqual({ key: r.key, value: r.value }, produced.get(`${r.partition}@${r.offset}`))
  }

  const del = await request('DELETE', instance, { headers: { host, 'content-type': 'application/vnd.kafka.v2+json' } })
  assert.equal(del.status, 204, show(del))
})

test('seed 001 (binary variant): v1 produce, create with smallest, read through …/topics/{topic}, delete', async (t) => {
  const { url, server } = await startProxy(t, { consumer: { request_timeout_ms: 5000 } })
  const topic = uniqueName('binarytest')
  const group = uniqueName('my_binary_consumer')
  await createTopic(topic, 1)

  const produce = await request('POST', `${url}/topics/${topic}`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.binary.v1+json' },
    body: `{
   "records": [
     {"value": "dGVzdFVzZXI="},
     {"value": "dGVzdFVzZXIy"}
   ]
}`
  })
  assert.equal(produce.status, 200, show(produce))
  assert.equal(produce.headers['content-type'], 'application/vnd.kafka.v1+json')
  assert.deepEqual(produce.body, {
    key_schema_id: null,
    value_schema_id: null,
    offsets: [
      { partition: 0, offset: 0, error_code: null, error: null },
      { partition: 0, offset: 1, error_code: null, error: null }
    ]
  })

  const create = await request('POST', `${url}/consumers/${group}`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.v1+json' },
    body: '{"format": "binary", "auto.offset.reset": "smallest"}'
  })
  assert.equal(create.status, 200, show(create))
  assert.equal(create.headers['content-type'], 'application/vnd.kafka.v1+json')
  const instanceId = create.body.instance_id as string
  assert.match(instanceId, /^rest-consumer-/)
  assert.deepEqual(create.body, { instance_id: instanceId, base_uri: `http://127.0.0.1:${server.port}/consumers/${group}/instances/${instanceId}` })

  // "just GET a topic resource under that consumer to start receiving messages"
  const records = await request('GET', `${create.body.base_uri}/topics/${topic}`, { headers: { accept: 'application/vnd.kafka.binary.v1+json' } })
  assert.equal(records.status, 200, show(records))
  assert.equal(records.headers['content-type'], 'application/vnd.kafka.binary.v1+json')
  assert.deepEqual((records.body as ConsumedRecord[]).map(({ key, value, partition, offset }) => ({ key, value, partition, offset })), [
    { key: null, value: 'dGVzdFVzZXI=', partition: 0, offset: 0 },
    { key: null, value: 'dGVzdFVzZXIy', partition: 0, offset: 1 }
  ])
  assert.deepEqual(records.body.map((r: ConsumedRecord) => unb64(r.value)), ['testUser', 'testUser2'])

  const del = await request('DELETE', create.body.base_uri, { headers: CURL })
  assert.equal(del.status, 204, show(del))
  assert.equal(del.text, '')
})
