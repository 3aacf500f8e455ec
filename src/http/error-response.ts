// Every error the proxy answers is written here: a response by sendError
// (the server's answers and a relay's own refusal alike), a socket that never
// became a request by rawErrorResponse, a v3 result line by errorJson. One
// serializer and one content-type rule, so their shape cannot drift apart.
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import fjs from 'fast-json-stringify'
import { errorBody, type ProxyError } from '../errors.js'
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

/**
 * Writes the whole error response answering `req`: its status, the body in
 * the negotiated type (errorType), `headers` added (e.g. connection: close),
 * no body for HEAD. Confluent answers an unsatisfiable Accept with an empty
 * 406, so notAcceptable has no body. Nothing happens when a response is
 * already under way or the client is gone.
 */
export function sendError (req: IncomingMessage, res: ServerResponse, err: ProxyError, headers?: OutgoingHttpHeaders): void {
  if (res.headersSent || res.destroyed) return
  if (err.key === 'notAcceptable') {
    res.writeHead(406, headers)
    res.end()
    return
  }
  const body = errorJson(err)
  res.writeHead(err.status, { ...headers, 'content-type': errorType(req), 'content-length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * A complete HTTP/1.1 error response as bytes, for sockets that never became
 * a request (malformed HTTP, oversized headers, refused connections). Always
 * closes the connection: what follows on the wire cannot be trusted.
 */
export function rawErrorResponse (err: ProxyError): string {
  const body = errorJson(err)
  // A 401 carries its WWW-Authenticate challenge (src/security/guard.ts).
  const extra = (err as { headers?: Record<string, string> }).headers
  let headers = ''
  if (extra !== undefined) for (const [name, value] of Object.entries(extra)) headers += `${name}: ${value}\r\n`
  return `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
    headers +
    `content-type: ${MEDIA.json}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    'connection: close\r\n\r\n' +
    body
}
