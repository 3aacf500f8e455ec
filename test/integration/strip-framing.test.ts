// consumer.strip_schema_framing against the real broker. The topic is written
// natively the way Confluent's serializers write: magic byte 0, a 4-byte
// big-endian schema id, then the payload (JSON text here, as the JSON Schema
// serializer writes it), next to a record without framing. Every read that
// renders BINARY, STRING or JSON gets exactly the payload with the option on,
// the stored bytes with it off, and the unframed record unchanged either way.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, produceNative, uniqueName } from '../helpers/kafka.js'
import { startProxy, type TestProxy } from '../helpers/proxy.js'
import { assign, createConsumer, request, show, BINARY_V2, JSON_V2, type ConsumerRef } from '../helpers/consumers.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { createSubscription, startReceiver } from '../helpers/webhooks.js'

const PAYLOAD = '{"order":42,"items":["a","b"],"note":"caf\u00e9"}'
const KEY = '"order-42"'
const PLAIN_VALUE = '{"plain":true}'
const PLAIN_KEY = '"plain"'

function frame (schemaId: number, text: string): Buffer {
  const header = Buffer.alloc(5)
  header.writeInt32BE(schemaId, 1)
  return Buffer.concat([header, Buffer.from(text)])
}

const b64 = (b: Buffer | string): string => (typeof b === 'string' ? Buffer.from(b) : b).toString('base64')

const ON = { consumer: { strip_schema_framing: 'key_and_value' as const } }
const VALUE_ONLY = { consumer: { strip_schema_framing: 'value' as const } }

/** A topic of one partition: offset 0 framed (key id 3, value id 258), offset 1 without framing. */
async function framedTopic (prefix: string): Promise<string> {
  const topic = uniqueName(prefix)
  await createTopic(topic, 1)
  await produceNative(topic, 0, [
    { key: frame(3, KEY), value: frame(258, PAYLOAD) },
    { key: Buffer.from(PLAIN_KEY), value: Buffer.from(PLAIN_VALUE) }
  ])
  return topic
}

/** Reads a v2 consumer until `count` records arrived. */
async function v2Records (c: ConsumerRef, accept: string, count: number, query = ''): Promise<any[]> {
  const out: any[] = []
  await eventually(async () => {
    const res = await request('GET', `${c.path}/records?timeout=1000${query}`, { headers: { accept } })
    assert.equal(res.status, 200, show(res))
    out.push(...res.body)
    return out.length >= count ? true : undefined
  }, { what: `${count} records`, timeoutMs: 30000 })
  return out
}

