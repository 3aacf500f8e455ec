// Group ids librdkafka cannot carry: it takes them as C strings, so the
// binding's DescribeGroups crashed the whole process (SIGSEGV) on "" and on an
// id starting with NUL, and would have described group "a" for "a\0b". Found
// by the fuzz test (test/faults/fuzz.test.ts). The proxy runs in this
// test's process, so a crash fails the test.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startProxy } from '../helpers/proxy.js'
import { request, show } from '../helpers/consumers.js'

test('consumer group ids with NUL are 404s, not a crash', async (t) => {
  const { url } = await startProxy(t)
  const clusters = await request('GET', `${url}/v3/clusters`)
  const cid = clusters.body.data[0].cluster_id as string
  for (const path of ['%00', '%00abc', 'a%00b', '%00/consumers/x', '%00/lags', '%00/lag-summary', 'a%00b/lags']) {
    const res = await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${path}`)
    assert.equal(res.status, 404, `${path}: ${show(res)}`)
    assert.equal(res.body?.error_code, 404, `${path}: ${show(res)}`)
    assert.match(res.body.message, /could not be found/, path)
  }
  assert.equal((await request('GET', `${url}/v3/clusters/${cid}/consumer-groups`)).status, 200, 'still serving')
})

// On a cluster whose __consumer_offsets does not exist yet, the first
// DescribeGroups finds no coordinator, and the binding read the NULL assignor
// name of that answer: SIGSEGV (fuzz test again). The proxy asks for the
// coordinators first and answers a group without one as retriable (50003).
test('the first consumer-group reads on a fresh cluster answer, retriable at worst, and never crash', async (t) => {
  const { startOwnBroker } = await import('../helpers/broker.js')
  const own = await startOwnBroker(t)
  const { url } = await startProxy(t, { kafka: { bootstrap_servers: own.current.bootstrapServers } })
  const clusters = await request('GET', `${url}/v3/clusters`)
  const cid = clusters.body.data[0].cluster_id as string
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) {
    const answers = await Promise.all(['g-first', 'g-second', '1e400'].map((g) => request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${g}`)))
    for (const res of answers) {
      // 50003: Confluent's "Kafka retriable error", HTTP 500 with retriable true.
      assert.ok(res.status === 404 || (res.body?.error_code === 50003 && res.body?.retriable === true), show(res))
      statuses.push(res.status)
    }
    if (answers.every((r) => r.status === 404)) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  assert.equal(statuses.at(-1), 404, `the coordinator was found in the end: ${statuses.join(',')}`)
})
