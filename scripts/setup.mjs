// Brings a checkout to a runnable state: npm dependencies (with the native Kafka client), the
// Kafka broker jars and the schema registry (Apicurio Registry) used by dev mode and the tests.
// Runs on a fresh clone before `npm install`, so it must only use Node built-ins. Every step is
// guarded by a stamp so a warm run costs milliseconds. Only the dev services need Java and Maven:
// `npm start` asks for them only when the configuration names no cluster (or registry).
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

// Headers and libraries that librdkafka links against when @confluentinc/kafka-javascript builds
// from source. The prebuilt binary (downloaded from GitHub when reachable) needs none of them.
const SYSTEM_PACKAGES = ['libssl-dev', 'libsasl2-dev', 'libzstd-dev', 'liblz4-dev', 'zlib1g-dev', 'libcurl4-openssl-dev']

// Kafka 4 logs through log4j2 but leaves the SLF4J binding to the application.
const LOG4J_VERSION = '2.24.3'
const DEPENDENCY_PLUGIN_VERSION = '3.8.1'
// Apicurio publishes its runnable form (a Quarkus runner jar with lib/) as one tar.gz. Version
// 3.x of the dependency plugin reads that artifact's POM before fetching it and fails when the
// POM's parent (io.apicurio:apicurio-registry) is missing from the repository, as it is in the
// Maven Central mirror our machines reach; 2.10 fetches the file alone, still checksum-verified.
const REGISTRY_UNPACK_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.10'

/** A failure the user can act on: printed as a message, never as a stack trace. */
export class SetupError extends Error {
  constructor (message) {
    super(message)
    this.name = 'SetupError'
  }
}

/** Prints `err` the way the scripts report failures and returns the exit code to use. */
export function reportFailure (err) {
  if (err instanceof SetupError) {
    process.stderr.write(`\nsetup failed: ${err.message}\n`)
  } else {
    process.stderr.write(`\nsetup failed unexpectedly:\n${err?.stack ?? err}\n`)
  }
  return 1
}

/** Everything, unless told otherwise: the tests and the benchmark run the broker and registry. */
export async function setup ({ log = defaultLog, broker = true, registry = true } = {}) {
  await ensureNpmDependencies(log)
  await ensureDevServices({ log, broker, registry })
}

/** The jars of the embedded dev broker and schema registry; only these steps need Java and Maven. */
export async function ensureDevServices ({ log = defaultLog, broker = true, registry = true } = {}) {
  if (broker) await ensureKafka(log)
  if (registry) await ensureSchemaRegistry(log)
}

function defaultLog (msg) {
  process.stderr.write(`setup: ${msg}\n`)
}

async function ensureNpmDependencies (log) {
  const stampFile = join(ROOT, 'node_modules', '.setup-stamp')
  const hasModules = existsSync(join(ROOT, 'node_modules'))
  if (hasModules && readOptional(stampFile) === dependencyHash()) return

  await ensureSystemPackages(log)

  const hasLock = existsSync(join(ROOT, 'package-lock.json'))
  // `npm ci` deletes node_modules first, which would throw away a 60 s native build and pull the
  // tree from under any process using it; on an existing tree `npm install` reconciles in place
  // and still honours the lockfile.
  const args = hasLock && !hasModules ? ['ci'] : ['install']
  log(`installing npm dependencies with npm ${args[0]} (about 1-2 min the first time: the Kafka client compiles librdkafka)`)
  await run('npm', [...args, '--no-audit', '--no-fund'], {
    env: { ...process.env, CKJS_LINKING: 'dynamic' },
    what: `npm ${args[0]}`,
    hint: 'Check the output above, fix the cause and run `node scripts/setup.mjs` again.'
  })

  await run(process.execPath, ['-e', "require('@confluentinc/kafka-javascript')"], {
    what: 'loading @confluentinc/kafka-javascript',
    hint: `The native Kafka client did not build or load. Make sure ${SYSTEM_PACKAGES.join(' ')} are installed, ` +
      'then remove node_modules and run `node scripts/setup.mjs` again.'
  })

  writeFileSync(stampFile, dependencyHash())
}

function dependencyHash () {
  const hash = createHash('sha256')
  hash.update(readFileSync(join(ROOT, 'package.json')))
  hash.update('\0')
  hash.update(readOptional(join(ROOT, 'package-lock.json')) ?? '')
  // A different Node ABI needs the native addon rebuilt even when the lockfile is unchanged.
  hash.update(`\0${process.versions.modules}`)
  return hash.digest('hex')
}

