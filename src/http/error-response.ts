// Every error body the proxy sends, whatever writes it (the server, a relay
// to another worker, a v3 result line, a refusal on a raw socket), is
// serialized here, so their shape and content type cannot drift apart.
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import fjs from 'fast-json-stringify'
import { errorBody, type ProxyError } from '../errors.js'
import type { Reply } from './handler.js'
import { MEDIA, errorMediaType } from './media.js'

const serialize = fjs({
  type: 'object',
  properties: {
    error_code: { type: 'integer' },
    message: { type: 'string' },
    retriable: { type: 'boolean' },
    persisted: { type: 'string' }
  },
  required: ['error_code', 'message', 'retriable']
})

/** The JSON text of an error: `{error_code, message, retriable[, persisted]}`. */
export function errorJson (err: ProxyError): string {
  return serialize(errorBody(err))
}

/**
 * The content type of an error answering `req`. The v3 API speaks only
 * `application/json`; v1/v2 errors come in the client's negotiated type.
 */
export function errorType (req: IncomingMessage): string {
  if (req.url?.startsWith('/v3/') === true) return MEDIA.json
  return errorMediaType(req.headers.accept)
}

/** The whole error response for `req`; `headers` adds to it (e.g. connection: close). */
export function errorReply (req: IncomingMessage, err: ProxyError, headers?: Record<string, string>): Reply {
  const reply: Reply = { status: err.status, type: errorType(req), body: errorJson(err) }
  if (headers !== undefined) reply.headers = headers
  return reply
}

/**
 * A complete HTTP/1.1 error response as bytes, for sockets that never became
 * a request (malformed HTTP, oversized headers, refused connections). Always
 * closes the connection: what follows on the wire cannot be trusted.
 */
export function rawErrorResponse (err: ProxyError): string {
  const body = errorJson(err)
  return `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
    `content-type: ${MEDIA.json}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
}
