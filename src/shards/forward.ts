// Relays a v2 consumer call to the worker process that owns the instance
// (see directory.ts), over that worker's loopback listener, or to the proxy
// instance that holds it (see peers.ts), and streams the owner's answer back. The client sees one response whichever process
// accepted its connection, so no sticky load balancing is needed.
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import { pipeline } from 'node:stream'
import { ProxyError } from '../errors.js'
import { sendError } from '../http/error-response.js'

/** Marks a relayed request, so that an owner that no longer has the instance answers instead of relaying again. */
export const FORWARDED_HEADER = 'x-kafka-proxy-forwarded'

export function isForwarded (req: IncomingMessage): boolean {
  return req.headers[FORWARDED_HEADER] !== undefined
}

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the
// message; `expect` was already answered by this process's server.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'expect'])

// Internal hops reuse their connections. LIFO hands out the most recently
// used socket, so sockets beyond the usual concurrency go idle and close.
const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' })

// A relay whose owner is unreachable (it just died, so its instances died
// with it) answers exactly like a call for an unknown instance.
const NOT_FOUND = new ProxyError('consumerNotFound')

interface Target {
  hostname: string
  port: number
  /** The base URL's path without its trailing slash; usually ''. */
  prefix: string
}

const TARGET_CACHE_LIMIT = 64
const targets = new Map<string, Target>()

function targetOf (ownerUrl: string): Target {
  let t = targets.get(ownerUrl)
  if (t !== undefined) return t
  const u = new URL(ownerUrl)
  if (u.protocol !== 'http:') throw new Error(`forward: unsupported owner URL ${ownerUrl}`)
  t = {
    // URL keeps IPv6 literals bracketed; sockets want them bare.
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 80 : Number(u.port),
    prefix: u.pathname.replace(/\/$/, '')
  }
  if (targets.size >= TARGET_CACHE_LIMIT) targets.clear()
  targets.set(ownerUrl, t)
  return t
}

function endToEnd (headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  }
  // Connection may name further hop-by-hop headers.
  const named = headers.connection
  if (named !== undefined) {
    for (const token of named.split(',')) delete out[token.trim().toLowerCase()]
  }
  return out
}

function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

function answerNotFound (req: IncomingMessage, res: ServerResponse): void {
  // The unread rest of a streamed body is still on the wire.
  sendError(req, res, NOT_FOUND, req.complete ? undefined : { connection: 'close' })
}

/** A relay to another proxy instance: the header that proves it, instead of FORWARDED_HEADER. */
export interface PeerHop {
  header: string
  value: string
}

/**
 * Sends the request (method, path + query, headers, the body already read or
 * still streaming) to `ownerUrl` and streams the owner's response back
 * unchanged. A request that already carries FORWARDED_HEADER is never
 * forwarded again: it is answered 404/40403, so a stale directory entry
 * cannot loop. An owner that cannot be reached gets the same answer.
 *
 * Resolves once the response is written or the client went away; never
 * rejects. The caller must not write to `res` afterwards.
 */
export function forward (req: IncomingMessage, res: ServerResponse, ownerUrl: string, body?: Buffer, hop?: PeerHop): Promise<void> {
  if (isForwarded(req)) {
    answerNotFound(req, res)
    return Promise.resolve()
  }
  if (res.destroyed) return Promise.resolve()
  const target = targetOf(ownerUrl)
  // Host stays the client's, as an end-to-end header; links the owner builds
  // never come from it (see listenerBase in src/http/handler.ts).
  const headers = endToEnd(req.headers)
  // A relay to another instance is not the last hop: that instance relays it
  // on to its owning process.
  if (hop === undefined) headers[FORWARDED_HEADER] = '1'
  else headers[hop.header] = hop.value
  const streamed = body === undefined && hasBody(req)
  if (body !== undefined) {
    headers['content-length'] = body.length
    delete headers['transfer-encoding']
  }

  return new Promise((resolve) => {
    let current: http.ClientRequest | null = null
    let settled = false
    const settle = (): void => {
      if (settled) return
      settled = true
      resolve()
    }
    // The client left: stop the hop too, the owner's work is for nobody.
    res.once('close', () => {
      if (!res.writableFinished) current?.destroy()
      settle()
    })

    const attempt = (mayRetry: boolean): void => {
      const out = http.request({
        agent,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: target.prefix + (req.url ?? '/'),
        headers
      })
      current = out
      out.once('response', (ores) => {
        res.writeHead(ores.statusCode ?? 502, ores.statusMessage, endToEnd(ores.headers))
        // An owner dying mid-body destroys `res`: the client sees a cut
        // response, never a complete-looking one.
        pipeline(ores, res, () => settle())
      })
      out.on('error', (err: NodeJS.ErrnoException) => {
        // Errors of an attempt already given up on, or after the answer started.
        if (current !== out || settled || res.headersSent) return
        // A kept-alive socket the owner closed just as it was reused. Node
        // does not retry; a request we can send again gets one more try on a
        // fresh connection instead of a false "not found".
        if (mayRetry && out.reusedSocket && err.code === 'ECONNRESET' && !streamed) {
          attempt(false)
          return
        }
        if (streamed) req.unpipe(out)
        answerNotFound(req, res)
        settle()
      })
      if (body !== undefined) out.end(body)
      else if (streamed) req.pipe(out)
      else out.end()
    }
    attempt(true)
  })
}
