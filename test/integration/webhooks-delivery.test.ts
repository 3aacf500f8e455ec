// Webhook subscriptions against the real broker, delivering to real HTTP
// receivers started here: the resource, signed per-record and batched
// deliveries in partition order, retries, 410, the dead-letter topic, a
// failed state, and the callback safety rules.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startProxy } from '../helpers/proxy.js'
import { createTopic, eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { produceMany } from '../helpers/streams.js'
import { request, show } from '../helpers/consumers.js'
import { clusterId, createSubscription, getSubscription, startReceiver, subscriptionsUrl, verifySignature } from '../helpers/webhooks.js'

const FAST = {
  allowed_hosts: ['127.0.0.1'],
  session_timeout_ms: 6000,
  backoff_initial_ms: 20,
  backoff_max_ms: 200,
  response_timeout_ms: 1000,
  poll_interval_ms: 20,
  status_interval_ms: 200
}

function secret (): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

async function proxy (t: Parameters<typeof startProxy>[0], webhooks: Record<string, unknown> = {}): Promise<{ url: string, cid: string }> {
  const { url } = await startProxy(t, { webhooks: { ...FAST, store_topic: uniqueName('wh-store'), ...webhooks } })
  return { url, cid: await clusterId(url) }
}

test('records are POSTed one per request, signed, in offset order per partition; the subscription shows its progress', async (t) => {
  const topic = uniqueName('wh-basic')
  await createTopic(topic, 2)
  const { url, cid } = await proxy(t)
  const receiver = await startReceiver(t)
  const key = secret()
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, secret: key, format: 'string', from: 'latest' })
  assert.equal(sub.kind, 'KafkaWebhookSubscription')
  assert.equal(sub.metadata.self, `${subscriptionsUrl(url, cid, topic)}/${sub.subscription_id}`)
  assert.equal(sub.signed, true)
  assert.equal(sub.secret, undefined, 'the secret is never returned')
  assert.equal(JSON.stringify(sub).includes(key), false)
  assert.equal(sub.state, 'active')
  await produceMany(topic, Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })))
  await eventually(() => receiver.deliveries.length >= 20 ? true : undefined, { what: '20 deliveries', timeoutMs: 30000 })
  for (const p of [0, 1]) {
    const offsets = receiver.deliveries.filter((d) => d.records[0]?.partition === p).map((d) => d.records[0]?.offset)
    assert.deepEqual(offsets, Array.from({ length: 10 }, (_, i) => i), `partition ${p} in order, once each`)
  }
  const d = receiver.deliveries[0]!
  assert.ok(verifySignature(key, d), 'the signature verifies')
  assert.ok(!verifySignature(secret(), d), 'another secret does not verify')
  assert.ok(Math.abs(d.timestamp - Date.now() / 1000) < 60)
  assert.equal(d.records[0]?.value.type, 'STRING')
  assert.equal(d.id, Buffer.from(`${topic}@${d.records[0]?.partition}#${(d.records[0]?.offset ?? 0) + 1}`).toString('base64url'), 'webhook-id is the position after the record')
  const got = await eventually(async () => {
    const res = await getSubscription(url, cid, topic, sub.subscription_id)
    return res.body?.lag === 0 && res.body.deliveries.delivered === 20 ? res : undefined
  }, { what: 'the progress to show every record delivered' })
  assert.deepEqual(got.body.partitions.map((p: any) => [p.partition_id, p.next_offset, p.log_end_offset, p.lag]), [[0, 10, 10, 0], [1, 10, 10, 0]])
  assert.equal(got.body.deliveries.last_status, 200)
})

