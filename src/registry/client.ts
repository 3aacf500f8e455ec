// Client of a Confluent-compatible schema registry (Confluent Schema Registry,
// or Apicurio's /apis/ccompat/v7), with the caching that keeps registry calls
// off the per-record path:
//   id -> schema                         (ids are immutable)
//   (subject, type, schema text) -> id   (a registered schema keeps its id)
//   (subject, version) -> schema         (numbered versions are immutable)
// Concurrent calls for one key share one request; failures are not cached,
// and neither is "not registered yet" nor "latest".
//
// Error mapping follows the Confluent REST Proxy (kafka-rest
// SchemaManagerImpl.handleRestClientException and KafkaRestExceptionMapper):
// an error answer of the registry is 42207 "Error serializing message. …"
// (retriable when the registry answered 5xx), except a 403 or a registry
// 40301 (authorization), which passes through as 403/40301, and a registry
// 42201 "Invalid schema", which is our 42205. A registry 401 is 42207 like
// Confluent's: it is the proxy's credentials that are wrong, not the
// client's. An unreachable or slow registry is 408/40801 (retriable), the
// code Confluent gives a serializer's SerializationException; its
// SchemaManagerImpl would say 42207 for the same I/O error, which hides that
// a retry can succeed.
import http from 'node:http'
import https from 'node:https'
import { readFileSync } from 'node:fs'
import { ProxyError, type ErrorKey } from '../errors.js'
import type { SchemaRegistryConfig, SubjectStrategy } from '../config/schema.js'
import type { SchemaType } from '../formats/wire.js'

export type { SchemaType } from '../formats/wire.js'

export interface SchemaReference {
  name: string
  subject: string
  version: number
}

export interface RegisteredSchema {
  schemaType: SchemaType
  schema: string
  references: SchemaReference[]
}

export interface SubjectVersion extends RegisteredSchema {
  subject: string
  id: number
  version: number
}

export type RegistryOptions = Pick<SchemaRegistryConfig, 'url' | 'basic_auth_user' | 'basic_auth_password' | 'ca_file' | 'request_timeout_ms'> & {
  /** Entries per cache; 1000 like Confluent's serializers (max.schemas.per.subject). */
  cacheCapacity?: number
}

// The registry's error body, https://docs.confluent.io/platform/current/schema-registry/develop/api.html#errors
interface RegistryErrorBody {
  error_code?: unknown
  message?: unknown
}

/** What a failed registry call said, kept as the ProxyError's cause. */
export interface RegistryFailure {
  /** HTTP status, or 0 when no answer came. */
  status: number
  /** The registry's error_code, when it sent one. */
  errorCode: number | null
  message: string
}

// Registry error codes (Confluent Schema Registry, Errors.java / API docs).
const SUBJECT_NOT_FOUND = 40401
const SCHEMA_NOT_FOUND = 40403
const INVALID_SCHEMA = 42201
const AUTHORIZATION = 40301

// Schemas are small; this only bounds what a misbehaving server can make us buffer.
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

const SCHEMA_TYPES = new Set<string>(['AVRO', 'JSON', 'PROTOBUF'])

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const ACCEPT = 'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5'

export class SchemaRegistryClient {
  private readonly base: URL | null
  private readonly agent: http.Agent | null
  private readonly auth: string | null
  private readonly timeoutMs: number
  private readonly capacity: number
  private readonly byId = new Map<number, Promise<RegisteredSchema>>()
  private readonly idBySchema = new Map<string, Promise<number>>()
  private readonly lookups = new Map<string, Promise<SubjectVersion | null>>()
  private readonly versions = new Map<string, Promise<SubjectVersion>>()

