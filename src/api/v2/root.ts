// v2 GET / and POST /: Confluent's no-op endpoints, used by clients as a ping.
import { ProxyError } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply, type Handler } from '../../http/handler.js'

export function rootHandlers (maxBodyBytes: number): { get: Handler, post: Handler } {
  const negotiate = negotiator(V2_OFFERS)
  const accept = (header: string | undefined): string => acceptable(negotiate(header))
  return {
    get: (ctx) => reply(200, accept(ctx.req.headers.accept), '{}'),
    async post (ctx) {
      const type = accept(ctx.req.headers.accept)
      const body = await readBody(ctx.req, maxBodyBytes)
      if (body.length > 0) {
        try {
          JSON.parse(body.toString('utf8'))
        } catch (err) {
          throw new ProxyError('malformedJson', `Malformed JSON: ${(err as Error).message}`)
        }
      }
      return reply(200, type, '{}')
    }
  }
}