async function ensureSystemPackages (log) {
  if (!findExecutable('dpkg-query')) {
    log(`no dpkg here: cannot check for ${SYSTEM_PACKAGES.join(' ')}; continuing in case the prebuilt Kafka client downloads`)
    return
  }
  const missing = await missingDebPackages(SYSTEM_PACKAGES)
  if (missing.length === 0) return
  if (process.getuid?.() !== 0) {
    throw new SetupError(
      `missing system packages: ${missing.join(' ')}\n` +
      `Install them, then run setup again:\n  sudo apt-get install -y ${missing.join(' ')}`
    )
  }
  log(`installing system packages ${missing.join(' ')} (about 30 s)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const hint = `Install them by hand: apt-get update && apt-get install -y ${missing.join(' ')}`
  await run('apt-get', ['update'], { env, what: 'apt-get update', hint })
  await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, what: 'apt-get install', hint })
}

async function missingDebPackages (packages) {
  // dpkg-query exits 1 when any name is unknown, so read its output rather than its status.
  // eslint-disable-next-line no-template-curly-in-string -- dpkg-query's own field syntax
  const { stdout } = await capture('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...packages])
  const installed = new Set()
  for (const line of stdout.split('\n')) {
    const [name, status] = line.split(' ')
    if (status === 'installed') installed.add(name.split(':')[0])
  }
  return packages.filter((p) => !installed.has(p))
}

function pinnedVersion (key) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  const version = pkg.config?.[key]
  if (typeof version !== 'string' || version === '') {
    throw new SetupError(`package.json has no config.${key}`)
  }
  return version
}

function kafkaPom (version) {
  const dependency = (groupId, artifactId, v) =>
    `    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${v}</version></dependency>`
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/setup.mjs: only used to resolve the broker's jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-http-proxy</groupId>
  <artifactId>kafka-broker-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dependency('org.apache.kafka', 'kafka_2.13', version)}
${dependency('org.apache.kafka', 'kafka-tools', version)}
${dependency('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin>
          <groupId>org.apache.maven.plugins</groupId>
          <artifactId>maven-dependency-plugin</artifactId>
          <version>${DEPENDENCY_PLUGIN_VERSION}</version>
        </plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
`
}

async function ensureKafka (log) {
  const version = pinnedVersion('kafka_version')
  const dir = join(ROOT, '.cache', 'kafka', version)
  const stampFile = join(dir, '.complete')
  const pom = kafkaPom(version)
  const pomHash = createHash('sha256').update(pom).digest('hex')
  if (readOptional(stampFile) === pomHash) return

  requireJavaAndMaven('the Kafka broker for dev mode and tests')

  log(`downloading Apache Kafka ${version} jars from Maven Central into .cache/kafka/${version} (about 80 MB: seconds to a minute or two the first time)`)
  mkdirSync(dir, { recursive: true })
  rmSync(stampFile, { force: true })
  // A half-filled or older libs dir may hold jars the new pom no longer wants.
  rmSync(join(dir, 'libs'), { recursive: true, force: true })
  writeFileSync(join(dir, 'pom.xml'), pom)
  await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', 'pom.xml', 'dependency:copy-dependencies', '-DoutputDirectory=libs'], {
    cwd: dir,
    what: `resolving Kafka ${version} with Maven`,
    hint: 'Maven Central must be reachable (check proxy settings in ~/.m2/settings.xml) ' +
      `and Kafka ${version} must exist there; package.json config.kafka_version pins it.`
  })
  writeFileSync(stampFile, pomHash)
}

function requireJavaAndMaven (who) {
  const needs = [
    ['java', 'Java 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)'],
    ['mvn', 'Maven (Debian: apt-get install -y maven)']
  ].filter(([cmd]) => !findExecutable(cmd))
  if (needs.length > 0) {
    throw new SetupError(`${who} needs ${needs.map(([, what]) => what).join(' and ')}; install it and run setup again`)
  }
}