  constructor (opts: RegistryOptions) {
    this.timeoutMs = opts.request_timeout_ms
    this.capacity = opts.cacheCapacity ?? 1000
    this.auth = opts.basic_auth_user === ''
      ? null
      : 'Basic ' + Buffer.from(`${opts.basic_auth_user}:${opts.basic_auth_password}`).toString('base64')
    if (opts.url === '') {
      this.base = null
      this.agent = null
      return
    }
    // A trailing slash would double up with the paths below; a path prefix
    // (Apicurio's /apis/ccompat/v7) must be kept.
    this.base = new URL(opts.url.replace(/\/+$/, '') + '/')
    const agentOpts = { keepAlive: true, maxSockets: 16 }
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ ...agentOpts, ca: opts.ca_file === '' ? undefined : readFileSync(opts.ca_file) })
      : new http.Agent(agentOpts)
  }

  /** False when no registry URL is configured: every call then fails with 42206. */
  get configured (): boolean {
    return this.base !== null
  }

  getById (id: number): Promise<RegisteredSchema> {
    return this.shared(this.byId, id, async () => {
      const body = await this.request('GET', `schemas/ids/${id}`, undefined, `Error when fetching schema by id. schemaId = ${id}`)
      return parseRegistered(body, `schema ${id}`)
    })
  }

  /**
   * Registers a schema under a subject and returns its id; registering a
   * schema the subject already has returns the existing id.
   */
  register (subject: string, schemaType: SchemaType, schema: string, references: readonly SchemaReference[] = []): Promise<number> {
    return this.shared(this.idBySchema, schemaKey(subject, schemaType, schema, references), async () => {
      const body = await this.request('POST', `subjects/${encodeURIComponent(subject)}/versions`,
        schemaBody(schemaType, schema, references),
        `Error when registering schema. format = ${schemaType}, subject = ${subject}`)
      const id = (body as { id?: unknown } | null)?.id
      if (!isId(id)) throw malformed(`registration under ${subject}`)
      this.rememberSchema(id, schemaType, schema, references)
      return id
    })
  }

  /** The subject's version holding this schema, or null when the subject does not have it. */
  lookup (subject: string, schema: string, schemaType: SchemaType, references: readonly SchemaReference[] = []): Promise<SubjectVersion | null> {
    const key = schemaKey(subject, schemaType, schema, references)
    return this.shared(this.lookups, key, async () => {
      let body: unknown
      try {
        body = await this.request('POST', `subjects/${encodeURIComponent(subject)}`,
          schemaBody(schemaType, schema, references),
          `Error when looking up schema. format = ${schemaType}, subject = ${subject}`)
      } catch (err) {
        const code = registryCode(err)
        if (code === SUBJECT_NOT_FOUND || code === SCHEMA_NOT_FOUND) return null
        throw err
      }
      const found = parseSubjectVersion(body, `schema under ${subject}`, subject)
      // The lookup answer may omit the type or carry the registry's normalized text; the caller's is what it asked about.
      const version = { ...found, schemaType, schema, references: [...references] }
      this.rememberSchema(version.id, schemaType, schema, references)
      remember(this.idBySchema, key, Promise.resolve(version.id), this.capacity)
      return version
    }, (v) => v !== null)
  }

  /**
   * The schema's id in the subject, registering it when the subject does not
   * have it yet. Lookup first, as Confluent's REST proxy does
   * (SchemaManagerImpl.getSchemaFromRawSchema): it works with read-only
   * registry credentials whenever the schema is already registered.
   */
  ensureRegistered (subject: string, schemaType: SchemaType, schema: string, references: readonly SchemaReference[] = []): Promise<number> {
    return this.shared(this.idBySchema, schemaKey(subject, schemaType, schema, references), async () => {
      const found = await this.lookup(subject, schema, schemaType, references)
      if (found !== null) return found.id
      this.idBySchema.delete(schemaKey(subject, schemaType, schema, references))
      return await this.register(subject, schemaType, schema, references)
    })
  }

  getVersion (subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const load = async (): Promise<SubjectVersion> => {
      const body = await this.request('GET', `subjects/${encodeURIComponent(subject)}/versions/${version}`, undefined,
        `Error when fetching schema version. subject = ${subject}, version = ${version}`)
      const v = parseSubjectVersion(body, `${subject} version ${version}`, subject)
      this.rememberSchema(v.id, v.schemaType, v.schema, v.references)
      if (version === 'latest') remember(this.versions, `${subject}\0${v.version}`, Promise.resolve(v), this.capacity)
      return v
    }
    // "latest" moves when a version is registered, so it is shared while in flight but never kept.
    const key = `${subject}\0${version}`
    return this.shared(this.versions, key, load, () => version !== 'latest')
  }

  /** Closes idle keep-alive connections. */
  close (): void {
    this.agent?.destroy()
  }

  private rememberSchema (id: number, schemaType: SchemaType, schema: string, references: readonly SchemaReference[]): void {
    if (!this.byId.has(id)) remember(this.byId, id, Promise.resolve({ schemaType, schema, references: [...references] }), this.capacity)
  }

  /**
   * One request per key at a time: a caller arriving while it runs gets the
   * same promise. A settled value stays cached when `keep` says so; a failure
   * never does.
   */
  private shared<K, V> (map: Map<K, Promise<V>>, key: K, run: () => Promise<V>, keep: (v: V) => boolean = () => true): Promise<V> {
    const existing = map.get(key)
    if (existing !== undefined) return existing
    if (this.base === null) return Promise.reject(new ProxyError('registryNotConfigured'))
    const p = run().then((v) => {
      if (!keep(v) && map.get(key) === p) map.delete(key)
      return v
    }, (err: unknown) => {
      if (map.get(key) === p) map.delete(key)
      throw err
    })
    remember(map, key, p, this.capacity)
    return p
  }

  private request (method: 'GET' | 'POST', path: string, body: unknown, context: string): Promise<unknown> {
    const base = this.base as URL
    const url = new URL(path, base)
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, string> = { accept: ACCEPT }
    if (payload !== undefined) {
      headers['content-type'] = CONTENT_TYPE
      headers['content-length'] = String(payload.length)
    }
    if (this.auth !== null) headers.authorization = this.auth
    const what = `${method} ${url.pathname}`
    return new Promise<unknown>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http
      let done = false
      const fail = (err: ProxyError): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        req.destroy()
        reject(err)
      }
      const req = transport.request(url, { method, headers, agent: this.agent as http.Agent }, (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_RESPONSE_BYTES) fail(refused(context, { status: res.statusCode ?? 0, errorCode: null, message: 'response too large' }))
          else chunks.push(chunk)
        })
        res.on('error', (err) => fail(unavailable(what, err)))
        res.on('end', () => {
          if (done) return
          done = true
          clearTimeout(timer)
          const status = res.statusCode ?? 0
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown = null
          try {
            parsed = text === '' ? null : JSON.parse(text)
          } catch {
            if (status >= 200 && status < 300) return reject(refused(context, { status, errorCode: null, message: 'the registry answered with something that is not JSON' }))
          }
          if (status >= 200 && status < 300) return resolve(parsed)
          reject(answerError(context, status, parsed, text))
        })
      })
      // One deadline for connecting, sending and the whole answer.
      const timer = setTimeout(() => fail(unavailable(what, new Error(`no answer within ${this.timeoutMs} ms`))), this.timeoutMs)
      req.on('error', (err) => fail(unavailable(what, err)))
      req.end(payload)
    })
  }
}

