// The OpenAPI document: valid OpenAPI 3.0.3, and its operations are exactly
// the routes the proxy registers (read from the source of src/server.ts and
// the v3 modules, so a route added without documenting it fails here).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import SwaggerParser from '@apidevtools/swagger-parser'
import { OPENAPI, OPENAPI_PATH } from '../../src/api/openapi.js'
import { ContractChecker, documentedOperations, toJsonSchema } from '../helpers/openapi.js'

const root = new URL('../../', import.meta.url)

/** String constants of a module (`const X = '…'` or a template of earlier ones), in order. */
export function constantsIn (source: string, known: Record<string, string> = {}): Record<string, string> {
  const consts = { ...known }
  for (const m of source.matchAll(/const (\w+) = (?:'([^'\n]*)'|`([^`\n]*)`)/g)) {
    const value = m[2] ?? expand(m[3] as string, consts, m[1] as string)
    if (value !== null) consts[m[1] as string] = value
  }
  return consts
}

function expand (template: string, consts: Record<string, string>, what: string, strict = false): string | null {
  let unknown = false
  const out = template.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = consts[name]
    if (value === undefined) {
      if (strict) throw new Error(`${what}: unknown template constant ${name}`)
      unknown = true
      return ''
    }
    return value
  })
  return unknown ? null : out
}

/** `METHOD /path` of every `.add('METHOD', path, …)` call in `source`; `path` a literal, template or constant. */
export function routesIn (source: string, consts: Record<string, string> = {}): string[] {
  const out: string[] = []
  const re = /\.add\(\s*'([A-Z]+)'\s*,\s*(?:'([^']*)'|`([^`]*)`|([A-Za-z_]\w*))/g
  for (const m of source.matchAll(re)) {
    const method = m[1] as string
    let path: string
    if (m[2] !== undefined) path = m[2]
    else if (m[3] !== undefined) path = expand(m[3], consts, `route ${method} ${m[3]}`, true) as string
    else {
      const value = consts[m[4] as string]
      if (value === undefined) throw new Error(`route ${method} ${m[4] as string}: unknown constant`)
      path = value
    }
    out.push(`${method} ${path}`)
  }
  return out
}

async function registeredRoutes (): Promise<string[]> {
  const server = await readFile(new URL('src/server.ts', root), 'utf8')
  const routes = routesIn(server, constantsIn(server))
  const v3 = new URL('src/api/v3/', root)
  for (const file of (await readdir(v3)).filter((f) => f.endsWith('.ts')).sort()) {
    const source = await readFile(new URL(file, v3), 'utf8')
    routes.push(...routesIn(source, constantsIn(source)))
  }
  return routes.sort()
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

test('every registered route is documented and every documented operation is registered', async () => {
  const routes = await registeredRoutes()
  assert.ok(routes.includes(`GET ${OPENAPI_PATH}`), 'the document itself is served')
  assert.ok(routes.some((r) => r.startsWith('POST /v3/')), 'v3 routes were found in src/api/v3')
  const documented = documentedOperations()
  assert.deepEqual(routes.filter((r) => !documented.includes(r)), [], 'routes missing from the document')
  assert.deepEqual(documented.filter((d) => !routes.includes(d)), [], 'documented operations no route serves')
  assert.equal(new Set(routes).size, routes.length, 'no route is registered twice')
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
  assert.deepEqual(error.properties.persisted.enum, ['no', 'unknown'])
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

test('route extraction reads literals, templates and constants', () => {
  const ref = (name: string): string => '$' + `{${name}}`
  const source = `const A = '/a'\nconst B = \`${ref('A')}/{b}\`\nrouter.add('GET', A, h).add('POST', \`${ref('B')}/c\`, h).add('PUT', '/d', h)`
  assert.deepEqual(routesIn(source, constantsIn(source)), ['GET /a', 'POST /a/{b}/c', 'PUT /d'])
  assert.throws(() => routesIn(`r.add('GET', \`${ref('X')}/y\`, h)`), /unknown template constant X/)
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
