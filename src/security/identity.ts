// Identity injection ([identity]): record headers that say who produced a
// record, written by the proxy from the authenticated principal, never by the
// client. With `confluent_api = true`, every record of a v2 or v3 produce
// (records, records:batch and the streaming endpoint) gets the configured
// headers, appended after the client's own.
//
// A client cannot forge them: a record whose own headers use one of the
// reserved names (compared case-insensitively, since consumers written for
// HTTP often match header names so) is refused with 422/42212, per record
// where the API answers per record (v3), the whole request in v2. Refusing
// rather than overwriting keeps a client from believing it set a header the
// proxy silently replaced.
//
// The templates are the [[routes]] expression language (src/routes/
// expression.ts) restricted to its identity source: `${identity.sub}`,
// `${identity.method}`, `${identity.roles}`, `${identity.claims.NAME}`. A
// template that resolves to nothing for a principal (a Basic user has no
// claims) leaves that header out of its records; the reserved name still
// cannot be sent by the client. Without authentication every request acts as
// the principal `anonymous`. Values are computed once per principal object
// (the guard keeps one per verified credential), so a request pays a WeakMap
// lookup and, per record, an array append.
import { ProxyError } from '../errors.js'
import type { IdentityConfig } from '../config/schema.js'
import type { MessageHeader } from '../kafka/binding.js'
import { compileExpression, evaluate, type Expression, type ExpressionInput } from '../routes/expression.js'
import { ANONYMOUS, type Principal } from './principal.js'

/** The headers a principal's records get, shared by all of them: never modified. */
export type IdentityHeaders = Array<Record<string, Buffer>>

interface IdentityHeader {
  readonly name: string
  readonly value: Expression
}

const NAME_RE = /^[^\s=]+$/
const FIELDS = new Set(['sub', 'name', 'method', 'roles'])

/**
 * `${identity.x}` fields of a principal: sub and name (the principal),
 * method, roles (comma-separated) and claims.NAME for each scalar JWT claim.
 * Application routes' expressions read the same fields.
 */
export function identityFields (p: Principal): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { sub: p.name, name: p.name, method: p.method, roles: p.roles.join(',') }
  for (const [k, v] of Object.entries(p.claims)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[`claims.${k}`] = String(v)
  }
  return out
}

/** Parses identity.headers; each problem names the entry. */
export function parseIdentityHeaders (entries: readonly string[]): { headers: IdentityHeader[], issues: string[] } {
  const headers: IdentityHeader[] = []
  const issues: string[] = []
  const seen = new Set<string>()
  entries.forEach((entry, i) => {
    const where = `entry ${i + 1} (${JSON.stringify(entry)})`
    const eq = entry.indexOf('=')
    const name = eq === -1 ? '' : entry.slice(0, eq).trim()
    if (!NAME_RE.test(name)) {
      issues.push(`${where}: must be name=template, like "x-principal=\${identity.sub}"`)
      return
    }
    if (seen.has(name.toLowerCase())) {
      issues.push(`${where}: the header ${name} is named twice`)
      return
    }
    seen.add(name.toLowerCase())
    let value: Expression
    try {
      value = compileExpression(entry.slice(eq + 1).trim())
    } catch (err) {
      issues.push(`${where}: ${(err as Error).message}`)
      return
    }
    for (const part of value.parts) {
      if (typeof part === 'string') continue
      if (part.source !== 'identity') {
        issues.push(`${where}: only \${identity.…} fields may appear (a request's params, headers or query come from the client, which could forge them)`)
        return
      }
      if (!FIELDS.has(part.name) && !(part.name.startsWith('claims.') && part.name.length > 7)) {
        issues.push(`${where}: \${identity.${part.name}} is not sub, name, method, roles or claims.NAME`)
        return
      }
    }
    headers.push({ name, value })
  })
  return { headers, issues }
}

const NO_VALUES: Readonly<Record<string, string>> = Object.freeze({})
const noQuery = (): URLSearchParams => new URLSearchParams()

export class IdentityInjector {
  private readonly headers: readonly IdentityHeader[]
  private readonly reserved: ReadonlySet<string>
  private readonly cache = new WeakMap<Principal, IdentityHeaders>()

  /** Null unless the Confluent API is to inject headers (identity.confluent_api with some headers). */
  static create (config: IdentityConfig): IdentityInjector | null {
    if (!config.confluent_api || config.headers.length === 0) return null
    const { headers, issues } = parseIdentityHeaders(config.headers)
    // loadConfig reports these; a config built in code may not have been loaded.
    if (issues.length > 0) throw new Error(`identity.headers: ${issues.join('; ')}`)
    return new IdentityInjector(headers)
  }

  private constructor (headers: IdentityHeader[]) {
    this.headers = headers
    this.reserved = new Set(headers.map((h) => h.name.toLowerCase()))
  }

  /** The reserved header names, as configured. */
  get names (): string[] {
    return this.headers.map((h) => h.name)
  }

  /** The headers every record of `p` gets (anonymous without authentication); one array per principal object, shared by its records. */
  headersFor (p: Principal | undefined): IdentityHeaders {
    const principal = p ?? ANONYMOUS
    let out = this.cache.get(principal)
    if (out === undefined) {
      const input: ExpressionInput = { params: NO_VALUES, headers: NO_VALUES, query: '', identity: identityFields(principal) }
      out = []
      for (const h of this.headers) {
        const v = evaluate(h.value, input, noQuery)
        if (v !== undefined) out.push({ [h.name]: Buffer.from(v, 'utf8') })
      }
      Object.freeze(out)
      this.cache.set(principal, out)
    }
    return out
  }

  /** The 422 for client headers that use a reserved name; null when there are none. */
  forged (own: readonly MessageHeader[] | undefined, where: string): ProxyError | null {
    if (own === undefined) return null
    for (const h of own) {
      for (const name in h) {
        if (this.reserved.has(name.toLowerCase())) {
          return new ProxyError('reservedHeader', `${where}: the header ${JSON.stringify(name)} is written by the proxy (identity.headers) and cannot be sent`, { persisted: 'no' })
        }
      }
    }
    return null
  }

  /** Appends the identity headers to a record's own; throws the 422 when the client sent one of their names. */
  stamp (record: { headers?: MessageHeader[] | undefined }, identity: IdentityHeaders): void {
    const forged = this.forged(record.headers, 'headers')
    if (forged !== null) throw forged
    record.headers = this.merge(record.headers, identity)
  }

  /** A record's headers with the identity headers after its own (`identity` itself when it has none: no copy). */
  merge<H extends MessageHeader> (own: H[] | undefined, identity: IdentityHeaders): Array<H | IdentityHeaders[number]> {
    return own === undefined || own.length === 0 ? identity : (own as Array<H | IdentityHeaders[number]>).concat(identity)
  }
}