/** The registry error code behind a ProxyError from this client, if any. */
export function registryCode (err: unknown): number | null {
  if (!(err instanceof ProxyError)) return null
  const cause = err.cause as RegistryFailure | undefined
  return typeof cause?.errorCode === 'number' ? cause.errorCode : null
}

function answerError (context: string, status: number, parsed: unknown, text: string): ProxyError {
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as RegistryErrorBody
  const errorCode = typeof body.error_code === 'number' ? body.error_code : null
  const message = typeof body.message === 'string' ? body.message : (text.slice(0, 200) || `HTTP ${status}`)
  const failure: RegistryFailure = { status, errorCode, message }
  if (status === 403 || errorCode === AUTHORIZATION) {
    return new ProxyError('registryForbidden', `${context}: ${message}`, { cause: failure })
  }
  if (errorCode === INVALID_SCHEMA) return new ProxyError('invalidSchema', `Invalid schema: ${message}`, { cause: failure })
  return refused(context, failure, status >= 500 ? 'registryFailed' : 'registryRefused')
}

function refused (context: string, failure: RegistryFailure, key: ErrorKey = 'registryRefused'): ProxyError {
  const code = failure.errorCode === null ? `HTTP ${failure.status}` : `error code: ${failure.errorCode}`
  return new ProxyError(key, `Error serializing message. ${context}: ${failure.message}; ${code}`, { cause: failure })
}

