// Routes as data. Every route is declared once, in the API module that
// implements it: method, path template, the media types it takes and gives,
// its schemas and documentation, the Kafka permission it needs, and router
// options. The router (buildRouter), the compiled response serializers
// (api/components.ts) and the served OpenAPI document (http/openapi.ts) are
// derived from these declarations at boot, the way fastify derives
// validation, serialization and documentation from one route schema.
//
// A table is keyed by operationId, which is also the name of the route's
// handler: a module's handler factory returns `Handlers<typeof ITS_ROUTES>`,
// so the compiler refuses a route without a handler.
import type { Handler } from './handler.js'
import { Router } from './router.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
/** An OpenAPI 3.0 schema (or parameter, or $ref) object. */
export type JsonObject = { [key: string]: Json }

/** An error status of the document: a code, or a class such as `5XX`. */
export type ErrorStatus = number | '5XX'

/**
 * What a route needs of Kafka's authorizer: an ACL operation on a resource
 * type, named as kafka-acls names them (org.apache.kafka.common.acl.AclOperation
 * and org.apache.kafka.common.resource.ResourceType).
 */
export interface Access {
  readonly operation: 'Read' | 'Write' | 'Create' | 'Delete' | 'Alter' | 'Describe' | 'ClusterAction' | 'DescribeConfigs' | 'AlterConfigs' | 'IdempotentWrite'
  readonly resource: 'topic' | 'group' | 'cluster' | 'transactional-id' | 'delegation-token'
}

export interface RouteBody {
  readonly required: boolean
  readonly description?: string
  /** The body's schema, the same in every type of the route's `consumes`. */
  readonly schema?: JsonObject
  /** One schema per media type, where they differ (instead of `consumes` + `schema`). */
  readonly content?: Readonly<Record<string, JsonObject>>
}

export interface RouteResponse {
  readonly description: string
  /** The body's schema in every type of the route's `produces`; absent: no body. */
  readonly schema?: JsonObject
  /** One schema per media type, where they differ (instead of `produces` + `schema`). */
  readonly content?: Readonly<Record<string, JsonObject>>
  /** Response headers and their schemas. */
  readonly headers?: Readonly<Record<string, JsonObject>>
  /** OpenAPI extensions (`x-…`) of the response. */
  readonly extensions?: Readonly<Record<string, Json>>
}

export interface RouteSpec {
  readonly method: Method
  /** Path template; `{name}` segments are parameters, e.g. `/topics/{topic}`. */
  readonly path: string
  readonly summary: string
  readonly description?: string
  readonly tags: readonly string[]
  /** Beyond Confluent's API (marked `x-extension` in the document). */
  readonly extension?: boolean
  /** Not part of the HTTP API (the web console's files): routed like any route, left out of the document. */
  readonly internal?: boolean
  /**
   * Answered without authentication even when auth is on: the route holds no
   * data (the web console's files, which a browser loads before its user can
   * sign in; every API call the console then makes carries the token).
   */
  readonly anonymous?: boolean
  /** Everything the route needs of Kafka's authorizer; empty when it touches no Kafka resource. */
  readonly access: readonly Access[]
  /** Query parameters (parameter objects or $refs); path parameters come from the template. */
  readonly query?: readonly JsonObject[]
  /** Request media types the route takes. */
  readonly consumes?: readonly string[]
  readonly body?: RouteBody
  /** Response media types the route answers in (negotiated against Accept). */
  readonly produces: readonly string[]
  /** Success responses by status. */
  readonly responses: Readonly<Record<number, RouteResponse>>
  /** Error statuses it can answer, each with the shared error body. */
  readonly errors?: readonly ErrorStatus[]
  /**
   * false: HEAD is not answered by this GET (405 instead), for reads with
   * effects such as a consumer read, which moves the consumer's position.
   */
  readonly head?: boolean
  /** Writes records to Kafka: a refused or cut-off request says what became of them (`persisted`). */
  readonly writes?: boolean
  /**
   * The request body is a long-lived stream (v3 streaming produce): the
   * server's upload deadline does not apply; the handler bounds its lifetime.
   */
  readonly streams?: boolean
}

export type RouteTable = Readonly<Record<string, RouteSpec>>

export type Handlers<T extends RouteTable> = { readonly [K in keyof T]: Handler }

/** A route with its handler, as the router holds it: what dispatch needs, in fields. */
export interface BoundRoute {
  readonly operationId: string
  readonly spec: RouteSpec
  readonly handler: Handler
  readonly writes: boolean
  readonly streams: boolean
}

/** Declares a module's routes; the key of each is its operationId and its handler's name. */
export function defineRoutes<T extends RouteTable> (table: T): T {
  return table
}

type Joined<T extends readonly RouteTable[]> = T extends readonly [infer H extends RouteTable, ...infer R extends RouteTable[]]
  ? H & Joined<R>
  : unknown

/** The tables as one, in order; an operationId declared twice is refused. */
export function joinRoutes<T extends readonly RouteTable[]> (...tables: T): Joined<T> {
  const out: Record<string, RouteSpec> = {}
  for (const table of tables) {
    for (const [id, spec] of Object.entries(table)) {
      if (id in out) throw new Error(`operationId ${id} declared twice`)
      out[id] = spec
    }
  }
  return out as Joined<T>
}

/** Pairs each route with its handler; a handler without a route is refused as well. */
export function bindRoutes<T extends RouteTable> (table: T, handlers: Handlers<T>): BoundRoute[] {
  for (const id of Object.keys(handlers)) {
    if (!(id in table)) throw new Error(`handler ${id} has no route`)
  }
  return Object.entries(table).map(([operationId, spec]) => {
    const handler = (handlers as Record<string, Handler | undefined>)[operationId]
    if (typeof handler !== 'function') throw new Error(`route ${operationId} has no handler`)
    return Object.freeze({ operationId, spec, handler, writes: spec.writes === true, streams: spec.streams === true })
  })
}

export function buildRouter (routes: readonly BoundRoute[]): Router<BoundRoute> {
  const router = new Router<BoundRoute>()
  for (const route of routes) router.add(route.spec.method, route.spec.path, route, { head: route.spec.head !== false })
  return router
}

/** The `{name}` parameters of a path template, in order. */
export function pathParameters (template: string): string[] {
  const out: string[] = []
  for (const segment of template.split('/')) {
    if (segment.startsWith('{') && segment.endsWith('}')) out.push(segment.slice(1, -1))
  }
  return out
}
