// Rule semantics of [[authorization.rules]] and the users file's hashes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import bcrypt from 'bcryptjs'
import type { AuthorizationRule } from '../../src/config/schema.js'
import { Authorizer, compileRules } from '../../src/security/authorize.js'
import { operationOf } from '../../src/security/guard.js'
import { hashPassword, readUsersFile, verifyPassword } from '../../src/security/passwords.js'
import { principal } from '../../src/security/principal.js'

function rule (r: Partial<AuthorizationRule>): AuthorizationRule {
  return { effect: 'allow', principals: [], roles: [], claims: [], operations: [], topics: [], groups: [], routes: [], cluster: false, ...r }
}

const alice = principal('alice', 'jwt', ['dev'], { tenant: 'acme' })
const bob = principal('bob', 'basic', ['ops'])

test('exact names, prefixes and regexes; principals, roles and claims', () => {
  const a = new Authorizer([
    rule({ principals: ['alice'], operations: ['produce'], topics: ['orders', 'sec-*', '/^log-[0-9]+$/'] }),
    rule({ roles: ['ops'], operations: ['describe'], groups: ['g-*'] }),
    rule({ claims: ['tenant=acme'], operations: ['consume'], topics: ['acme-*'] })
  ], 100)
  assert.equal(a.allows(alice, 'produce', 'topic', 'orders'), true)
  assert.equal(a.allows(alice, 'produce', 'topic', 'sec-1'), true)
  assert.equal(a.allows(alice, 'produce', 'topic', 'log-42'), true)
  assert.equal(a.allows(alice, 'produce', 'topic', 'log-x'), false)
  assert.equal(a.allows(alice, 'consume', 'topic', 'orders'), false, 'another operation')
  assert.equal(a.allows(bob, 'produce', 'topic', 'orders'), false, 'another principal')
  assert.equal(a.allows(bob, 'describe', 'group', 'g-1'), true, 'by role')
  assert.equal(a.allows(alice, 'consume', 'topic', 'acme-in'), true, 'by claim')
  assert.equal(a.allows(bob, 'consume', 'topic', 'acme-in'), false)
  assert.equal(a.allowsAny(alice, 'produce', 'topic'), true)
  assert.equal(a.allowsAny(bob, 'produce', 'topic'), false)
})

test('deny rules win, nothing matched is denied, * means every operation', () => {
  const a = new Authorizer([
    rule({ operations: ['*'], topics: ['*'], cluster: true }),
    rule({ effect: 'deny', principals: ['bob'], operations: ['delete'], topics: ['prod-*'] })
  ], 100)
  assert.equal(a.allows(bob, 'delete', 'topic', 'dev-1'), true)
  assert.equal(a.allows(bob, 'delete', 'topic', 'prod-1'), false)
  assert.equal(a.allows(alice, 'delete', 'topic', 'prod-1'), true)
  assert.equal(a.allows(alice, 'admin', 'cluster', ''), true)
  assert.equal(a.allows(alice, 'consume', 'group', 'g'), false, 'no rule names groups')
  assert.equal(a.gatesRoutes, false)
})

test('route rules gate routes by operationId or path', () => {
  const a = new Authorizer([rule({ principals: ['alice'], operations: ['describe'], routes: ['listKafkaV3Topics', '/v3/clusters/*'] })], 100)
  assert.equal(a.gatesRoutes, true)
  assert.equal(a.allows(alice, 'describe', 'route', 'listKafkaV3Topics'), true)
  assert.equal(a.allows(alice, 'describe', 'route', '/v3/clusters/{cluster_id}/brokers'), true)
  assert.equal(a.allows(bob, 'describe', 'route', 'listKafkaV3Topics'), false)
})

test('decisions are cached per principal and the cache is bounded', () => {
  const a = new Authorizer([rule({ principals: ['alice'], operations: ['produce'], topics: ['t-*'] })], 2)
  for (let i = 0; i < 10; i++) assert.equal(a.allows(alice, 'produce', 'topic', `t-${i}`), true)
  assert.equal(a.allows(bob, 'produce', 'topic', 't-1'), false)
})

test('invalid rules are refused with their index', () => {
  assert.throws(() => compileRules([rule({ operations: ['write'], topics: ['x'] })]), /authorization.rules\[0\].operations: "write" is not one of/)
  assert.throws(() => compileRules([rule({ operations: ['produce'] })]), /needs topics, groups, routes or cluster/)
  assert.throws(() => compileRules([rule({ operations: ['produce'], topics: ['/(/'] })]), /is not a regular expression/)
  assert.throws(() => compileRules([rule({ operations: ['produce'], topics: ['x'], claims: ['tenant'] })]), /is not name=value/)
})

test('Kafka ACL operations of the route table map to the rule words', () => {
  assert.equal(operationOf({ operation: 'Write', resource: 'topic' }), 'produce')
  assert.equal(operationOf({ operation: 'Read', resource: 'group' }), 'consume')
  assert.equal(operationOf({ operation: 'DescribeConfigs', resource: 'topic' }), 'describe')
  assert.equal(operationOf({ operation: 'AlterConfigs', resource: 'cluster' }), 'alter')
  assert.equal(operationOf({ operation: 'Alter', resource: 'cluster' }), 'admin')
  assert.equal(operationOf({ operation: 'Alter', resource: 'topic' }), 'alter')
})

test('scrypt and bcrypt hashes verify; plain text in the users file is refused', async (t) => {
  const hash = await hashPassword('s3cret', { N: 1024, r: 8, p: 1 })
  assert.match(hash, /^\$scrypt\$N=1024,r=8,p=1\$/)
  assert.equal(await verifyPassword('s3cret', hash), true)
  assert.equal(await verifyPassword('wrong', hash), false)
  const b = bcrypt.hashSync('s3cret', 6)
  assert.equal(await verifyPassword('s3cret', b), true)
  assert.equal(await verifyPassword('nope', b), false)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'users-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'users')
  writeFileSync(file, `# comment\nalice:${hash}\nbob:${b}\n`)
  assert.deepEqual([...readUsersFile(file).keys()], ['alice', 'bob'])
  writeFileSync(file, 'carol:plaintext\n')
  assert.throws(() => readUsersFile(file), /users:1: expected name:<scrypt or bcrypt hash>/)
})

test('npm run user -- add writes an entry that verifies, reading the password from stdin', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'users-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'users')
  const script = fileURLToPath(new URL('../../scripts/user.ts', import.meta.url))
  execFileSync(process.execPath, ['--import', 'tsx', script, 'add', 'dave', '--file', file], { input: 'dave-pw\n', stdio: ['pipe', 'ignore', 'ignore'] })
  const entry = readFileSync(file, 'utf8').trim()
  assert.match(entry, /^dave:\$scrypt\$/)
  assert.equal(await verifyPassword('dave-pw', entry.slice('dave:'.length)), true)
})
