import { test } from 'node:test'
import assert from 'node:assert/strict'
import { aclQuery, compareAcls, parseBinding, parseFilter } from '../../src/api/v3/acls.js'
import { ProxyError } from '../../src/errors.js'
import type { AclBinding } from '../../src/kafka/admin.js'

const acl: AclBinding = { resourceType: 'TOPIC', resourceName: 't', patternType: 'LITERAL', principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW' }
const body = { resource_type: 'TOPIC', resource_name: 't', pattern_type: 'LITERAL', principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW' }

function rejects (fn: () => unknown, status: number, errorCode: number, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProxyError)
    assert.equal(err.status, status)
    assert.equal(err.errorCode, errorCode)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

test('parseFilter: defaults ANY and null, case-insensitive, UNKNOWN refused', () => {
  assert.deepEqual(parseFilter('', false), { resourceType: 'ANY', resourceName: null, patternType: 'ANY', principal: null, host: null, operation: 'ANY', permission: 'ANY' })
  assert.deepEqual(parseFilter('resource_type=topic&resource_name=x&pattern_type=Match&principal=User%3Ab&host=*&operation=read&permission=deny', false),
    { resourceType: 'TOPIC', resourceName: 'x', patternType: 'MATCH', principal: 'User:b', host: '*', operation: 'READ', permission: 'DENY' })
  rejects(() => parseFilter('operation=unknown', false), 400, 400, /operation cannot be UNKNOWN/)
  rejects(() => parseFilter('permission=maybe', false), 400, 400)
})

test('parseFilter for DELETE: the four enums must be present and not UNKNOWN', () => {
  const q = 'resource_type=TOPIC&pattern_type=ANY&operation=ANY&permission=ANY'
  assert.equal(parseFilter(q, true).resourceType, 'TOPIC')
  rejects(() => parseFilter('pattern_type=ANY&operation=ANY&permission=ANY', true), 400, 400, /resource_type cannot be unspecified or UNKNOWN/)
  rejects(() => parseFilter(q.replace('permission=ANY', 'permission=UNKNOWN'), true), 400, 400, /permission cannot be unspecified or UNKNOWN/)
})

test('parseBinding takes one concrete ACL', () => {
  assert.deepEqual(parseBinding(body), acl)
  assert.deepEqual(parseBinding({ ...body, operation: 'read', permission: 'allow' }), acl)
  rejects(() => parseBinding({ ...body, resource_type: 'ANY' }), 400, 400)
  rejects(() => parseBinding({ ...body, pattern_type: 'MATCH' }), 400, 400, /pattern_type cannot be MATCH/)
  rejects(() => parseBinding({ ...body, operation: 'ANY' }), 400, 400)
  rejects(() => parseBinding({ ...body, host: 1 }), 400, 400, /host is required/)
  rejects(() => parseBinding({ ...body, principal: undefined }, 'data[3].'), 400, 400, /data\[3\]\.principal/)
  rejects(() => parseBinding([]), 400, 400)
  rejects(() => parseBinding({ ...body, resource_type: 'CLUSTER', resource_name: 'c' }), 400, 40002)
  assert.equal(parseBinding({ ...body, resource_type: 'CLUSTER', resource_name: 'kafka-cluster' }).resourceType, 'CLUSTER')
})

test('aclQuery names an ACL in Confluent parameter order', () => {
  assert.equal(aclQuery(acl), 'resource_type=TOPIC&resource_name=t&pattern_type=LITERAL&principal=User%3Aalice&host=*&operation=READ&permission=ALLOW')
  assert.equal(aclQuery({ ...acl, resourceName: null, principal: null, host: null }), 'resource_type=TOPIC&resource_name=&pattern_type=LITERAL&principal=&host=&operation=READ&permission=ALLOW')
})

test('compareAcls sorts enums by declaration order, then strings', () => {
  const list: AclBinding[] = [
    { ...acl, resourceType: 'GROUP' },
    { ...acl, patternType: 'PREFIXED' },
    { ...acl, operation: 'WRITE' },
    { ...acl, resourceName: 'a' },
    acl,
    { ...acl, permission: 'DENY' }
  ]
  const sorted = [...list].sort(compareAcls)
  assert.deepEqual(sorted, [list[3], list[5], list[4], list[2], list[1], list[0]])
})
