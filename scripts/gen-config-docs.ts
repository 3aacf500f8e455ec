// Writes config.toml and docs/configuration.md from the config schema, so
// neither can drift from it; test/unit/config.test.ts fails when the
// committed files differ from what this renders.
//   node --import tsx scripts/gen-config-docs.ts
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CONFIG_PATH_ENV, ENV_PREFIX, listEnvKeys } from '../src/config/env.js'
import { configTables, formatPath, isPassthrough, isTableArray, topLevelKeys } from '../src/config/schema.js'
import type { ConfigKey, LeafSchema } from '../src/config/schema.js'

const WIDTH = 78

function wrap (text: string, prefix: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(prefix + line)
  return lines
}

function tomlKey (name: string): string {
  return formatPath([name])
}

function tomlValue (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`
  return String(value)
}

function constraints (schema: LeafSchema): string[] {
  const out: string[] = []
  if (schema.enum !== undefined) out.push(`One of ${schema.enum.map(v => JSON.stringify(v)).join(', ')}.`)
  if (schema.minimum !== undefined && schema.maximum !== undefined) out.push(`Range ${schema.minimum}..${schema.maximum}.`)
  else if (schema.minimum !== undefined && schema.minimum !== 0) out.push(`At least ${schema.minimum}.`)
  else if (schema.maximum !== undefined) out.push(`At most ${schema.maximum}.`)
  if (schema.minLength === 1) out.push('Must not be empty.')
  return out
}

const ENV_RULE = `Every key can be overridden by an environment variable named ${ENV_PREFIX} + the key's path segments, each upper-cased with "." written as "_", joined by "__": server.port is ${ENV_PREFIX}SERVER__PORT, kafka.producer."linger.ms" is ${ENV_PREFIX}KAFKA__PRODUCER__LINGER_MS.`

export function renderConfigToml (): string {
  const out: string[] = [
    ...wrap('kafka-http-proxy configuration. Every key is shown with its default value; generated from src/config/schema.ts by scripts/gen-config-docs.ts, see docs/configuration.md.', '# '),
    '#',
    ...wrap(`The file is found via --config <path>, then ${CONFIG_PATH_ENV}, then ./config.toml. ${ENV_RULE}`, '# ')
  ]
  // TOML puts keys outside every table first. An array of tables written as
  // [[name]] replaces its line here.
  for (const key of topLevelKeys()) {
    const schema = key.schema as LeafSchema
    out.push('', ...wrap(`${schema.description} Written as [[${formatPath(key.path)}]] tables, which replace this line.`, '# '), `${formatPath(key.path)} = ${tomlValue(schema.default)}`)
  }
  for (const table of configTables()) {
    out.push('', ...wrap(table.schema.description, '# '), `[${formatPath(table.path)}]`)
    if (isPassthrough(table.schema)) {
      out.push('# Example:')
      for (const [name, value] of Object.entries(table.schema.examples[0])) out.push(`# ${tomlKey(name)} = ${tomlValue(value)}`)
      continue
    }
    for (const key of table.keys) {
      const schema = key.schema as LeafSchema
      out.push('', ...wrap([schema.description, ...constraints(schema)].join(' '), '# '), `${tomlKey(key.path[key.path.length - 1] as string)} = ${tomlValue(schema.default)}`)
      if (isTableArray(schema) && schema.examples !== undefined) {
        // The array is usually written as tables of its own, after the keys of this table.
        out.push('# Written as tables, e.g.:')
        for (const item of schema.examples[0] as Array<Record<string, unknown>>) {
          out.push(`# [[${formatPath(key.path)}]]`)
          for (const [name, value] of Object.entries(item)) {
            const itemDefault = schema.items.properties[name]?.default
            if (JSON.stringify(value) !== JSON.stringify(itemDefault)) out.push(`# ${tomlKey(name)} = ${tomlValue(value)}`)
          }
        }
      }
    }
  }
  return out.join('\n') + '\n'
}

function cell (text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function code (text: string): string {
  return '`' + text + '`'
}

function row (key: ConfigKey, env: string): string {
  if (isPassthrough(key.schema)) {
    return `| ${code(formatPath(key.path))} | ${code(env + '<PROPERTY>')} | ${code('{}')} | ${cell(key.schema.description)} Values are strings, numbers or booleans. |`
  }
  const schema = key.schema
  const description = [schema.description, ...constraints(schema)].join(' ')
  const own = `| ${code(formatPath(key.path))} | ${code(env)} | ${code(tomlValue(schema.default))} | ${cell(description)} |`
  if (!isTableArray(schema)) return own
  // The keys of each table of the array; the whole array comes from the environment as JSON.
  return [
    own.replace(/ \|$/, ' From the environment: a JSON array of tables. |'),
    ...Object.entries(schema.items.properties).map(([name, item]) =>
      `| ${code(`${formatPath(key.path)}[].${name}`)} | | ${code(tomlValue(item.default))} | ${cell([item.description, ...constraints(item)].join(' '))} |`)
  ].join('\n')
}

export function renderConfigDocs (): string {
  const envByKey = new Map(listEnvKeys().map(k => [k.key, k.env]))
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `node --import tsx scripts/gen-config-docs.ts`; do not edit. -->',
    '',
    'The proxy reads one TOML file, applies environment overrides, validates the result against the schema in',
    '`src/config/schema.ts` and refuses to start when anything is wrong, listing every problem at once. Unknown',
    'keys are errors. `config.toml` at the project root documents every key with its default.',
    '',
    'The file is the first of:',
    '',
    '1. `--config <path>` or `--config=<path>` on the command line;',
    `2. the \`${CONFIG_PATH_ENV}\` environment variable;`,
    '3. `./config.toml`, if it exists.',
    '',
    'A file named by 1 or 2 must exist. With no file every key has its default.',
    '',
    'A file whose name ends in `.properties` is read as Confluent\'s `kafka-rest.properties`, and Confluent\'s',
    '`KAFKA_REST_*` variables are read too: both are translated into the keys below as',
    '[confluent-migration.md](confluent-migration.md) describes, with a warning for each setting that has no',
    'equivalent. The file comes first, then `KAFKA_REST_*`, then the variables below, each winning over the one',
    'before.',
    '',
    '## Environment variables',
    '',
    `Every key can be overridden by an environment variable: \`${ENV_PREFIX}\` followed by the key's path`,
    'segments, each upper-cased with `.` written as `_`, joined by `__`.',
    '',
    `- \`server.port\` → \`${ENV_PREFIX}SERVER__PORT\``,
    `- \`kafka.bootstrap_servers\` → \`${ENV_PREFIX}KAFKA__BOOTSTRAP_SERVERS\``,
    `- \`kafka.producer."linger.ms"\` → \`${ENV_PREFIX}KAFKA__PRODUCER__LINGER_MS\``,
    '',
    'The rule is unambiguous because the proxy\'s own keys never contain `.` and librdkafka property names never',
    'contain `_`. Values are parsed by the key\'s type: integers and numbers in decimal, booleans as `true` or',
    '`false`, lists as comma-separated items. A pass-through value becomes a boolean or a number only when its',
    'text is exactly `true`/`false` or a number\'s canonical form, so text such as `010` reaches librdkafka',
    `unchanged. An unparsable value, or a \`${ENV_PREFIX}\` variable that names no key (other than`,
    `\`${CONFIG_PATH_ENV}\`), is a configuration error.`
  ]
  const top = topLevelKeys()
  if (top.length > 0) {
    out.push('', '## Top-level keys', '', 'Keys outside every table, written before the first one.', '',
      '| Key | Environment variable | Default | Description |',
      '| --- | --- | --- | --- |')
    for (const key of top) out.push(row(key, envByKey.get(formatPath(key.path)) as string).replace(/ \|$/, ' From the environment: a JSON array of tables. |'))
  }
  for (const table of configTables()) {
    if (isPassthrough(table.schema)) continue
    out.push('', `## [${formatPath(table.path)}]`, '', table.schema.description, '',
      '| Key | Environment variable | Default | Description |',
      '| --- | --- | --- | --- |')
    for (const key of table.keys) out.push(row(key, envByKey.get(formatPath(key.path)) as string))
    for (const sub of configTables()) {
      if (isPassthrough(sub.schema) && formatPath(sub.path.slice(0, -1)) === formatPath(table.path)) {
        out.push(row(sub.keys[0] as ConfigKey, envByKey.get(formatPath(sub.path)) as string))
      }
    }
  }
  return out.join('\n') + '\n'
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url))
  writeFileSync(`${root}config.toml`, renderConfigToml())
  writeFileSync(`${root}docs/configuration.md`, renderConfigDocs())
}
