// `npm start`: install the npm dependencies, build incrementally, fetch the embedded dev broker
// and registry only if this run will start them, then run the proxy (bin/kafka-http-proxy.js)
// with the given arguments. With a cluster configured, neither Java nor Maven is needed.
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ensureDevServices, reportFailure, setup } from './setup.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)

try {
  await setup({ broker: false, registry: false })
} catch (err) {
  process.exit(reportFailure(err))
}

// tsc prints nothing on success and its own diagnostics on failure.
const built = await exitCodeOf(spawn(process.execPath, [
  join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'
], { cwd: ROOT, stdio: 'inherit' }))
if (built !== 0) {
  process.stderr.write('build failed: fix the errors above and start again\n')
  process.exit(built)
}

// The proxy's own loader decides, so a config file, KAFKA_PROXY_* and KAFKA_REST_* variables all
// count exactly as they will when it runs.
const { devServicesFor } = await import(pathToFileURL(join(ROOT, 'dist/src/cli.js')).href)
try {
  await ensureDevServices(devServicesFor(args, process.env))
} catch (err) {
  process.exit(reportFailure(err))
}

const proxy = spawn(process.execPath, [join(ROOT, 'bin/kafka-http-proxy.js'), ...args], { stdio: 'inherit' })

// Ctrl-C reaches the proxy directly (same foreground process group); if this wrapper died on it
// first, the shell would return while the proxy is still draining. Signals sent to this process
// alone are passed on so the proxy can shut down in its own order.
process.on('SIGINT', () => {})
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => proxy.kill(signal))
}

process.exit(await exitCodeOf(proxy))

function exitCodeOf (child) {
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`cannot start ${child.spawnfile}: ${err.message}\n`)
      resolve(1)
    })
    child.on('close', (code, signal) => resolve(code ?? 128 + constants.signals[signal]))
  })
}
