// `npm test`: lint, typecheck, then unit and integration tests against one real Kafka broker and
// one real schema registry that this script owns. `--unit` runs only the unit tests (no lint,
// typecheck, broker or registry). `--no-checks` skips lint and typecheck, for focused runs while
// code elsewhere in the tree is mid-edit. Any other argument narrows the test files to paths
// containing it: `npm test -- dev-broker`. `--faults` (`npm run test:faults`) runs only the fault
// suite, test/faults, with its long variants (`*.long.test.ts`: the 3-node cluster, longer loads);
// `npm test` runs test/faults without them.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { constants, tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBalancer, ensureBrowser, ensurePythonTools, reportFailure, setup } from './setup.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
const skipChecks = args.includes('--no-checks')
const faultsOnly = args.includes('--faults')
const filters = args.filter((arg) => !arg.startsWith('--'))

const children = new Set()
let brokerStarting
let registryStarting
let tempDir
let testsRunning = false

// A Ctrl-C already reached the children through the process group (a second one is harmless);
// a SIGTERM from CI reached only us. Either way the broker, registry and temp dir go before we exit.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal)
    // While the test runner lives, the main flow waits for it and then cleans up.
    if (testsRunning) return
    cleanup().finally(() => process.exit(128 + constants.signals[signal]))
  })
}

async function main () {
  let python
  try {
    await setup()
    // Only the integration tests use Python (an independent Avro implementation for interop).
    if (!unitOnly) python = await ensurePythonTools()
    // Only the console's browser test uses Chromium.
    if (!unitOnly) await ensureBrowser()
    // Only the multi-instance test uses HAProxy.
    if (!unitOnly) await ensureBalancer()
  } catch (err) {
    return reportFailure(err)
  }

  const files = testFiles()
  if (files.length === 0) {
    process.stderr.write(`no test files${filters.length > 0 ? ` match ${filters.join(', ')}` : ''}\n`)
    return 1
  }

  if (!unitOnly && !skipChecks) {
    const failed = await checks()
    if (failed !== 0) return failed
  }

  tempDir = mkdtempSync(join(tmpdir(), 'kafka-http-proxy-test-'))
  // Temp files of the tests live under our temp dir, so they go with it even when a test process
  // is killed before its own cleanup runs.
  const testTmp = join(tempDir, 'tmp')
  mkdirSync(testTmp)
  const env = { ...process.env, TMPDIR: testTmp }
  // The fault tests run longer loads by this factor (test/faults/scale.ts); FAULT_SCALE overrides it.
  if (faultsOnly) env.FAULT_SCALE ??= '4'
  if (!unitOnly) {
    const { tsImport } = await import('tsx/esm/api')
    const { startBroker, kafkaLibDir, projectRoot, KAFKA_VERSION } = await tsImport('../src/dev/kafka-broker.ts', import.meta.url)
    const { startRegistry, REGISTRY_VERSION } = await tsImport('../src/dev/schema-registry.ts', import.meta.url)
    const libDir = kafkaLibDir(projectRoot())
    const dataDir = join(tempDir, 'broker')
    const registryDataDir = join(tempDir, 'schema-registry')
    // The registry keeps its schemas in its own H2 file, not in Kafka, so both JVMs start at once.
    // Auto-creation off, so a typo'd topic in a test is a 40401 rather than a new topic; the
    // dev-mode tests (seed examples) boot their own broker with dev mode's default (on).
    brokerStarting = startBroker({ libDir, dataDir, properties: { 'auto.create.topics.enable': 'false' } })
    registryStarting = startRegistry({ root: projectRoot(), dataDir: registryDataDir })
    const [brokerResult, registryResult] = await Promise.allSettled([brokerStarting, registryStarting])
    const failures = [brokerResult, registryResult].filter((r) => r.status === 'rejected')
    if (failures.length > 0) {
      for (const { reason } of failures) process.stderr.write(`${reason?.message ?? reason}\n`)
      return 1
    }
    const broker = brokerResult.value
    const registry = registryResult.value
    process.stderr.write(`test broker: Kafka ${KAFKA_VERSION} at ${broker.bootstrapServers} (data in ${dataDir})\n`)
    process.stderr.write(`test schema registry: Apicurio Registry ${REGISTRY_VERSION} at ${registry.url} (data in ${registryDataDir})\n`)
    env.TEST_KAFKA_BOOTSTRAP = broker.bootstrapServers
    env.TEST_KAFKA_LIB_DIR = libDir
    env.TEST_SCHEMA_REGISTRY_URL = registry.url
    env.TEST_PYTHON = python
  }

  testsRunning = true
  // Two test files at a time (node's default is one less than the cores, so
  // one here): most integration tests wait on the broker, a timer or a child
  // process, and the suite took 17 min one file at a time. TEST_CONCURRENCY=1
  // gives the serial run.
  const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2)
  return run(process.execPath, [
    '--import', 'tsx', '--test', '--test-reporter=tap', '--test-timeout=180000', `--test-concurrency=${concurrency}`, ...files
  ], { env })
}

