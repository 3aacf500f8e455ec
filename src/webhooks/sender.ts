// One HTTP POST of a delivery, and what became of it. One undici Agent per
// process: a keep-alive pool per callback origin (webhooks.max_connections_per_origin
// connections each), so a slow or hanging callback ties up only its own
// origin's connections. Every connection goes through the safety rules
// (./safety.ts): names are resolved by a lookup that refuses denied
// addresses, an address in the URL is checked before connecting, and the
// connected socket's remote address once more. Redirects are not followed
// (undici's dispatcher follows none unless composed with its redirect
// interceptor); a 3xx is a failed attempt. At most max_response_bytes of a
// response body are read, then the connection is dropped.
import { Agent, buildConnector } from 'undici'
import { addressBits, checkedLookup, connectionProblem, type HostRules } from './safety.js'

export interface SenderOptions {
  rules: HostRules
  connectTimeoutMs: number
  /** From sending the request to the end of the response. */
  responseTimeoutMs: number
  maxResponseBytes: number
  connectionsPerOrigin: number
}

export type Outcome =
  | { kind: 'delivered', status: number }
  | { kind: 'gone', status: number }
  /**
   * `sent`: the request may have reached the callback (it answered, or the
   * connection failed after the request went out); false when it certainly
   * did not (no connection).
   */
  | { kind: 'failed', status: number | null, reason: string, retryAfterMs: number | null, sent: boolean }
  /** Given up because the delivery was stopped (its partition revoked, the process stopping). */
  | { kind: 'aborted' }

// Errors raised before a connection existed: the request was not sent.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EWEBHOOKDENIED', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN'])

/** Milliseconds a Retry-After value asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP-date); null when absent or unreadable. */
export function retryAfterMs (value: string | string[] | undefined, now = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined) return null
  const text = raw.trim()
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  if (Number.isNaN(at)) return null
  return Math.max(0, at - now)
}

function errorCode (err: unknown): string {
  let e: unknown = err
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return (err as Error | undefined)?.name ?? 'error'
}

function describe (err: unknown): string {
  const code = errorCode(err)
  const message = (err as Error | undefined)?.message ?? String(err)
  return code === message ? code : `${code}: ${message}`
}

export class Sender {
  private readonly agent: Agent

  constructor (private readonly opts: SenderOptions) {
    const base = buildConnector({ timeout: opts.connectTimeoutMs, lookup: checkedLookup(opts.rules) })
    const rules = opts.rules
    const connect: buildConnector.connector = (options, callback) => {
      const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname
      if (addressBits(host) !== null) {
        const problem = connectionProblem(rules, host, host)
        if (problem !== null) {
          callback(problem, null)
          return
        }
      }
      base(options, (err, socket) => {
        if (err !== null) {
          callback(err, null)
          return
        }
        const problem = connectionProblem(rules, host, socket.remoteAddress)
        if (problem !== null) {
          socket.destroy()
          callback(problem, null)
          return
        }
        callback(null, socket)
      })
    }
    this.agent = new Agent({
      connect,
      connections: opts.connectionsPerOrigin,
      keepAliveTimeout: 4000,
      headersTimeout: opts.responseTimeoutMs,
      bodyTimeout: opts.responseTimeoutMs
    })
  }

  /** POSTs `body` to `url`; never rejects. `stop` aborts it (the outcome is then `aborted`). */
  async post (url: URL, headers: Record<string, string>, body: string, stop: AbortSignal): Promise<Outcome> {
    if (stop.aborted) return { kind: 'aborted' }
    const timeout = AbortSignal.timeout(this.opts.responseTimeoutMs)
    const signal = AbortSignal.any([stop, timeout])
    let status: number | null = null
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body,
        signal
      })
      status = res.statusCode
      let read = 0
      for await (const chunk of res.body) {
        read += (chunk as Buffer).length
        if (read > this.opts.maxResponseBytes) {
          res.body.destroy()
          break
        }
      }
      if (status >= 200 && status < 300) return { kind: 'delivered', status }
      if (status === 410) return { kind: 'gone', status }
      const reason = status >= 300 && status < 400
        ? `HTTP ${status}: redirects are not followed${typeof res.headers.location === 'string' ? ` (to ${res.headers.location.slice(0, 200)})` : ''}`
        : `HTTP ${status}`
      return { kind: 'failed', status, reason, retryAfterMs: retryAfterMs(res.headers['retry-after']), sent: true }
    } catch (err) {
      if (stop.aborted) return { kind: 'aborted' }
      if (status !== null) {
        // The callback answered; its body was cut short.
        if (status >= 200 && status < 300) return { kind: 'delivered', status }
        if (status === 410) return { kind: 'gone', status }
        return { kind: 'failed', status, reason: `HTTP ${status}`, retryAfterMs: null, sent: true }
      }
      if (timeout.aborted) return { kind: 'failed', status: null, reason: `no response within ${this.opts.responseTimeoutMs} ms`, retryAfterMs: null, sent: true }
      const code = errorCode(err)
      return { kind: 'failed', status: null, reason: describe(err), retryAfterMs: null, sent: !NOT_SENT.has(code) }
    }
  }

  close (): Promise<void> {
    return this.agent.destroy()
  }
}
