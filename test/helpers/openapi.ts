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
import { OPENAPI } from '../../src/api/openapi.js'

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
