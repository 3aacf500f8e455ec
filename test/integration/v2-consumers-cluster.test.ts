// v2 consumer instances behind the real cluster (primary + 2 HTTP workers),
// every call on a fresh connection. The primary hands new connections to the
// workers in turn, so about half of the calls land on the process that does
// not own the instance and must be forwarded to it: no sticky load balancing.
// See docs/consumers-across-processes.md.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy, workerPids } from '../helpers/process.js'
import {
  BINARY_V2, V2,
  assertError, consumerPath, produceBinary, request, show, unb64,
  type ConsumedRecord, type HttpResult, type RequestOptions
} from '../helpers/consumers.js'

/** One call on its own TCP connection, so the cluster picks the worker anew. */
function call (method: string, url: string, opts: RequestOptions = {}): Promise<HttpResult> {
  return request(method, url, { ...opts, headers: { connection: 'close', ...opts.headers } })
}

async function create (url: string, group: string, body: Record<string, unknown>): Promise<HttpResult> {
  return await call('POST', `${url}/consumers/${encodeURIComponent(group)}`, { headers: { 'content-type': V2 }, body })
}

async function subscription (path: string): Promise<HttpResult> {
  return await call('GET', `${path}/subscription`, { headers: { accept: V2 } })
}

// Enough consecutive calls that both workers answer at least twice.
const ROUNDS = 4

test("every call of a consumer's life works whichever worker accepts the connection", async (t) => {
  const topic = uniqueName('xproc')
  await createTopic(topic, 2)
  const proxy = await bootProxy(t, { workers: 2 })
  await eventually(() => workerPids(proxy.logs).length === 2 ? true : undefined, { what: 'two workers' })
  const values = Array.from({ length: 20 }, (_, i) => `value-${i}`)
  await produceBinary(proxy.url, topic, values.map((value) => ({ value })))

  const group = uniqueName('grp-xproc')
  const created = await create(proxy.url, group, { name: 'c1', format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' })
  assert.equal(created.status, 200, show(created))
  const path = consumerPath(proxy.url, group, 'c1')
  assert.equal(created.body.base_uri, path)

  for (let i = 0; i < ROUNDS; i++) {
    const res = await subscription(path)
    assert.equal(res.status, 200, `round ${i}: ${show(res)}`)
    assert.deepEqual(res.body, { topics: [] })
  }
  // A body streamed through the hop.
  const sub = await call('POST', `${path}/subscription`, { headers: { 'content-type': V2 }, body: { topics: [topic] } })
  assert.equal(sub.status, 204, show(sub))
  for (let i = 0; i < ROUNDS; i++) {
    const res = await subscription(path)
    assert.equal(res.status, 200, `round ${i}: ${show(res)}`)
    assert.deepEqual(res.body, { topics: [topic] })
  }

  const read: ConsumedRecord[] = []
  await eventually(async () => {
    const res = await call('GET', `${path}/records?timeout=1000`, { headers: { accept: BINARY_V2 } })
    assert.equal(res.status, 200, show(res))
    read.push(...res.body as ConsumedRecord[])
    return read.length >= values.length ? true : undefined
  }, { timeoutMs: 60000, intervalMs: 0, what: `${values.length} records` })
  assert.deepEqual(read.map((r) => unb64(r.value)).sort(), [...values].sort())

  const last = new Map<number, number>()
  for (const r of read) last.set(r.partition, Math.max(last.get(r.partition) ?? -1, r.offset))
  const offsets = [...last].map(([partition, offset]) => ({ topic, partition, offset }))
  const commit = await call('POST', `${path}/offsets`, { headers: { 'content-type': V2 }, body: { offsets } })
  assert.equal(commit.status, 200, show(commit))
  for (let i = 0; i < ROUNDS; i++) {
    // GET with a JSON body, through the hop too.
    const res = await call('GET', `${path}/offsets`, { headers: { 'content-type': V2, accept: V2 }, body: { partitions: offsets.map(({ topic, partition }) => ({ topic, partition })) } })
    assert.equal(res.status, 200, `round ${i}: ${show(res)}`)
    for (const o of offsets) {
      const got = (res.body.offsets as Array<{ partition: number, offset: number }>).find((x) => x.partition === o.partition)
      assert.equal(got?.offset, o.offset + 1, `round ${i}, partition ${o.partition}: ${show(res)}`)
    }
  }

  const deleted = await call('DELETE', path, { headers: { 'content-type': V2 } })
  assert.equal(deleted.status, 204, show(deleted))
  for (let i = 0; i < ROUNDS; i++) assertError(await subscription(path), 404, 40403, `round ${i} after delete`)
  assertError(await call('DELETE', path, { headers: { 'content-type': V2 } }), 404, 40403, 'second delete')
})

test('a name is taken once across workers, and free everywhere again once deleted', async (t) => {
  const proxy = await bootProxy(t, { workers: 2 })
  await eventually(() => workerPids(proxy.logs).length === 2 ? true : undefined, { what: 'two workers' })
  const group = uniqueName('grp-claim')
  const path = consumerPath(proxy.url, group, 'same')

  const racing = await Promise.all(Array.from({ length: 6 }, () => create(proxy.url, group, { name: 'same' })))
  assert.equal(racing.filter((r) => r.status === 200).length, 1, racing.map(show).join('\n'))
  for (const r of racing.filter((r) => r.status !== 200)) assertError(r, 409, 40902, 'a losing create')

  // Each pass moves the instance's owner along with the connection rotation,
  // and every worker must stop using the location it may have cached.
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < ROUNDS; i++) {
      const res = await subscription(path)
      assert.equal(res.status, 200, `pass ${pass}, round ${i}: ${show(res)}`)
    }
    assertError(await create(proxy.url, group, { name: 'same' }), 409, 40902, `pass ${pass}: create while it exists`)
    const deleted = await call('DELETE', path, { headers: { 'content-type': V2 } })
    assert.equal(deleted.status, 204, `pass ${pass}: ${show(deleted)}`)
    const again = await create(proxy.url, group, { name: 'same' })
    assert.equal(again.status, 200, `pass ${pass}: re-create: ${show(again)}`)
  }
})

