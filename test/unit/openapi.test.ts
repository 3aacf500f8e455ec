// The OpenAPI document: valid OpenAPI 3.0.3, generated from the route table,
// and route table, router and document agree: the router the server builds
// from the table holds exactly its routes, and the document lists exactly
// those operations.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import SwaggerParser from '@apidevtools/swagger-parser'
import { OPENAPI, ROUTES } from '../../src/api/routes.js'
import { OPENAPI_PATH } from '../../src/api/openapi.js'
import { NO_CONTENT, type Handler } from '../../src/http/handler.js'
import { bindRoutes, buildRouter, type BoundRoute, type Handlers, type RouteTable } from '../../src/http/route.js'
import type { Router } from '../../src/http/router.js'
import { ContractChecker, documentedOperations, toJsonSchema } from '../helpers/openapi.js'

const root = new URL('../../', import.meta.url)

const TABLE: RouteTable = ROUTES
const stub: Handler = () => NO_CONTENT

/** The router the server builds: the route table bound to handlers (stubs here). */
function routerOfTable (): Router<BoundRoute> {
  const handlers = Object.fromEntries(Object.keys(ROUTES).map((id) => [id, stub])) as Handlers<typeof ROUTES>
  return buildRouter(bindRoutes(ROUTES, handlers))
}

test('the document is valid OpenAPI 3.0.3', async () => {
  assert.equal(OPENAPI.openapi, '3.0.3')
  const api = await SwaggerParser.validate(structuredClone(OPENAPI) as any)
  assert.equal(api.info.title, 'kafka-http-proxy')
})

test('the document names the package version', async () => {
  const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string }
  assert.equal((OPENAPI.info as { version: string }).version, pkg.version)
})

test('route table, router and document agree: every served route but the internal ones is documented, and nothing else is', () => {
  const table = Object.values(TABLE).map((r) => `${r.method} ${r.path}`).sort()
  assert.equal(new Set(table).size, table.length, 'no route is declared twice')
  assert.ok(table.includes(`GET ${OPENAPI_PATH}`), 'the document itself is served')
  const served = routerOfTable().entries().map((e) => `${e.method} ${e.pattern}`).sort()
  assert.deepEqual(served, table, 'the router holds exactly the table')
  const api = Object.entries(TABLE).filter(([, r]) => r.internal !== true)
  assert.deepEqual(documentedOperations(), api.map(([, r]) => `${r.method} ${r.path}`).sort(), 'the document lists exactly the table\'s API routes')
  const doc = OPENAPI as any
  for (const [id, r] of api) {
    assert.equal(doc.paths[r.path][r.method.toLowerCase()].operationId, id, `${r.method} ${r.path}`)
  }
  const internal = Object.entries(TABLE).filter(([, r]) => r.internal === true).map(([id]) => id).sort()
  assert.deepEqual(internal, ['consoleAsset', 'consolePage', 'metrics', 'peerLocateConsumer'], 'only the web console\'s files, /metrics and the route between instances are internal')
})

test('the router finds each route at its own template, with its parameters, and HEAD where it may', () => {
  const router = routerOfTable()
  for (const [id, r] of Object.entries(TABLE)) {
    const params: Record<string, string> = {}
    const path = r.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      params[name] = `p-${name}`
      return params[name]
    })
    const match = router.match(r.method, path)
    assert.equal(match.kind, 'found', `${r.method} ${r.path}`)
    if (match.kind !== 'found') continue
    assert.equal(match.handler.operationId, id)
    assert.deepEqual(match.params, params)
    assert.equal(match.handler.writes, r.writes === true)
    assert.equal(match.handler.streams, r.streams === true)
    if (r.method === 'GET') assert.equal(router.match('HEAD', path).kind, r.head === false ? 'method-not-allowed' : 'found', `HEAD ${r.path}`)
  }
})

test('every route says what it needs of Kafka\'s authorizer; only health, the document, the v2 ping, the console\'s files, /metrics and a stream\'s renewal need nothing', () => {
  const open = Object.entries(TABLE).filter(([, r]) => r.access.length === 0).map(([id]) => id).sort()
  // A renewal is authenticated, and its handler checks the fresh token against the stream's topics (src/streams/reauth.ts).
  assert.deepEqual(open, ['consoleAsset', 'consolePage', 'healthLive', 'healthReady', 'metrics', 'openapi', 'peerLocateConsumer', 'renewStreamAuthorization', 'v2Root', 'v2RootPost'])
  const produce = Object.values(TABLE).filter((r) => r.writes === true)
  assert.ok(produce.length >= 4 && produce.every((r) => r.access.some((a) => a.operation === 'Write' && a.resource === 'topic')), 'produce needs Write on the topic')
})

test('path parameters are declared exactly as the templates name them', () => {
  const doc = structuredClone(OPENAPI) as any
  const resolve = (p: any): any => p.$ref === undefined ? p : doc.components.parameters[p.$ref.split('/').pop()]
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      if (item[method] === undefined) continue
      const declared = [...(item.parameters ?? []), ...(item[method].parameters ?? [])].map(resolve)
        .filter((p) => p.in === 'path').map((p) => p.name).sort()
      assert.deepEqual(declared, inTemplate, `${method.toUpperCase()} ${path}`)
    }
  }
})

