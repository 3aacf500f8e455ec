import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const JSON_TYPE = 'application/json'
// A broker setting every broker may change at runtime (a LogCleaner
// reconfigurable) that no other test depends on.
const BROKER_KEY = 'log.cleaner.backoff.ms'

function call (method: string, url: string, body?: unknown): Promise<HttpResult> {
  return request(method, url, {
    headers: body === undefined ? { accept: JSON_TYPE } : { accept: JSON_TYPE, 'content-type': JSON_TYPE },
    body
  })
}

/** Polls a GET until `check` accepts its answer. */
async function until (url: string, check: (res: HttpResult) => boolean, what: string): Promise<HttpResult> {
  let last: HttpResult | undefined
  try {
    return await eventually(async () => {
      last = await call('GET', url)
      return check(last) ? last : undefined
    }, { what })
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer: ${last === undefined ? 'none' : show(last)}`)
  }
}

test('v3 configs', async (t) => {
  const { url } = await startProxy(t)
  const cid = (await call('GET', `${url}/v3/clusters`)).body.data[0].cluster_id as string
  const C = `${url}/v3/clusters/${cid}`

  await t.test('GET topics/{topic}/configs lists TopicConfigData sorted by name', async () => {
    const topic = uniqueName('v3cfg-list')
    await createTopic(topic, 1)
    const res = await call('GET', `${C}/topics/${topic}/configs`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaTopicConfigList')
    assert.deepEqual(res.body.metadata, { self: `${C}/topics/${topic}/configs`, next: null })
    const names: string[] = res.body.data.map((c: { name: string }) => c.name)
    assert.deepEqual(names, [...names].sort())
    const policy = res.body.data.find((c: { name: string }) => c.name === 'cleanup.policy')
    assert.deepEqual(policy, {
      kind: 'KafkaTopicConfig',
      metadata: {
        self: `${C}/topics/${topic}/configs/cleanup.policy`,
        resource_name: `crn:///kafka=${cid}/topic=${topic}/config=cleanup.policy`
      },
      cluster_id: cid,
      topic_name: topic,
      name: 'cleanup.policy',
      value: 'delete',
      is_default: policy.is_default,
      is_read_only: false,
      is_sensitive: false,
      source: policy.source,
      synonyms: policy.synonyms
    })
    assert.notEqual(policy.source, 'DYNAMIC_TOPIC_CONFIG')
    assert.ok(Array.isArray(policy.synonyms))
  })

  await t.test('GET of one topic config; unknown config 404/404; unknown topic 404/40403', async () => {
    const topic = uniqueName('v3cfg-get')
    await createTopic(topic, 1)
    const res = await call('GET', `${C}/topics/${topic}/configs/retention.ms`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaTopicConfig')
    assert.equal(res.body.name, 'retention.ms')
    assert.equal(res.body.topic_name, topic)
    assertError(await call('GET', `${C}/topics/${topic}/configs/no.such.config`), 404, 404)
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}/configs`), 404, 40403)
    assertError(await call('GET', `${C}/topics/${uniqueName('missing')}/configs/retention.ms`), 404, 40403)
  })

  await t.test('PUT a topic config shows DYNAMIC_TOPIC_CONFIG; DELETE resets it to the default', async () => {
    const topic = uniqueName('v3cfg-put')
    await createTopic(topic, 1)
    const path = `${C}/topics/${topic}/configs/retention.ms`
    const before = await call('GET', path)
    assert.equal(before.status, 200, show(before))
    const put = await call('PUT', path, { value: '123456' })
    assert.equal(put.status, 204, show(put))
    assert.equal(put.text, '')
    const after = await until(path, (r) => r.body?.value === '123456', 'retention.ms set')
    assert.equal(after.body.source, 'DYNAMIC_TOPIC_CONFIG')
    assert.equal(after.body.is_default, false)
    assert.equal(after.body.synonyms[0].source, 'DYNAMIC_TOPIC_CONFIG')
    const del = await call('DELETE', path)
    assert.equal(del.status, 204, show(del))
    const reset = await until(path, (r) => r.body?.source !== 'DYNAMIC_TOPIC_CONFIG' && r.body?.value === before.body.value, 'retention.ms reset')
    assert.equal(reset.body.value, before.body.value)
    assert.equal(reset.body.source, before.body.source)
  })

  await t.test('PUT and DELETE of topic configs refuse: unknown name 404, bad value 400/40002, empty body 422/42206', async () => {
    const topic = uniqueName('v3cfg-putbad')
    await createTopic(topic, 1)
    assertError(await call('PUT', `${C}/topics/${topic}/configs/no.such.config`, { value: '1' }), 404, 404)
    assertError(await call('DELETE', `${C}/topics/${topic}/configs/no.such.config`), 404, 404)
    assertError(await call('PUT', `${C}/topics/${topic}/configs/retention.ms`, { value: 'soon' }), 400, 40002)
    assertError(await request('PUT', `${C}/topics/${topic}/configs/retention.ms`, { headers: { 'content-type': JSON_TYPE } }), 422, 42206)
    assertError(await call('PUT', `${C}/topics/${uniqueName('missing')}/configs/retention.ms`, { value: '1' }), 404, 40403)
  })

  await t.test('POST topics/{topic}/configs:alter sets and deletes; validate_only changes nothing', async () => {
    const topic = uniqueName('v3cfg-alter')
    await createTopic(topic, 1)
    const T = `${C}/topics/${topic}/configs`
    const dry = await call('POST', `${T}:alter`, { data: [{ name: 'cleanup.policy', value: 'compact' }], validate_only: true })
    assert.equal(dry.status, 204, show(dry))
    const unchanged = await call('GET', `${T}/cleanup.policy`)
    assert.equal(unchanged.body.value, 'delete', show(unchanged))
    assert.notEqual(unchanged.body.source, 'DYNAMIC_TOPIC_CONFIG')

    const set = await call('POST', `${T}:alter`, {
      data: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'retention.ms', value: '654321', operation: 'set' }]
    })
    assert.equal(set.status, 204, show(set))
    await until(`${T}/cleanup.policy`, (r) => r.body?.value === 'compact', 'cleanup.policy set')
    await until(`${T}/retention.ms`, (r) => r.body?.value === '654321', 'retention.ms set')

    const del = await call('POST', `${T}:alter`, { data: [{ name: 'cleanup.policy', operation: 'DELETE' }] })
    assert.equal(del.status, 204, show(del))
    await until(`${T}/cleanup.policy`, (r) => r.body?.value === 'delete', 'cleanup.policy reset')

    assertError(await call('POST', `${T}:alter`, { data: [{ name: 'retention.ms', value: 'never' }] }), 400, 40002, 'bad value')
    assertError(await call('POST', `${T}:alter`, { data: [{ name: 'retention.ms', operation: 'APPEND' }] }), 400, 400, 'bad operation')
    assertError(await call('POST', `${T}:alter`, { data: [{ name: 'retention.ms', value: '1' }, { name: 'no.such.config', value: '1' }] }), 404, 404, 'unknown name')
    const untouched = await call('GET', `${T}/retention.ms`)
    assert.equal(untouched.body.value, '654321', show(untouched))
    assertError(await request('POST', `${T}:alter`, { headers: { 'content-type': JSON_TYPE } }), 422, 42206, 'empty body')
  })

  await t.test('GET topics/-/configs lists every topic\'s configs', async () => {
    const topic = uniqueName('v3cfg-all')
    await createTopic(topic, 1)
    const res = await call('GET', `${C}/topics/-/configs`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaTopicConfigList')
    assert.equal(res.body.metadata.self, `${C}/topics/-/configs`)
    const mine = res.body.data.filter((c: { topic_name: string }) => c.topic_name === topic)
    assert.ok(mine.some((c: { name: string }) => c.name === 'cleanup.policy'))
    assert.equal(mine[0].kind, 'KafkaTopicConfig')
    const topics: string[] = res.body.data.map((c: { topic_name: string }) => c.topic_name)
    assert.deepEqual(topics, [...topics].sort())
  })

  await t.test('POST topics/-/configs:alter answers 204, or 207 listing the topics that failed', async () => {
    const a = uniqueName('v3cfg-multi-a')
    const b = uniqueName('v3cfg-multi-b')
    await createTopic(a, 1)
    await createTopic(b, 1)
    const ok = await call('POST', `${C}/topics/-/configs:alter`, {
      data: [
        { topic_name: a, configs: [{ name: 'retention.ms', value: '111111' }] },
        { topic_name: b, configs: [{ name: 'retention.ms', value: '222222' }] }
      ]
    })
    assert.equal(ok.status, 204, show(ok))
    await until(`${C}/topics/${a}/configs/retention.ms`, (r) => r.body?.value === '111111', 'a set')
    await until(`${C}/topics/${b}/configs/retention.ms`, (r) => r.body?.value === '222222', 'b set')

    const missing = uniqueName('missing')
    const partial = await call('POST', `${C}/topics/-/configs:alter`, {
      data: [
        { topic_name: a, configs: [{ name: 'retention.ms', operation: 'DELETE' }] },
        { topic_name: missing, configs: [{ name: 'retention.ms', value: '1' }] }
      ]
    })
    assert.equal(partial.status, 207, show(partial))
    assert.equal(partial.body.failures.length, 1)
    assert.equal(partial.body.failures[0].topic_name, missing)
    assert.equal(partial.body.failures[0].error_code, 40403)
    assert.equal(typeof partial.body.failures[0].message, 'string')
    await until(`${C}/topics/${a}/configs/retention.ms`, (r) => r.body?.source !== 'DYNAMIC_TOPIC_CONFIG', 'a reset')

    const dry = await call('POST', `${C}/topics/-/configs:alter`, {
      data: [{ topic_name: b, configs: [{ name: 'retention.ms', value: '333333' }] }],
      validate_only: true
    })
    assert.equal(dry.status, 204, show(dry))
    const still = await call('GET', `${C}/topics/${b}/configs/retention.ms`)
    assert.equal(still.body.value, '222222', show(still))
  })

  await t.test('broker configs: list, get, PUT shows DYNAMIC_BROKER_CONFIG, DELETE resets, alter, unknown name 404', async (st) => {
    const B = `${C}/brokers/1/configs`
    const list = await call('GET', B)
    assert.equal(list.status, 200, show(list))
    assert.equal(list.body.kind, 'KafkaBrokerConfigList')
    const names: string[] = list.body.data.map((c: { name: string }) => c.name)
    assert.deepEqual(names, [...names].sort())
    const entry = list.body.data.find((c: { name: string }) => c.name === BROKER_KEY)
    assert.equal(entry.kind, 'KafkaBrokerConfig')
    assert.equal(entry.broker_id, 1)
    assert.deepEqual(entry.metadata, { self: `${B}/${BROKER_KEY}`, resource_name: `crn:///kafka=${cid}/broker=1/config=${BROKER_KEY}` })

    const one = await call('GET', `${B}/${BROKER_KEY}`)
    assert.equal(one.status, 200, show(one))
    assert.deepEqual(one.body, entry)
    assertError(await call('GET', `${B}/no.such.config`), 404, 404)
    assertError(await call('PUT', `${B}/no.such.config`, { value: '1' }), 404, 404)

    st.after(async () => { await call('DELETE', `${B}/${BROKER_KEY}`) })
    const put = await call('PUT', `${B}/${BROKER_KEY}`, { value: '15002' })
    assert.equal(put.status, 204, show(put))
    const set = await until(`${B}/${BROKER_KEY}`, (r) => r.body?.value === '15002', 'broker config set')
    assert.equal(set.body.source, 'DYNAMIC_BROKER_CONFIG')
    const del = await call('DELETE', `${B}/${BROKER_KEY}`)
    assert.equal(del.status, 204, show(del))
    const reset = await until(`${B}/${BROKER_KEY}`, (r) => r.body?.source !== 'DYNAMIC_BROKER_CONFIG' && r.body?.value === entry.value, 'broker config reset')
    assert.equal(reset.body.value, entry.value)

    const dry = await call('POST', `${B}:alter`, { data: [{ name: BROKER_KEY, value: '15003' }], validate_only: true })
    assert.equal(dry.status, 204, show(dry))
    const alter = await call('POST', `${B}:alter`, { data: [{ name: BROKER_KEY, value: '15004' }] })
    assert.equal(alter.status, 204, show(alter))
    await until(`${B}/${BROKER_KEY}`, (r) => r.body?.value === '15004', 'broker config altered')
    const undo = await call('POST', `${B}:alter`, { data: [{ name: BROKER_KEY, operation: 'DELETE' }] })
    assert.equal(undo.status, 204, show(undo))
    await until(`${B}/${BROKER_KEY}`, (r) => r.body?.source !== 'DYNAMIC_BROKER_CONFIG' && r.body?.value === entry.value, 'broker config reset by alter')
  })

  await t.test('GET brokers/-/configs lists every broker\'s configs', async () => {
    const res = await call('GET', `${C}/brokers/-/configs`)
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.kind, 'KafkaBrokerConfigList')
    assert.equal(res.body.metadata.self, `${C}/brokers/-/configs`)
    assert.ok(res.body.data.length > 0)
    assert.ok(res.body.data.every((c: { broker_id: number, kind: string }) => c.broker_id === 1 && c.kind === 'KafkaBrokerConfig'))
  })

  await t.test('cluster broker-configs: PUT shows DYNAMIC_DEFAULT_BROKER_CONFIG, DELETE removes it, alter', async (st) => {
    const K = `${C}/broker-configs`
    st.after(async () => { await call('DELETE', `${K}/${BROKER_KEY}`) })
    const put = await call('PUT', `${K}/${BROKER_KEY}`, { value: '15001' })
    assert.equal(put.status, 204, show(put))
    const got = await until(`${K}/${BROKER_KEY}`, (r) => r.status === 200 && r.body.value === '15001', 'cluster config set')
    assert.deepEqual(got.body.metadata, { self: `${K}/${BROKER_KEY}`, resource_name: `crn:///kafka=${cid}/broker-config=${BROKER_KEY}` })
    assert.equal(got.body.kind, 'KafkaClusterConfig')
    assert.equal(got.body.config_type, 'BROKER')
    assert.equal(got.body.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG')
    const list = await call('GET', K)
    assert.equal(list.status, 200, show(list))
    assert.equal(list.body.kind, 'KafkaClusterConfigList')
    assert.ok(list.body.data.some((c: { name: string }) => c.name === BROKER_KEY))

    const del = await call('DELETE', `${K}/${BROKER_KEY}`)
    assert.equal(del.status, 204, show(del))
    await until(`${K}/${BROKER_KEY}`, (r) => r.status === 404, 'cluster config removed')

    const alter = await call('POST', `${K}:alter`, { data: [{ name: BROKER_KEY, value: '15005' }] })
    assert.equal(alter.status, 204, show(alter))
    await until(`${K}/${BROKER_KEY}`, (r) => r.body?.value === '15005', 'cluster config altered')
    const undo = await call('POST', `${K}:alter`, { data: [{ name: BROKER_KEY, operation: 'delete' }] })
    assert.equal(undo.status, 204, show(undo))
    await until(`${K}/${BROKER_KEY}`, (r) => r.status === 404, 'cluster config removed by alter')
    assertError(await call('POST', `${K}:alter`, { data: [{ name: 'log.cleaner.threads', value: 'many' }] }), 400, 40002, 'bad value')
  })

  await t.test('v2 GET /topics/{topic} reports the topic configs', async () => {
    const topic = uniqueName('v3cfg-v2')
    await createTopic(topic, 1)
    const put = await call('PUT', `${C}/topics/${topic}/configs/cleanup.policy`, { value: 'compact' })
    assert.equal(put.status, 204, show(put))
    await until(`${C}/topics/${topic}/configs/cleanup.policy`, (r) => r.body?.value === 'compact', 'set')
    const res = await request('GET', `${url}/topics/${topic}`, { headers: { accept: 'application/vnd.kafka.v2+json' } })
    assert.equal(res.status, 200, show(res))
    assert.equal(res.body.configs['cleanup.policy'], 'compact')
    assert.equal(typeof res.body.configs['retention.ms'], 'string')
  })
})
