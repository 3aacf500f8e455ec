// The fetch capability of [[routes]]: GET answered from the topic's view in
// this process (src/routes/view.ts). One key: the latest value with its
// stored content type, 404 after a tombstone or for a key never seen.
// merge = "array": every live value as one JSON array. ETag / If-None-Match
// (304), and `Prefer: wait=N` long polls for a change or for a missing key.
import type { Ctx, Handler, Reply } from '../http/handler.js'
import { ProxyError } from '../errors.js'
import type { FetchCapability } from './config.js'
import { POSITION_HEADER, positions, preferences, RequestValues } from './request.js'
import type { TopicView } from './view.js'

/** How long a read waits for the view to reach a position (read-your-writes) before a retriable 503. */
export const REACH_TIMEOUT_MS = 10_000

const OCTETS = 'application/octet-stream'
const JSON_TYPE = 'application/json'

function matches (inm: string | undefined, etag: string): boolean {
  if (inm === undefined) return false
  if (inm.trim() === '*') return true
  for (const t of inm.split(',')) {
    const tag = t.trim()
    if (tag === etag || tag === `W/${etag}`) return true
  }
  return false
}

function notModified (etag: string): Reply {
  return { status: 304, body: null, headers: { etag, 'cache-control': 'no-cache' } }
}

async function usable (ctx: Ctx, view: TopicView): Promise<void> {
  view.check()
  if (!view.live) {
    await Promise.race([view.ready, new Promise((resolve) => setTimeout(resolve, REACH_TIMEOUT_MS).unref())])
    view.check()
    if (!view.live) throw new ProxyError('viewUnavailable', `The view of topic ${view.topic} is still being read from Kafka; retry`)
  }
  const wanted = positions(ctx.req.headers[POSITION_HEADER])
  if (!view.reached(wanted) && !await view.reach(wanted, REACH_TIMEOUT_MS)) {
    view.check()
    throw new ProxyError('viewUnavailable', `The view of topic ${view.topic} has not reached the position asked for yet; retry`)
  }
}

export function fetchHandler (cap: FetchCapability, view: TopicView): Handler {
  if (cap.key === null) return arrayHandler(view)
  const keyExpr = cap.key
  return async (ctx) => {
    const key = new RequestValues(ctx).need(keyExpr, 'fetch.key')
    await usable(ctx, view)
    const { waitMs } = preferences(ctx.req.headers.prefer)
    const inm = ctx.req.headers['if-none-match']
    let entry = view.get(key)
    if (waitMs > 0 && (entry === undefined || matches(inm, entry.etag))) {
      await view.waitKey(key, entry?.etag ?? null, waitMs)
      view.check()
      entry = view.get(key)
    }
    if (entry === undefined) throw new ProxyError('notFound', `No value for key ${JSON.stringify(key)}`)
    if (matches(inm, entry.etag)) return notModified(entry.etag)
    return { status: 200, type: entry.type ?? OCTETS, body: entry.value, headers: { etag: entry.etag, 'cache-control': 'no-cache' } }
  }
}

function arrayHandler (view: TopicView): Handler {
  return async (ctx) => {
    await usable(ctx, view)
    const { waitMs } = preferences(ctx.req.headers.prefer)
    const inm = ctx.req.headers['if-none-match']
    let current = view.array()
    if (waitMs > 0 && matches(inm, current.etag)) {
      const deadline = Date.now() + waitMs
      // The view wakes waiters after every step it reads; the array changed only when its ETag did.
      while (current.etag === view.array().etag && Date.now() < deadline) {
        await view.waitAny(deadline - Date.now())
        view.check()
      }
      current = view.array()
    }
    if (matches(inm, current.etag)) return notModified(current.etag)
    return { status: 200, type: JSON_TYPE, body: current.body, headers: { etag: current.etag, 'cache-control': 'no-cache' } }
  }
}