test('batches: a JSON array of up to max_records records of one partition, in order; webhook-id names the position after the last', async (t) => {
  const topic = uniqueName('wh-batch')
  await createTopic(topic, 1)
  const { url, cid } = await proxy(t)
  const receiver = await startReceiver(t)
  await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest', batch: { max_records: 5, max_wait_ms: 300 } })
  await produceMany(topic, Array.from({ length: 23 }, (_, i) => ({ partition: 0, value: `v${i}` })))
  await eventually(() => receiver.deliveries.reduce((n, d) => n + d.records.length, 0) >= 23 ? true : undefined, { what: '23 records', timeoutMs: 30000 })
  const offsets = receiver.deliveries.flatMap((d) => d.records.map((r) => r.offset))
  assert.deepEqual(offsets, Array.from({ length: 23 }, (_, i) => i))
  for (const d of receiver.deliveries) {
    assert.ok(Array.isArray(JSON.parse(d.body)), 'a batch body is an array')
    assert.ok(d.records.length >= 1 && d.records.length <= 5)
    const last = d.records[d.records.length - 1]!
    assert.equal(Buffer.from(d.id, 'base64url').toString(), `${topic}@0#${last.offset + 1}`)
    assert.equal(d.signature, undefined, 'no secret: not signed')
  }
  assert.ok(receiver.deliveries.some((d) => d.records.length === 5), 'full batches while records wait')
})

test('failed attempts are retried with backoff until accepted, honouring Retry-After; the subscription reports attempts and the last status', async (t) => {
  const topic = uniqueName('wh-retry')
  await createTopic(topic, 1)
  // Retry-After is honoured up to backoff_max_ms.
  const { url, cid } = await proxy(t, { backoff_max_ms: 3000 })
  const seen = new Map<string, number>()
  const receiver = await startReceiver(t, (d) => {
    const n = (seen.get(d.id) ?? 0) + 1
    seen.set(d.id, n)
    if (n === 1) return { status: 503, headers: { 'retry-after': '1' } }
    if (n === 2) return { status: 500 }
    return { status: 204 }
  })
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest', max_attempts: 5 })
  await produceMany(topic, [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }])
  await eventually(() => receiver.deliveries.filter((d) => d.answered === 204).length === 2 ? true : undefined, { what: 'both accepted', timeoutMs: 30000 })
  const a = receiver.deliveries.filter((d) => d.records[0]?.offset === 0)
  assert.deepEqual(a.map((d) => d.answered), [503, 500, 204])
  assert.ok(a[1]!.receivedAt - a[0]!.receivedAt >= 950, `Retry-After: 1 was honoured (${a[1]!.receivedAt - a[0]!.receivedAt} ms)`)
  assert.equal(a[0]!.id, a[2]!.id, 'every attempt carries the same webhook-id')
  const firstOfB = receiver.deliveries.findIndex((d) => d.records[0]?.offset === 1)
  assert.ok(firstOfB > receiver.deliveries.indexOf(a[2]!), 'offset 1 is not sent before offset 0 was accepted')
  const res = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.deliveries?.attempts === 6 ? r : undefined
  }, { what: 'the statistics' })
  assert.equal(res.body.deliveries.delivered, 2)
  assert.equal(res.body.deliveries.failed_attempts, 4)
  assert.equal(res.body.deliveries.last_status, 204)
  assert.equal(res.body.lag, 0)
})

test('a 410 answer cancels the subscription everywhere: state cancelled with the reason, nothing delivered after it', async (t) => {
  const topic = uniqueName('wh-gone')
  await createTopic(topic, 1)
  const { url, cid } = await proxy(t)
  const receiver = await startReceiver(t, (d) => ({ status: d.records[0]?.offset === 2 ? 410 : 200 }))
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest' })
  await produceMany(topic, Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `v${i}` })))
  const res = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.state === 'cancelled' ? r : undefined
  }, { what: 'state cancelled', timeoutMs: 30000 })
  assert.match(res.body.state_reason, /410/)
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.deepEqual(receiver.deliveries.map((d) => d.records[0]?.offset), [0, 1, 2], 'nothing after the 410, and the 410 was not retried')
})

