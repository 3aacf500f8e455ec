// `npm start` (scripts/start.mjs) with a cluster configured fetches and starts no dev broker or
// registry, so it runs where neither Java nor Maven is installed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { getJson, nodeOnlyPath, startToListen } from '../helpers/command.js'
import { bootstrap } from '../helpers/kafka.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('npm start with kafka.bootstrap_servers set and no java or mvn on PATH builds, starts and serves against that cluster', async (t) => {
  const proxy = await startToListen(t, ['scripts/start.mjs'], {
    env: {
      PATH: nodeOnlyPath(t),
      HOME: process.env.HOME ?? '/',
      KAFKA_PROXY_KAFKA__BOOTSTRAP_SERVERS: bootstrap(),
      KAFKA_PROXY_SERVER__HOST: '127.0.0.1',
      KAFKA_PROXY_SERVER__PORT: '0',
      KAFKA_PROXY_SERVER__WORKERS: '1'
    },
    cwd: ROOT,
    group: true,
    // A cold build of dist/ comes first.
    listenTimeoutMs: 120_000
  })
  const clusters = await getJson(`http://127.0.0.1:${proxy.port}/v3/clusters`)
  assert.equal(clusters.status, 200)
  assert.ok(proxy.logs.some((l) => l.msg === `kafka cluster at ${bootstrap()}`))
  assert.ok(!proxy.logs.some((l) => /embedded/.test(l.msg)), 'no embedded broker or registry was started')
  assert.doesNotMatch(proxy.stderr(), /setup failed|needs Java|Maven/)
  // SIGTERM to the wrapper reaches the proxy, which drains and stops; the wrapper exits with it.
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0, proxy.stderr())
})
