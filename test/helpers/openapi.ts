// Checks real HTTP responses against the OpenAPI document the proxy serves:
// the operation must exist, the status must be documented, and the body must
// validate against the documented schema for its media type.
//
// OpenAPI 3.0 schemas are converted to JSON Schema 2019-09 first: `nullable`
// becomes a `null` type, `x-*` keys go, and every object schema that is not a
// member of an `allOf` gets `unevaluatedProperties: false`, so a field the
// document does not declare (an undocumented extension) is a failure too.
import SwaggerParser from '@apidevtools/swagger-parser'
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'
import addFormatsModule from 'ajv-formats'
import fc from 'fast-check'
import { OPENAPI } from '../../src/api/routes.js'

// ajv-formats is CommonJS; which of module.exports and .default a default import yields depends on the loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2019) => Ajv2019

type Schema = Record<string, any>

export const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const

/** `METHOD /path/{template}` for every operation of the document. */
export function documentedOperations (doc: Schema = OPENAPI): string[] {
  const out: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Schema)) {
    for (const m of METHODS) if (item[m] !== undefined) out.push(`${m.toUpperCase()} ${path}`)
  }
  return out.sort()
}

export function toJsonSchema (schema: Schema, inAllOf = false): Schema {
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Schema = {}
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-') || k === 'nullable' || k === 'example' || k === 'discriminator' || k === 'xml' || k === 'externalDocs') continue
    if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Schema).map(([name, s]) => [name, toJsonSchema(s as Schema)]))
    } else if (k === 'allOf') {
      out.allOf = (v as Schema[]).map((s) => toJsonSchema(s, true))
    } else if (k === 'anyOf' || k === 'oneOf') {
      out[k] = (v as Schema[]).map((s) => toJsonSchema(s))
    } else if (k === 'items' || k === 'not' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = toJsonSchema(v as Schema)
    } else {
      out[k] = v
    }
  }
  const isObject = out.type === 'object' || out.properties !== undefined || out.allOf !== undefined
  if (isObject && !inAllOf && out.additionalProperties === undefined) out.unevaluatedProperties = false
  if (schema.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null']
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null]
    if (out.type === undefined && Object.keys(out).length > 0) return { anyOf: [out, { type: 'null' }] }
  }
  return out
}

export interface CheckedResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export class ContractChecker {
  /** `METHOD /template` of every call answered with a documented 2xx and a valid body. */
  readonly succeeded = new Set<string>()
  private readonly validators = new Map<string, ValidateFunction>()
  private readonly ajv = new Ajv2019({ strict: false, allErrors: true })

  private constructor (readonly doc: Schema) {
    addFormats(this.ajv)
  }

  static async create (doc: Schema = OPENAPI): Promise<ContractChecker> {
    const deref = await SwaggerParser.dereference(structuredClone(doc) as any)
    return new ContractChecker(deref as Schema)
  }

