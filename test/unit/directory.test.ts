// The consumer-instance directory without processes: the in-memory variant,
// and the primary's service driven through EventEmitter stand-ins for the
// cluster and the workers' IPC channels.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProxyError } from '../../src/errors.js'
import { EventEmitter } from 'node:events'
import {
  createDirectory,
  serveDirectory,
  type ConsumerDirectory,
  type DirectoryChannel,
  type DirectoryReply,
  type DirectoryRequest,
  type HubWorker
} from '../../src/shards/directory.js'

/** One simulated worker: its directory client, its end at the hub, and a tap on what it sent. */
interface FakeWorker {
  directory: ConsumerDirectory
  hubSide: HubWorker
  sent: DirectoryRequest[]
  /** While set, requests vanish on the way to the primary. */
  mute: boolean
  exit (): void
}

// IPC delivers a copy, later, in order: structuredClone + setImmediate.
function makeCluster (): { hub: EventEmitter, worker: (id: number, opts?: { timeoutMs?: number, cacheMs?: number }) => FakeWorker } {
  const hub = new EventEmitter()
  serveDirectory(hub)
  const worker = (id: number, opts: { timeoutMs?: number, cacheMs?: number } = {}): FakeWorker => {
    const inbox = new EventEmitter()
    let dead = false
    const hubSide: HubWorker = {
      id,
      isDead: () => dead,
      send: (msg: DirectoryReply, cb) => {
        setImmediate(() => {
          if (dead) {
            cb(new Error('channel closed'))
            return
          }
          inbox.emit('message', structuredClone(msg))
          cb(null)
        })
      }
    }
    const fake: FakeWorker = {
      directory: null as unknown as ConsumerDirectory,
      hubSide,
      sent: [],
      mute: false,
      exit: () => {
        dead = true
        hub.emit('exit', hubSide)
      }
    }
    const channel: DirectoryChannel = {
      send: (msg, cb) => {
        fake.sent.push(msg)
        setImmediate(() => {
          if (dead) {
            cb(new Error('channel closed'))
            return
          }
          if (!fake.mute) hub.emit('message', hubSide, structuredClone(msg))
          cb(null)
        })
      },
      on: (event, listener) => inbox.on(event, listener)
    }
    fake.directory = createDirectory(`http://127.0.0.1:${10000 + id}`, { channel, ...opts })
    return fake
  }
  return { hub, worker }
}

test('in-memory: a name is claimed once per group until released; locate has nowhere to point', async () => {
  const d = createDirectory('http://127.0.0.1:1', { channel: null })
  assert.equal(d.selfUrl, 'http://127.0.0.1:1')
  assert.equal(await d.claim('g', 'a'), true)
  assert.equal(await d.claim('g', 'a'), false)
  assert.equal(await d.claim('other', 'a'), true, 'names are per group')
  assert.equal(await d.locate('g', 'a'), null)
  await d.release('g', 'a')
  assert.equal(await d.claim('g', 'a'), true)
  // Concatenation alone would make these the same key.
  assert.equal(await d.claim('ab', 'c'), true)
  assert.equal(await d.claim('a', 'bc'), true)
})

test('outside a cluster worker, createDirectory is in-memory', async () => {
  const d = createDirectory('http://127.0.0.1:1')
  assert.equal(await d.claim('g', 'x'), true)
  assert.equal(await d.claim('g', 'x'), false)
})

test('concurrent claims of one name from several workers: exactly one wins, the rest locate it', async () => {
  const { worker } = makeCluster()
  const workers = [1, 2, 3, 4].map((id) => worker(id))
  const results = await Promise.all(workers.map((w) => w.directory.claim('g', 'race')))
  assert.equal(results.filter((ok) => ok).length, 1)
  const winner = workers[results.indexOf(true)] as FakeWorker
  // The same process asking again loses too: Confluent answers 40902 either way.
  assert.equal(await winner.directory.claim('g', 'race'), false)
  for (const w of workers) {
    const owner = await w.directory.locate('g', 'race')
    assert.equal(owner, w === winner ? null : winner.directory.selfUrl)
  }
})

test('release frees the name for any process; only the owner can release it', async () => {
  const { worker } = makeCluster()
  const a = worker(1)
  const b = worker(2)
  assert.equal(await a.directory.claim('g', 'n'), true)
  await b.directory.release('g', 'n')
  assert.equal(await b.directory.locate('g', 'n'), a.directory.selfUrl, "another process's release changes nothing")
  assert.equal(await b.directory.claim('g', 'n'), false)
  await a.directory.release('g', 'n')
  // Awaited release: the next claim anywhere sees the name free.
  assert.equal(await b.directory.claim('g', 'n'), true)
  assert.equal(await a.directory.locate('g', 'n'), b.directory.selfUrl)
})

test('locate is cached; the primary invalidates the cache when the instance goes', async () => {
  const { worker } = makeCluster()
  const a = worker(1)
  const b = worker(2)
  await a.directory.claim('g', 'n')
  assert.equal(await b.directory.locate('g', 'n'), a.directory.selfUrl)
  assert.equal(await b.directory.locate('g', 'n'), a.directory.selfUrl)
  assert.equal(b.sent.filter((m) => m.op === 'locate').length, 1, 'the second locate came from the cache')

  await a.directory.release('g', 'n')
  // The forget travels on b's channel ahead of the reply to b's next request.
  const c = worker(3)
  assert.equal(await c.directory.claim('g', 'n'), true)
  assert.equal(await b.directory.locate('g', 'n'), c.directory.selfUrl)
  assert.equal(b.sent.filter((m) => m.op === 'locate').length, 2)
})

