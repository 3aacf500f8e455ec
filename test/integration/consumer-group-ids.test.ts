// Group ids librdkafka cannot carry: it takes them as C strings, so the
// binding's DescribeGroups crashed the whole process (SIGSEGV) on "" and on an
// id starting with NUL, and would have described group "a" for "a\0b". Found
// by the fuzz test (test/faults/fuzz.long.test.ts). The proxy runs in this
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
