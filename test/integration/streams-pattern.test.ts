// Topic pattern streams (topics/-/records?topic_pattern=) against the real
// broker: every matching topic, a topic created after the stream started,
// positions across topics, and the patterns refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { clusterIdOf, SseClient } from '../helpers/sse.js'
import { produceMany } from '../helpers/streams.js'
import { parsePosition } from '../../src/streams/position.js'

async function patternUrl (base: string, query: string): Promise<string> {
  return `${base}/v3/clusters/${await clusterIdOf(base)}/topics/-/records?${query}`
}

test('a pattern stream delivers every matching topic, and a matching topic created after it started shows up from its first record', async (t) => {
  const proxy = await startProxy(t, { streams: { heartbeat_ms: 200 }, kafka: { metadata_refresh_ms: 300 } })
  const prefix = uniqueName('pat')
  const [a, b, other] = [`${prefix}.a`, `${prefix}.b`, `${prefix}-other`]
  await Promise.all([createTopic(a, 2), createTopic(b, 1), createTopic(other, 1)])
  await produceMany(a, [{ partition: 0, value: 'a0' }, { partition: 1, value: 'a1' }])
  await produceMany(b, [{ partition: 0, value: 'b0' }])
  await produceMany(other, [{ partition: 0, value: 'nope' }])
  const client = new SseClient()
  t.after(() => client.close())
  const res = await client.open(await patternUrl(proxy.url, `topic_pattern=${encodeURIComponent(prefix.replace(/[-.]/g, '\\$&') + '\\..*')}&from=earliest&format=string`))
  assert.equal(res.status, 200, res.body)
  await client.until(() => client.records().length >= 3)
  const later = `${prefix}.c`
  await createTopic(later, 1)
  await produceMany(later, [{ partition: 0, value: 'c0' }, { partition: 0, value: 'c1' }])
  await produceMany(a, [{ partition: 0, value: 'a2' }])
  await client.until(() => client.records().length >= 6, 30_000, 'the new topic\'s records')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const got = client.records()
  assert.deepEqual(got.map((r) => r.value.data).sort(), ['a0', 'a1', 'a2', 'b0', 'c0', 'c1'])
  assert.ok(got.every((r) => r.topic !== other))
  const position = parsePosition(client.lastId, 'id')
  assert.deepEqual([...position.keys()].sort(), [a, b, later].sort())
  assert.deepEqual([...(position.get(later) ?? [])], [[0, 2]])
})

test('cursor pages over a pattern read every record of every matching topic once, following next_cursor', async (t) => {
  const proxy = await startProxy(t)
  const prefix = uniqueName('patc')
  await Promise.all([createTopic(`${prefix}-x`, 2), createTopic(`${prefix}-y`, 2)])
  await produceMany(`${prefix}-x`, Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `x${i}` })))
  await produceMany(`${prefix}-y`, Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `y${i}` })))
  const seen: string[] = []
  let query = `topic_pattern=${encodeURIComponent(`${prefix}-.*`)}&from=earliest&format=string&max_records=17&timeout=500`
  for (let pages = 0; pages < 50; pages++) {
    const res = await fetch(await patternUrl(proxy.url, query))
    const body = await res.json() as any
    assert.equal(res.status, 200, JSON.stringify(body))
    if (body.records.length === 0) break
    for (const r of body.records) seen.push(r.value.data)
    query = `topic_pattern=${encodeURIComponent(`${prefix}-.*`)}&cursor=${body.next_cursor}&format=string&max_records=17&timeout=500`
  }
  assert.equal(seen.length, 100)
  assert.equal(new Set(seen).size, 100)
})

test('patterns refused before a stream starts: missing, not a regular expression, exponential, on a one-topic path, with a group', async (t) => {
  const proxy = await startProxy(t)
  const topic = uniqueName('patr')
  await createTopic(topic, 1)
  const cluster = await clusterIdOf(proxy.url)
  for (const url of [
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records`,
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records?topic_pattern=${encodeURIComponent('(unclosed')}`,
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records?topic_pattern=${encodeURIComponent('(a+)+')}`,
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records?topic_pattern=${encodeURIComponent('(a|aa)*')}`,
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records?topic_pattern=${encodeURIComponent('(x)\\1')}`,
    `${proxy.url}/v3/clusters/${cluster}/topics/-/records?topic_pattern=a&group=g`,
    `${proxy.url}/v3/clusters/${cluster}/topics/${topic}/records?topic_pattern=a`
  ]) {
    const res = await fetch(url, { headers: { accept: 'text/event-stream' } })
    assert.equal(res.status, 400, url)
    const body = await res.json() as any
    assert.equal(body.error_code, 400)
  }
})