function unavailable (what: string, err: Error): ProxyError {
  const reason = (err as NodeJS.ErrnoException).code ?? err.message
  return new ProxyError('registryUnavailable', `Schema Registry unavailable: ${what}: ${reason}`, {
    cause: { status: 0, errorCode: null, message: err.message } satisfies RegistryFailure
  })
}

function malformed (what: string): ProxyError {
  return new ProxyError('registryRefused', `Error serializing message. The registry's answer for ${what} is malformed`)
}

function isId (v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff
}

function schemaKey (subject: string, schemaType: SchemaType, schema: string, references: readonly SchemaReference[]): string {
  const refs = references.length === 0 ? '' : JSON.stringify(references.map((r) => [r.name, r.subject, r.version]))
  return `${subject}\0${schemaType}\0${refs}\0${schema}`
}

// AVRO is the registry's default type; Confluent's own client omits it, and so do we.
function schemaBody (schemaType: SchemaType, schema: string, references: readonly SchemaReference[]): Record<string, unknown> {
  const body: Record<string, unknown> = { schema }
  if (schemaType !== 'AVRO') body.schemaType = schemaType
  if (references.length > 0) body.references = references
  return body
}

function parseReferences (v: unknown, what: string): SchemaReference[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw malformed(what)
  return v.map((r: unknown) => {
    const ref = r as Partial<SchemaReference> | null
    if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || typeof ref.version !== 'number') throw malformed(what)
    return { name: ref.name, subject: ref.subject, version: ref.version }
  })
}

function parseRegistered (body: unknown, what: string): RegisteredSchema {
  const b = body as { schema?: unknown, schemaType?: unknown, references?: unknown } | null
  if (typeof b?.schema !== 'string') throw malformed(what)
  const schemaType = b.schemaType === undefined || b.schemaType === null ? 'AVRO' : b.schemaType
  if (typeof schemaType !== 'string' || !SCHEMA_TYPES.has(schemaType)) {
    throw new ProxyError('registryRefused', `Error serializing message. Unsupported schema type ${String(schemaType)} of ${what}`)
  }
  return { schemaType: schemaType as SchemaType, schema: b.schema, references: parseReferences(b.references, what) }
}

function parseSubjectVersion (body: unknown, what: string, subject: string): SubjectVersion {
  const b = body as { id?: unknown, version?: unknown, subject?: unknown, schema?: unknown } | null
  if (!isId(b?.id) || typeof b.version !== 'number') throw malformed(what)
  // A lookup answer carries the schema too; accept one without, the caller supplies it.
  const registered = parseRegistered({ ...b, schema: typeof b.schema === 'string' ? b.schema : '' }, what)
  return { ...registered, subject: typeof b.subject === 'string' ? b.subject : subject, id: b.id, version: b.version }
}

function remember<K, V> (map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
}

/**
 * The subject a schema is registered under (Confluent's SubjectNameStrategy
 * implementations): topic_name `<topic>-key|value`, record_name the record's
 * full name, topic_record_name `<topic>-<full name>`.
 */
export function subjectFor (strategy: SubjectStrategy, topic: string, isKey: boolean, recordName?: string): string {
  if (strategy === 'topic_name') return `${topic}-${isKey ? 'key' : 'value'}`
  if (recordName === undefined || recordName === '') {
    throw new ProxyError('invalidSchema', `Invalid schema: the ${strategy} subject name strategy needs a named schema (an Avro record, a Protobuf message or a JSON Schema with a title)`)
  }
  return strategy === 'record_name' ? recordName : `${topic}-${recordName}`
}
