// The one environment naming rule: KAFKA_PROXY_ + the key's path segments,
// each upper-cased with '.' written as '_', joined by '__'.
//   server.port                -> KAFKA_PROXY_SERVER__PORT
//   kafka.producer."linger.ms" -> KAFKA_PROXY_KAFKA__PRODUCER__LINGER_MS
// The mapping is reversible because own keys are snake_case without '.' or
// '__', and librdkafka property names are lower case with '.' but no '_'.
import { configKeys, formatPath, isPassthrough, isTableArray } from './schema.js'
import type { ConfigIssue, ConfigKey, LeafSchema, PassthroughSchema, ScalarType } from './schema.js'

export const ENV_PREFIX = 'KAFKA_PROXY_'
/** Names the config file; the only prefixed variable that is not a key. */
export const CONFIG_PATH_ENV = 'KAFKA_PROXY_CONFIG'

export function envName (path: readonly string[]): string {
  return ENV_PREFIX + path.map(s => s.toUpperCase().replaceAll('.', '_')).join('__')
}

export interface EnvKey {
  /** Dotted key path, e.g. `server.port`. */
  readonly key: string
  readonly path: readonly string[]
  /**
   * The variable name. For a pass-through table it is the prefix that the
   * property name (upper-cased, '.' as '_') is appended to.
   */
  readonly env: string
  readonly passthrough: boolean
}

const envKeys: readonly EnvKey[] = configKeys().map(k => ({
  key: formatPath(k.path),
  path: k.path,
  env: isPassthrough(k.schema) ? envName(k.path) + '__' : envName(k.path),
  passthrough: isPassthrough(k.schema)
}))

/** The environment name of every key, in schema order. */
export function listEnvKeys (): readonly EnvKey[] {
  return envKeys
}

const byEnv = new Map<string, ConfigKey>(configKeys().map(k => [envName(k.path), k]))
const passthroughs = configKeys().filter(k => isPassthrough(k.schema))

export interface EnvOverride {
  readonly path: readonly string[]
  readonly value: unknown
  readonly env: string
}

const INTEGER = /^[+-]?\d+$/
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const PROPERTY_SUFFIX = /^[A-Z0-9]+(_[A-Z0-9]+)*$/

function parseScalar (type: ScalarType, raw: string): { ok: true, value: unknown } | { ok: false } {
  switch (type) {
    case 'string':
      return { ok: true, value: raw }
    case 'boolean':
      return raw === 'true' || raw === 'false' ? { ok: true, value: raw === 'true' } : { ok: false }
    case 'integer': {
      const n = Number(raw)
      return INTEGER.test(raw) && Number.isSafeInteger(n) ? { ok: true, value: n } : { ok: false }
    }
    case 'number': {
      const n = Number(raw)
      return DECIMAL.test(raw) && Number.isFinite(n) ? { ok: true, value: n } : { ok: false }
    }
  }
}

/** How a value of each type is written, for error messages. */
export const EXPECTED: Record<ScalarType | 'array', string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'an integer',
  number: 'a number',
  array: 'a comma-separated list'
}

/** A key's value from its text form, typed by the key's schema (shared with Confluent's settings). */
export function parseLeaf (schema: LeafSchema, raw: string): { ok: true, value: unknown } | { ok: false } {
  if (schema.type !== 'array') return parseScalar(schema.type, raw)
  // An array of tables ([[authorization.rules]]) is JSON text in the
  // environment: a list of objects, checked by the schema like the file's.
  if (isTableArray(schema) || schema.items?.type === 'object') {
    try {
      const value: unknown = JSON.parse(raw)
      return Array.isArray(value) ? { ok: true, value } : { ok: false }
    } catch {
      return { ok: false }
    }
  }
  const items = raw.split(',').map(s => s.trim())
  return { ok: true, value: items.length === 1 && items[0] === '' ? [] : items }
}

// librdkafka receives every property as text, so a pass-through value is
// typed only when its text form round-trips exactly: "10" becomes 10, but
// "010" or a 20-digit number stays a string and reaches librdkafka unchanged.
function parsePassthrough (schema: PassthroughSchema, raw: string): unknown {
  const types = schema.additionalProperties.type
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true'
  if (types.includes('number') || types.includes('integer')) {
    const n = Number(raw)
    if (Number.isFinite(n) && String(n) === raw) return n
  }
  return raw
}

/**
 * Turns the prefixed environment variables into key overrides. Unparsable
 * values and prefixed names that match no key are issues whose path is the
 * variable name.
 */
export function readEnv (env: NodeJS.ProcessEnv): { overrides: EnvOverride[], issues: ConfigIssue[] } {
  const overrides: EnvOverride[] = []
  const issues: ConfigIssue[] = []
  for (const name of Object.keys(env).sort()) {
    const raw = env[name]
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_PATH_ENV || raw === undefined) continue
    const key = byEnv.get(name)
    if (key !== undefined && !isPassthrough(key.schema)) {
      const parsed = parseLeaf(key.schema, raw)
      if (parsed.ok) overrides.push({ path: key.path, value: parsed.value, env: name })
      else issues.push({ path: name, message: `expected ${EXPECTED[key.schema.type]} for ${formatPath(key.path)}, got ${JSON.stringify(raw)}` })
      continue
    }
    const table = passthroughs.find(k => name.startsWith(envName(k.path) + '__'))
    const suffix = table === undefined ? '' : name.slice(envName(table.path).length + 2)
    if (table !== undefined && PROPERTY_SUFFIX.test(suffix)) {
      const property = suffix.toLowerCase().replaceAll('_', '.')
      overrides.push({ path: [...table.path, property], value: parsePassthrough(table.schema as PassthroughSchema, raw), env: name })
      continue
    }
    issues.push({ path: name, message: `no configuration key has this environment name (see docs/configuration.md; ${CONFIG_PATH_ENV} names the config file)` })
  }
  return { overrides, issues }
}
