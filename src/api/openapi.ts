// The OpenAPI 3.0.3 document of every route the proxy serves: the v2 API at
// the root, the v3 API under /v3 and this project's extensions. Its paths are
// generated from the route table (api/routes.ts, http/openapi.ts), its
// components are the shared schemas (api/components.ts); it is built once at
// boot and served at GET /openapi.json.
//
// Confluent's paths are relative to /v3; here every path is absolute and path
// parameters carry the router's names. Whatever the proxy adds to Confluent's
// API is marked `x-extension: true` (operations and schema properties) and
// tagged `Extensions` where it is a whole operation.
//
// test/unit/openapi.test.ts checks that route table, router and document
// agree; test/integration/openapi.test.ts validates real responses against it.
import { openApiPaths } from '../http/openapi.js'
import { defineRoutes, type Handlers, type JsonObject, type RouteTable } from '../http/route.js'
import { errorResponse, EXTENSION_TAGS, JSON_MEDIA, PARAMETERS, pathParameter, RESPONSES, SCHEMAS } from './components.js'

export const OPENAPI_PATH = '/openapi.json'

export const OPENAPI_ROUTES = defineRoutes({
  openapi: {
    method: 'GET',
    path: OPENAPI_PATH,
    summary: 'This document',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [],
    produces: JSON_MEDIA,
    responses: { 200: { description: 'The OpenAPI 3.0.3 document of the whole API.', schema: { type: 'object', additionalProperties: true } } }
  }
})

/** The whole document for `routes`. */
export function openApiDocument (routes: RouteTable): JsonObject {
  return {
    openapi: '3.0.3',
    info: {
      title: 'kafka-http-proxy',
      version: '0.1.0',
      description: 'A Confluent REST Proxy compatible HTTP API for Apache Kafka: the v2 API at the root, the v3 API under /v3. ' +
        'Operations and fields the proxy adds are marked `x-extension: true` (operations also carry the `Extensions` tag); ' +
        'a client written for Confluent\'s proxy can ignore them. Every error body carries `retriable` and, for produce failures, `persisted`.',
      license: { name: 'Apache-2.0' }
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'v2', description: 'Confluent v2: metadata and produce.' },
      { name: 'v2 consumers', description: 'Confluent v2: stateful consumer instances.' },
      { name: 'Cluster (v3)' },
      { name: 'Broker (v3)' },
      { name: 'Configs (v3)' },
      { name: 'Topic (v3)' },
      { name: 'Partition (v3)' },
      { name: 'Consumer Group (v3)' },
      { name: 'ACL (v3)' },
      { name: 'Records (v3)' },
      { name: 'Extensions', description: 'Beyond Confluent\'s API: health, this document, the stateless read.' }
    ],
    paths: openApiPaths(routes, { pathParameter, errorResponse }),
    components: {
      parameters: PARAMETERS,
      schemas: SCHEMAS,
      responses: RESPONSES
    }
  }
}

/** GET /openapi.json: `document`, serialized once. */
export function openapiHandlers (document: JsonObject): Handlers<typeof OPENAPI_ROUTES> {
  const body = JSON.stringify(document)
  // A JSON document, never a page: nothing in it may run or be framed.
  const headers = { 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'cache-control': 'no-cache' }
  return { openapi: () => ({ status: 200, type: 'application/json', body, headers }) }
}
