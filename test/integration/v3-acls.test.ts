// v3 ACLs against the real broker (StandardAuthorizer; the tests run as the
// super user, so ACLs for other principals never block them). Every ACL names
// a unique resource and principal and is deleted when the test ends.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createKafkaAdmin } from '../../src/kafka/admin.js'
import { createLogger } from '../../src/logger.js'
import { bootstrap, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, request, show, type HttpResult } from '../helpers/consumers.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

interface Acl {
  resource_type: string
  resource_name: string
  pattern_type: string
  principal: string
  host: string
  operation: string
  permission: string
}

function query (a: Acl): string {
  return new URLSearchParams(Object.entries(a)).toString()
}

async function setup (t: TestContext): Promise<{ C: string, cid: string, name: string, principal: string }> {
  const { url } = await startProxy(t)
  // The cluster id the proxy checks `{cluster_id}` against, and a cleanup
  // that must not depend on the proxy (stopped by then), from the cluster directly.
  const admin = createKafkaAdmin({ bootstrapServers: bootstrap(), clientId: 'test-v3-acls', requestTimeoutMs: 10000, properties: {}, log: createLogger('silent', 'test') })
  const name = uniqueName('acl-topic')
  const principal = `User:${uniqueName('alice')}`
  t.after(async () => {
    try {
      await admin.deleteAcls([{ resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal, host: null, operation: 'ANY', permission: 'ANY' }])
    } finally {
      await admin.close()
    }
  })
  const cid = (await admin.describeCluster()).clusterId
  return { C: `${url}/v3/clusters/${cid}`, cid, name, principal }
}

async function search (C: string, q: string, count: number): Promise<HttpResult> {
  // CreateAcls returns once the controller committed the records; a broker
  // answers DescribeAcls from its own copy, which can trail by a moment.
  return await eventually(async () => {
    const res = await request('GET', `${C}/acls?${q}`)
    assert.equal(res.status, 200, show(res))
    return res.body.data.length === count ? res : undefined
  }, { what: `${count} ACLs for ${q}` })
}

test('POST creates an ACL (201 + Location), GET finds it, DELETE removes it and returns it', async (t) => {
  const { C, cid, name, principal } = await setup(t)
  const read: Acl = { resource_type: 'TOPIC', resource_name: name, pattern_type: 'LITERAL', principal, host: '*', operation: 'READ', permission: 'ALLOW' }
  const write: Acl = { ...read, pattern_type: 'PREFIXED', operation: 'WRITE', permission: 'DENY' }

  const created = await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: read })
  assert.equal(created.status, 201, show(created))
  assert.equal(created.text, '')
  assert.equal(created.headers.location, `${C}/acls?${query(read)}`)
  // Enum values in the body are case-insensitive.
  const second = await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: { ...write, operation: 'write', pattern_type: 'prefixed' } })
  assert.equal(second.status, 201, show(second))
  assert.equal(second.headers.location, `${C}/acls?${query(write)}`)

  const res = await search(C, `resource_name=${name}`, 2)
  assert.equal(res.body.kind, 'KafkaAclList')
  assert.deepEqual(res.body.metadata, {
    self: `${C}/acls?resource_type=ANY&resource_name=${name}&pattern_type=ANY&principal=&host=&operation=ANY&permission=ANY`,
    next: null
  })
  // Sorted by resource type, name, pattern type (LITERAL before PREFIXED), …
  assert.deepEqual(res.body.data, [read, write].map((a) => ({ kind: 'KafkaAcl', metadata: { self: `${C}/acls?${query(a)}` }, cluster_id: cid, ...a })))

  await t.test('filters: each field narrows the search, enum values case-insensitively', async () => {
    const only = async (q: string, expected: Acl[]): Promise<void> => {
      const r = await request('GET', `${C}/acls?resource_name=${name}&${q}`)
      assert.equal(r.status, 200, show(r))
      assert.deepEqual(r.body.data.map((a: any) => a.operation), expected.map((a) => a.operation), q)
    }
    await only('resource_type=topic&pattern_type=literal', [read])
    await only('pattern_type=PREFIXED', [write])
    await only('operation=Read', [read])
    await only('permission=deny', [write])
    await only(`principal=${encodeURIComponent(principal)}&host=*`, [read, write])
    await only('principal=User:nobody', [])
    await only('resource_type=GROUP', [])
  })

  await t.test('search parameters: UNKNOWN and unknown values are 400', async () => {
    for (const q of ['resource_type=UNKNOWN', 'pattern_type=unknown', 'operation=UNKNOWN', 'permission=UNKNOWN', 'operation=FLY', 'resource_type=TABLE']) {
      assertError(await request('GET', `${C}/acls?${q}`), 400, 400, q)
    }
  })

  await t.test('DELETE returns exactly the deleted ACLs, sorted', async () => {
    const del = await request('DELETE', `${C}/acls?resource_type=TOPIC&resource_name=${name}&pattern_type=ANY&operation=ANY&permission=ANY`)
    assert.equal(del.status, 200, show(del))
    assert.deepEqual(del.body, { data: res.body.data })
    await search(C, `resource_name=${name}`, 0)
    const again = await request('DELETE', `${C}/acls?resource_type=TOPIC&resource_name=${name}&pattern_type=ANY&operation=ANY&permission=ANY`)
    assert.equal(again.status, 200, show(again))
    assert.deepEqual(again.body, { data: [] })
  })
})

