// The installed command, run the way an installed package runs it: bin/kafka-http-proxy.js next to
// a dist/ compiled by tsc, package.json and node_modules, in a directory of its own (outside the
// checkout), with nothing on PATH but node.
import { before, test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getJson, nodeOnlyPath, runToEnd, startToListen, tempDir } from '../helpers/command.js'
import { bootstrap } from '../helpers/kafka.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

let installed = ''
let bin = ''

before(async () => {
  installed = mkdtempSync(join(tmpdir(), 'kafka-http-proxy-installed-'))
  process.on('exit', () => rmSync(installed, { recursive: true, force: true }))
  copyFileSync(join(ROOT, 'package.json'), join(installed, 'package.json'))
  mkdirSync(join(installed, 'bin'))
  bin = join(installed, 'bin', 'kafka-http-proxy.js')
  copyFileSync(join(ROOT, 'bin', 'kafka-http-proxy.js'), bin)
  symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'))
  // The build `npm start` runs, written into the installed tree instead of the checkout's dist/.
  const output: string[] = []
  const code = await new Promise<number | null>((resolve) => {
    const tsc = spawn(process.execPath, [
      join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'),
      '--outDir', join(installed, 'dist'), '--tsBuildInfoFile', join(installed, 'dist', '.tsbuildinfo')
    ], { stdio: ['ignore', 'pipe', 'pipe'] })
    tsc.stdout.setEncoding('utf8').on('data', (d: string) => output.push(d))
    tsc.stderr.setEncoding('utf8').on('data', (d: string) => output.push(d))
    tsc.on('close', resolve)
  })
  assert.equal(code, 0, `tsc failed:\n${output.join('')}`)
})

function bare (t: TestContext, extra: Record<string, string> = {}): { env: Record<string, string>, cwd: string } {
  return { env: { PATH: nodeOnlyPath(t), ...extra }, cwd: tempDir(t, 'bin-cwd-') }
}

test('--help prints the usage on stdout and exits 0, without reading any configuration', async (t) => {
  // A configuration that would not load shows that --help does not get that far.
  const run = await runToEnd([bin, '--help'], bare(t, { KAFKA_PROXY_SERVER__PORT: 'not a port' }))
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stderr, '')
  assert.match(run.stdout, /^Usage: kafka-http-proxy \[--config <file>\]\n/)
  for (const option of ['--config <file>', '--help', '--version', 'KAFKA_REST_', 'docs/confluent-migration.md']) {
    assert.ok(run.stdout.includes(option), `the usage mentions ${option}`)
  }
  const short = await runToEnd([bin, '-h'], bare(t))
  assert.equal(short.stdout, run.stdout)
})

test('--version prints the package version and exits 0', async (t) => {
  for (const flag of ['--version', '-v']) {
    const run = await runToEnd([bin, flag], bare(t))
    assert.equal(run.code, 0, run.stderr)
    assert.equal(run.stdout, `${VERSION}\n`)
    assert.equal(run.stderr, '')
  }
})

test('an unknown option, a stray argument or --config without a path is a usage error: exit 2 and a message naming it', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--frobnicate'], /^kafka-http-proxy: unknown option --frobnicate\n/],
    [['-x'], /^kafka-http-proxy: unknown option -x\n/],
    [['kafka-rest.properties'], /^kafka-http-proxy: unexpected argument "kafka-rest\.properties" \(name a configuration file with --config <file>\)\n/],
    [['--config'], /^kafka-http-proxy: --config needs a file path/],
    [['--config', '--help'], /^kafka-http-proxy: --config needs a file path/],
    [['--version=2'], /^kafka-http-proxy: --version takes no value\n/]
  ]
  for (const [args, message] of cases) {
    const run = await runToEnd([bin, ...args], bare(t))
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    assert.match(run.stderr, message)
    assert.match(run.stderr, /Try 'kafka-http-proxy --help'\.\n$/)
    assert.equal(run.stdout, '')
  }
})

test('with a cluster configured and no java or mvn on PATH, the command serves the API against that cluster', async (t) => {
  const proxy = await startToListen(t, [bin], bare(t, {
    KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: bootstrap(),
    KAFKA_PROXY_SERVER__HOST: '127.0.0.1',
    KAFKA_PROXY_SERVER__PORT: '0',
    KAFKA_PROXY_SERVER__WORKERS: '1'
  }))
  const url = `http://127.0.0.1:${proxy.port}`
  const clusters = await getJson(`${url}/v3/clusters`)
  assert.equal(clusters.status, 200)
  assert.equal(clusters.body.data.length, 1)
  const topics = await getJson(`${url}/topics`)
  assert.equal(topics.status, 200)
  assert.ok(Array.isArray(topics.body))
  assert.ok(proxy.logs.some((l) => l.msg === `kafka cluster at ${bootstrap()}`))
  assert.ok(!proxy.logs.some((l) => /embedded/.test(l.msg)), 'no embedded broker or registry was started')
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0, proxy.stderr())
})

test('without a build the command says how to make one and exits 1', async (t) => {
  const unbuilt = tempDir(t, 'kafka-http-proxy-unbuilt-')
  mkdirSync(join(unbuilt, 'bin'))
  copyFileSync(bin, join(unbuilt, 'bin', 'kafka-http-proxy.js'))
  const run = await runToEnd([join(unbuilt, 'bin', 'kafka-http-proxy.js'), '--help'], bare(t))
  assert.equal(run.code, 1)
  assert.match(run.stderr, /dist\/src\/main\.js is missing; build it with `npm run build`/)
})
