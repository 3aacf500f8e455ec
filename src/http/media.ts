// Content negotiation for the Confluent-compatible API.
//
// Requests name their embedded format in a vendor media type,
// `application/vnd.kafka[.<format>].v<N>+json`; v1 forms stay accepted as
// aliases of v2. Responses are negotiated against the client's Accept header
// with q-values (RFC 9110 §12.5.1). Both results are memoised per header value:
// clients repeat the same few headers, so the hot path is a Map lookup.
import { ProxyError } from '../errors.js'

export const MEDIA = {
  v2: 'application/vnd.kafka.v2+json',
  v1: 'application/vnd.kafka.v1+json',
  json: 'application/json'
} as const

export const EMBEDDED_FORMATS = ['binary', 'json', 'avro', 'jsonschema', 'protobuf'] as const
export type EmbeddedFormat = typeof EMBEDDED_FORMATS[number]

/** What a request's Content-Type says about the body. */
export interface RequestMedia {
  /** Embedded format, or null for `application/vnd.kafka.vN+json` without one. */
  format: EmbeddedFormat | null
  /** 1 or 2; plain `application/json` counts as 2. */
  version: 1 | 2
  vendor: boolean
}

const CACHE_LIMIT = 256

function remember<V> (cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear()
  cache.set(key, value)
  return value
}

const VENDOR_RE = /^application\/vnd\.kafka(?:\.([a-z]+))?\.v([12])\+json$/

function parseRequestMedia (header: string): RequestMedia | null {
  const semi = header.indexOf(';')
  const base = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase()
  if (base === MEDIA.json) return { format: null, version: 2, vendor: false }
  const m = VENDOR_RE.exec(base)
  if (m === null) return null
  const format = m[1] ?? null
  if (format !== null && !(EMBEDDED_FORMATS as readonly string[]).includes(format)) return null
  return { format: format as EmbeddedFormat | null, version: m[2] === '1' ? 1 : 2, vendor: true }
}

// Confluent's v1 produce (TopicsResource and PartitionsResource
// produceBinary) also took binary records under its generic types. Plain
// application/json was one of them, but v2 refuses it (415) because it does not
// say whether values are base64 or JSON: read as binary, a JSON string that
// happens to be valid base64 would be stored as other bytes without an error.
// The other three never meant anything else.
export const V1_GENERIC_PRODUCE_TYPES = [MEDIA.v1, 'application/vnd.kafka+json', 'application/octet-stream'] as const
const V1_GENERIC_PRODUCE = new Set<string>(V1_GENERIC_PRODUCE_TYPES)

/** True for a Content-Type that Confluent's v1 produce read as binary records without naming the format. */
export function isV1GenericProduce (header: string | undefined): boolean {
  if (header === undefined) return false
  const semi = header.indexOf(';')
  return V1_GENERIC_PRODUCE.has((semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase())
}

const requestMediaCache = new Map<string, RequestMedia | null>()

/** Parses a Content-Type header; null when it is absent or not one of ours. */
export function requestMedia (header: string | undefined): RequestMedia | null {
  if (header === undefined) return null
  const hit = requestMediaCache.get(header)
  if (hit !== undefined) return hit
  return remember(requestMediaCache, header, parseRequestMedia(header))
}

interface AcceptRange {
  type: string
  subtype: string
  q: number
}

function parseAccept (header: string): AcceptRange[] {
  const ranges: AcceptRange[] = []
  for (const part of header.split(',')) {
    const [mediaRange = '', ...params] = part.split(';')
    const [type = '', subtype = ''] = mediaRange.trim().toLowerCase().split('/')
    if (type === '' || subtype === '') continue
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=')
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim())
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 0
      }
    }
    ranges.push({ type, subtype, q })
  }
  return ranges
}

