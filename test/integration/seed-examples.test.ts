// Seed 001 ("A Comprehensive REST Proxy for Kafka", Confluent's introduction
// of the proxy, /work/shared/seeds/001_2c777184cb70dfa0.txt) run as written
// against a fresh `npm start`: the real main in dev mode, with its embedded
// broker (auto.create.topics.enable=true, Kafka's default) and registry, on
// which `avrotest` does not exist yet. The seed's text lost a closing bracket
// and the URLs; the test sends the well-formed body to the seed's paths
// (http://localhost:8082/topics/avrotest, …) on the proxy's port.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bootProxy, type ProxyProcess } from '../helpers/process.js'
import { eventually } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { request, show } from '../helpers/consumers.js'

const CURL = { accept: '*/*' }

test('seed 001: the Avro produce, create, read and delete flow on a fresh dev-mode start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'seed-dev-'))
  const booted: { proxy?: ProxyProcess } = {}
  // Registered before bootProxy's own hook, so it runs first: a graceful stop
  // lets the primary stop its broker and registry before their data goes.
  t.after(async () => {
    const proxy = booted.proxy
    if (proxy !== undefined && proxy.child.exitCode === null) {
      proxy.child.kill('SIGTERM')
      await proxy.exited
    }
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  })
  const proxy = booted.proxy = await bootProxy(t, {
    workers: 1,
    listenTimeoutMs: 170_000,
    env: {
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: '',
      KAFKA_PROXY_SCHEMA_REGISTRY__URL: '',
      KAFKA_PROXY_DEV__DATA_DIR: dataDir,
      KAFKA_PROXY_DEV__BROKER_PORT: '0'
    }
  })
  const { url, logs } = proxy
  const embedded = logs.find((l) => l.msg.startsWith('kafka broker (embedded) listening on'))
  assert.ok(embedded !== undefined, 'dev mode started the embedded broker')
  assert.match(readFileSync(join(dataDir, 'server.properties'), 'utf8'), /^auto\.create\.topics\.enable=true$/m)

  const missing = await request('GET', `${url}/topics/avrotest`, { headers: CURL })
  assert.equal(missing.status, 404, `avrotest must not exist before the first produce: ${show(missing)}`)

  const produce = await request('POST', `${url}/topics/avrotest`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.avro.v1+json' },
    body: `{
   "value_schema": "{\\"type\\": \\"record\\", \\"name\\": \\"User\\", \\"fields\\": [{\\"name\\": \\"username\\", \\"type\\": \\"string\\"}]}",
   "records": [
     {"value": {"username": "testUser"}},
     {"value": {"username": "testUser2"}}
   ]
}`
  })
  assert.equal(produce.status, 200, show(produce))
  assert.equal(produce.headers['content-type'], 'application/vnd.kafka.v1+json')
  assert.equal(produce.body.key_schema_id, null)
  assert.ok(Number.isInteger(produce.body.value_schema_id), show(produce))
  assert.deepEqual(produce.body.offsets, [
    { partition: 0, offset: 0, error_code: null, error: null },
    { partition: 0, offset: 1, error_code: null, error: null }
  ])
  assert.ok(logs.some((l) => l.msg === 'topic auto-created' && l.topic === 'avrotest' && l.mode === 'broker'), 'created because the broker allows it')

  const create = await request('POST', `${url}/consumers/my_avro_consumer`, {
    headers: { ...CURL, 'content-type': 'application/vnd.kafka.v1+json' },
    body: '{"format": "avro", "auto.offset.reset": "smallest"}'
  })
  assert.equal(create.status, 200, show(create))
  assert.equal(create.headers['content-type'], 'application/vnd.kafka.v1+json')
  const instanceId = create.body.instance_id as string
  assert.equal(typeof instanceId, 'string')
  assert.ok((create.body.base_uri as string).endsWith(`/consumers/my_avro_consumer/instances/${instanceId}`), show(create))
  const instance = `${url}/consumers/my_avro_consumer/instances/${instanceId}`

  // "just GET a topic resource under that consumer to start receiving
  // messages"; the first GETs may come back empty while the group forms.
  const records = await eventually(async () => {
    const res = await request('GET', `${instance}/topics/avrotest`, { headers: { accept: 'application/vnd.kafka.avro.v1+json' } })
    assert.equal(res.status, 200, show(res))
    assert.equal(res.headers['content-type'], 'application/vnd.kafka.avro.v1+json')
    return Array.isArray(res.body) && res.body.length >= 2 ? res.body : undefined
  }, { timeoutMs: 60_000, what: 'the two Avro records' })
  assert.deepEqual(records.map(({ key, value, partition, offset }: Record<string, unknown>) => ({ key, value, partition, offset })), [
    { key: null, value: { username: 'testUser' }, partition: 0, offset: 0 },
    { key: null, value: { username: 'testUser2' }, partition: 0, offset: 1 }
  ])

  const del = await request('DELETE', instance, { headers: CURL })
  assert.equal(del.status, 204, show(del))
  assert.equal(del.text, '')

  const bootstrap = embedded.bootstrap_servers as string
  // The default policy ("broker") on the same broker: v3 produce and a v2
  // subscribe create their missing topics too.
  const follower = await startProxy(t, { kafka: { bootstrap_servers: bootstrap } })
  const v3 = await request('POST', `${follower.url}/v3/clusters/any/topics/v3-created/records:batch`, {
    headers: { 'content-type': 'application/json' },
    body: { entries: [{ id: 'one', value: { type: 'STRING', data: 'x' } }] }
  })
  assert.equal(v3.status, 207, show(v3))
  assert.deepEqual(v3.body.successes.map((s: Record<string, unknown>) => [s.id, s.offset]), [['one', 0]])
  const group = `${url}/consumers/subscribe-creates`
  const consumer = await request('POST', group, { headers: { 'content-type': 'application/vnd.kafka.v2+json' }, body: { name: 'c', format: 'binary' } })
  assert.equal(consumer.status, 200, show(consumer))
  const sub = await request('POST', `${group}/instances/c/subscription`, { headers: { 'content-type': 'application/vnd.kafka.v2+json' }, body: { topics: ['subscribe-created'] } })
  assert.equal(sub.status, 204, show(sub))
  assert.equal((await request('GET', `${url}/topics/subscribe-created`, { headers: CURL })).status, 200, 'subscribe created the topic')
  assert.equal((await request('DELETE', `${group}/instances/c`, { headers: CURL })).status, 204)
  await follower.server.shutdown()

  // On the same auto-creating broker, the "never" override still refuses.
  const never = await startProxy(t, { kafka: { bootstrap_servers: bootstrap, auto_create_topics: 'never' } })
  const refused = await request('POST', `${never.url}/topics/never-created`, {
    headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' },
    body: { records: [{ value: 'eA==' }] }
  })
  assert.equal(refused.status, 404, show(refused))
  assert.equal(refused.body.error_code, 40401)
  assert.equal((await request('GET', `${url}/topics/never-created`, { headers: CURL })).status, 404)
  await never.server.shutdown()
})
