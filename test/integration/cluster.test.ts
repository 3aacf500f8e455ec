// Boots the real entry point (cluster primary + 2 HTTP workers) as a child
// process, the way `npm start` runs it, and checks draining and worker
// replacement from the outside.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { BINARY } from '../helpers/proxy.js'
import { alive, bootProxy, workerPids } from '../helpers/process.js'

async function produceOne (url: string, topic: string, value: string): Promise<{ status: number, body: any }> {
  const res = await fetch(`${url}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': BINARY, connection: 'close' },
    body: JSON.stringify({ records: [{ value: Buffer.from(value).toString('base64') }] })
  })
  return { status: res.status, body: await res.json() }
}

test('SIGTERM during a stream of produce requests drains: every acknowledged record is in Kafka', async (t) => {
  const topic = uniqueName('drain')
  await createTopic(topic, 3)
  const proxy = await bootProxy(t)
  const acked: Array<{ value: string, partition: number, offset: number }> = []
  const state = { stop: false }
  const loop = async (id: number): Promise<void> => {
    for (let seq = 0; !state.stop; seq++) {
      const value = `c${id}-${seq}`
      try {
        const res = await produceOne(proxy.url, topic, value)
        const o = res.body.offsets?.[0]
        if (res.status === 200 && o?.error_code === null) acked.push({ value, partition: o.partition, offset: o.offset })
      } catch {
        // Connection refused or reset: the proxy is gone; nothing was acknowledged.
        if (proxy.child.exitCode !== null) return
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }
  const loops = Array.from({ length: 6 }, (_, i) => loop(i))
  await eventually(() => acked.length >= 200 ? true : undefined, { timeoutMs: 30000, what: '200 acknowledged records' })
  const beforeSignal = acked.length
  proxy.child.kill('SIGTERM')
  const code = await proxy.exited
  state.stop = true
  await Promise.all(loops)
  assert.equal(code, 0, 'the primary exits cleanly after draining')
  assert.ok(acked.length >= beforeSignal)
  for (const pid of workerPids(proxy.logs)) assert.equal(alive(pid), false, `worker ${pid} is gone`)

  const read = await readAll(topic, 3, acked.length)
  const inKafka = new Map(read.map((r) => [`${r.partition}@${r.offset}`, r.value?.toString()]))
  for (const a of acked) {
    assert.equal(inKafka.get(`${a.partition}@${a.offset}`), a.value, `acknowledged ${a.value} at ${a.partition}@${a.offset}`)
  }
})

test('a killed worker is replaced and the proxy keeps serving', async (t) => {
  const topic = uniqueName('respawn')
  await createTopic(topic, 1)
  const proxy = await bootProxy(t)
  const original = await eventually(() => { const p = workerPids(proxy.logs); return p.length === 2 ? p : undefined }, { what: 'two workers' })
  const victim = original[0] as number
  process.kill(victim, 'SIGKILL')
  const replacement = await eventually(() => workerPids(proxy.logs).find((p) => !original.includes(p)), { timeoutMs: 30000, what: 'a replacement worker' })
  assert.ok(alive(replacement))
  assert.equal(alive(victim), false)
  assert.ok(proxy.logs.some((l) => l.msg === 'worker exited; starting a replacement' && l.worker_pid === victim))
  for (let i = 0; i < 10; i++) {
    const res = await produceOne(proxy.url, topic, `after-${i}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.offsets[0].error_code, null)
  }
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0)
  for (const pid of [...original, replacement]) assert.equal(alive(pid), false)
})
