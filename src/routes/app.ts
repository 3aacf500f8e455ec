// The application routes of one process: the [[routes]] of the config bound
// to their capabilities (produce, fetch, sse), the views of the topics they
// fetch from, and the matcher the listener consults before the Confluent
// API's router. Built once at boot by src/server.ts; nothing here when no
// route is configured.
import type { Handler } from '../http/handler.js'
import type { BoundRoute, JsonObject, Method, RouteResponse, RouteSpec, RouteTable } from '../http/route.js'
import type { KafkaProducer } from '../kafka/producer.js'
import { readerProperties, type ClientProperties } from '../kafka/options.js'
import type { Config } from '../config/schema.js'
import type { Logger } from '../logger.js'
import { parseRoutes, REPLIES_SEGMENT, type AppRoute, type CorsPolicy, type RouteMethod } from './config.js'
import { AppRouteMatcher, allowOf, type Resource } from './match.js'
import { fetchHandler } from './fetch.js'
import { produceHandler, type ProduceDeps } from './produce.js'
import { POSITION_HEADER } from './request.js'
import { TopicView } from './view.js'
import { ReplyTopics } from './replies.js'
import { IdempotencyKeys } from './idempotency.js'
import { corsPolicyOf, enabled, preflightHandler, withCors } from './cors.js'
import { replyResourceHandler, requestReplyHandler, type RequestReplyDeps } from './request-reply.js'
import { sseHandler, type SseEngine } from './sse.js'

export interface AppRoutesOptions {
  readonly routes: readonly AppRoute[]
  readonly viewMaxBytes: number
  readonly producer: KafkaProducer
  /** Assign-only consumer properties (kafka/options.ts readerProperties). */
  readonly viewProperties: { global: ClientProperties, topic: ClientProperties }
  readonly maxPollRecords: number
  readonly callTimeoutMs: number
  /** route_settings.correlation_header and reply_ttl_ms. */
  readonly correlationHeader: string
  readonly replyTtlMs: number
  readonly idempotencyTtlMs: number
  /** The [cors] table's policy; a route's own cors table replaces it. */
  readonly cors: CorsPolicy
  readonly log: Logger
}

/** The operationId of a route's method, as the OpenAPI document and logs name it. */
export function operationIdOf (route: AppRoute, method: RouteMethod): string {
  return `route${route.index}${method[0]}${method.slice(1).toLowerCase()}`
}

/** The route's path as an OpenAPI template: a wildcard becomes its parameter. */
function templateOf (route: AppRoute): string {
  return '/' + route.segments.map((s) => s.kind === 'static' ? s.value : `{${s.name}}`).join('/')
}

function replyResponses (topic: string, async: boolean, position: Record<string, JsonObject>): Record<number, RouteResponse> {
  const out: Record<number, RouteResponse> = {
    200: { description: `The reply read from ${topic} (its :status header is the status, its content-type the type)`, schema: {} }
  }
  if (async) out[202] = { description: 'Prefer: respond-async: the request was written; Location names the reply resource', headers: { location: { type: 'string' }, ...position } }
  return out
}

function specOf (route: AppRoute, method: RouteMethod): RouteSpec {
  const path = templateOf(route)
  const position: Record<string, JsonObject> = { [POSITION_HEADER]: { type: 'string', description: 'partition:offset of the record; send it back on a GET to read this write from any process' } }
  if (route.produce !== null) {
    const p = route.produce
    return {
      method: method as Method,
      path,
      summary: `Writes a record to ${p.topic}${p.tombstone ? ' (a tombstone)' : ''}`,
      description: `Configured route ${route.label}: the request body is the record value, its content-type a record header.`,
      tags: ['routes'],
      extension: true,
      access: [{ operation: 'Write', resource: 'topic' }],
      consumes: ['*/*'],
      ...(p.tombstone ? {} : { body: { required: false, schema: { type: 'string', format: 'binary' } } }),
      produces: ['application/json'],
      responses: p.replyTopic !== null
        ? replyResponses(p.replyTopic, p.async, position)
        : method === 'POST'
          ? { 202: { description: 'Kafka acknowledged the record', headers: position } }
          : { 204: { description: 'Kafka acknowledged the record', headers: position } },
      errors: [400, 404, 405, 413, 422, '5XX'],
      writes: true
    }
  }
  const topic = route.fetch?.topic ?? route.sse?.topic ?? ''
  if (route.sse !== null) {
    return {
      method: method as Method,
      path,
      summary: `Records of ${topic} as Server-Sent Events, filtered by the route`,
      description: `Configured route ${route.label}: streamed by the push-delivery engine (docs/streams.md); from=, format= and Last-Event-ID as on GET /v3/clusters/{cluster_id}/topics/{topic}/records.`,
      tags: ['routes'],
      extension: true,
      access: [{ operation: 'Read', resource: 'topic' }],
      produces: ['text/event-stream'],
      responses: { 200: { description: 'The event stream', schema: { type: 'string' } } },
      errors: [400, 404, 405, '5XX']
    }
  }
  return {
    method: method as Method,
    path,
    summary: route.fetch?.merge === 'array' ? `Every live value of ${topic}, as a JSON array` : `The latest value of a key of ${topic}`,
    description: `Configured route ${route.label}: answered from this process's view of the topic; ETag, If-None-Match and Prefer: wait=N.`,
    tags: ['routes'],
    extension: true,
    access: [{ operation: 'Read', resource: 'topic' }],
    produces: ['*/*'],
    responses: { 200: { description: 'The value', schema: {} }, 304: { description: 'Not modified' } },
    errors: [400, 404, 405, '5XX']
  }
}