test('when a worker dies its instances answer 40403 from every worker, others keep working, and the names are free', async (t) => {
  const proxy = await bootProxy(t, { workers: 2 })
  const pids = await eventually(() => { const p = workerPids(proxy.logs); return p.length === 2 ? p : undefined }, { what: 'two workers' })
  const group = uniqueName('grp-death')
  // Created one after the other, the instances alternate between the workers.
  const names = ['i0', 'i1', 'i2', 'i3']
  for (const name of names) {
    const res = await create(proxy.url, group, { name })
    assert.equal(res.status, 200, show(res))
  }

  const victim = pids[0] as number
  process.kill(victim, 'SIGKILL')
  // A connection the primary hands to a worker in the instant it dies is
  // lost (node:cluster behaviour, whatever the proxy does): call once the
  // primary has seen the exit.
  await eventually(() => proxy.logs.some((l) => l.msg === 'worker exited; starting a replacement' && l.worker_pid === victim) ? true : undefined, { what: 'the primary to see the exit' })
  // Each instance settles on one answer, whichever worker (survivor or
  // replacement) takes the call.
  const outcome = new Map<string, number>()
  await eventually(async () => {
    for (const name of names) {
      if (outcome.has(name)) continue
      const answers: number[] = []
      for (let i = 0; i < ROUNDS; i++) {
        const res = await subscription(consumerPath(proxy.url, group, name))
        if (res.status === 404) assertError(res, 404, 40403, name)
        else assert.equal(res.status, 200, `${name}: ${show(res)}`)
        answers.push(res.status)
      }
      if (answers.every((s) => s === answers[0])) outcome.set(name, answers[0] as number)
    }
    return outcome.size === names.length ? true : undefined
  }, { timeoutMs: 30000, what: 'every instance to answer consistently' })
  const gone = names.filter((n) => outcome.get(n) === 404)
  const alive = names.filter((n) => outcome.get(n) === 200)
  assert.ok(gone.length > 0 && alive.length > 0, `instances were created on both workers: gone ${gone.join()}, alive ${alive.join()}`)
  await eventually(() => workerPids(proxy.logs).length === 3 ? true : undefined, { timeoutMs: 30000, what: 'a replacement worker' })

  for (const name of gone) {
    const res = await create(proxy.url, group, { name })
    assert.equal(res.status, 200, `re-create ${name}: ${show(res)}`)
  }
  for (const name of alive) assertError(await create(proxy.url, group, { name }), 409, 40902, `${name} still exists`)
  for (const name of names) {
    for (let i = 0; i < ROUNDS; i++) {
      const res = await subscription(consumerPath(proxy.url, group, name))
      assert.equal(res.status, 200, `${name}, round ${i}: ${show(res)}`)
    }
  }
})
