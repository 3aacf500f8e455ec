import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Params } from './router.js'

/** What a handler gets: the raw request plus what routing already worked out. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  params: Params
  /** The path without the query string. */
  path: string
  /** The raw query string, without '?'; '' when absent. */
  query: string
}

/**
 * What a handler returns; the server writes it. `body` is already serialized
 * (by a compiled serializer) or null for an empty response.
 */
export interface Reply {
  /** The handler already wrote the response itself (e.g. a forwarded request). */
  handled?: true
  status: number
  type?: string
  body: string | Buffer | null
  headers?: Record<string, string>
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>

export function reply (status: number, type: string, body: string): Reply {
  return { status, type, body }
}

export const NO_CONTENT: Reply = Object.freeze({ status: 204, body: null })

export const HANDLED: Reply = Object.freeze({ handled: true, status: 0, body: null })

// Handlers whose request body is a long-lived stream (v3 streaming produce).
// The server's upload deadline (server.request_timeout_ms) does not apply to
// them; they bound their own lifetime.
const STREAMING = new WeakSet<Handler>()

export function streamingBody (h: Handler): Handler {
  STREAMING.add(h)
  return h
}

export function streamsBody (h: Handler): boolean {
  return STREAMING.has(h)
}
