// v2 GET / and POST /: Confluent's no-op endpoints, used by clients as a ping.
import { ProxyError } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { acceptable, negotiator, V2_OFFERS } from '../../http/media.js'
import { reply } from '../../http/handler.js'
import { defineRoutes, type Handlers } from '../../http/route.js'
import { JSON_MEDIA, ref, V2_MEDIA, V2_TAGS } from '../components.js'

export const ROOT_ROUTES = defineRoutes({
  v2Root: {
    method: 'GET',
    path: '/',
    summary: 'Ping',
    tags: V2_TAGS,
    access: [],
    produces: V2_MEDIA,
    responses: { 200: { description: '`{}`', schema: ref('EmptyObject') } },
    errors: [406]
  },
  v2RootPost: {
    method: 'POST',
    path: '/',
    summary: 'Test endpoint: accepts any JSON map',
    tags: V2_TAGS,
    access: [],
    consumes: JSON_MEDIA,
    body: { required: false, schema: { type: 'object' } },
    produces: V2_MEDIA,
    responses: { 200: { description: '`{}`', schema: ref('EmptyObject') } },
    errors: [400, 406, 413]
  }
})

export function rootHandlers (maxBodyBytes: number): Handlers<typeof ROOT_ROUTES> {
  const negotiate = negotiator(V2_OFFERS)
  const accept = (header: string | undefined): string => acceptable(negotiate(header))
  return {
    v2Root: (ctx) => reply(200, accept(ctx.req.headers.accept), '{}'),
    async v2RootPost (ctx) {
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
