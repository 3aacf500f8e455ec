// Schema formats in streams, against the real broker and the real schema
// registry: records produced with AVRO, JSONSCHEMA and PROTOBUF schemas come
// out of a stream decoded (cursor pages and SSE alike).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { recordsPath, str, streamAll } from '../helpers/v3-stream.js'

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  return url
}

const CASES = [
  {
    type: 'AVRO',
    schema: JSON.stringify({ type: 'record', name: 'Order', namespace: 'test.streams', fields: [{ name: 'id', type: 'long' }, { name: 'item', type: 'string' }] }),
    data: [{ id: 1, item: 'apple' }, { id: 2, item: 'pear' }],
    expected: [{ id: 1, item: 'apple' }, { id: 2, item: 'pear' }]
  },
  {
    type: 'JSONSCHEMA',
    schema: JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'Order', type: 'object', properties: { id: { type: 'integer' }, item: { type: 'string' } } }),
    data: [{ id: 1, item: 'apple' }, { id: 2 }],
    expected: [{ id: 1, item: 'apple' }, { id: 2 }]
  },
  {
    type: 'PROTOBUF',
    schema: 'syntax = "proto3";\npackage test.streams;\n\nmessage Order {\n  int64 id = 1;\n  string item = 2;\n}\n',
    data: [{ id: 1, item: 'apple' }, { id: '2', item: 'pear' }],
    expected: [{ id: '1', item: 'apple' }, { id: '2', item: 'pear' }]
  }
]

for (const c of CASES) {
  test(`${c.type} values come out of a stream decoded through the registry`, async (t) => {
    const proxy = await startProxy(t, { schema_registry: { url: registryUrl() } })
    const topic = uniqueName(`streams-${c.type.toLowerCase()}`)
    await createTopic(topic, 1)
    const lines = await streamAll(proxy.url, recordsPath(topic), c.data.map((data, i) => ({ key: str(`k${i}`), value: { type: c.type, schema: c.schema, data } })))
    assert.deepEqual(lines.map((l) => l.error_code), [200, 200], JSON.stringify(lines))
    const base = `${proxy.url}/v3/clusters/${await clusterIdOf(proxy.url)}/topics/${topic}/records?from=earliest&key_format=string&value_format=${c.type.toLowerCase()}`
    const res = await fetch(`${base}&timeout=3000`)
    const page = await res.json() as any
    assert.equal(res.status, 200, JSON.stringify(page))
    assert.deepEqual(page.records.map((r: any) => r.key), [{ type: 'STRING', data: 'k0' }, { type: 'STRING', data: 'k1' }])
    assert.deepEqual(page.records.map((r: any) => r.value), c.expected.map((data) => ({ type: c.type, data })))
    const sse = new SseClient()
    t.after(() => sse.close())
    await sse.open(base)
    await sse.until(() => sse.count('message') >= 2)
    assert.deepEqual(sse.records().map((r) => r.value.data), c.expected)
  })
}