/** The OPTIONS route of a path with CORS: not in the document, touches no Kafka resource. */
function preflight (policies: ReadonlyMap<string, CorsPolicy>, allow: string): BoundRoute {
  const spec: RouteSpec = { method: 'GET', path: '/', summary: 'CORS preflight', tags: ['routes'], internal: true, access: [], produces: [], responses: { 204: { description: 'Preflight answer' } } }
  return Object.freeze({ operationId: 'routeCorsPreflight', spec, handler: preflightHandler(policies, allow), writes: false, streams: false })
}

export class AppRoutes {
  readonly views = new Map<string, TopicView>()
  readonly matcher: AppRouteMatcher<BoundRoute>
  /** The routes as a route table, for the OpenAPI document. */
  readonly table: RouteTable

  readonly keys: IdempotencyKeys
  private engine: SseEngine | null = null
  /** Every process reads every reply topic; null when no route has one. */
  readonly replies: ReplyTopics | null

  constructor (private readonly opts: AppRoutesOptions) {
    const deps: ProduceDeps = { producer: opts.producer, view: (topic) => this.views.get(topic) }
    this.keys = new IdempotencyKeys(opts.idempotencyTtlMs)
    const replyTopics = [...new Set(opts.routes.flatMap((r) => r.produce?.replyTopic ?? []))]
    const header = opts.correlationHeader.toLowerCase()
    this.replies = replyTopics.length === 0
      ? null
      : new ReplyTopics({
        topics: replyTopics,
        header,
        ttlMs: opts.replyTtlMs,
        properties: opts.viewProperties,
        maxPollRecords: opts.maxPollRecords,
        callTimeoutMs: opts.callTimeoutMs,
        log: opts.log
      })
    const replyDeps: RequestReplyDeps | null = this.replies === null ? null : { ...deps, replies: this.replies, header }
    const table: Record<string, RouteSpec> = {}
    const byPath = new Map<string, { segments: AppRoute['segments'], handlers: Map<string, BoundRoute>, cors: Map<string, CorsPolicy> }>()
    for (const route of opts.routes) {
      const shape = route.segments.map((s) => s.kind === 'static' ? s.value : s.kind === 'param' ? '{}' : '*').join('/')
      let res = byPath.get(shape)
      if (res === undefined) {
        res = { segments: route.segments, handlers: new Map(), cors: new Map() }
        byPath.set(shape, res)
      }
      let handler = this.handlerOf(route, deps, replyDeps, `routes[${route.index}]`)
      const policy = route.cors ?? opts.cors
      if (enabled(policy)) {
        handler = withCors(handler, policy, header)
        for (const method of route.methods) res.cors.set(method, policy)
      }
      for (const method of route.methods) {
        const operationId = operationIdOf(route, method)
        const spec = specOf(route, method)
        table[operationId] = spec
        res.handlers.set(method, Object.freeze({ operationId, spec, handler, writes: spec.writes === true, streams: false }))
      }
    }
    if (this.replies !== null) {
      const spec: RouteSpec = {
        method: 'GET',
        path: `/${REPLIES_SEGMENT}/{id}`,
        summary: 'The reply of an asynchronous request/reply route request (its Location)',
        description: 'Answered by every process of every instance; `Prefer: wait=N` waits up to N seconds for the reply. 202 while it is pending.',
        tags: ['routes'],
        extension: true,
        access: [{ operation: 'Read', resource: 'topic' }],
        produces: ['*/*'],
        responses: { 200: { description: 'The reply, with its status and content type', schema: {} }, 202: { description: 'No reply yet' } },
        errors: ['5XX']
      }
      table.routeReply = spec
      byPath.set(`${REPLIES_SEGMENT}/{}`, {
        segments: [{ kind: 'static', value: REPLIES_SEGMENT }, { kind: 'param', name: 'id' }],
        handlers: new Map([['GET', Object.freeze({ operationId: 'routeReply', spec, handler: enabled(opts.cors) ? withCors(replyResourceHandler(this.replies, header), opts.cors, header) : replyResourceHandler(this.replies, header), writes: false, streams: false })]]),
        cors: enabled(opts.cors) ? new Map([['GET', opts.cors]]) : new Map()
      })
    }
    this.table = table
    const resources: Array<Resource<BoundRoute>> = [...byPath.values()].map((r) => {
      const allow = allowOf(r.handlers.keys())
      return { segments: r.segments, handlers: r.handlers, allow, options: r.cors.size === 0 ? null : preflight(r.cors, allow) }
    })
    this.matcher = new AppRouteMatcher(resources)
  }

