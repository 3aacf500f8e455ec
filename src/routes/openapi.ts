// The configured [[routes]] in the served OpenAPI document: their operations
// are generated at boot from the routes' table (src/routes/app.ts), the same
// generator as the built-in API's (src/http/openapi.ts). Their path
// parameters are plain strings, documented inline.
import { openApiPaths } from '../http/openapi.js'
import type { ErrorStatus, JsonObject, RouteTable } from '../http/route.js'
import { errorResponse } from '../api/components.js'

const ROUTES_TAG = { name: 'routes', description: 'Application routes declared in config.toml ([[routes]]; docs/routes.md).' }

function routeError (status: ErrorStatus): JsonObject {
  if (status === 405) return { description: 'The path has no route for this method; Allow lists those it has.' }
  return errorResponse(status)
}

/** `document` with the operations of `table` added (a new object; `document` is left as it is). */
export function withAppRoutes (document: JsonObject, table: RouteTable): JsonObject {
  const paths = openApiPaths(table, {
    pathParameter: (name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }),
    errorResponse: routeError
  })
  const tags = Array.isArray(document.tags) ? document.tags : []
  return { ...document, tags: [...tags, ROUTES_TAG], paths: { ...(document.paths as JsonObject), ...paths } }
}