test('a delivery out of attempts goes to the dead-letter topic with headers saying why and where from; the others go on in order', async (t) => {
  const topic = uniqueName('wh-dlq')
  const dlq = `${topic}-dlq`
  await createTopic(topic, 1)
  await createTopic(dlq, 1)
  const { url, cid } = await proxy(t)
  const receiver = await startReceiver(t, (d) => ({ status: d.records[0]?.key?.data === Buffer.from('bad').toString('base64') ? 500 : 200 }))
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest', max_attempts: 3, dead_letter_topic: dlq })
  await produceMany(topic, [
    { partition: 0, key: 'ok', value: 'v0' },
    { partition: 0, key: 'bad', value: 'v1', headers: [{ origin: Buffer.from('test') }] },
    { partition: 0, key: 'ok', value: 'v2' }
  ])
  const [dead] = await readAll(dlq, 1, 1, { timeoutMs: 30000 })
  assert.ok(dead !== undefined, 'the exhausted record is in the dead-letter topic')
  assert.equal(dead.key?.toString(), 'bad')
  assert.equal(dead.value?.toString(), 'v1')
  await eventually(() => receiver.deliveries.some((d) => d.records[0]?.offset === 2) ? true : undefined, { what: 'the record after it' })
  assert.deepEqual(receiver.deliveries.map((d) => [d.records[0]?.offset, d.answered]), [[0, 200], [1, 500], [1, 500], [1, 500], [2, 200]])
  const consumer = await import('../../src/kafka/binding.js')
  const headers = await new Promise<Record<string, string>>((resolve, reject) => {
    const c = new consumer.KafkaConsumer({ 'bootstrap.servers': process.env.TEST_KAFKA_BOOTSTRAP as string, 'group.id': uniqueName('dlq-reader') }, { 'auto.offset.reset': 'earliest' })
    c.connect({ timeout: 10000 }, (err) => {
      if (err) { reject(err); return }
      c.assign([{ topic: dlq, partition: 0, offset: 0 }])
      c.setDefaultConsumeTimeout(5000)
      c.consume(1, (e, m) => {
        c.disconnect(() => {})
        if (e || m.length === 0) { reject(e ?? new Error('no record')); return }
        const out: Record<string, string> = {}
        for (const h of m[0]!.headers ?? []) for (const [k, v] of Object.entries(h)) out[k] = Buffer.from(v as Buffer).toString()
        resolve(out)
      })
    })
  })
  assert.equal(headers.origin, 'test', 'the record keeps its own headers')
  assert.match(headers['webhook-dead-letter-reason'] ?? '', /HTTP 500 \(3 attempts\)/)
  assert.equal(headers['webhook-dead-letter-status'], '500')
  assert.equal(headers['webhook-dead-letter-attempts'], '3')
  assert.equal(headers['webhook-dead-letter-subscription'], sub.subscription_id)
  assert.equal(headers['webhook-dead-letter-topic'], topic)
  assert.equal(headers['webhook-dead-letter-partition'], '0')
  assert.equal(headers['webhook-dead-letter-offset'], '1')
  const res = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.deliveries?.dead_lettered === 1 && r.body.lag === 0 ? r : undefined
  }, { what: 'dead_lettered counted' })
  assert.equal(res.body.state, 'active')
})

test('without a dead-letter topic an exhausted delivery stops the subscription (failed, with the reason); resuming redelivers from that record', async (t) => {
  const topic = uniqueName('wh-fail')
  await createTopic(topic, 1)
  const { url, cid } = await proxy(t)
  let healthy = false
  const receiver = await startReceiver(t, (d) => ({ status: healthy || d.records[0]?.offset !== 1 ? 200 : 500 }))
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest', max_attempts: 2 })
  await produceMany(topic, Array.from({ length: 3 }, (_, i) => ({ partition: 0, value: `v${i}` })))
  const failed = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.state === 'failed' ? r : undefined
  }, { what: 'state failed', timeoutMs: 30000 })
  assert.match(failed.body.state_reason, new RegExp(`${topic} partition 0 offset 1 failed: HTTP 500 \\(2 attempts\\)`))
  assert.equal(failed.body.partitions[0].next_offset, 1, 'the failed record is not committed')
  healthy = true
  const patched = await request('PATCH', `${subscriptionsUrl(url, cid, topic)}/${sub.subscription_id}`, { headers: { 'content-type': 'application/json' }, body: { state: 'active' } })
  assert.equal(patched.status, 200, show(patched))
  assert.equal(patched.body.state, 'active')
  assert.equal(patched.body.state_reason, null)
  await eventually(() => receiver.deliveries.some((d) => d.records[0]?.offset === 2) ? true : undefined, { what: 'delivery to go on', timeoutMs: 30000 })
  assert.deepEqual(receiver.deliveries.map((d) => [d.records[0]?.offset, d.answered]), [[0, 200], [1, 500], [1, 500], [1, 200], [2, 200]])
})

