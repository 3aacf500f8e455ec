// Matching of [[routes]] paths, before the Confluent API's router: exact
// templates with {param} segments and a trailing wildcard. A request whose
// path matches no route (or whose first segment is reserved, src/routes/
// config.ts) gets null and goes on to the Confluent API's router.
//
// Where two templates match one path the more specific wins, segment by
// segment: a static segment over a parameter over the wildcard, so
// `/items/special` beats `/items/{id}` whatever their order in the config.
import { decodeSegment, type RouteMatch } from '../http/router.js'
import { RESERVED_SEGMENTS, type Segment } from './config.js'

export interface Resource<H> {
  readonly segments: readonly Segment[]
  /** Handlers by method; HEAD is answered by GET's. */
  readonly handlers: ReadonlyMap<string, H>
  /** The `Allow` header of the path. */
  readonly allow: string
  /** Answers OPTIONS (a CORS preflight); null: OPTIONS answers 204 with Allow. */
  readonly options: H | null
}

export class AppRouteMatcher<H> {
  constructor (private readonly resources: ReadonlyArray<Resource<H>>) {}

  match (method: string, path: string): RouteMatch<H> | null {
    const parts = path.split('/').filter((s) => s !== '')
    if (parts.length === 0 || RESERVED_SEGMENTS.has(parts[0] as string)) return null
    let best: Resource<H> | null = null
    let bestRank = ''
    for (const r of this.resources) {
      const rank = rankOf(r.segments, parts)
      if (rank !== null && (best === null || rank > bestRank)) {
        best = r
        bestRank = rank
      }
    }
    if (best === null) return null
    const params = paramsOf(best.segments, parts)
    if (params === null) return null
    const handler = best.handlers.get(method) ?? (method === 'HEAD' ? best.handlers.get('GET') : undefined)
    if (handler !== undefined) return { kind: 'found', handler, params }
    if (method === 'OPTIONS') return best.options === null ? { kind: 'options', allow: best.allow } : { kind: 'found', handler: best.options, params }
    return { kind: 'method-not-allowed', allow: best.allow }
  }
}

// A string that sorts higher for a more specific match: one letter per
// segment (s static, p parameter, a wildcard), then the segment count.
function rankOf (segments: readonly Segment[], parts: readonly string[]): string | null {
  let rank = ''
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment
    if (s.kind === 'rest') return i < parts.length ? rank + 'a' : null
    const part = parts[i]
    if (part === undefined) return null
    if (s.kind === 'static') {
      if (s.value !== part) return null
      rank += 's'
    } else {
      rank += 'p'
    }
  }
  return segments.length === parts.length ? rank + 'z' : null
}

function paramsOf (segments: readonly Segment[], parts: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment
    if (s.kind === 'static') continue
    const raw = s.kind === 'rest' ? parts.slice(i).join('/') : parts[i] as string
    const value = decodeSegment(raw)
    if (value === null) return null
    params[s.name] = value
  }
  return params
}

/** `Allow` of a path served for `methods` (HEAD wherever GET is, OPTIONS always: RFC 9110 §9.3). */
export function allowOf (methods: Iterable<string>): string {
  const set = new Set(methods)
  if (set.has('GET')) set.add('HEAD')
  set.add('OPTIONS')
  return [...set].join(', ')
}
