// What route handlers read of a request besides the body: the Prefer
// preferences (RFC 7240: `wait`, `respond-async`), the Kafka-Position header
// a client sends back for read-your-writes, and the inputs of expressions.
import type { Ctx } from '../http/handler.js'
import { ProxyError } from '../errors.js'
import { evaluate, type Expression, type ExpressionInput } from './expression.js'
import type { Position } from './view.js'
import { identityFields } from '../security/identity.js'

/** Longest `Prefer: wait` honoured, in seconds. */
export const MAX_WAIT_S = 60

/** The response header carrying where a produce route's record landed, and the request header a read sends it back in. */
export const POSITION_HEADER = 'kafka-position'

export interface Preferences {
  /** `wait=N` in milliseconds (capped at MAX_WAIT_S); 0 when absent. */
  readonly waitMs: number
  readonly respondAsync: boolean
}

const NONE: Preferences = Object.freeze({ waitMs: 0, respondAsync: false })

export function preferences (header: string | string[] | undefined): Preferences {
  if (header === undefined) return NONE
  const text = Array.isArray(header) ? header.join(',') : header
  let waitMs = 0
  let respondAsync = false
  for (const item of text.split(/[,;]/)) {
    const [name, value] = item.split('=').map((s) => s.trim().toLowerCase())
    if (name === 'respond-async') respondAsync = true
    else if (name === 'wait' && value !== undefined && /^\d+$/.test(value)) waitMs = Math.min(Number(value), MAX_WAIT_S) * 1000
  }
  return { waitMs, respondAsync }
}

/** `partition:offset[, partition:offset…]` of a Kafka-Position header; 400 when malformed. */
export function positions (header: string | string[] | undefined): Position[] {
  if (header === undefined || header === '') return []
  const text = Array.isArray(header) ? header.join(',') : header
  const out: Position[] = []
  for (const item of text.split(',')) {
    const m = /^\s*(\d+):(\d+)\s*$/.exec(item)
    if (m === null) throw new ProxyError('badRequest', `${POSITION_HEADER} must be partition:offset (as a produce route answered it), got ${JSON.stringify(item.trim())}`)
    out.push([Number(m[1]), Number(m[2])])
  }
  return out
}

/** Expression evaluation for one request, with the query string parsed at most once. */
export class RequestValues {
  private parsed: URLSearchParams | null = null
  private readonly input: ExpressionInput

  constructor (ctx: Ctx) {
    const p = ctx.security?.principal
    this.input = { params: ctx.params, headers: ctx.req.headers, query: ctx.query, identity: p === undefined ? undefined : identityFields(p) }
  }

  /** The expression's value; 400 naming `what` when it resolves to nothing. */
  need (e: Expression, what: string): string {
    const v = evaluate(e, this.input, () => (this.parsed ??= new URLSearchParams(this.input.query)))
    if (v === undefined) throw new ProxyError('badRequest', `${what} ${JSON.stringify(e.text)} resolves to nothing for this request`)
    return v
  }
}
