// The jsonschema embedded format: the value is a JSON document, validated
// against a JSON Schema on produce and written as UTF-8 JSON after the wire
// header; read back, it is the same document. Confluent's REST proxy does the
// same (kafka-rest SchemaRecordSerializerImpl validates with
// JsonSchemaUtils.toObject; JsonSchemaConverter.toJson renders the
// deserialized JsonNode; the deserializer does not validate unless
// json.fail.invalid.schema is set, so neither do we on read).
//
// The draft is picked from `$schema` as Confluent's JsonSchema.rawSchema does:
// draft-07 when absent, 2019-09 and 2020-12 with their own vocabularies.
import { createRequire } from 'node:module'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { ProxyError } from '../errors.js'
import { SchemaCache, type SchemaText } from './wire.js'

export interface JsonSchema {
  readonly validate: ValidateFunction
  /** The schema's `title`: Confluent's JsonSchema.name(), used by the record_name strategies. */
  readonly title: string | undefined
}

// ajv-formats is CommonJS with the plugin as module.exports and as .default;
// which of the two a default import yields depends on the loader.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

const require = createRequire(import.meta.url)
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json') as object

type Draft = 'draft-06' | 'draft-07' | '2019-09' | '2020-12' | 'other'

function draftOf (schema: unknown): Draft {
  const uri = typeof schema === 'object' && schema !== null ? (schema as { $schema?: unknown }).$schema : undefined
  if (typeof uri !== 'string') return 'draft-07'
  const u = uri.replace(/^https?:\/\//, '').replace(/#?$/, '')
  if (u === 'json-schema.org/draft-07/schema') return 'draft-07'
  if (u === 'json-schema.org/draft-06/schema') return 'draft-06'
  if (u === 'json-schema.org/draft/2019-09/schema') return '2019-09'
  if (u === 'json-schema.org/draft/2020-12/schema') return '2020-12'
  return 'other'
}

function newAjv (draft: Draft): Ajv {
  // strict: false because registered schemas carry keywords of their own
  // (javaType, connect.* and the like) that validation must ignore.
  const opts = { strict: false, allErrors: false, logger: false as const }
  // Other drafts (draft-04 chiefly) are read with draft-07 rules, without
  // checking the schema against a meta-schema ajv does not ship.
  const ajv = draft === '2019-09'
    ? new Ajv2019(opts)
    : draft === '2020-12'
      ? new Ajv2020(opts)
      : new Ajv({ ...opts, validateSchema: draft !== 'other' })
  if (draft === 'draft-06') ajv.addMetaSchema(draft06)
  addFormats(ajv)
  return ajv
}

function parse (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ProxyError('invalidSchema', `Invalid schema: the ${what} is not JSON: ${(err as Error).message}`)
  }
}

function compileJsonSchema (src: SchemaText): JsonSchema {
  const root = parse(src.schema, 'JSON Schema')
  if (typeof root !== 'boolean' && (typeof root !== 'object' || root === null || Array.isArray(root))) {
    throw new ProxyError('invalidSchema', 'Invalid schema: a JSON Schema is an object or a boolean')
  }
  // One ajv instance per schema: references are registered under their names,
  // which two schemas may well use for different documents.
  const ajv = newAjv(draftOf(root))
  try {
    for (const ref of src.references ?? []) {
      ajv.addSchema(parse(ref.schema, `referenced schema ${ref.name}`) as object, ref.name)
    }
    const validate = ajv.compile(root as object | boolean)
    const title = typeof root === 'object' ? (root as { title?: unknown }).title : undefined
    return { validate, title: typeof title === 'string' ? title : undefined }
  } catch (err) {
    if (err instanceof ProxyError) throw err
    throw new ProxyError('invalidSchema', `Invalid schema: ${(err as Error).message}`)
  }
}

const cache = new SchemaCache<JsonSchema>(compileJsonSchema)

/** Compiles a schema, once per schema id (and once per raw schema text). */
export function compile (src: SchemaText): JsonSchema {
  return cache.get(src)
}

export function recordName (schema: JsonSchema): string | undefined {
  return schema.title
}

function describeError (e: ErrorObject): string {
  const where = e.instancePath === '' ? 'value' : `field ${e.instancePath}`
  const params = e.params as { additionalProperty?: unknown, allowedValues?: unknown }
  let detail = ''
  if (typeof params.additionalProperty === 'string') detail = ` (${JSON.stringify(params.additionalProperty)})`
  else if (Array.isArray(params.allowedValues)) detail = `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  return `${where}: ${e.message ?? 'is invalid'}${detail}`
}

/** Validates a JSON value and returns its UTF-8 JSON text. */
export function encode (schema: JsonSchema, value: unknown): Buffer {
  if (!schema.validate(value)) {
    const first = schema.validate.errors?.[0]
    throw new ProxyError('schemaConversion', first === undefined ? 'the value does not match the schema' : describeError(first))
  }
  return Buffer.from(JSON.stringify(value), 'utf8')
}

/** The JSON document of a payload; no validation, as Confluent's deserializer by default. */
export function decode (_schema: JsonSchema, payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch (err) {
    throw new ProxyError('undecodableRecord', `The JSON Schema record is not JSON: ${(err as Error).message}`)
  }
}