async function v2Consumer (proxy: TestProxy, topic: string, format: 'binary' | 'json'): Promise<ConsumerRef> {
  const c = await createConsumer(proxy.url, uniqueName('strip-group'), { format, 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  await assign(c, [{ topic, partition: 0 }])
  return c
}

async function partitionRead (proxy: TestProxy, topic: string, query: string): Promise<any[]> {
  const path = `/v3/clusters/${await clusterIdOf(proxy.url)}/topics/${topic}/partitions/0/records?offset=0&timeout=5000&${query}`
  const res = await request('GET', `${proxy.url}${path}`)
  assert.equal(res.status, 200, show(res))
  return res.body.data
}

async function recordsUrl (proxy: TestProxy, topic: string, query: string): Promise<string> {
  return `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url)}/topics/${topic}/records?${query}`
}

test('v2 binary and json consumers: the payload exactly with the option on, the stored bytes with it off', async (t) => {
  const topic = await framedTopic('strip-v2')
  const on = await startProxy(t, ON)
  const off = await startProxy(t)

  const bin = await v2Records(await v2Consumer(on, topic, 'binary'), BINARY_V2, 2)
  assert.deepEqual(bin.map((r) => [r.offset, r.key, r.value]), [[0, b64(KEY), b64(PAYLOAD)], [1, b64(PLAIN_KEY), b64(PLAIN_VALUE)]])

  const json = await v2Records(await v2Consumer(on, topic, 'json'), JSON_V2, 2)
  assert.deepEqual(json.map((r) => [r.offset, r.key, r.value]), [[0, 'order-42', JSON.parse(PAYLOAD)], [1, 'plain', { plain: true }]])
  assert.equal(json[0].undecodable, undefined)

  const binOff = await v2Records(await v2Consumer(off, topic, 'binary'), BINARY_V2, 2)
  assert.deepEqual(binOff.map((r) => [r.key, r.value]), [[b64(frame(3, KEY)), b64(frame(258, PAYLOAD))], [b64(PLAIN_KEY), b64(PLAIN_VALUE)]])
  // Off, a frame is not JSON: undecodable=raw hands over the stored bytes.
  const jsonOff = await v2Records(await v2Consumer(off, topic, 'json'), JSON_V2, 2, '&undecodable=raw')
  assert.equal(jsonOff[0].value, null)
  assert.equal(jsonOff[0].undecodable.value.data, b64(frame(258, PAYLOAD)))
  assert.equal(jsonOff[0].undecodable.key.data, b64(frame(3, KEY)))
  assert.deepEqual(jsonOff[1].value, { plain: true })
})

test('v3 partition read: BINARY, STRING and JSON without the frame when on; "value" leaves keys framed; off delivers the stored bytes', async (t) => {
  const topic = await framedTopic('strip-v3')
  const on = await startProxy(t, ON)
  const valueOnly = await startProxy(t, VALUE_ONLY)
  const off = await startProxy(t)

  const json = await partitionRead(on, topic, 'format=JSON')
  assert.deepEqual(json.map((r) => [r.key, r.value]), [
    [{ type: 'JSON', data: 'order-42' }, { type: 'JSON', data: JSON.parse(PAYLOAD) }],
    [{ type: 'JSON', data: 'plain' }, { type: 'JSON', data: { plain: true } }]
  ])
  const str = await partitionRead(on, topic, 'format=STRING')
  assert.deepEqual(str.map((r) => [r.key.data, r.value.data]), [[KEY, PAYLOAD], [PLAIN_KEY, PLAIN_VALUE]])
  const bin = await partitionRead(on, topic, 'format=BINARY')
  assert.deepEqual(bin.map((r) => [r.key.data, r.value.data]), [[b64(KEY), b64(PAYLOAD)], [b64(PLAIN_KEY), b64(PLAIN_VALUE)]])

  const half = await partitionRead(valueOnly, topic, 'key_format=BINARY&value_format=JSON')
  assert.equal(half[0].key.data, b64(frame(3, KEY)), 'the key keeps its frame')
  assert.deepEqual(half[0].value.data, JSON.parse(PAYLOAD))

  const binOff = await partitionRead(off, topic, 'format=BINARY')
  assert.deepEqual(binOff.map((r) => [r.key.data, r.value.data]), [[b64(frame(3, KEY)), b64(frame(258, PAYLOAD))], [b64(PLAIN_KEY), b64(PLAIN_VALUE)]])
})

test('SSE streams, from the start and at the head (a topic tail shared by streams), without the frame when on', async (t) => {
  const topic = await framedTopic('strip-sse')
  const on = await startProxy(t, ON)
  const off = await startProxy(t)

  const earliest = new SseClient()
  t.after(() => earliest.close())
  assert.equal((await earliest.open(await recordsUrl(on, topic, 'from=earliest&format=JSON'))).status, 200)
  const head = new SseClient()
  t.after(() => head.close())
  assert.equal((await head.open(await recordsUrl(on, topic, 'format=STRING'))).status, 200)
  const offStream = new SseClient()
  t.after(() => offStream.close())
  assert.equal((await offStream.open(await recordsUrl(off, topic, 'from=earliest&format=BINARY'))).status, 200)

  await earliest.until(() => earliest.records().length >= 2, 20000, 'two records')
  assert.deepEqual(earliest.records().map((r) => [r.offset, r.key.data, r.value.data]), [[0, 'order-42', JSON.parse(PAYLOAD)], [1, 'plain', { plain: true }]])

  await produceNative(topic, 0, [{ key: null, value: frame(259, PAYLOAD) }])
  await head.until(() => head.records().length >= 1, 20000, 'the record produced at the head')
  assert.deepEqual(head.records().map((r) => [r.offset, r.value.data]), [[2, PAYLOAD]])

  await offStream.until(() => offStream.records().length >= 3, 20000, 'three records')
  assert.deepEqual(offStream.records().map((r) => r.value.data), [b64(frame(258, PAYLOAD)), b64(PLAIN_VALUE), b64(frame(259, PAYLOAD))])
  assert.equal(offStream.records()[0].key.data, b64(frame(3, KEY)))
})

test('cursor reads: the payload when on, the stored bytes when off', async (t) => {
  const topic = await framedTopic('strip-cursor')
  const on = await startProxy(t, ON)
  const off = await startProxy(t)
  const page = async (proxy: TestProxy, query: string): Promise<any[]> => {
    const res = await fetch(await recordsUrl(proxy, topic, `from=earliest&timeout=5000&${query}`), { headers: { accept: 'application/json' } })
    const body = await res.json() as any
    assert.equal(res.status, 200, JSON.stringify(body))
    return body.records
  }
  await eventually(async () => (await page(on, 'format=STRING')).length >= 2 ? true : undefined, { what: 'a page of both records' })
  const str = await page(on, 'format=STRING')
  assert.deepEqual(str.map((r) => [r.key.data, r.value.data]), [[KEY, PAYLOAD], [PLAIN_KEY, PLAIN_VALUE]])
  const json = await page(on, 'format=JSON')
  assert.deepEqual(json[0].value.data, JSON.parse(PAYLOAD))
  const bin = await page(off, 'format=BINARY')
  assert.deepEqual(bin.map((r) => [r.key.data, r.value.data]), [[b64(frame(3, KEY)), b64(frame(258, PAYLOAD))], [b64(PLAIN_KEY), b64(PLAIN_VALUE)]])
})

test('webhook deliveries: the payload when on, the stored bytes when off', async (t) => {
  const topic = await framedTopic('strip-webhook')
  const webhooks = { allowed_hosts: ['127.0.0.1'], session_timeout_ms: 6000, poll_interval_ms: 20 }
  const on = await startProxy(t, { ...ON, webhooks: { ...webhooks, store_topic: uniqueName('strip-wh-store') } })
  const off = await startProxy(t, { webhooks: { ...webhooks, store_topic: uniqueName('strip-wh-store') } })
  const onReceiver = await startReceiver(t)
  const offReceiver = await startReceiver(t)
  await createSubscription(on.url, await clusterIdOf(on.url), topic, { callback_url: onReceiver.url, format: 'json', from: 'earliest' })
  await createSubscription(off.url, await clusterIdOf(off.url), topic, { callback_url: offReceiver.url, format: 'binary', from: 'earliest' })
  await eventually(() => onReceiver.deliveries.length >= 2 && offReceiver.deliveries.length >= 2 ? true : undefined, { what: 'two deliveries each', timeoutMs: 30000 })
  const onRecords = onReceiver.deliveries.flatMap((d) => d.records)
  assert.deepEqual(onRecords.map((r) => [r.offset, r.key.data, r.value.data]), [[0, 'order-42', JSON.parse(PAYLOAD)], [1, 'plain', { plain: true }]])
  const offRecords = offReceiver.deliveries.flatMap((d) => d.records)
  assert.deepEqual(offRecords.map((r) => [r.key.data, r.value.data]), [[b64(frame(3, KEY)), b64(frame(258, PAYLOAD))], [b64(PLAIN_KEY), b64(PLAIN_VALUE)]])
})