test('a cached location expires after cacheMs', async (t) => {
  t.mock.timers.enable({ apis: ['Date'] })
  const { worker } = makeCluster()
  const a = worker(1)
  const b = worker(2, { cacheMs: 1000 })
  await a.directory.claim('g', 'n')
  await b.directory.locate('g', 'n')
  t.mock.timers.tick(999)
  await b.directory.locate('g', 'n')
  assert.equal(b.sent.filter((m) => m.op === 'locate').length, 1)
  t.mock.timers.tick(2)
  assert.equal(await b.directory.locate('g', 'n'), a.directory.selfUrl)
  assert.equal(b.sent.filter((m) => m.op === 'locate').length, 2)
})

test("a worker's exit drops its entries and the other workers' cached locations of them", async () => {
  const { hub, worker } = makeCluster()
  const a = worker(1)
  const b = worker(2)
  assert.equal(await a.directory.claim('g', 'x'), true)
  assert.equal(await a.directory.claim('g', 'y'), true)
  assert.equal(await b.directory.claim('g', 'z'), true)
  assert.equal(await b.directory.locate('g', 'x'), a.directory.selfUrl)
  a.exit()
  // The forget is delivered with the next turn of the fake channel.
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(await b.directory.locate('g', 'x'), null)
  assert.equal(await b.directory.locate('g', 'y'), null)
  const c = worker(3)
  assert.equal(await c.directory.claim('g', 'x'), true)
  assert.equal(await c.directory.locate('g', 'z'), b.directory.selfUrl, "other workers' entries stay")

  // A message read after its sender exited must not create an entry nobody cleans up.
  const late: DirectoryRequest = { type: 'directory', op: 'claim', id: 99, group: 'g', name: 'late', owner: a.directory.selfUrl }
  hub.emit('message', a.hubSide, late)
  assert.equal(await c.directory.locate('g', 'late'), null)
})

test('messages of other types are ignored on both sides', async () => {
  const { hub, worker } = makeCluster()
  const a = worker(1)
  let replies = 0
  const spy: HubWorker = { id: 7, isDead: () => false, send: () => { replies++ } }
  hub.emit('message', spy, { type: 'listening', port: 8082 })
  hub.emit('message', spy, { type: 'directory', op: 'claim', id: 1, group: 'g', name: 'n' })
  hub.emit('message', spy, null)
  assert.equal(replies, 0, 'a malformed or foreign message gets no answer')
  assert.equal(await a.directory.claim('g', 'n'), true)
})

test('replies are matched to requests by id, whatever order they arrive in', async () => {
  const inbox = new EventEmitter()
  const requests: DirectoryRequest[] = []
  const channel: DirectoryChannel = {
    send: (msg, cb) => { requests.push(msg); cb(null) },
    on: (event, listener) => inbox.on(event, listener)
  }
  const d = createDirectory('http://127.0.0.1:1', { channel })
  const located = ['a', 'b', 'c'].map((name) => d.locate('g', name))
  for (const r of [...requests].reverse()) {
    assert.equal(r.op, 'locate')
    const reply: DirectoryReply = { type: 'directory', op: 'located', id: r.id, owner: `http://127.0.0.1:2/${r.name}` }
    inbox.emit('message', reply)
  }
  assert.deepEqual(await Promise.all(located), ['a', 'b', 'c'].map((n) => `http://127.0.0.1:2/${n}`))
  // An answer to nothing (its request timed out long ago) is dropped.
  inbox.emit('message', { type: 'directory', op: 'claimed', id: 12345, ok: true })
})

test('a primary that does not answer fails the call after timeoutMs with a clear error', async () => {
  const { worker } = makeCluster()
  const a = worker(1, { timeoutMs: 50 })
  a.mute = true
  const started = Date.now()
  await assert.rejects(a.directory.claim('g', 'n'), (err: unknown) => err instanceof ProxyError && err.status === 503 && err.errorCode === 50305 && err.retriable && /did not answer claim within 50 ms/.test(err.message))
  await assert.rejects(a.directory.locate('g', 'n'), /did not answer locate/)
  assert.ok(Date.now() - started < 1000)
  // Release never rejects: the entry goes with the worker anyway.
  await a.directory.release('g', 'n')
  // The directory recovers once the primary answers again.
  a.mute = false
  assert.equal(await a.directory.claim('g', 'n'), true)
})

test('a closed channel fails the call at once', async () => {
  const channel: DirectoryChannel = {
    send: (_msg, cb) => { setImmediate(() => cb(new Error('Channel closed'))) },
    on: () => {}
  }
  const d = createDirectory('http://127.0.0.1:1', { channel, timeoutMs: 60_000 })
  await assert.rejects(d.claim('g', 'n'), (err: unknown) => err instanceof ProxyError && err.status === 503 && err.retriable && /cannot be reached \(Channel closed\)/.test(err.message))
  await d.release('g', 'n')
})
