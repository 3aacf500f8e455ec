// Request/reply routes (produce.reply_topic): the request record carries a
// correlation id the proxy generates (route_settings.correlation_header); a
// service answers on the reply topic with the same header and optional
// `:status` and `content-type` headers, which become the HTTP answer.
// Synchronous: the request waits up to timeout_ms, then 504 with
// `persisted: "yes"` (the request was written). Asynchronous (async = true
// and `Prefer: respond-async`): 202 at once with the Location of the reply
// resource, which any process of any instance answers (src/routes/replies.ts).
import { randomUUID } from 'node:crypto'
import type { Ctx, Handler, Reply } from '../http/handler.js'
import { ProxyError } from '../errors.js'
import { REPLIES_SEGMENT, type AppRoute, type ProduceCapability } from './config.js'
import { routeBody, routeRecord, send, type ProduceDeps, type RouteRecord } from './produce.js'
import type { IdempotencyKeys } from './idempotency.js'
import { POSITION_HEADER, preferences } from './request.js'
import type { ReplyTopics, RouteReply } from './replies.js'

export interface RequestReplyDeps extends ProduceDeps {
  readonly replies: ReplyTopics
  /** The correlation header, lower-case. */
  readonly header: string
}

const OCTETS = 'application/octet-stream'

export function replyAnswer (reply: RouteReply, header: string, id: string): Reply {
  return { status: reply.status, type: reply.type ?? OCTETS, body: reply.body, headers: { [header]: id } }
}

/** Sends the request record of a request/reply route; `settle` turns its correlation id into the answer. */
export async function sendRequest (deps: RequestReplyDeps, cap: ProduceCapability, rec: RouteRecord, id: string): Promise<{ partition: number, offset: number }> {
  return await send(deps, cap.topic, { key: rec.key, value: rec.value, partition: -1, headers: [...rec.headers, { [deps.header]: id }] })
}

/** The answer of a request whose record was written: the reply, or 202 + Location when asked for (async). */
export async function settle (deps: RequestReplyDeps, cap: ProduceCapability, id: string, at: { partition: number, offset: number }, async: boolean): Promise<Reply> {
  if (async) {
    return { status: 202, body: null, headers: { location: `/${REPLIES_SEGMENT}/${id}`, [deps.header]: id, [POSITION_HEADER]: `${at.partition}:${at.offset}` } }
  }
  const reply = await deps.replies.wait(id, cap.timeoutMs)
  if (reply === undefined) {
    throw new ProxyError('replyTimeout', `No reply on ${cap.replyTopic ?? ''} within ${cap.timeoutMs} ms; the request was written (${deps.header} ${id})`, { persisted: 'yes' })
  }
  return replyAnswer(reply, deps.header, id)
}

export function wantsAsync (ctx: Ctx, cap: ProduceCapability): boolean {
  return cap.async && preferences(ctx.req.headers.prefer).respondAsync
}

export function requestReplyHandler (route: AppRoute, cap: ProduceCapability, deps: RequestReplyDeps, keys: IdempotencyKeys, scope: string): Handler {
  return async (ctx) => {
    const body = await routeBody(ctx, route)
    const rec = routeRecord(ctx, cap, body)
    const async = wantsAsync(ctx, cap)
    // A retry gets the first answer: the same reply, or the same Location.
    return await keys.run(ctx, scope, body, async () => {
      const id = randomUUID()
      const at = await sendRequest(deps, cap, rec, id)
      return await settle(deps, cap, id, at, async)
    })
  }
}

/** GET /_replies/{id}: the reply, or 202 while pending (after `Prefer: wait=N` seconds). */
export function replyResourceHandler (replies: ReplyTopics, header: string): Handler {
  return async (ctx) => {
    const id = ctx.params.id as string
    const { waitMs } = preferences(ctx.req.headers.prefer)
    const reply = await replies.wait(id, waitMs)
    if (reply === undefined) return { status: 202, body: null, headers: { [header]: id, 'retry-after': '1' } }
    return replyAnswer(reply, header, id)
  }
}