test('DELETE requires resource_type, pattern_type, operation and permission, none UNKNOWN', async (t) => {
  const { C } = await setup(t)
  const full: Record<string, string> = { resource_type: 'TOPIC', pattern_type: 'ANY', operation: 'ANY', permission: 'ANY' }
  for (const field of Object.keys(full)) {
    const missing = new URLSearchParams(Object.entries(full).filter(([k]) => k !== field)).toString()
    const res = await request('DELETE', `${C}/acls?${missing}`)
    assertError(res, 400, 400, `without ${field}`)
    assert.match(res.body.message, new RegExp(`${field} cannot be unspecified or UNKNOWN`))
    const unknown = new URLSearchParams({ ...full, [field]: 'UNKNOWN' }).toString()
    const res2 = await request('DELETE', `${C}/acls?${unknown}`)
    assertError(res2, 400, 400, `${field}=UNKNOWN`)
    assert.match(res2.body.message, new RegExp(`${field} cannot be unspecified or UNKNOWN`))
  }
})

test('POST refuses bodies that do not name one concrete ACL', async (t) => {
  const { C, name, principal } = await setup(t)
  const good: Acl = { resource_type: 'TOPIC', resource_name: name, pattern_type: 'LITERAL', principal, host: '*', operation: 'READ', permission: 'ALLOW' }

  const empty = await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: '' })
  assertError(empty, 422, 42206, 'empty body')
  assertError(await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: 'null' }), 422, 42206, 'null body')

  const cluster = await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: { ...good, resource_type: 'CLUSTER', resource_name: name } })
  assertError(cluster, 400, 40002, 'CLUSTER not named kafka-cluster')

  const bad: Array<[string, Partial<Record<keyof Acl, string | undefined>>]> = [
    ['resource_type ANY', { resource_type: 'ANY' }],
    ['resource_type UNKNOWN', { resource_type: 'UNKNOWN' }],
    ['pattern_type MATCH', { pattern_type: 'MATCH' }],
    ['pattern_type ANY', { pattern_type: 'ANY' }],
    ['operation ANY', { operation: 'ANY' }],
    ['permission UNKNOWN', { permission: 'UNKNOWN' }],
    ['operation not an operation', { operation: 'FLY' }],
    ['principal missing', { principal: undefined }],
    ['host missing', { host: undefined }],
    ['resource_name missing', { resource_name: undefined }]
  ]
  for (const [what, change] of bad) {
    assertError(await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: { ...good, ...change } }), 400, 400, what)
  }
  assertError(await request('POST', `${C}/acls`, { headers: { 'content-type': 'text/plain' }, body: good }), 415, 415, 'media type')
  assertError(await request('POST', `${C.replace(/clusters\/[^/]+$/, 'clusters/no-such-cluster')}/acls`, { headers: JSON_HEADERS, body: good }), 404, 404, 'unknown cluster')
  // None of the refused requests created anything.
  const res = await request('GET', `${C}/acls?principal=${encodeURIComponent(principal)}`)
  assert.equal(res.status, 200, show(res))
  assert.deepEqual(res.body.data, [])
})

test('a CLUSTER ACL named kafka-cluster is created and deleted', async (t) => {
  const { C, cid, principal } = await setup(t)
  const acl: Acl = { resource_type: 'CLUSTER', resource_name: 'kafka-cluster', pattern_type: 'LITERAL', principal, host: '*', operation: 'DESCRIBE', permission: 'DENY' }
  const created = await request('POST', `${C}/acls`, { headers: JSON_HEADERS, body: acl })
  assert.equal(created.status, 201, show(created))
  const found = await search(C, `resource_type=CLUSTER&principal=${encodeURIComponent(principal)}`, 1)
  assert.deepEqual(found.body.data, [{ kind: 'KafkaAcl', metadata: { self: `${C}/acls?${query(acl)}` }, cluster_id: cid, ...acl }])
  const del = await request('DELETE', `${C}/acls?resource_type=CLUSTER&pattern_type=LITERAL&operation=DESCRIBE&permission=DENY&principal=${encodeURIComponent(principal)}`)
  assert.equal(del.status, 200, show(del))
  assert.deepEqual(del.body.data, found.body.data)
})

test('acls:batch creates every ACL (204); one bad entry creates none', async (t) => {
  const { C, cid, name, principal } = await setup(t)
  const acls: Acl[] = [
    { resource_type: 'GROUP', resource_name: name, pattern_type: 'LITERAL', principal, host: '*', operation: 'READ', permission: 'ALLOW' },
    { resource_type: 'TOPIC', resource_name: name, pattern_type: 'PREFIXED', principal, host: '10.0.0.1', operation: 'DESCRIBE', permission: 'ALLOW' },
    { resource_type: 'TOPIC', resource_name: name, pattern_type: 'LITERAL', principal, host: '*', operation: 'ALL', permission: 'DENY' }
  ]
  const badBatch = await request('POST', `${C}/acls:batch`, { headers: JSON_HEADERS, body: { data: [acls[0], { ...acls[1], pattern_type: 'MATCH' }] } })
  assertError(badBatch, 400, 400, 'bad entry')
  assert.match(badBatch.body.message, /data\[1\]\.pattern_type/)
  assertError(await request('POST', `${C}/acls:batch`, { headers: JSON_HEADERS, body: { data: 'x' } }), 400, 400, 'data not an array')
  assertError(await request('POST', `${C}/acls:batch`, { headers: JSON_HEADERS, body: '' }), 422, 42206, 'empty body')

  const res = await request('POST', `${C}/acls:batch`, { headers: JSON_HEADERS, body: { data: acls } })
  assert.equal(res.status, 204, show(res))
  assert.equal(res.text, '')
  const found = await search(C, `principal=${encodeURIComponent(principal)}`, 3)
  // TOPIC sorts before GROUP; LITERAL before PREFIXED.
  assert.deepEqual(found.body.data, [acls[2], acls[1], acls[0]].map((a) => ({ kind: 'KafkaAcl', metadata: { self: `${C}/acls?${query(a)}` }, cluster_id: cid, ...a })))
})
