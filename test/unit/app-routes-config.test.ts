// [[routes]]: the issue's acceptance config loads as written, problems name
// the route and the field, expressions resolve (or resolve to nothing), and
// paths match as the matcher promises.
// The ${…} in strings below are route expressions, not template literals.
/* eslint-disable no-template-curly-in-string */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../../src/config/load.js'
import { parseRoutes } from '../../src/routes/config.js'
import { compileExpression, evaluate } from '../../src/routes/expression.js'
import { AppRouteMatcher, allowOf } from '../../src/routes/match.js'
import { preferences, positions, RequestValues } from '../../src/routes/request.js'
import { principal } from '../../src/security/principal.js'
import type { Ctx } from '../../src/http/handler.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/app-routes.toml', import.meta.url))
const DEFAULTS = { maxBodyBytes: 1024, timeoutMs: 5000 }

function loadText (toml: string): ReturnType<typeof loadConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'app-routes-'))
  const file = join(dir, 'config.toml')
  writeFileSync(file, toml)
  return loadConfig({ path: file, env: {} })
}

function problems (toml: string): string[] {
  try {
    loadText(toml)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.errors.map((e) => `${e.path}: ${e.message}`)
  }
  return []
}

test('the acceptance config of the issue loads as written', () => {
  const config = loadConfig({ path: FIXTURE, env: {} })
  assert.equal(config.routes.length, 6)
  const { routes, issues } = parseRoutes(config.routes, DEFAULTS)
  assert.deepEqual(issues, [])
  assert.deepEqual(routes.map((r) => `${r.methods.join(',')} ${r.path}`), [
    'PUT,POST /items/{id}', 'DELETE /items/{id}', 'GET /items/{id}', 'GET /items', 'POST /tasks/{id}', 'GET /events/{tenant}'
  ])
  const tasks = routes[4]?.produce
  assert.equal(tasks?.replyTopic, 'task-replies')
  assert.equal(tasks?.timeoutMs, 10000)
  assert.equal(tasks?.async, true)
  assert.equal(routes[1]?.produce?.tombstone, true)
  assert.equal(routes[3]?.fetch?.merge, 'array')
  assert.equal(routes[5]?.sse?.filters.length, 1)
})

test('a route may not shadow the Confluent API, health, metrics, the document or the console', () => {
  for (const path of ['/v3/x', '/topics', '/consumers/{g}', '/health/ready', '/metrics', '/openapi.json', '/console/app', '/']) {
    const found = problems(`[[routes]]\nmethods = ["GET"]\npath = "${path}"\nfetch = { topic = "t", merge = "array" }\n`)
    assert.equal(found.length, 1, `${path}: ${found.join('; ')}`)
    assert.match(found[0] as string, /^routes\[0\] \(GET \/.*\)\.path: may not/)
  }
})

test('every problem is reported at once, each with the route and the field', () => {
  const found = problems([
    '[[routes]]', 'methods = ["GET"]', 'path = "/a/{id}"', 'fetch = { topic = "t", key = "${params.nope}", extra = 1 }',
    '[[routes]]', 'methods = ["BREW"]', 'path = "/b"', 'produce = { key = "${cookies.x}" }',
    '[[routes]]', 'methods = ["POST"]', 'path = "/c"', 'produce = { topic = "t", async = true }',
    '[[routes]]', 'methods = ["GET"]', 'path = "/e/{x}"', 'fetch = { topic = "t", key = "${params.x}" }',
    '[[routes]]', 'methods = ["GET"]', 'path = "/d/*/x"', 'fetch = { topic = "t", merge = "array" }',
    '[[routes]]', 'methods = ["GET"]', 'path = "/e/{y}"', 'fetch = { topic = "t", key = "${params.y}" }'
  ].join('\n'))
  assert.deepEqual([...found].sort(), [
    'routes[0] (GET /a/{id}).fetch.extra: unknown key (known keys: topic, key, merge)',
    'routes[0] (GET /a/{id}).fetch.key: ${params.nope}: the path has no {nope} segment',
    'routes[1] (BREW /b).methods: "BREW" is not one of GET, POST, PUT, PATCH, DELETE',
    'routes[1] (BREW /b).produce.key: ${cookies.x} in "${cookies.x}": the source must be params, headers, query or identity',
    'routes[1] (BREW /b).produce.topic: is required',
    'routes[2] (POST /c).produce.async: needs reply_topic (async answers with the Location of the reply)',
    'routes[4] (GET /d/*/x).path: a wildcard (* or {name*}) may only be the last segment',
    'routes[5] (GET /e/{y}).methods: GET /e/{y} is already served by routes[3] (GET /e/{x})'
  ].sort())
})

test('expressions read params, headers (case-insensitively) and the query, with literal text around', () => {
  const input = { params: { id: '7' }, headers: { 'x-source': 'web' }, query: 'tenant=acme&x=' }
  const q = (): URLSearchParams => new URLSearchParams(input.query)
  assert.equal(evaluate(compileExpression('${params.id}'), input, q), '7')
  assert.equal(evaluate(compileExpression('${headers.X-Source}'), input, q), 'web')
  assert.equal(evaluate(compileExpression('t-${query.tenant}/${params.id}'), input, q), 't-acme/7')
  assert.equal(evaluate(compileExpression('plain'), input, q), 'plain')
})

