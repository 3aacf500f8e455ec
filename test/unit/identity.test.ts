// Identity injection (src/security/identity.ts) without a broker: the
// header templates checked at load, their values per principal, forged
// reserved names refused in any case, and the merge with a record's own headers.
// The templates' ${...} are the configuration's syntax, not JavaScript's.
/* eslint-disable no-template-curly-in-string */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig } from '../../src/config/load.js'
import { IdentityInjector, parseIdentityHeaders } from '../../src/security/identity.js'
import { ANONYMOUS, principal } from '../../src/security/principal.js'

const injector = (headers: string[]): IdentityInjector => IdentityInjector.create({ headers, confluent_api: true }) as IdentityInjector
const text = (headers: Array<Record<string, Buffer>>): Array<[string, string]> => headers.map((h) => { const [k, v] = Object.entries(h)[0] as [string, Buffer]; return [k, v.toString()] })

test('off unless confluent_api is true and some headers are configured', () => {
  assert.equal(IdentityInjector.create({ headers: ['x-principal=${identity.sub}'], confluent_api: false }), null)
  assert.equal(IdentityInjector.create({ headers: [], confluent_api: true }), null)
})

test('templates: name=template of ${identity.…} fields only, each problem naming its entry', () => {
  assert.deepEqual(parseIdentityHeaders(['x-principal=${identity.sub}', 'x-who=${identity.method}:${identity.sub}', 'x-tenant=${identity.claims.tenant}', 'x-roles=${identity.roles}']).issues, [])
  const { issues } = parseIdentityHeaders([
    'no-equals',
    '=${identity.sub}',
    'x-from=${headers.x-user}',
    'x-q=${query.user}',
    'x-bad=${identity.email}',
    'x-claims=${identity.claims.}',
    'X-Principal=${identity.sub}',
    'x-principal=${identity.name}',
    'x-open=${identity.sub'
  ])
  assert.equal(issues.length, 8)
  assert.match(issues[0] as string, /^entry 1 \("no-equals"\): must be name=template/)
  assert.match(issues[1] as string, /^entry 2 .*must be name=template/)
  assert.match(issues[2] as string, /^entry 3 .*only \$\{identity\.…\} fields may appear/)
  assert.match(issues[3] as string, /^entry 4 .*only \$\{identity/)
  assert.match(issues[4] as string, /^entry 5 .*\$\{identity\.email\} is not sub, name, method, roles or claims\.NAME/)
  assert.match(issues[5] as string, /^entry 6 .*claims\.NAME/)
  assert.match(issues[6] as string, /^entry 8 .*the header x-principal is named twice/)
  assert.match(issues[7] as string, /^entry 9 .*unterminated/)
})

test('loadConfig reports bad identity.headers with the key', () => {
  assert.throws(() => loadConfig({ env: { KAFKA_PROXY_IDENTITY__HEADERS: 'x-a=${headers.x}' }, argv: [] }), /identity\.headers.*only \$\{identity/)
})

test('values per principal: the sub, method, roles and claims; a field it lacks leaves the header out; anonymous without authentication', () => {
  const inj = injector(['x-principal=${identity.sub}', 'x-auth=${identity.method}', 'x-tenant=${identity.claims.tenant}', 'x-roles=${identity.roles}'])
  const jwt = principal('alice', 'jwt', ['ops', 'dev'], { tenant: 'acme', n: 3 })
  assert.deepEqual(text(inj.headersFor(jwt)), [['x-principal', 'alice'], ['x-auth', 'jwt'], ['x-tenant', 'acme'], ['x-roles', 'ops,dev']])
  assert.equal(inj.headersFor(jwt), inj.headersFor(jwt), 'computed once per principal object')
  assert.deepEqual(text(inj.headersFor(principal('bob', 'basic'))), [['x-principal', 'bob'], ['x-auth', 'basic']], 'no tenant claim, no roles: those headers are left out')
  assert.deepEqual(text(inj.headersFor(undefined)), [['x-principal', 'anonymous'], ['x-auth', 'anonymous']])
  assert.equal(inj.headersFor(undefined), inj.headersFor(ANONYMOUS))
})

test('a client header with a reserved name is refused whatever its case; others pass and come first', () => {
  const inj = injector(['x-principal=${identity.sub}'])
  assert.deepEqual(inj.names, ['x-principal'])
  assert.equal(inj.forged(undefined, 'headers'), null)
  assert.equal(inj.forged([{ trace: Buffer.from('1') }], 'headers'), null)
  for (const name of ['x-principal', 'X-Principal', 'X-PRINCIPAL']) {
    const err = inj.forged([{ trace: Buffer.from('1') }, { [name]: Buffer.from('mallory') }], 'records[2].headers')
    assert.ok(err !== null)
    assert.equal(err.status, 422)
    assert.equal(err.errorCode, 42212)
    assert.equal(err.persisted, 'no')
    assert.equal(err.message, `records[2].headers: the header ${JSON.stringify(name)} is written by the proxy (identity.headers) and cannot be sent`)
  }
  const identity = inj.headersFor(principal('alice', 'basic'))
  assert.equal(inj.merge(undefined, identity), identity, 'no own headers: the shared array, no copy')
  assert.equal(inj.merge([], identity), identity)
  assert.deepEqual(text(inj.merge([{ trace: Buffer.from('1') }], identity)), [['trace', '1'], ['x-principal', 'alice']])
  assert.equal(identity.length, 1, 'merging leaves the shared array as it was')
})