  private handlerOf (route: AppRoute, deps: ProduceDeps, replyDeps: RequestReplyDeps | null, scope: string): Handler {
    if (route.produce !== null && route.produce.replyTopic !== null && replyDeps !== null) return requestReplyHandler(route, route.produce, replyDeps, this.keys, scope)
    if (route.produce !== null) return produceHandler(route, route.produce, deps, this.keys, scope)
    if (route.fetch !== null) return fetchHandler(route.fetch, this.view(route.fetch.topic))
    return sseHandler(route.sse as NonNullable<AppRoute['sse']>, () => this.engine)
  }

  private view (topic: string): TopicView {
    let v = this.views.get(topic)
    if (v === undefined) {
      v = new TopicView({
        topic,
        properties: this.opts.viewProperties,
        maxBytes: this.opts.viewMaxBytes,
        maxPollRecords: this.opts.maxPollRecords,
        callTimeoutMs: this.opts.callTimeoutMs,
        log: this.opts.log
      })
      this.views.set(topic, v)
    }
    return v
  }

  /** The push-delivery engine that sse routes stream through. */
  useStreams (engine: SseEngine): void {
    this.engine = engine
  }

  /** Starts reading every view; resolves once each caught up with its topic (or failed), at most `ms` later. */
  async start (ms: number): Promise<void> {
    // A reply topic that does not exist stops the start: its routes could only time out.
    await this.replies?.start()
    const all = [...this.views.values()].map((v) => v.start())
    await Promise.race([Promise.all(all), new Promise((resolve) => setTimeout(resolve, ms).unref())])
  }

  async close (): Promise<void> {
    this.keys.close()
    await Promise.allSettled([...this.views.values()].map((v) => v.close()).concat(this.replies?.close() ?? []))
  }
}

/** The application routes of `config`, or null when it declares none (then nothing of this module runs per request). */
export function appRoutesOf (config: Config, producer: KafkaProducer, log: Logger): AppRoutes | null {
  if (config.routes.length === 0) return null
  const settings = config.route_settings
  // Checked when the config was loaded (src/config/load.ts); a config built in code is checked here.
  const { routes, issues } = parseRoutes(config.routes, { maxBodyBytes: settings.max_body_bytes, timeoutMs: settings.timeout_ms })
  if (issues.length > 0) throw new Error(`Invalid [[routes]]:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`)
  return new AppRoutes({
    routes,
    viewMaxBytes: settings.view_max_bytes,
    producer,
    viewProperties: readerProperties(config.kafka, config.consumer),
    maxPollRecords: config.consumer.max_poll_records,
    callTimeoutMs: config.kafka.request_timeout_ms,
    correlationHeader: settings.correlation_header,
    replyTtlMs: settings.reply_ttl_ms,
    idempotencyTtlMs: settings.idempotency_ttl_ms,
    cors: corsPolicyOf(config.cors),
    log
  })
}
