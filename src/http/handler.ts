import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Params } from './router.js'
import type { RequestSecurity } from '../security/guard.js'

/** What a handler gets: the raw request plus what routing already worked out. */
export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  params: Params
  /** The path without the query string. */
  path: string
  /** The raw query string, without '?'; '' when absent. */
  query: string
  /** Who the request acts for and what they may do; absent when no authentication or authorization is configured. */
  security?: RequestSecurity
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

/**
 * `http://host:port` of the listener that accepted `req`, from the address the
 * socket was accepted on. Links handed to clients (v2 base_uri, v3
 * metadata.self) use it when server.advertised_url is empty: the Host header
 * is whatever the client wrote, so it would let any client make the proxy
 * hand out links to another host.
 */
export function listenerBase (req: IncomingMessage): string {
  const socket = req.socket
  let host = socket.localAddress ?? '127.0.0.1'
  // An IPv4 client of a dual-stack listener shows up as an IPv4-mapped IPv6 address.
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7)
  if (host.includes(':')) host = `[${host}]`
  return `http://${host}:${socket.localPort ?? 80}`
}