  /** What is wrong with `res` as an answer to `method template`; empty when it conforms. */
  check (method: string, template: string, res: CheckedResponse): string[] {
    const where = `${method} ${template} → ${res.status}`
    const item = (this.doc.paths as Schema)[template]
    const operation = item?.[method.toLowerCase()]
    if (operation === undefined) return [`${where}: the document has no such operation`]
    const responses = operation.responses as Schema
    const documented = responses[String(res.status)] ?? responses[`${Math.floor(res.status / 100)}XX`] ?? responses.default
    if (documented === undefined) {
      return [`${where}: status not documented (documented: ${Object.keys(responses).join(', ')}); body ${res.text.slice(0, 300)}`]
    }
    const content = documented.content as Schema | undefined
    if (content === undefined) {
      return res.text === '' ? this.ok(method, template, res) : [`${where}: the document says no body, the response has ${res.text.slice(0, 300)}`]
    }
    if (res.text === '') {
      // Confluent answers an unsatisfiable Accept with an empty 406.
      return res.status === 406 ? [] : [`${where}: the document says a body, the response has none`]
    }
    const header = res.headers['content-type']
    const media = String(header ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    const entry = content[media]
    if (entry === undefined) return [`${where}: media type ${JSON.stringify(media)} not documented (documented: ${Object.keys(content).join(', ')})`]
    const validate = this.validator(`${where} ${media}`, entry.schema as Schema)
    const bodies: unknown[] = []
    try {
      if (documented['x-stream'] === 'concatenated-json') {
        for (const line of res.text.split('\r\n')) if (line.trim() !== '') bodies.push(JSON.parse(line))
      } else {
        bodies.push(JSON.parse(res.text))
      }
    } catch (err) {
      return [`${where}: the body is not JSON (${(err as Error).message}): ${res.text.slice(0, 300)}`]
    }
    const problems: string[] = []
    for (const body of bodies) {
      if (validate(body)) continue
      for (const e of validate.errors ?? []) {
        problems.push(`${where}: body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)} (document: ${e.schemaPath}); response has ${JSON.stringify(valueAt(body, e.instancePath))?.slice(0, 300)}`)
      }
    }
    return problems.length > 0 ? problems : this.ok(method, template, res)
  }

  private ok (method: string, template: string, res: CheckedResponse): string[] {
    if (res.status >= 200 && res.status < 300) this.succeeded.add(`${method.toUpperCase()} ${template}`)
    return []
  }

  private validator (key: string, schema: Schema): ValidateFunction {
    let v = this.validators.get(key)
    if (v === undefined) {
      v = this.ajv.compile(toJsonSchema(schema))
      this.validators.set(key, v)
    }
    return v
  }
}

function valueAt (body: unknown, pointer: string): unknown {
  let v: any = body
  for (const part of pointer.split('/').slice(1)) v = v?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  return v
}

// ---------------------------------------------------------------------------
// Request generation from the document (fast-check).
//
// `valueArbitrary` turns a dereferenced request schema into an arbitrary of
// values the document allows; `mutations` lists, for one such value, the
// changes that make it one the document forbids (wrong type, null where not
// nullable, a required field dropped, a number out of range). Fields a test
// must pin (names of its own topics, harmless config values) are replaced by
// `overrides`, keyed by the field's path: `body.topic_name`,
// `body.data[].name`, `query.principal`.

export type Overrides = Record<string, fc.Arbitrary<unknown>>

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/** allOf members merged into one object schema (the document only composes objects). */
export function flatten (schema: Schema): Schema {
  if (!Array.isArray(schema.allOf)) return schema
  const out: Schema = { type: 'object', properties: {}, required: [] }
  for (const part of schema.allOf as Schema[]) {
    const p = flatten(part)
    Object.assign(out.properties, p.properties ?? {})
    out.required.push(...(p.required ?? []))
  }
  if (schema.nullable === true) out.nullable = true
  return out
}

function isRequirementChoice (schema: Schema): boolean {
  return schema.properties !== undefined && Array.isArray(schema.anyOf) && (schema.anyOf as Schema[]).every((s) => Object.keys(s).length === 1 && Array.isArray(s.required))
}

function enumOf (schema: Schema): unknown[] | undefined {
  // A request may only use the values listed: "extensible" promises
  // clients that responses may grow, not that the server takes more.
  return (schema.enum ?? schema['x-extensible-enum']) as unknown[] | undefined
}

export function valueArbitrary (raw: Schema, at: string, overrides: Overrides): fc.Arbitrary<unknown> {
  const pinned = overrides[at]
  if (pinned !== undefined) return pinned
  const schema = flatten(raw)
  let arb: fc.Arbitrary<unknown>
  const values = enumOf(schema)
  if ((schema.oneOf !== undefined || schema.anyOf !== undefined) && !isRequirementChoice(schema)) {
    arb = fc.oneof(...((schema.oneOf ?? schema.anyOf) as Schema[]).map((s) => valueArbitrary(s, at, overrides)))
  } else if (values !== undefined) {
    arb = fc.constantFrom(...values)
  } else if (isRequirementChoice(schema)) {
    // `anyOf` of `required` lists: one of them must hold, and null is absent.
    const choice = (schema.anyOf as Schema[]).map((s) => s.required as string[])
    const { anyOf: _, ...rest } = schema
    arb = valueArbitrary({ ...rest, nullable: false }, at, overrides)
      .filter((v) => choice.some((keys) => keys.every((k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null)))
  } else if (schema.type === 'object' || schema.properties !== undefined) {
    const props = (schema.properties ?? {}) as Record<string, Schema>
    if (Object.keys(props).length === 0) {
      const values = typeof schema.additionalProperties === 'object' ? valueArbitrary(schema.additionalProperties as Schema, `${at}{}`, overrides) : jsonValue(1)
      arb = fc.dictionary(fc.string({ maxLength: 8 }), values, { maxKeys: 3 })
    } else {
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [name, s] of Object.entries(props)) record[name] = valueArbitrary(s, `${at}.${name}`, overrides)
      arb = fc.record(record, { requiredKeys: (schema.required ?? []) as string[] })
    }
  } else if (schema.type === 'array') {
    const items = valueArbitrary(schema.items as Schema, `${at}[]`, overrides)
    const size = { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)) }
    arb = schema.uniqueItems === true ? fc.uniqueArray(items, { ...size, selector: (v) => JSON.stringify(v) }) : fc.array(items, size)
  } else if (schema.type === 'integer') {
    const wide = schema.format === 'int64'
    arb = fc.integer({
      min: schema.minimum ?? (wide ? Number.MIN_SAFE_INTEGER : INT32_MIN),
      max: schema.maximum ?? (wide ? Number.MAX_SAFE_INTEGER : INT32_MAX)
    })
  } else if (schema.type === 'number') {
    arb = fc.double({ noNaN: true, noDefaultInfinity: true })
  } else if (schema.type === 'boolean') {
    arb = fc.boolean()
  } else if (schema.type === 'string') {
    if (schema.format === 'byte') arb = fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('base64'))
    else if (schema.format === 'date-time') arb = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString())
    else if (typeof schema.pattern === 'string') arb = fc.stringMatching(new RegExp(schema.pattern as string))
    else arb = fc.string({ unit: 'grapheme', minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 12, 12) })
  } else {
    arb = jsonValue(2)
  }
  return schema.nullable === true ? fc.option(arb, { nil: null, freq: 6 }) : arb
}

