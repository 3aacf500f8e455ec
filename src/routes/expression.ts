// Expressions of [[routes]] values: `${params.id}`, `${headers.x-source}`,
// `${query.tenant}`, literal text around them (`tenant-${params.t}`), and a
// reserved `${identity.…}` source that resolves once authentication provides
// the request's principal (src/security/). Compiled at boot into parts; a
// request evaluates them with plain lookups, no regular expression.

export type Source = 'params' | 'headers' | 'query' | 'identity'

const SOURCES: ReadonlySet<string> = new Set<Source>(['params', 'headers', 'query', 'identity'])

type Part = string | { readonly source: Source, readonly name: string }

export interface Expression {
  /** As written in the config, for error messages. */
  readonly text: string
  readonly parts: readonly Part[]
}

/** What a request offers to expressions. `query` is parsed only when an expression reads it. */
export interface ExpressionInput {
  readonly params: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** The raw query string, without '?'. */
  readonly query: string
  /** The authenticated principal's attributes (`name`, claims); absent while authentication is not configured. */
  readonly identity?: Readonly<Record<string, string | undefined>> | undefined
}

/** Compiles `text`; throws an Error whose message says what is wrong with it. */
export function compileExpression (text: string): Expression {
  const parts: Part[] = []
  let i = 0
  while (i < text.length) {
    const open = text.indexOf('${', i)
    if (open === -1) {
      parts.push(text.slice(i))
      break
    }
    if (open > i) parts.push(text.slice(i, open))
    const close = text.indexOf('}', open)
    if (close === -1) throw new Error(`unterminated \${ in ${JSON.stringify(text)}`)
    const inner = text.slice(open + 2, close).trim()
    const dot = inner.indexOf('.')
    const source = dot === -1 ? inner : inner.slice(0, dot)
    const name = dot === -1 ? '' : inner.slice(dot + 1)
    if (!SOURCES.has(source)) throw new Error(`\${${inner}} in ${JSON.stringify(text)}: the source must be params, headers, query or identity`)
    if (name === '') throw new Error(`\${${inner}} in ${JSON.stringify(text)}: names no ${source} field (e.g. \${${source}.id})`)
    // HTTP header names are case-insensitive; node gives them lower-cased.
    parts.push({ source: source as Source, name: source === 'headers' ? name.toLowerCase() : name })
    i = close + 1
  }
  return { text, parts }
}

/** The expression's fields of `source` (path parameters it needs, for checks at boot). */
export function fieldsOf (e: Expression, source: Source): string[] {
  const out: string[] = []
  for (const p of e.parts) if (typeof p !== 'string' && p.source === source) out.push(p.name)
  return out
}

/** True when the expression has no `${…}` part. */
export function isLiteral (e: Expression): boolean {
  return e.parts.every((p) => typeof p === 'string')
}

/**
 * The expression's value for a request; undefined when a field it reads is
 * absent or empty (the route answers 400: a key or header "resolving to
 * nothing" would otherwise write a record nobody can find).
 */
export function evaluate (e: Expression, input: ExpressionInput, query: () => URLSearchParams): string | undefined {
  const parts = e.parts
  // The common case, one field and nothing around it, without concatenation.
  if (parts.length === 1) return piece(parts[0] as Part, input, query)
  let out = ''
  for (const p of parts) {
    const v = piece(p, input, query)
    if (v === undefined) return undefined
    out += v
  }
  return out
}

function piece (p: Part, input: ExpressionInput, query: () => URLSearchParams): string | undefined {
  if (typeof p === 'string') return p
  let v: string | string[] | null | undefined
  switch (p.source) {
    case 'params': v = input.params[p.name]; break
    case 'headers': v = input.headers[p.name]; break
    case 'query': v = query().get(p.name); break
    case 'identity': v = input.identity?.[p.name]; break
  }
  if (Array.isArray(v)) v = v.join(', ')
  return v === undefined || v === null || v === '' ? undefined : v
}
