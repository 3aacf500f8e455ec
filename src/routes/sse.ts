// The sse capability of [[routes]]: the route's topic streamed as Server-Sent
// Events by the push-delivery engine (src/streams/hub.ts), with the route's
// filters filled in from the request (path params, headers, query). The
// request's own stream parameters (from=, format=, Last-Event-ID to resume)
// go through as on /v3/clusters/{c}/topics/{t}/records, but a client cannot
// replace or widen the route's filters: its key= and header.* are dropped.
// Several filter tables all apply (their key and headers together).
import type { Ctx, Handler, Reply } from '../http/handler.js'
import { ProxyError } from '../errors.js'
import type { SseCapability } from './config.js'
import { RequestValues } from './request.js'

export interface SseEngine {
  /** The streams engine's GET …/topics/{topic}/records (Streams.records). */
  records (ctx: Ctx): Promise<Reply>
  /** The cluster the stream's path names. */
  clusterId (): Promise<string>
}

export function sseHandler (cap: SseCapability, engine: () => SseEngine | null): Handler {
  return async (ctx) => {
    const e = engine()
    if (e === null) throw new ProxyError('shuttingDown')
    const values = new RequestValues(ctx)
    const q = new URLSearchParams(ctx.query)
    for (const name of [...q.keys()]) if (name === 'key' || name.startsWith('header.')) q.delete(name)
    for (const f of cap.filters) {
      if (f.key !== undefined) q.set('key', values.need(f.key, 'sse.filters.key'))
      for (const [name, expr] of f.headers) q.append(`header.${name}`, values.need(expr, `sse.filters.header.${name}`))
    }
    // The route is a stream, whatever the client accepts (curl sends */*).
    ctx.req.headers.accept = 'text/event-stream'
    return await e.records({ ...ctx, params: { cluster_id: await e.clusterId(), topic: cap.topic }, query: q.toString() })
  }
}
