// Per-record produce failures: one record fails while the others of the same
// request are written, and the failure says whether a retry is safe.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { kafkaTool, startOwnBroker } from '../helpers/broker.js'
import { startProxy, post, BINARY } from '../helpers/proxy.js'

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64')

test('a record over the client message size limit fails alone: 50002, not written, the others are written', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('v2-mixed')
  await createTopic(topic, 1)
  // librdkafka refuses records above message.max.bytes (1,000,000 by default) before sending them.
  const res = await post(`${url}/topics/${topic}`, BINARY, {
    records: [{ value: b64('first') }, { value: b64(Buffer.alloc(1_500_000, 1)) }, { value: b64('third') }]
  })
  assert.equal(res.status, 200)
  const [first, big, third] = res.body.offsets
  assert.deepEqual([first.error_code, first.offset], [null, 0])
  assert.deepEqual([third.error_code, third.offset], [null, 1])
  assert.equal(big.error_code, 50002)
  assert.equal(big.partition, null)
  assert.equal(big.offset, null)
  assert.equal(typeof big.error, 'string')
  assert.equal(big.retriable, false)
  assert.equal(big.persisted, 'no')
  const read = await readAll(topic, 1, 2)
  assert.deepEqual(read.map((r) => r.value?.toString()), ['first', 'third'])
})

test('a topic the proxy may not write to gives per-record 40301, not written', async (t) => {
  // A broker of its own without super users, so an ACL can deny the proxy.
  const broker = await startOwnBroker(t, { 'super.users': 'User:nobody' })
  const servers = broker.current.bootstrapServers
  const topic = uniqueName('v2-denied')
  await createTopic(topic, 1, servers)
  // Once a topic has ACLs, Kafka hides it from principals without Describe.
  await kafkaTool('org.apache.kafka.tools.AclCommand', [
    '--bootstrap-server', servers, '--add', '--allow-principal', 'User:ANONYMOUS', '--operation', 'Describe', '--topic', topic
  ])
  await kafkaTool('org.apache.kafka.tools.AclCommand', [
    '--bootstrap-server', servers, '--add', '--deny-principal', 'User:ANONYMOUS', '--operation', 'Write', '--topic', topic
  ])
  const { url } = await startProxy(t, { kafka: { bootstrap_servers: servers } })
  const res = await post(`${url}/topics/${topic}`, BINARY, { records: [{ value: b64('a') }, { value: b64('b') }] })
  assert.equal(res.status, 200)
  for (const o of res.body.offsets) {
    assert.equal(o.error_code, 40301)
    assert.equal(o.offset, null)
    assert.equal(o.retriable, false)
    assert.equal(o.persisted, 'no')
  }
})