// Apicurio Registry serves the Confluent Schema Registry API under /apis/ccompat/v7; the
// dev mode and the integration tests run it (src/dev/schema-registry.ts). 3.0.x is the newest
// line that runs on Java 17 (3.1 and later are compiled for Java 21).
async function ensureSchemaRegistry (log) {
  const version = pinnedVersion('schema_registry_version')
  const dir = join(ROOT, '.cache', 'schema-registry', version)
  const stampFile = join(dir, '.complete')
  const artifact = `io.apicurio:apicurio-registry-app:${version}:tar.gz:all`
  const stamp = `${REGISTRY_UNPACK_PLUGIN}\n${artifact}\n`
  if (readOptional(stampFile) === stamp) return

  requireJavaAndMaven('the schema registry for dev mode and tests')

  log(`downloading Apicurio Registry ${version} (schema registry) from Maven Central into .cache/schema-registry/${version} (about 110 MB: seconds to a minute or two the first time)`)
  mkdirSync(dir, { recursive: true })
  rmSync(stampFile, { force: true })
  // The plugin skips an unpack it has marker files for, so a half-filled app dir goes with them.
  rmSync(join(dir, 'app'), { recursive: true, force: true })
  rmSync(join(dir, 'target'), { recursive: true, force: true })
  writeFileSync(join(dir, 'pom.xml'), registryPom(version))
  await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', 'pom.xml', `${REGISTRY_UNPACK_PLUGIN}:unpack`, `-Dartifact=${artifact}`, '-DoutputDirectory=app'], {
    cwd: dir,
    what: `downloading Apicurio Registry ${version} with Maven`,
    hint: 'Maven Central must be reachable (check proxy settings in ~/.m2/settings.xml) ' +
      `and io.apicurio:apicurio-registry-app ${version} must exist there; package.json config.schema_registry_version pins it.`
  })
  rmSync(join(dir, 'target'), { recursive: true, force: true })
  const runner = join(dir, 'app', `apicurio-registry-app-${version}-runner.jar`)
  if (!existsSync(runner)) {
    throw new SetupError(`the Apicurio Registry ${version} download has no ${runner}: this version is packaged differently; pin a 3.0.x release`)
  }
  writeFileSync(stampFile, stamp)
}

// Python packages the integration tests use as an independent client (interop checks against
// fastavro). Only tests need them, so `setup()` (run by `npm start`) leaves them out and
// scripts/test.mjs calls this before integration tests. Pinned; bump with the stamp in mind.
const PYTHON_PACKAGES = ['fastavro==1.13.1']

/**
 * A venv in .cache/python/venv with PYTHON_PACKAGES installed; returns its python. A stamp
 * holding the pinned list makes a warm run a file read.
 */
export async function ensurePythonTools ({ log = defaultLog } = {}) {
  const venv = join(ROOT, '.cache', 'python', 'venv')
  const python = join(venv, 'bin', 'python')
  const stampFile = join(venv, '.complete')
  const stamp = `${PYTHON_PACKAGES.join('\n')}\n`
  if (readOptional(stampFile) === stamp && existsSync(python)) return python

  const python3 = findExecutable('python3')
  if (!python3) {
    throw new SetupError('the integration tests need Python 3 with venv (Debian: apt-get install -y python3 python3-venv); install it and run the tests again')
  }
  log(`installing ${PYTHON_PACKAGES.join(' ')} from PyPI into .cache/python/venv for the interop tests (about 20 s the first time)`)
  // A venv left half-made by an interrupted run is rebuilt rather than repaired.
  rmSync(venv, { recursive: true, force: true })
  mkdirSync(join(ROOT, '.cache', 'python'), { recursive: true })
  await run(python3, ['-m', 'venv', venv], {
    what: 'creating a Python venv',
    hint: 'Python\'s venv module is missing (Debian: apt-get install -y python3-venv).'
  })
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', ...PYTHON_PACKAGES], {
    what: `pip install ${PYTHON_PACKAGES.join(' ')}`,
    hint: 'PyPI must be reachable (pip honours PIP_INDEX_URL and proxy settings in pip.conf).'
  })
  writeFileSync(stampFile, stamp)
  return python
}

// The browser the web console's test drives (test/integration/console.test.ts): Debian's
// chromium, through playwright-core with `executablePath`. Playwright's own browser downloads
// are never used; the machines reach no host they come from.
export const BROWSER_PACKAGE = 'chromium'
export const BROWSER_PATH = '/usr/bin/chromium'

