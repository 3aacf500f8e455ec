// A deployment moving from Confluent's REST Proxy keeps its settings: the variables of Confluent's
// docker image alone, or its kafka-rest.properties file, start a proxy that serves where they say.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, getJson, runToEnd, startToListen, tempDir } from '../helpers/command.js'
import { bootstrap } from '../helpers/kafka.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
// By absolute URL: the command runs in an empty directory, where `--import tsx` would not resolve.
const TSX = import.meta.resolve('tsx')

async function assertServes (port: number): Promise<void> {
  const url = `http://127.0.0.1:${port}`
  const topics = await getJson(`${url}/topics`)
  assert.equal(topics.status, 200)
  assert.ok(Array.isArray(topics.body))
  const clusters = await getJson(`${url}/v3/clusters`)
  assert.equal(clusters.status, 200)
  assert.equal(clusters.body.data.length, 1)
}

test('KAFKA_REST_BOOTSTRAP_SERVERS and KAFKA_REST_LISTENERS alone, with no config file, start a proxy serving on that listener', async (t) => {
  const port = await freePort()
  const proxy = await startToListen(t, ['--import', TSX, MAIN], {
    // The whole environment: not even PATH.
    env: { KAFKA_REST_BOOTSTRAP_SERVERS: bootstrap(), KAFKA_REST_LISTENERS: `http://127.0.0.1:${port}` },
    cwd: tempDir(t, 'confluent-env-')
  })
  assert.equal(proxy.port, port)
  assert.ok(proxy.logs.some((l) => l.msg.startsWith(`proxy listening on http://127.0.0.1:${port} `)))
  assert.ok(proxy.logs.some((l) => l.msg === `kafka cluster at ${bootstrap()}`))
  assert.ok(!proxy.logs.some((l) => l.level === 'warn'), 'both settings have an equivalent: no warnings')
  await assertServes(port)
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0, proxy.stderr())
})

test('a kafka-rest.properties file as --config starts a proxy on its listener and logs a warning for each setting it cannot use', async (t) => {
  const port = await freePort()
  const dir = tempDir(t, 'confluent-properties-')
  const file = join(dir, 'kafka-rest.properties')
  writeFileSync(file, [
    '# kafka-rest.properties as Confluent\'s proxy took it',
    'id=rest-proxy-1',
    `listeners=http://127.0.0.1:${port}`,
    `bootstrap.servers=PLAINTEXT://${bootstrap()}`,
    'consumer.request.timeout.ms = 250',
    'client.sasl.kerberos.ticket.renew.jitter: 0.05',
    'frobnicate.level 11',
    ''
  ].join('\n'))
  const proxy = await startToListen(t, ['--import', TSX, MAIN, '--config', file], {
    env: { KAFKA_PROXY_SERVER__WORKERS: '1' },
    cwd: dir
  })
  assert.equal(proxy.port, port)
  await assertServes(port)
  const warnings = proxy.logs.filter((l) => l.level === 'warn').map((l) => l.setting)
  assert.deepEqual(warnings.sort(), [
    `client.sasl.kerberos.ticket.renew.jitter (${file} line 6)`,
    `frobnicate.level (${file} line 7)`,
    `id (${file} line 2)`
  ])
  proxy.child.kill('SIGTERM')
  assert.equal(await proxy.exited, 0, proxy.stderr())
})

test('a Confluent setting that cannot be honoured stops the start with exit 1, listing the ignored settings with the errors', async (t) => {
  const dir = tempDir(t, 'confluent-invalid-')
  const file = join(dir, 'kafka-rest.properties')
  writeFileSync(file, `listeners=https://0.0.0.0:8443\nbootstrap.servers=${bootstrap()}\nschema.registry.ulr=http://registry:8081\n`)
  const run = await runToEnd(['--import', TSX, MAIN, '--config', file], { env: {}, cwd: dir })
  assert.equal(run.code, 1)
  assert.match(run.stderr, /^invalid configuration:\n {2}listeners \(.*line 1\): "https:\/\/0\.0\.0\.0:8443": only http:\/\/host:port listeners are served/)
  assert.match(run.stderr, /\nignored settings:\n {2}schema\.registry\.ulr \(.*line 3\): /)
  assert.equal(run.stdout, '')
})