test('an expression whose field is absent or empty resolves to nothing', () => {
  const input = { params: {}, headers: {}, query: 'x=' }
  const q = (): URLSearchParams => new URLSearchParams(input.query)
  assert.equal(evaluate(compileExpression('${params.id}'), input, q), undefined)
  assert.equal(evaluate(compileExpression('k-${query.x}'), input, q), undefined)
  assert.equal(evaluate(compileExpression('${identity.sub}'), input, q), undefined)
  assert.equal(evaluate(compileExpression('${identity.sub}'), { ...input, identity: { sub: 'alice' } }, q), 'alice')
})

test('matching: static beats a parameter beats the wildcard; reserved paths and misses fall through; 405 carries Allow', () => {
  const { routes } = parseRoutes([
    { methods: ['GET'], path: '/items/{id}', fetch: { topic: 't', key: '${params.id}' } },
    { methods: ['PUT'], path: '/items/{id}', produce: { topic: 't', key: '${params.id}' } },
    { methods: ['GET'], path: '/items/special', fetch: { topic: 't', merge: 'array' } },
    { methods: ['GET'], path: '/files/{path*}', fetch: { topic: 't', key: '${params.path}' } },
    { methods: ['GET'], path: '/{tenant}/info', fetch: { topic: 't', key: '${params.tenant}' } }
  ], DEFAULTS)
  assert.equal(routes.length, 5)
  const m = new AppRouteMatcher([
    { segments: routes[0]!.segments, handlers: new Map([['GET', 'get-item'], ['PUT', 'put-item']]), allow: allowOf(['GET', 'PUT']), options: null },
    { segments: routes[2]!.segments, handlers: new Map([['GET', 'special']]), allow: allowOf(['GET']), options: null },
    { segments: routes[3]!.segments, handlers: new Map([['GET', 'file']]), allow: allowOf(['GET']), options: null },
    { segments: routes[4]!.segments, handlers: new Map([['GET', 'info']]), allow: allowOf(['GET']), options: null }
  ])
  assert.deepEqual(m.match('GET', '/items/a%20b'), { kind: 'found', handler: 'get-item', params: { id: 'a b' } })
  assert.deepEqual(m.match('GET', '/items/special'), { kind: 'found', handler: 'special', params: {} })
  assert.deepEqual(m.match('HEAD', '/items/1'), { kind: 'found', handler: 'get-item', params: { id: '1' } })
  assert.deepEqual(m.match('GET', '/files/a/b/c.txt'), { kind: 'found', handler: 'file', params: { path: 'a/b/c.txt' } })
  assert.equal(m.match('GET', '/files'), null)
  assert.deepEqual(m.match('DELETE', '/items/1'), { kind: 'method-not-allowed', allow: 'GET, PUT, HEAD, OPTIONS' })
  assert.deepEqual(m.match('OPTIONS', '/items/1'), { kind: 'options', allow: 'GET, PUT, HEAD, OPTIONS' })
  assert.deepEqual(m.match('GET', '/acme/info'), { kind: 'found', handler: 'info', params: { tenant: 'acme' } })
  // A parameter in the first segment never takes a reserved name: /topics/info is the Confluent API's.
  assert.equal(m.match('GET', '/topics/info'), null)
  assert.equal(m.match('GET', '/nothing/here'), null)
  assert.equal(m.match('GET', '/items/1/extra'), null)
})

test('Prefer and Kafka-Position headers', () => {
  assert.deepEqual(preferences('wait=5'), { waitMs: 5000, respondAsync: false })
  assert.deepEqual(preferences('respond-async, wait=100'), { waitMs: 60000, respondAsync: true })
  assert.deepEqual(preferences(undefined), { waitMs: 0, respondAsync: false })
  assert.deepEqual(positions('0:12, 3:4'), [[0, 12], [3, 4]])
  assert.throws(() => positions('zero'), /partition:offset/)
})

test('${identity.…} reads the authenticated principal: sub, method, roles and claims', () => {
  const ctx = {
    req: { headers: {} },
    params: {},
    path: '/x',
    query: '',
    security: { principal: principal('alice', 'jwt', ['admin', 'ops'], { tenant: 'acme', level: 3 }) }
  } as unknown as Ctx
  const values = new RequestValues(ctx)
  assert.equal(values.need(compileExpression('${identity.sub}'), 'k'), 'alice')
  assert.equal(values.need(compileExpression('${identity.method}'), 'k'), 'jwt')
  assert.equal(values.need(compileExpression('${identity.roles}'), 'k'), 'admin,ops')
  assert.equal(values.need(compileExpression('t-${identity.claims.tenant}-${identity.claims.level}'), 'k'), 't-acme-3')
  assert.throws(() => values.need(compileExpression('${identity.claims.none}'), 'produce.key'), /produce\.key "\$\{identity\.claims\.none\}" resolves to nothing/)
  const anonymous = new RequestValues({ ...ctx, security: undefined } as unknown as Ctx)
  assert.throws(() => anonymous.need(compileExpression('${identity.sub}'), 'produce.key'), /resolves to nothing/)
})
