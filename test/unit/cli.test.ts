import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devServicesFor, parseCommandLine, usage, version } from '../../src/cli.js'

function file (t: TestContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

test('no arguments runs with the default file search; --config, -c and --config= name the file', () => {
  assert.deepEqual(parseCommandLine([]), { kind: 'run', config: undefined })
  assert.deepEqual(parseCommandLine(['--config', 'a.toml']), { kind: 'run', config: 'a.toml' })
  assert.deepEqual(parseCommandLine(['-c', 'b.toml']), { kind: 'run', config: 'b.toml' })
  assert.deepEqual(parseCommandLine(['--config=-odd.toml']), { kind: 'run', config: '-odd.toml' })
  assert.deepEqual(parseCommandLine(['--config', 'a.toml', '--config', 'c.properties']), { kind: 'run', config: 'c.properties' })
})

test('--help wins over every other argument, then --version; -h and -v are their short forms', () => {
  assert.deepEqual(parseCommandLine(['--config', 'x', '--version', '--help']), { kind: 'help' })
  assert.deepEqual(parseCommandLine(['-h']), { kind: 'help' })
  assert.deepEqual(parseCommandLine(['--config', 'x', '-v']), { kind: 'version' })
})

test('unknown options, positional arguments, option values where none belong and a missing path are usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /^unknown option --frobnicate$/],
    [['-q'], /^unknown option -q$/],
    [['--help', '--frobnicate'], /^unknown option --frobnicate$/],
    [['serve'], /^unexpected argument "serve"/],
    [['--', 'x'], /^unexpected argument "x"/],
    [['--config'], /^--config needs a file path/],
    [['--config='], /^--config needs a file path/],
    [['-c', '--help'], /^-c needs a file path/],
    [['--help=yes'], /^--help takes no value$/]
  ]
  for (const [argv, message] of cases) {
    const command = parseCommandLine(argv)
    assert.equal(command.kind, 'usage-error', argv.join(' '))
    assert.match((command as { message: string }).message, message, argv.join(' '))
  }
})

test('the usage names every option and where settings come from', () => {
  const text = usage()
  for (const part of ['--config <file>', '--help', '--version', 'KAFKA_PROXY_CONFIG', 'config.toml', '.properties', 'KAFKA_REST_']) {
    assert.ok(text.includes(part), part)
  }
})

test('the version is the one in package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  assert.equal(version(), pkg.version)
})

test('the dev broker is needed only without a cluster, and the dev registry only next to it without a registry', (t) => {
  const empty = file(t, 'empty.toml', '')
  const argv = ['--config', empty]
  assert.deepEqual(devServicesFor(argv, {}), { broker: true, registry: true })
  assert.deepEqual(devServicesFor(argv, { KAFKA_PROXY_SCHEMA_REGISTRY__URL: 'http://registry:8081' }), { broker: true, registry: false })
  assert.deepEqual(devServicesFor(argv, { KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: 'broker:9092' }), { broker: false, registry: false })
  assert.deepEqual(devServicesFor(argv, { KAFKA_REST_BOOTSTRAP_SERVERS: 'broker:9092' }), { broker: false, registry: false })
  const toml = file(t, 'cluster.toml', '[kafka]\nbootstrap_servers = "broker:9092"\n')
  assert.deepEqual(devServicesFor(['--config', toml], {}), { broker: false, registry: false })
  const properties = file(t, 'kafka-rest.properties', 'bootstrap.servers=PLAINTEXT://broker:9092\n')
  assert.deepEqual(devServicesFor(['-c', properties], {}), { broker: false, registry: false })
})

test('a command line or configuration that will not run needs no dev services: the proxy reports the problem itself', (t) => {
  const empty = file(t, 'empty.toml', '')
  assert.deepEqual(devServicesFor(['--help'], {}), { broker: false, registry: false })
  assert.deepEqual(devServicesFor(['--version'], {}), { broker: false, registry: false })
  assert.deepEqual(devServicesFor(['--bogus'], {}), { broker: false, registry: false })
  assert.deepEqual(devServicesFor(['--config', empty], { KAFKA_PROXY_SERVER__PORT: 'eighty' }), { broker: false, registry: false })
  assert.deepEqual(devServicesFor(['--config', '/nonexistent.toml'], {}), { broker: false, registry: false })
})
