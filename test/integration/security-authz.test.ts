// The authorization matrix: each operation on each kind of resource with one
// principal the rules allow and one they do not, through v2, v3 and streams;
// v3 lists filtered to what the principal may describe; another principal's
// v2 consumer instance unreachable. Principals are Basic users.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { defaultConfig, type AuthorizationRule } from '../../src/config/schema.js'
import { hashPassword } from '../../src/security/passwords.js'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { WsClient } from '../helpers/ws.js'

const V2 = 'application/vnd.kafka.json.v2+json'
const V2_META = 'application/vnd.kafka.v2+json'

function rule (r: Partial<AuthorizationRule>): AuthorizationRule {
  return { effect: 'allow', principals: [], roles: [], claims: [], operations: [], topics: [], groups: [], routes: [], cluster: false, ...r }
}

test('authorization matrix through v2, v3 and streams', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-authz-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const users = path.join(dir, 'users')
  const roles = path.join(dir, 'roles')
  const names = ['alice', 'bob', 'carol', 'olga']
  writeFileSync(users, (await Promise.all(names.map(async (n) => `${n}:${await hashPassword(`${n}-pw`, { N: 1024, r: 8, p: 1 })}`))).join('\n') + '\n')
  writeFileSync(roles, 'olga:ops\n')
  const prefix = uniqueName('sec')
  const topic = `${prefix}-a`
  const other = `${prefix}-b`
  await createTopic(topic, 1)
  await createTopic(other, 1)
  const group = `${prefix}-g`
  // alice: produce/consume/describe sec-*-a and its groups; bob: describe only;
  // olga (role ops): create, alter, delete topics, describe and admin the
  // cluster; carol: nothing. A deny rule takes other from alice.
  const rules = [
    rule({ principals: ['alice'], operations: ['produce', 'consume', 'describe'], topics: [`${prefix}-*`], groups: [`${prefix}-*`] }),
    rule({ effect: 'deny', principals: ['alice'], operations: ['*'], topics: [other] }),
    rule({ principals: ['bob'], operations: ['describe'], topics: [`${prefix}-*`], groups: [`${prefix}-*`] }),
    rule({ principals: ['bob'], operations: ['consume'], groups: [`${prefix}-*`] }),
    rule({ roles: ['ops'], operations: ['create', 'alter', 'delete', 'describe'], topics: [`${prefix}-*`] }),
    rule({ roles: ['ops'], operations: ['describe', 'admin'], cluster: true })
  ]
  const base = defaultConfig()
  const proxy = await startProxy(t, {
    auth: { ...base.auth, basic: { users_file: users, roles_file: roles } },
    authorization: { rules, cache_entries: 1000 },
    webhooks: { allowed_hosts: ['127.0.0.1'], store_topic: uniqueName('authz-webhooks') }
  })
  const as = (user: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${user}-pw`).toString('base64')}` })
  const call = async (user: string, method: string, p: string, body?: unknown, type = 'application/json', accept?: string): Promise<{ status: number, body: any }> => {
    const res = await fetch(`${proxy.url}${p}`, {
      method,
      headers: { ...as(user), ...(body === undefined ? {} : { 'content-type': type }), ...(accept === undefined ? {} : { accept }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch {}
    return { status: res.status, body: parsed }
  }
  const cluster = ((await call('olga', 'GET', '/v3/clusters')).body as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id as string
  const v3 = `/v3/clusters/${cluster}`
  const expect = async (allowed: string, denied: string, method: string, p: string, body?: unknown, type?: string, accept?: string): Promise<void> => {
    const yes = await call(allowed, method, p, body, type, accept)
    assert.ok(yes.status < 400, `${allowed} ${method} ${p}: ${yes.status} ${JSON.stringify(yes.body)}`)
    const no = await call(denied, method, p, body, type, accept)
    assert.equal(no.status, 403, `${denied} ${method} ${p}: ${JSON.stringify(no.body)}`)
    assert.equal((no.body as { error_code: number }).error_code, 40300)
  }

  await t.test('produce on a topic: v2 and v3', async () => {
    await expect('alice', 'bob', 'POST', `/topics/${topic}`, { records: [{ value: { n: 1 } }] }, V2)
    await expect('alice', 'bob', 'POST', `${v3}/topics/${topic}/records`, { value: { type: 'JSON', data: { n: 2 } } })
    assert.equal((await call('alice', 'POST', `/topics/${other}`, { records: [{ value: 1 }] }, V2)).status, 403, 'a deny rule wins over an allow rule')
  })

  await t.test('consume a topic: v3 partition read, SSE stream, v2 subscription', async () => {
    await expect('alice', 'bob', 'GET', `${v3}/topics/${topic}/partitions/0/records?offset=0&max_records=1`)
    const ok = await fetch(`${proxy.url}${v3}/topics/${topic}/records?from=earliest`, { headers: { ...as('alice'), accept: 'text/event-stream' } })
    assert.equal(ok.status, 200)
    await ok.body?.cancel()
    const no = await fetch(`${proxy.url}${v3}/topics/${topic}/records?from=earliest`, { headers: { ...as('bob'), accept: 'text/event-stream' } })
    assert.equal(no.status, 403)
    // A WebSocket upgrade on the stream path passes the same guard: Read, and
    // Write since its socket may produce.
    const socket = await WsClient.open(`${proxy.url}${v3}/topics/${topic}/records?from=earliest`, as('alice'))
    await socket.until(() => socket.events('start').length === 1)
    socket.close()
    for (const [who, headers, code] of [['bob', as('bob'), 403], ['nobody', {}, 401], ['a wrong password', { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` }, 401]] as const) {
      await assert.rejects(WsClient.open(`${proxy.url}${v3}/topics/${topic}/records?from=earliest`, headers), (err: { status?: number, body?: { error_code?: number } }) => {
        assert.equal(err.status, code, `${who}: ${JSON.stringify(err)}`)
        assert.equal(err.body?.error_code, code * 100)
        return true
      })
    }
    // bob may consume in the group but not the topic.
    for (const user of ['alice', 'bob']) {
      const created = await call(user, 'POST', `/consumers/${group}`, { name: user, format: 'binary' }, V2)
      assert.equal(created.status, 200, JSON.stringify(created.body))
    }
    assert.equal((await call('alice', 'POST', `/consumers/${group}/instances/alice/subscription`, { topics: [topic] }, V2)).status, 204)
    assert.equal((await call('bob', 'POST', `/consumers/${group}/instances/bob/subscription`, { topics: [topic] }, V2)).status, 403)
    assert.equal((await call('alice', 'POST', `/consumers/${group}/instances/alice/subscription`, { topic_pattern: `${prefix}.*` }, V2)).status, 403, 'a pattern needs consume on every topic')
  })

  await t.test('another principal\'s consumer instance is not found', async () => {
    const theirs = await call('bob', 'GET', `/consumers/${group}/instances/alice/subscription`, undefined, undefined, V2_META)
    assert.equal(theirs.status, 404)
    assert.equal((theirs.body as { error_code: number }).error_code, 40403)
    assert.equal((await call('bob', 'DELETE', `/consumers/${group}/instances/alice`, undefined, V2)).status, 404)
    assert.equal((await call('alice', 'GET', `/consumers/${group}/instances/alice/subscription`, undefined, undefined, V2_META)).status, 200)
    for (const user of ['alice', 'bob']) await call(user, 'DELETE', `/consumers/${group}/instances/${user}`, undefined, V2)
  })

  await t.test('another principal\'s webhook subscription is not found, nor listed', async () => {
    const subs = `${v3}/topics/${topic}/subscriptions`
    const created = await call('alice', 'POST', subs, { callback_url: 'http://127.0.0.1:9/hook', from: 'latest' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const id = created.body.subscription_id as string
    assert.equal((await call('alice', 'GET', `${subs}/${id}`)).status, 200)
    // bob may describe the topic, so he reaches the routes, but not alice's subscription.
    const theirs = await call('bob', 'GET', `${subs}/${id}`)
    assert.equal(theirs.status, 404, JSON.stringify(theirs.body))
    assert.equal(theirs.body.error_code, 40404)
    assert.deepEqual((await call('bob', 'GET', subs)).body.data, [])
    assert.deepEqual((await call('alice', 'GET', subs)).body.data.map((d: { subscription_id: string }) => d.subscription_id), [id])
    // Deleting needs delete on groups, which neither has: the rules still apply to the owner.
    assert.equal((await call('bob', 'DELETE', `${subs}/${id}`)).status, 403)
  })

  await t.test('consume in a group: v2 consumer creation', async () => {
    await expect('alice', 'carol', 'POST', `/consumers/${group}-2`, { name: 'x', format: 'binary' }, V2)
    await call('alice', 'DELETE', `/consumers/${group}-2/instances/x`, undefined, V2)
  })

  await t.test('describe a topic: v2 and v3; lists are filtered', async () => {
    await expect('bob', 'carol', 'GET', `/topics/${topic}`, undefined, undefined, V2_META)
    await expect('bob', 'carol', 'GET', `${v3}/topics/${topic}`)
    await expect('bob', 'carol', 'GET', `${v3}/topics/${topic}/partitions`)
    const v3list = (await call('bob', 'GET', `${v3}/topics`)).body as { data: Array<{ topic_name: string }> }
    assert.deepEqual(v3list.data.map((d) => d.topic_name).filter((n) => n.startsWith(prefix)).sort(), [topic, other])
    assert.ok(v3list.data.every((d) => d.topic_name.startsWith(`${prefix}-`)), 'only what bob may describe')
    const v2list = (await call('alice', 'GET', '/topics', undefined, undefined, V2_META)).body as string[]
    assert.deepEqual(v2list, [topic], 'alice is denied the other topic')
    assert.equal((await call('carol', 'GET', `${v3}/topics`)).status, 403, 'carol may describe no topic at all')
  })

  await t.test('describe a group: v3', async () => {
    // A group is in Kafka once a member joined it (an empty group without
    // offsets may be gone by the time it is described): alice's instance
    // joins by reading, and stays until the group was described.
    const joined = `${group}-3`
    assert.equal((await call('alice', 'POST', `/consumers/${joined}`, { name: 'd', format: 'binary' }, V2)).status, 200)
    assert.equal((await call('alice', 'POST', `/consumers/${joined}/instances/d/subscription`, { topics: [topic] }, V2)).status, 204)
    await eventually(async () => {
      await call('alice', 'GET', `/consumers/${joined}/instances/d/records?timeout=500`, undefined, undefined, 'application/vnd.kafka.binary.v2+json')
      return (await call('bob', 'GET', `${v3}/consumer-groups/${joined}/consumers`)).status === 200 ? true : undefined
    }, { what: 'the group to have its member' })
    await expect('bob', 'carol', 'GET', `${v3}/consumer-groups/${joined}/consumers`)
    await call('alice', 'DELETE', `/consumers/${joined}/instances/d`, undefined, V2)
  })

  await t.test('create, alter and delete topics: v3', async () => {
    const made = `${prefix}-made`
    await expect('olga', 'alice', 'POST', `${v3}/topics`, { topic_name: made, partitions_count: 1, replication_factor: 1 })
    await expect('olga', 'alice', 'POST', `${v3}/topics/${made}/configs:alter`, { data: [{ name: 'retention.ms', value: '100000' }] })
    await expect('olga', 'alice', 'DELETE', `${v3}/topics/${made}`)
  })

  await t.test('describe and administer the cluster: v2 and v3', async () => {
    await expect('olga', 'bob', 'GET', '/brokers', undefined, undefined, V2_META)
    await expect('olga', 'bob', 'GET', `${v3}/brokers`)
    // The test broker has no authorizer, so Kafka itself refuses ACLs; the proxy let olga through.
    const acl = { resource_type: 'TOPIC', resource_name: topic, pattern_type: 'LITERAL', principal: 'User:x', host: '*', operation: 'READ', permission: 'ALLOW' }
    assert.notEqual((await call('olga', 'POST', `${v3}/acls`, acl)).status, 403)
    assert.equal((await call('bob', 'POST', `${v3}/acls`, acl)).status, 403)
  })
})

test('route rules: once a rule names routes, only the routes named are served', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-authz-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const users = path.join(dir, 'users')
  writeFileSync(users, `dora:${await hashPassword('dora-pw', { N: 1024, r: 8, p: 1 })}\n`)
  const base = defaultConfig()
  const proxy = await startProxy(t, {
    auth: { ...base.auth, basic: { users_file: users, roles_file: '' } },
    authorization: { rules: [rule({ principals: ['dora'], operations: ['describe'], routes: ['listKafkaV3Clusters', '/openapi.json'], cluster: true })], cache_entries: 100 }
  })
  const headers = { authorization: `Basic ${Buffer.from('dora:dora-pw').toString('base64')}` }
  assert.equal((await fetch(`${proxy.url}/v3/clusters`, { headers })).status, 200)
  assert.equal((await fetch(`${proxy.url}/openapi.json`, { headers })).status, 200, 'by path template')
  assert.equal((await fetch(`${proxy.url}/brokers`, { headers })).status, 403, 'the cluster rule alone does not open other routes')
  assert.equal((await fetch(`${proxy.url}/health/ready`)).status, 200)
})