// JSON with no integer beyond ±(2^53 - 1), which the document refuses (AnyValue).
const jsonValue = (maxDepth: number): fc.Arbitrary<unknown> =>
  fc.jsonValue({ maxDepth }).filter((v) => !/\d{16,}/.test(JSON.stringify(v)))

/** A value of another JSON type than `schema` allows (or null when it is not nullable). */
function wrongValues (raw: Schema): unknown[] {
  const schema = flatten(raw)
  const out: unknown[] = []
  if (schema.nullable !== true && (schema.type !== undefined || schema.properties !== undefined)) out.push(null)
  const values = enumOf(schema)
  switch (schema.type) {
    case 'string': out.push(12345); if (values !== undefined) out.push('NOT_ONE_OF_THEM'); break
    case 'integer':
      out.push('7', 1.5)
      if (typeof schema.minimum === 'number') out.push(schema.minimum - 1)
      if (typeof schema.maximum === 'number') out.push(schema.maximum + 1)
      break
    case 'number': out.push('7'); break
    case 'boolean': out.push('true', 1); break
    case 'array': out.push({}); break
    case 'object': out.push('x', []); break
  }
  return out
}

/** Query values the document forbids for a parameter of `schema` (the query carries strings only). */
export function wrongQueryValues (raw: Schema): string[] {
  const schema = flatten(raw)
  const values = enumOf(schema)
  if (values !== undefined) return ['NOT_ONE_OF_THEM']
  switch (schema.type) {
    case 'boolean': return ['maybe']
    case 'integer': {
      const out = ['x1', '1.5']
      if (typeof schema.minimum === 'number') out.push(String(schema.minimum - 1))
      return out
    }
    default: return []
  }
}

export interface Mutation {
  what: string
  apply: (body: unknown) => unknown
}

/**
 * Body changes that break the schema: every top-level field, and the fields
 * of the first element of top-level arrays of objects, get a wrong value;
 * required fields are dropped. `body` is the valid value being changed.
 */
export function bodyMutations (raw: Schema, body: unknown, pinned: (path: string) => boolean = () => false): Mutation[] {
  const schema = flatten(raw)
  const out: Mutation[] = []
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return out
  const props = (schema.properties ?? {}) as Record<string, Schema>
  const required = new Set((schema.required ?? []) as string[])
  for (const [name, s] of Object.entries(props)) {
    for (const v of wrongValues(s)) {
      out.push({ what: `body.${name} = ${JSON.stringify(v)}`, apply: (b) => ({ ...(b as object), [name]: v }) })
    }
    if (required.has(name)) out.push({ what: `body.${name} missing`, apply: (b) => { const c = { ...(b as Record<string, unknown>) }; delete c[name]; return c } })
    const items = s.type === 'array' ? flatten(s.items as Schema) : undefined
    const first = (body as Record<string, unknown>)[name]
    if (items?.properties === undefined || !Array.isArray(first) || first.length === 0) continue
    const itemRequired = new Set((items.required ?? []) as string[])
    for (const [field, fs] of Object.entries(items.properties as Record<string, Schema>)) {
      if (pinned(`body.${name}[].${field}`) && wrongValues(fs).length === 0) continue
      const change = (v: unknown, drop = false) => (b: unknown): unknown => {
        const list = [...((b as Record<string, unknown[]>)[name] as unknown[])]
        const item = { ...(list[0] as Record<string, unknown>) }
        if (drop) delete item[field]
        else item[field] = v
        list[0] = item
        return { ...(b as object), [name]: list }
      }
      for (const v of wrongValues(fs)) out.push({ what: `body.${name}[0].${field} = ${JSON.stringify(v)}`, apply: change(v) })
      if (itemRequired.has(field)) out.push({ what: `body.${name}[0].${field} missing`, apply: change(undefined, true) })
    }
  }
  return out
}