/** The client's q for one concrete type: the most specific matching range wins. */
function qualityOf (ranges: AcceptRange[], offered: string): number {
  const [type, subtype] = offered.split('/') as [string, string]
  let best = -1
  let q = 0
  for (const r of ranges) {
    let specificity: number
    if (r.type === type && r.subtype === subtype) specificity = 2
    else if (r.type === type && r.subtype === '*') specificity = 1
    else if (r.type === '*' && r.subtype === '*') specificity = 0
    else continue
    if (specificity > best) {
      best = specificity
      q = r.q
    }
  }
  return q
}

/** A response type the server can produce, with its server-side quality (`qs`). */
export interface Offer {
  type: string
  qs: number
}

/**
 * A negotiator for one fixed list of offers. Returns the chosen offer's type,
 * or null when nothing acceptable is offered (406). No Accept header means the
 * first offer.
 */
export function negotiator (offers: readonly Offer[]): (accept: string | undefined) => string | null {
  const first = offers[0]
  if (first === undefined) throw new Error('negotiator needs at least one offer')
  const cache = new Map<string, string | null>()
  return (accept) => {
    if (accept === undefined || accept === '' || accept === '*/*') return first.type
    const hit = cache.get(accept)
    if (hit !== undefined) return hit
    const ranges = parseAccept(accept)
    let chosen: string | null = null
    let score = 0
    for (const offer of offers) {
      const s = qualityOf(ranges, offer.type) * offer.qs
      if (s > score) {
        score = s
        chosen = offer.type
      }
    }
    return remember(cache, accept, chosen)
  }
}

/** A negotiated type, or 406 (notAcceptable) when the client accepts none of the offers. */
export function acceptable (type: string | null): string {
  if (type === null) throw new ProxyError('notAcceptable')
  return type
}

/** Offers of every v2 resource that answers in `application/vnd.kafka.v2+json`. */
export const V2_OFFERS: readonly Offer[] = [
  { type: MEDIA.v2, qs: 1 },
  { type: MEDIA.v1, qs: 1 },
  { type: MEDIA.json, qs: 0.9 }
]

/** The same offers for a request sent in a v1 content type: a v1 client gets v1 back unless it asks otherwise. */
export const V1_OFFERS: readonly Offer[] = [
  { type: MEDIA.v1, qs: 1 },
  { type: MEDIA.v2, qs: 1 },
  { type: MEDIA.json, qs: 0.9 }
]

/** A negotiator that answers in the API version of the request's Content-Type. */
export function versionedNegotiator (): (accept: string | undefined, contentType: string | undefined) => string | null {
  const v2 = negotiator(V2_OFFERS)
  const v1 = negotiator(V1_OFFERS)
  return (accept, contentType) => requestMedia(contentType)?.version === 1 ? v1(accept) : v2(accept)
}

const ERROR_TYPE_RE = /^application\/(?:json|vnd\.kafka(?:\.([a-z]+))?\.v[12]\+json)$/
const errorTypeCache = new Map<string, string>()

/**
 * The type of an error body: the one of our JSON types (plain, v1, v2, with
 * or without an embedded format) that the client accepts with the highest q,
 * the earliest listed on a tie, as Confluent's negotiation gives a v2 client
 * its own type back. Wildcards, nothing acceptable or no Accept at all give
 * `application/json`: an error is always answered, never with a 406.
 */
export function errorMediaType (accept: string | undefined): string {
  if (accept === undefined || accept === '' || accept === '*/*') return MEDIA.json
  const hit = errorTypeCache.get(accept)
  if (hit !== undefined) return hit
  let chosen: string = MEDIA.json
  let best = 0
  for (const r of parseAccept(accept)) {
    const type = `${r.type}/${r.subtype}`
    const m = ERROR_TYPE_RE.exec(type)
    if (m === null || r.q <= best) continue
    if (m[1] !== undefined && !(EMBEDDED_FORMATS as readonly string[]).includes(m[1])) continue
    best = r.q
    chosen = type
  }
  return remember(errorTypeCache, accept, chosen)
}
