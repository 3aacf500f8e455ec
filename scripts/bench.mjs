// `npm run bench [-- --quick] [-- --only <scenario>]`: sets up what is missing,
// builds the proxy (the benchmark runs the compiled dist/, as `npm start`
// does) and runs the harness in bench/run.ts.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { reportFailure, setup } from './setup.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
try {
  await setup()
} catch (err) {
  reportFailure(err)
}
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
