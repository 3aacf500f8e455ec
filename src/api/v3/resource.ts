// What every v3 admin resource shares: absolute links, resource names (CRN),
// the `kind`/`metadata` envelope, list envelopes, the cluster-id check, JSON
// request bodies and case-insensitive enum parameters (spec §2.1).
import { ProxyError } from '../../errors.js'
import { readBody } from '../../http/body.js'
import { acceptable, MEDIA, negotiator, requestMedia } from '../../http/media.js'
import { reply, listenerBase, type Ctx, type Reply } from '../../http/handler.js'
import { adminError } from '../../kafka/errors.js'
import type { ClusterDescription, KafkaAdmin } from '../../kafka/admin.js'
import { DEFAULT_JSON_LIMITS, parseJson, type JsonLimits } from '../../json/parse.js'

export interface ResourceMetadata {
  self: string
  resource_name?: string
  next?: null
}

export interface Related {
  related: string
}

export interface ListEnvelope<T> {
  kind: string
  metadata: { self: string, next: null }
  data: T[]
}

const negotiate = negotiator([{ type: MEDIA.json, qs: 1 }])

// The cluster id never changes for a running cluster, so one successful
// DescribeCluster answers every later check; errors are not cached.
const CLUSTER_TTL_MS = 60_000

export interface ResourcesOptions {
  /** server.advertised_url; '' means the listener that accepted the request (never the Host header). */
  advertisedUrl: string
  /** v3.resource_name_authority. */
  authority: string
  admin: KafkaAdmin
  maxBodyBytes: number
  /** Limits of the strict JSON body parser (server.max_json_*). */
  json?: JsonLimits
}

export class Resources {
  private described: { value: ClusterDescription, at: number } | null = null
  private inflight: Promise<ClusterDescription> | null = null

  constructor (private readonly opts: ResourcesOptions) {}

  /** scheme://host[:port] of links in responses. */
  base (ctx: Ctx): string {
    if (this.opts.advertisedUrl !== '') return this.opts.advertisedUrl
    return listenerBase(ctx.req)
  }

  /** The absolute URL of `/v3/clusters/{id}` followed by `path` segments (each URL-encoded). */
  url (ctx: Ctx, clusterId: string, ...segments: Array<string | number>): string {
    let out = `${this.base(ctx)}/v3/clusters/${encodeURIComponent(clusterId)}`
    for (const s of segments) out += `/${encodeURIComponent(String(s))}`
    return out
  }

  /** crn://<authority>/kafka=<cluster id>/<type>=<name>/… */
  crn (clusterId: string, ...pairs: Array<[string, string | number]>): string {
    let out = `crn://${this.opts.authority}/kafka=${clusterId}`
    for (const [type, name] of pairs) out += `/${type}=${name}`
    return out
  }

  related (url: string): Related {
    return { related: url }
  }

  list<T> (kind: string, self: string, data: T[]): ListEnvelope<T> {
    return { kind, metadata: { self, next: null }, data }
  }

  /** The cluster as last described (cached); 503/500-class errors when it cannot be asked. */
  async describe (): Promise<ClusterDescription> {
    const c = this.described
    if (c !== null && Date.now() - c.at < CLUSTER_TTL_MS) return c.value
    this.inflight ??= this.opts.admin.describeCluster()
      .then((value) => {
        this.described = { value, at: Date.now() }
        return value
      })
      .finally(() => { this.inflight = null })
    try {
      return await this.inflight
    } catch (err) {
      throw adminError(err)
    }
  }

  /**
   * Checks the Accept header and that `{cluster_id}` names this cluster
   * (404 "Cluster <id> cannot be found." otherwise); returns the id.
   */
  async cluster (ctx: Ctx): Promise<string> {
    accept(ctx)
    const id = ctx.params.cluster_id as string
    const cluster = await this.describe()
    if (cluster.clusterId !== id) throw new ProxyError('clusterNotFound', `Cluster ${id} cannot be found.`)
    return id
  }

  /**
   * A JSON object request body. Empty or `null` bodies give 422/42206, bodies
   * that are not JSON 400 (parsed strictly: UTF-8, limits, no repeated keys;
   * see json/parse.ts), other media types 415.
   */
  async body (ctx: Ctx): Promise<Record<string, unknown>> {
    const media = requestMedia(ctx.req.headers['content-type'])
    if (media === null || media.vendor) throw new ProxyError('unsupportedMediaType')
    const raw = await readBody(ctx.req, this.opts.maxBodyBytes)
    if (raw.length === 0) throw new ProxyError('nullPayload')
    const parsed = parseJson(raw, this.opts.json ?? DEFAULT_JSON_LIMITS, { prefix: 'Bad Request: ' })
    if (parsed === null) throw new ProxyError('nullPayload')
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ProxyError('badRequest', 'Bad Request: the request body must be a JSON object')
    return parsed as Record<string, unknown>
  }
}

/** 406 unless the client accepts application/json. */
export function accept (ctx: Ctx): void {
  acceptable(negotiate(ctx.req.headers.accept))
}

export function json (status: number, body: unknown): Reply {
  return reply(status, MEDIA.json, JSON.stringify(body))
}

/**
 * An enum value from a query or path parameter, matched case-insensitively;
 * `fallback` when absent; 400 when not one of `values`.
 */
export function enumParam<T extends string> (raw: string | null | undefined, values: readonly T[], name: string, fallback: T): T {
  if (raw === null || raw === undefined || raw === '') return fallback
  const upper = raw.toUpperCase()
  const found = values.find((v) => v === upper)
  if (found === undefined) throw new ProxyError('badRequest', `Bad Request: ${name} must be one of ${values.join(', ')} (got ${JSON.stringify(raw)}).`)
  return found
}

/**
 * A boolean query parameter: `true` or `false` (any case); `false` when
 * absent; 400 otherwise. JAX-RS (Confluent's proxy) reads every other string
 * as false, which hides a typo as a silent "no".
 */
export function boolParam (query: string, name: string): boolean {
  const raw = new URLSearchParams(query).get(name)
  if (raw === null) return false
  const lower = raw.toLowerCase()
  if (lower === 'true' || lower === 'false') return lower === 'true'
  throw new ProxyError('badRequest', `Bad Request: ${name} must be true or false (got ${JSON.stringify(raw)}).`)
}

/** A non-negative integer path parameter; 404 `notFound` otherwise (no such resource can exist). */
export function intParam (ctx: Ctx, name: string): number {
  const raw = ctx.params[name] as string
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2147483647) throw new ProxyError('notFound')
  return Number(raw)
}

/** Confluent truncates parser messages at the first newline. */
export function firstLine (s: string): string {
  const nl = s.indexOf('\n')
  return nl === -1 ? s : s.slice(0, nl)
}