test('at-most-once: the position is committed before sending and an attempt that may have arrived is never repeated', async (t) => {
  const topic = uniqueName('wh-amo')
  const dlq = `${topic}-dlq`
  await createTopic(topic, 1)
  await createTopic(dlq, 1)
  const { url, cid } = await proxy(t, { response_timeout_ms: 300 })
  const receiver = await startReceiver(t, (d) => (d.records[0]?.offset === 0 ? { hang: true } : { status: 200 }))
  const sub = await createSubscription(url, cid, topic, { callback_url: receiver.url, from: 'earliest', qos: 'at-most-once', max_attempts: 5, dead_letter_topic: dlq })
  await produceMany(topic, [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }])
  await eventually(() => receiver.deliveries.some((d) => d.records[0]?.offset === 1) ? true : undefined, { what: 'offset 1', timeoutMs: 30000 })
  assert.deepEqual(receiver.deliveries.map((d) => d.records[0]?.offset), [0, 1], 'offset 0 timed out once and was not sent again')
  const [dead] = await readAll(dlq, 1, 1, { timeoutMs: 20000 })
  assert.equal(dead?.value?.toString(), 'a')
  const res = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.partitions?.[0]?.next_offset === 2 ? r : undefined
  }, { what: 'committed past both' })
  assert.equal(res.body.qos, 'at-most-once')
})

