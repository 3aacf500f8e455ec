// The callback safety rules: which networks are denied, which hosts are
// listed, the URL forms taken, and the lookup that re-checks every
// connection's addresses (DNS rebinding).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultConfig } from '../../src/config/schema.js'
import {
  CallbackRefused, checkCallback, checkedLookup, connectionProblem, deniedNetwork, hostRules, isAllowedHost, parseNetwork, type Resolver
} from '../../src/webhooks/safety.js'

const defaults = defaultConfig().webhooks
const rules = hostRules({ allowedHosts: [], onlyAllowedHosts: false, deniedNetworks: defaults.denied_networks })

test('the default denied networks refuse loopback, link-local, private, shared and reserved addresses of both families', () => {
  for (const a of ['127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'fc00::5', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
    assert.notEqual(deniedNetwork(rules, a), null, `${a} is denied`)
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
    assert.equal(deniedNetwork(rules, a), null, `${a} is allowed`)
  }
})

test('networks: CIDR and single addresses parse; anything else is refused with the reason', () => {
  assert.equal(parseNetwork('10.0.0.0/8').prefix, 8)
  assert.equal(parseNetwork('2001:db8::/32').family, 6)
  assert.equal(parseNetwork('192.0.2.7').prefix, 32)
  assert.throws(() => parseNetwork('10.0.0.0/33'), /prefix must be 0 to 32/)
  assert.throws(() => parseNetwork('example.com/8'), /not a network/)
  assert.throws(() => parseNetwork('10.0.0.0/x'), /prefix/)
  const custom = hostRules({ allowedHosts: [], onlyAllowedHosts: false, deniedNetworks: ['0.0.0.0/0'] })
  assert.notEqual(deniedNetwork(custom, '8.8.8.8'), null, '/0 denies every IPv4 address')
  assert.equal(deniedNetwork(custom, '2001:db8::1'), null, 'an IPv4 network never holds an IPv6 address')
})

test('allowed hosts: exact names (any case, trailing dot), *.domain suffixes, addresses in any spelling', () => {
  const r = hostRules({ allowedHosts: ['Hooks.Example.com', '*.internal.example.com', '127.0.0.1', '::1'], onlyAllowedHosts: false, deniedNetworks: [] })
  assert.ok(isAllowedHost(r, 'hooks.example.com.'))
  assert.ok(isAllowedHost(r, 'a.b.internal.example.com'))
  assert.ok(!isAllowedHost(r, 'internal.example.com'), 'a wildcard does not match the bare domain')
  assert.ok(!isAllowedHost(r, 'evilinternal.example.com'))
  assert.ok(isAllowedHost(r, '[0:0:0:0:0:0:0:1]'))
  assert.ok(isAllowedHost(r, '127.0.0.1'))
  assert.ok(!isAllowedHost(r, '127.0.0.2'))
})

function resolver (table: Record<string, string[]>): Resolver {
  return async (host) => {
    const found = table[host]
    if (found === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return found
  }
}

async function refusal (p: Promise<unknown>): Promise<CallbackRefused> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof CallbackRefused, String(err))
    return err
  }
  assert.fail('expected a refusal')
}

test('a callback is refused for its form, a denied address, a name resolving into a denied network, or a name that does not resolve', async () => {
  const dns = resolver({ 'public.example': ['93.184.216.34'], 'rebind.example': ['93.184.216.34', '10.0.0.7'], 'metadata.example': ['169.254.169.254'] })
  assert.equal((await checkCallback(rules, 'https://public.example/hook?x=1', dns)).hostname, 'public.example')
  assert.equal((await refusal(checkCallback(rules, 'ftp://public.example/', dns))).code, 'url')
  assert.equal((await refusal(checkCallback(rules, 'https://user:pw@public.example/', dns))).code, 'url')
  assert.equal((await refusal(checkCallback(rules, 'https://public.example/#frag', dns))).code, 'url')
  assert.equal((await refusal(checkCallback(rules, 'not a url', dns))).code, 'url')
  assert.equal((await refusal(checkCallback(rules, `https://public.example/${'a'.repeat(2100)}`, dns))).code, 'url')
  assert.equal((await refusal(checkCallback(rules, 'http://127.0.0.1:8080/', dns))).code, 'address')
  assert.equal((await refusal(checkCallback(rules, 'http://[::1]/', dns))).code, 'address')
  assert.equal((await refusal(checkCallback(rules, 'http://2130706433/', dns))).code, 'address', 'the WHATWG parser turns a number into 127.0.0.1')
  assert.equal((await refusal(checkCallback(rules, 'http://rebind.example/', dns))).code, 'address', 'one denied address is enough')
  assert.match((await refusal(checkCallback(rules, 'http://metadata.example/', dns))).message, /169\.254\.0\.0\/16/)
  assert.equal((await refusal(checkCallback(rules, 'http://nowhere.example/', dns))).code, 'resolve')
})

test('a listed host is allowed wherever it points; only_allowed_hosts refuses every other one', async () => {
  const dns = resolver({ 'hooks.corp': ['10.9.9.9'], 'public.example': ['93.184.216.34'] })
  const listed = hostRules({ allowedHosts: ['hooks.corp', '127.0.0.1'], onlyAllowedHosts: false, deniedNetworks: defaults.denied_networks })
  await checkCallback(listed, 'http://hooks.corp/x', dns)
  await checkCallback(listed, 'http://127.0.0.1:9/x', dns)
  const only = hostRules({ allowedHosts: ['hooks.corp'], onlyAllowedHosts: true, deniedNetworks: [] })
  await checkCallback(only, 'http://hooks.corp/x', dns)
  assert.equal((await refusal(checkCallback(only, 'http://public.example/', dns))).code, 'host')
})

test('connections: the lookup refuses a name that resolves into a denied network, and the connected address is checked again', async () => {
  const lookup = checkedLookup(rules)
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('localhost', { all: true }, (e) => resolve(e)))
  assert.equal(err?.code, 'EWEBHOOKDENIED', 'localhost resolves to loopback')
  const listed = hostRules({ allowedHosts: ['localhost'], onlyAllowedHosts: false, deniedNetworks: defaults.denied_networks })
  const ok = await new Promise<unknown>((resolve) => checkedLookup(listed)('localhost', { all: true }, (e, a) => resolve(e ?? a)))
  assert.ok(Array.isArray(ok) && ok.length > 0, 'a listed name resolves')
  assert.equal(connectionProblem(rules, 'public.example', '10.0.0.1')?.code, 'EWEBHOOKDENIED')
  assert.equal(connectionProblem(rules, 'public.example', '93.184.216.34'), null)
  assert.equal(connectionProblem(listed, 'localhost', '127.0.0.1'), null)
})