function testFiles () {
  const dirs = faultsOnly ? ['test/faults'] : ['test/unit', ...(unitOnly ? [] : ['test/integration', 'test/faults'])]
  const files = dirs.flatMap((dir) => walk(join(ROOT, dir)))
    .filter((file) => file.endsWith('.test.ts') && (faultsOnly || !file.endsWith('.long.test.ts')))
    .map((file) => relative(ROOT, file))
    .sort()
  return filters.length === 0 ? files : files.filter((file) => filters.some((f) => file.includes(f)))
}

function walk (dir) {
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((entry) => entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)])
}

// Lint and typecheck are independent, so they share the two cores; their output is held so the
// two never interleave, and shown only when a check fails.
async function checks () {
  const results = await Promise.all([
    runQuiet('lint', [join(ROOT, 'node_modules/eslint/bin/eslint.js'), '.']),
    runQuiet('typecheck', [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']),
    audit()
  ])
  let failed = 0
  for (const { name, code, output } of results) {
    if (code === 0) {
      process.stderr.write(`${name}: ok\n`)
    } else {
      process.stderr.write(`${name}: failed\n${output}\n`)
      failed = code || 1
    }
  }
  return failed
}

// `npm audit --audit-level=high`: a high or critical advisory for an installed package fails the
// run. A registry without the audit endpoint (a mirror) cannot tell; that is said, not failed.
async function audit () {
  const npm = process.env.npm_execpath ?? join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js')
  const r = await runQuiet('npm audit', [npm, 'audit', '--audit-level=high', '--json'])
  let report
  try {
    report = JSON.parse(r.output.slice(r.output.indexOf('{'), r.output.lastIndexOf('}') + 1))
  } catch {
    return { ...r, code: r.code === 0 ? 0 : 1 }
  }
  const v = report.metadata?.vulnerabilities
  if (v === undefined) {
    process.stderr.write(`npm audit: no report from this registry (${report.error?.summary || report.message || 'no vulnerability metadata in its answer'}); skipped\n`)
    return { ...r, code: 0, output: '' }
  }
  const bad = (v.high ?? 0) + (v.critical ?? 0)
  return { ...r, code: bad > 0 ? 1 : 0, output: bad > 0 ? r.output : '' }
}

function runQuiet (name, argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => { output += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk })
    child.on('close', (code, signal) => {
      children.delete(child)
      resolve({ name, code: code ?? 128 + constants.signals[signal], output: output.trimEnd() })
    })
  })
}

function run (cmd, argv, { env }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: 'inherit' })
    children.add(child)
    child.on('error', (err) => {
      process.stderr.write(`cannot run ${cmd}: ${err.message}\n`)
      resolve(1)
    })
    child.on('close', (code, signal) => {
      children.delete(child)
      resolve(code ?? 128 + constants.signals[signal])
    })
  })
}

// A test process killed before its own cleanup leaves its broker or registry to the guard, which
// is stopping it right now; the data dir can only go once that JVM is gone.
async function stopJvmsUnder (dir) {
  const deadline = Date.now() + 25_000
  for (;;) {
    const pids = jvmPidsUnder(dir)
    if (pids.length === 0) return
    if (Date.now() > deadline) {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {}
      }
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

// A broker names its server.properties on the command line, a registry its H2 database URL.
function jvmPidsUnder (dir) {
  let entries
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (argv.includes('kafka.Kafka')) return argv.some((arg) => arg.startsWith(dir + sep))
      return argv.some((arg) => arg.startsWith(`-Dapicurio.datasource.url=jdbc:h2:file:${dir}${sep}`))
    } catch {
      return false
    }
  })
}

let cleaning
function cleanup () {
  cleaning ??= (async () => {
    try {
      // Both were started together; each stop is awaited even when the other one fails.
      const stops = [brokerStarting, registryStarting].map(async (starting) => {
        const running = await starting?.catch(() => undefined)
        await running?.stop()
      })
      const failed = (await Promise.allSettled(stops)).find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
    } finally {
      if (tempDir) {
        await stopJvmsUnder(tempDir)
        rmSync(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
      }
    }
  })()
  return cleaning
}

let code = 1
try {
  code = await main()
} catch (err) {
  process.stderr.write(`${err?.stack ?? err}\n`)
} finally {
  try {
    await cleanup()
  } catch (err) {
    process.stderr.write(`cleanup failed: ${err?.message ?? err}\n`)
    code ||= 1
  }
}
process.exit(code)