test('callback safety: hosts resolving into denied networks are refused with 422, malformed URLs with 400, and a redirect is never followed', async (t) => {
  const topic = uniqueName('wh-safety')
  await createTopic(topic, 1)
  const { url, cid } = await proxy(t)
  const target = await startReceiver(t)
  const post = (body: Record<string, unknown>): ReturnType<typeof request> =>
    request('POST', subscriptionsUrl(url, cid, topic), { headers: { 'content-type': 'application/json' }, body })
  for (const callback of [`http://localhost:${target.port}/hook`, 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook', 'http://[::1]:80/', 'http://192.168.1.10/']) {
    const res = await post({ callback_url: callback })
    assert.equal(res.status, 422, `${callback}: ${show(res)}`)
    assert.equal(res.body.error_code, 42210)
    assert.match(res.body.message, /denied network/)
  }
  for (const callback of ['ftp://127.0.0.1/x', `http://user:pw@127.0.0.1:${target.port}/`, 'hook']) {
    const res = await post({ callback_url: callback })
    assert.equal(res.status, 400, `${callback}: ${show(res)}`)
  }
  const redirecting = await startReceiver(t, () => ({ status: 307, headers: { location: target.url } }))
  const sub = await createSubscription(url, cid, topic, { callback_url: redirecting.url, from: 'earliest', max_attempts: 2 })
  const patch = await request('PATCH', `${subscriptionsUrl(url, cid, topic)}/${sub.subscription_id}`, { headers: { 'content-type': 'application/json' }, body: { callback_url: `http://localhost:${target.port}/` } })
  assert.equal(patch.status, 422, show(patch))
  await produceMany(topic, [{ partition: 0, value: 'x' }])
  const failed = await eventually(async () => {
    const r = await getSubscription(url, cid, topic, sub.subscription_id)
    return r.body?.state === 'failed' ? r : undefined
  }, { what: 'the redirect to fail the delivery', timeoutMs: 30000 })
  assert.match(failed.body.state_reason, /HTTP 307: redirects are not followed/)
  assert.equal(failed.body.callback_url, redirecting.url, 'the refused PATCH changed nothing')
  assert.equal(redirecting.deliveries.length, 2)
  assert.equal(target.deliveries.length, 0, 'the redirect target got nothing')
})

test('the resource: strict bodies, 404s, listings, pause and resume, delete', async (t) => {
  const topic = uniqueName('wh-res')
  const other = uniqueName('wh-res-other')
  await createTopic(topic, 1)
  await createTopic(other, 1)
  const { url, cid } = await proxy(t)
  const receiver = await startReceiver(t)
  const base = subscriptionsUrl(url, cid, topic)
  const json = { 'content-type': 'application/json' }
  const missing = await request('POST', subscriptionsUrl(url, cid, uniqueName('nope')), { headers: json, body: { callback_url: receiver.url } })
  assert.equal(missing.status, 404, show(missing))
  assert.equal(missing.body.error_code, 40403)
  for (const [body, status] of [
    [{}, 422], [{ callback_url: receiver.url, qos: 'exactly-once' }, 400], [{ callback_url: receiver.url, extra: 1 }, 400],
    [{ callback_url: receiver.url, dead_letter_topic: uniqueName('nope') }, 422], [{ callback_url: receiver.url, dead_letter_topic: topic }, 400]
  ] as Array<[Record<string, unknown>, number]>) {
    const res = await request('POST', base, { headers: json, body })
    assert.equal(res.status, status, `${JSON.stringify(body)}: ${show(res)}`)
  }
  const wrongType = await request('POST', base, { headers: { 'content-type': 'text/plain' }, body: '{}' })
  assert.equal(wrongType.status, 415)
  const a = await createSubscription(url, cid, topic, { callback_url: receiver.url })
  const b = await createSubscription(url, cid, topic, { callback_url: receiver.url, state: 'paused' })
  const c = await createSubscription(url, cid, other, { callback_url: receiver.url })
  const created = await request('GET', `${base}/${a.subscription_id}`)
  assert.equal(created.status, 200, show(created))
  assert.equal(created.body.topic.related, `${url}/v3/clusters/${cid}/topics/${topic}`)
  assert.equal(created.body.consumer_group_id.endsWith(a.subscription_id), true)
  const list = await request('GET', base)
  assert.equal(list.body.kind, 'KafkaWebhookSubscriptionList')
  assert.deepEqual(list.body.data.map((s: any) => s.subscription_id), [a.subscription_id, b.subscription_id])
  const all = await request('GET', `${url}/v3/clusters/${cid}/topics/-/subscriptions`)
  assert.deepEqual(new Set(all.body.data.map((s: any) => s.subscription_id)), new Set([a.subscription_id, b.subscription_id, c.subscription_id]))
  const unknown = await request('GET', `${base}/no-such-id`)
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.error_code, 40404)
  const elsewhere = await request('GET', `${subscriptionsUrl(url, cid, other)}/${a.subscription_id}`)
  assert.equal(elsewhere.status, 404, 'a subscription is found under its own topic only')

  // b is paused: nothing for it until it is resumed; a delivers.
  await produceMany(topic, [{ partition: 0, value: 'one' }])
  await eventually(() => receiver.deliveries.length >= 1 ? true : undefined, { what: 'a to deliver', timeoutMs: 30000 })
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(receiver.deliveries.length, 1, 'the paused subscription delivered nothing')
  const resumed = await request('PATCH', `${base}/${b.subscription_id}`, { headers: json, body: { state: 'active' } })
  assert.equal(resumed.status, 200, show(resumed))
  await eventually(() => receiver.deliveries.length >= 2 ? true : undefined, { what: 'b to deliver after resume', timeoutMs: 30000 })

  const deleted = await request('DELETE', `${base}/${a.subscription_id}`)
  assert.equal(deleted.status, 204, show(deleted))
  assert.equal((await request('GET', `${base}/${a.subscription_id}`)).status, 404)
  assert.equal((await request('DELETE', `${base}/${a.subscription_id}`)).status, 404)
  const group = created.body.consumer_group_id as string
  await eventually(async () => (await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${group}`)).status === 404 ? true : undefined,
    { what: 'the deleted subscription\'s group to go', timeoutMs: 30000, intervalMs: 500 })
  const before = receiver.deliveries.length
  await produceMany(topic, [{ partition: 0, value: 'two' }])
  await eventually(() => receiver.deliveries.length > before ? true : undefined, { what: 'b only', timeoutMs: 30000 })
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(receiver.deliveries.length, before + 1, 'only the remaining subscription delivered')
})