/** Debian's chromium at BROWSER_PATH, installed with apt when missing and running as root; returns its path. */
export async function ensureBrowser ({ log = defaultLog } = {}) {
  if (isExecutable(BROWSER_PATH)) return BROWSER_PATH
  const manual = `apt-get update && apt-get install -y --no-install-recommends ${BROWSER_PACKAGE}`
  if (!findExecutable('apt-get')) {
    throw new SetupError(`the console test needs the ${BROWSER_PACKAGE} package (${BROWSER_PATH}) and there is no apt-get here to install it; install Chromium at ${BROWSER_PATH} and run the tests again`)
  }
  if (process.getuid?.() !== 0) {
    throw new SetupError(`the console test needs the ${BROWSER_PACKAGE} package (${BROWSER_PATH}); install it, then run the tests again:\n  sudo ${manual}`)
  }
  log(`installing the ${BROWSER_PACKAGE} package for the console's browser test (under a minute the first time)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const hint = `Install it by hand: ${manual}`
  await run('apt-get', ['update'], { env, what: 'apt-get update', hint })
  await run('apt-get', ['install', '-y', '--no-install-recommends', BROWSER_PACKAGE], { env, what: `apt-get install ${BROWSER_PACKAGE}`, hint })
  if (!isExecutable(BROWSER_PATH)) throw new SetupError(`the ${BROWSER_PACKAGE} package installed but ${BROWSER_PATH} is missing. ${hint}`)
  return BROWSER_PATH
}

// The load balancer of the multi-instance test (test/integration/instances.test.ts): Debian's
// haproxy, run by the test in the foreground on loopback ports of its own.
export const BALANCER_PACKAGE = 'haproxy'
export const BALANCER_PATH = '/usr/sbin/haproxy'

/** Debian's haproxy at BALANCER_PATH, installed with apt when missing and running as root; returns its path. */
export async function ensureBalancer ({ log = defaultLog } = {}) {
  if (isExecutable(BALANCER_PATH)) return BALANCER_PATH
  const manual = `apt-get update && apt-get install -y --no-install-recommends ${BALANCER_PACKAGE}`
  if (!findExecutable('apt-get') || process.getuid?.() !== 0) {
    throw new SetupError(`the multi-instance test needs the ${BALANCER_PACKAGE} package (${BALANCER_PATH}); install it, then run the tests again:\n  sudo ${manual}`)
  }
  log(`installing the ${BALANCER_PACKAGE} package for the multi-instance test`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const hint = `Install it by hand: ${manual}`
  await run('apt-get', ['update'], { env, what: 'apt-get update', hint })
  await run('apt-get', ['install', '-y', '--no-install-recommends', BALANCER_PACKAGE], { env, what: `apt-get install ${BALANCER_PACKAGE}`, hint })
  if (!isExecutable(BALANCER_PATH)) throw new SetupError(`the ${BALANCER_PACKAGE} package installed but ${BALANCER_PATH} is missing. ${hint}`)
  return BALANCER_PATH
}

function isExecutable (file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

// The unpack goal needs a project to run in; this one declares nothing.
function registryPom (version) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/setup.mjs: only used to download the schema registry. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-http-proxy</groupId>
  <artifactId>schema-registry-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
</project>
`
}

function readOptional (file) {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function findExecutable (cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    try {
      accessSync(join(dir, cmd), constants.X_OK)
      return join(dir, cmd)
    } catch {}
  }
  return undefined
}

function capture (cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
    child.stderr.resume()
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout }))
  })
}

// Runs a slow tool with its output held back: on success it is noise, on failure its tail is
// what the user needs, printed together with what to do next.
function run (cmd, args, { cwd = ROOT, env = process.env, what, hint }) {
  const keep = 64 * 1024
  return new Promise((resolve, reject) => {
    let output = ''
    const collect = (chunk) => {
      output += chunk
      if (output.length > 2 * keep) output = output.slice(-keep)
    }
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.setEncoding('utf8').on('data', collect)
    child.stderr.setEncoding('utf8').on('data', collect)
    child.on('error', (err) => reject(new SetupError(`${what}: cannot run ${cmd} (${err.message}).\n${hint}`)))
    child.on('close', (code, signal) => {
      if (code === 0) return resolve()
      const tail = output.trimEnd().split('\n').slice(-40).join('\n')
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      reject(new SetupError(`${what} ${how}. Last output:\n${tail}\n\n${hint}`))
    })
  })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await setup()
  } catch (err) {
    process.exitCode = reportFailure(err)
  }
}