test('every operation documents its error responses with the error body', () => {
  const doc = structuredClone(OPENAPI) as any
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch']) {
      const operation = item[method]
      if (operation === undefined || path.startsWith('/health/') || path === OPENAPI_PATH) continue
      const statuses = Object.keys(operation.responses)
      assert.ok(statuses.some((s) => s.startsWith('4')), `${method.toUpperCase()} ${path} documents client errors`)
      for (const s of statuses.filter((x) => x.startsWith('4') || x.startsWith('5'))) {
        assert.match(operation.responses[s].$ref, /^#\/components\/responses\//, `${method.toUpperCase()} ${path} ${s}`)
      }
    }
  }
  const error = doc.components.schemas.Error
  assert.deepEqual(error.required, ['error_code', 'message', 'retriable'])
  // 'yes': a request/reply route's request was written and its reply timed out (src/routes/request-reply.ts).
  assert.deepEqual(error.properties.persisted.enum, ['no', 'unknown', 'yes'])
  assert.equal(error.properties.retriable['x-extension'], true)
  assert.equal(error.properties.persisted['x-extension'], true)
})

test('extensions are marked: operations by tag and x-extension, fields by x-extension', () => {
  const doc = OPENAPI as any
  const extensionOps = ['/health/live', '/health/ready', OPENAPI_PATH, '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records']
  for (const path of extensionOps) {
    assert.equal(doc.paths[path].get['x-extension'], true, path)
    assert.deepEqual(doc.paths[path].get.tags, ['Extensions'], path)
  }
  const record = doc.components.schemas.V2ConsumedRecord.properties
  assert.equal(record.timestamp['x-extension'], true)
  assert.equal(record.headers['x-extension'], true)
  assert.equal(doc.components.schemas.V2ProduceRecord.properties.headers['x-extension'], true)
})

test('Confluent document defects are fixed: no int64 type, acls:batch is 204, topics/-/configs:alter exists', () => {
  const text = JSON.stringify(OPENAPI)
  assert.doesNotMatch(text, /"type":"int64"/)
  const doc = OPENAPI as any
  assert.deepEqual(Object.keys(doc.paths['/v3/clusters/{cluster_id}/acls:batch'].post.responses).filter((s) => s.startsWith('2')), ['204'])
  assert.ok(doc.paths['/v3/clusters/{cluster_id}/topics/-/configs:alter'].post)
})

test('toJsonSchema turns nullable into null types and closes objects outside allOf', () => {
  assert.deepEqual(toJsonSchema({ type: 'string', nullable: true }), { type: ['string', 'null'] })
  assert.deepEqual(toJsonSchema({ type: 'string', enum: ['a'], nullable: true }), { type: ['string', 'null'], enum: ['a', null] })
  assert.deepEqual(toJsonSchema({ nullable: true }), {})
  assert.deepEqual(toJsonSchema({ type: 'object', properties: { a: { type: 'integer', 'x-extension': true } } }),
    { type: 'object', properties: { a: { type: 'integer' } }, unevaluatedProperties: false })
  const all = toJsonSchema({ allOf: [{ type: 'object', properties: { a: {} } }, { type: 'object', properties: { b: {} } }] })
  assert.equal(all.unevaluatedProperties, false)
  assert.equal(all.allOf[0].unevaluatedProperties, undefined)
})

test('the response checker catches undeclared fields, wrong types, undocumented statuses and media types', async () => {
  const checker = await ContractChecker.create()
  const json = { 'content-type': 'application/json' }
  const cluster = {
    kind: 'KafkaCluster',
    metadata: { self: 'http://h/v3/clusters/c', resource_name: 'crn:///kafka=c' },
    cluster_id: 'c',
    acls: { related: 'a' },
    brokers: { related: 'b' },
    broker_configs: { related: 'c' },
    consumer_groups: { related: 'd' },
    topics: { related: 'e' },
    partition_reassignments: { related: 'f' }
  }
  const get = (status: number, body: unknown, headers: Record<string, string> = json): string[] =>
    checker.check('GET', '/v3/clusters/{cluster_id}', { status, headers, text: typeof body === 'string' ? body : JSON.stringify(body) })
  assert.deepEqual(get(200, cluster), [])
  assert.ok(checker.succeeded.has('GET /v3/clusters/{cluster_id}'))
  assert.match(get(200, { ...cluster, extra: 1 }).join('\n'), /unevaluated properties.*extra/)
  assert.match(get(200, { ...cluster, cluster_id: 7 }).join('\n'), /cluster_id must be string/)
  assert.match(get(418, {}).join('\n'), /status not documented/)
  assert.match(get(200, cluster, { 'content-type': 'text/plain' }).join('\n'), /media type "text\/plain" not documented/)
  assert.deepEqual(get(404, { error_code: 404, message: 'HTTP 404 Not Found', retriable: false }), [])
  assert.match(get(404, { error_code: 404, message: 'HTTP 404 Not Found' }).join('\n'), /must have required property 'retriable'/)
  assert.match(get(404, { error_code: 404, message: 'x', retriable: false, persisted: 'maybe' }).join('\n'), /persisted must be equal to one of the allowed values/)
  assert.deepEqual(get(406, ''), [])
  assert.match(checker.check('DELETE', '/v3/clusters', { status: 204, headers: {}, text: '' }).join('\n'), /no such operation/)
  const stream = (text: string): string[] => checker.check('POST', '/v3/clusters/{cluster_id}/topics/{topic}/records', { status: 200, headers: json, text })
  const success = { error_code: 200, cluster_id: 'c', topic_name: 't', partition_id: 0, offset: 1, timestamp: '2024-01-01T00:00:00.000Z', value: { type: 'JSON', size: 2 } }
  assert.deepEqual(stream(`${JSON.stringify(success)}\r\n${JSON.stringify({ error_code: 40402, message: 'm', retriable: false, persisted: 'no' })}\r\n`), [])
  assert.notDeepEqual(stream(`${JSON.stringify({ ...success, offset: 'x' })}\r\n`), [])
})
