// The `paths` of an OpenAPI 3.0 document, generated from a route table
// (http/route.ts): one path item per template, in the order the table first
// names it, with its path parameters; one operation per route. Nothing per
// route is written by hand; the API supplies what is shared (the component
// a path parameter or an error status refers to).
import { pathParameters, type ErrorStatus, type JsonObject, type RouteSpec, type RouteTable } from './route.js'

export interface PathsOptions {
  /** The parameter object ($ref) for path parameter `name` of `template`. */
  pathParameter (name: string, template: string): JsonObject
  /** The response object ($ref) documenting an error status. */
  errorResponse (status: ErrorStatus): JsonObject
}

function content (types: readonly string[], schema: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const type of types) out[type] = { schema }
  return out
}

function perType (schemas: Readonly<Record<string, JsonObject>>): JsonObject {
  const out: JsonObject = {}
  for (const [type, schema] of Object.entries(schemas)) out[type] = { schema }
  return out
}

function requestBody (spec: RouteSpec): JsonObject | undefined {
  const body = spec.body
  if (body === undefined) return undefined
  const out: JsonObject = { required: body.required }
  if (body.description !== undefined) out.description = body.description
  if (body.content !== undefined) out.content = perType(body.content)
  else if (body.schema !== undefined) out.content = content(spec.consumes ?? [], body.schema)
  return out
}

function responses (spec: RouteSpec, opts: PathsOptions): JsonObject {
  const out: JsonObject = {}
  for (const [status, r] of Object.entries(spec.responses)) {
    const response: JsonObject = { description: r.description }
    if (r.content !== undefined) response.content = perType(r.content)
    else if (r.schema !== undefined) response.content = content(spec.produces, r.schema)
    if (r.headers !== undefined) {
      const headers: JsonObject = {}
      for (const [name, schema] of Object.entries(r.headers)) headers[name] = { schema }
      response.headers = headers
    }
    if (r.extensions !== undefined) Object.assign(response, r.extensions)
    out[status] = response
  }
  for (const status of spec.errors ?? []) out[String(status)] = opts.errorResponse(status)
  return out
}

function operation (operationId: string, spec: RouteSpec, opts: PathsOptions): JsonObject {
  const out: JsonObject = { operationId, summary: spec.summary, tags: [...spec.tags] }
  if (spec.description !== undefined) out.description = spec.description
  if (spec.query !== undefined) out.parameters = [...spec.query]
  const body = requestBody(spec)
  if (body !== undefined) out.requestBody = body
  out.responses = responses(spec, opts)
  if (spec.extension === true) out['x-extension'] = true
  return out
}

export function openApiPaths (routes: RouteTable, opts: PathsOptions): JsonObject {
  const paths: Record<string, JsonObject> = {}
  for (const [operationId, spec] of Object.entries(routes)) {
    if (spec.internal === true) continue
    let item = paths[spec.path]
    if (item === undefined) {
      item = {}
      const parameters = pathParameters(spec.path).map((name) => opts.pathParameter(name, spec.path))
      if (parameters.length > 0) item.parameters = parameters
      paths[spec.path] = item
    }
    const method = spec.method.toLowerCase()
    if (item[method] !== undefined) throw new Error(`${spec.method} ${spec.path} declared twice`)
    item[method] = operation(operationId, spec, opts)
  }
  return paths
}
