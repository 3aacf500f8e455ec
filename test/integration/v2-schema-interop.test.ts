// Avro interop with an independent implementation, both ways: Python's
// fastavro (installed by scripts/setup.mjs ensurePythonTools, passed as
// TEST_PYTHON) decodes what the proxy wrote, and writes records the proxy
// must read. The Confluent frame (magic byte 0, 4-byte big-endian schema id)
// is built and parsed by the Python side itself, and it fetches schemas from
// the registry by id, so nothing of the proxy's own code is on that path.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { Producer } from '../../src/kafka/binding.js'
import { createConsumer, deleteConsumer, readUntil, request, show, subscribe } from '../helpers/consumers.js'

function env (name: string, why: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set: ${why}`)
  return value
}

const registryUrl = (): string => env('TEST_SCHEMA_REGISTRY_URL', 'run integration tests through `npm test`, which starts a schema registry')
const python = (): string => env('TEST_PYTHON', 'run integration tests through `npm test`, which installs fastavro into .cache/python/venv (scripts/setup.mjs ensurePythonTools)')

// stdin: one JSON request; stdout: one JSON answer. Bytes travel as hex, and
// Avro `bytes` values as strings of code points 0-255 (Avro's JSON encoding).
// The registry is reached directly, never through an HTTP proxy from the environment.
const SCRIPT = String.raw`
import io, json, struct, sys, urllib.request
import fastavro

req = json.load(sys.stdin)
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
bytes_fields = req.get('bytes_fields', [])

def latin1(v):
    if isinstance(v, bytes):
        return v.decode('latin-1')
    raise TypeError(type(v).__name__)

if req['op'] == 'decode':
    schemas = {}
    out = []
    for h in req['records']:
        b = bytes.fromhex(h)
        if len(b) < 5 or b[0] != 0:
            sys.exit('not a Confluent frame: ' + h)
        schema_id = struct.unpack('>I', b[1:5])[0]
        if schema_id not in schemas:
            with opener.open(req['registry'] + '/schemas/ids/' + str(schema_id), timeout=10) as r:
                schemas[schema_id] = fastavro.parse_schema(json.loads(json.load(r)['schema']))
        out.append({'schema_id': schema_id, 'value': fastavro.schemaless_reader(io.BytesIO(b[5:]), schemas[schema_id])})
    json.dump({'fastavro': fastavro.__version__, 'records': out}, sys.stdout, default=latin1)
elif req['op'] == 'encode':
    schema = fastavro.parse_schema(json.loads(req['schema']))
    out = []
    for v in req['values']:
        if isinstance(v, dict):
            v = {k: (x.encode('latin-1') if k in bytes_fields else x) for k, x in v.items()}
        buf = io.BytesIO()
        buf.write(b'\x00' + struct.pack('>I', req['schema_id']))
        fastavro.schemaless_writer(buf, schema, v)
        out.append(buf.getvalue().hex())
    json.dump({'fastavro': fastavro.__version__, 'records': out}, sys.stdout)
else:
    sys.exit('unknown op ' + req['op'])
`

async function runPython (request: unknown): Promise<{ fastavro: string, records: any[] }> {
  const child = spawn(python(), ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code))
  })
  child.stdin.end(JSON.stringify(request))
  const code = await exited
  assert.equal(code, 0, `python exited with ${code}: ${stderr}`)
  return JSON.parse(stdout)
}

const SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Order',
  namespace: 'test.interop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'paid', type: 'boolean' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'items', type: { type: 'array', items: 'string' } },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID', 'SHIPPED'] } },
    { name: 'attrs', type: { type: 'map', values: 'int' } },
    { name: 'digest', type: 'bytes' }
  ]
})

/** Orders in Avro's JSON encoding (what the proxy takes and renders) and as fastavro's plain values. */
function orders (): Array<{ avroJson: Record<string, unknown>, plain: Record<string, unknown> }> {
  const base = [
    { id: 1, customer: 'alice', amount: 12.5, paid: true, note: 'gift', items: ['book', 'pen'], status: 'PAID', attrs: { qty: 2 }, digest: '\u0000\u00ff\u0010' },
    { id: 1234567890123, customer: 'bob', amount: -0.25, paid: false, note: null, items: [], status: 'NEW', attrs: {}, digest: '' },
    { id: -7, customer: 'çå ü', amount: 1e21, paid: true, note: '', items: ['x'], status: 'SHIPPED', attrs: { a: -1, b: 2147483647 }, digest: 'abc' }
  ]
  return base.map((plain) => ({ plain, avroJson: { ...plain, note: plain.note === null ? null : { string: plain.note } } }))
}

test('fastavro decodes what the proxy wrote, with the schema the registry has under the frame\'s id', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: registryUrl() } })
  const topic = uniqueName('v2-schema-interop-out')
  await createTopic(topic, 1)
  const data = orders()
  const res = await request('POST', `${url}/topics/${topic}`, {
    headers: { 'content-type': 'application/vnd.kafka.avro.v2+json' },
    body: { value_schema: SCHEMA, records: data.map((d) => ({ value: d.avroJson })) }
  })
  assert.equal(res.status, 200, show(res))
  for (const o of res.body.offsets) assert.equal(o.error_code, null, show(res))

  const raw = (await readAll(topic, 1, data.length)).sort((a, b) => a.offset - b.offset)
  assert.equal(raw.length, data.length)
  const decoded = await runPython({ op: 'decode', registry: registryUrl(), records: raw.map((r) => (r.value as Buffer).toString('hex')) })
  assert.deepEqual(decoded.records, data.map((d) => ({ schema_id: res.body.value_schema_id, value: d.plain })))
})

test('the proxy reads records fastavro wrote with a schema registered through the registry API', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: registryUrl() } })
  const topic = uniqueName('v2-schema-interop-in')
  await createTopic(topic, 1)

  const register = async (subject: string, schema: string): Promise<number> => {
    const r = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
      signal: AbortSignal.timeout(10_000)
    })
    const body = await r.json() as { id?: unknown }
    assert.equal(r.status, 200, JSON.stringify(body))
    assert.equal(typeof body.id, 'number')
    return body.id as number
  }
  const valueId = await register(`${topic}-value`, SCHEMA)
  const keyId = await register(`${topic}-key`, '"string"')

  const data = orders()
  const keys = data.map((_, i) => `order-${i}`)
  const [values, encodedKeys] = await Promise.all([
    runPython({ op: 'encode', schema: SCHEMA, schema_id: valueId, bytes_fields: ['digest'], values: data.map((d) => d.plain) }),
    runPython({ op: 'encode', schema: '"string"', schema_id: keyId, values: keys })
  ])

  const producer = new Producer({ 'bootstrap.servers': env('TEST_KAFKA_BOOTSTRAP', 'run integration tests through `npm test`'), dr_cb: true })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  t.after(() => new Promise<void>((resolve) => producer.disconnect(() => resolve())))
  const delivered = new Promise<void>((resolve, reject) => {
    let n = 0
    producer.on('delivery-report', (err) => {
      if (err) reject(err)
      else if (++n === data.length) resolve()
    })
  })
  producer.setPollInterval(50)
  for (let i = 0; i < data.length; i++) {
    producer.produce(topic, 0, Buffer.from(values.records[i] as string, 'hex'), Buffer.from(encodedKeys.records[i] as string, 'hex'))
  }
  await delivered

  const c = await createConsumer(url, uniqueName('v2-schema-interop'), { format: 'avro', 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const records = (await readUntil(c, data.length, { accept: 'application/vnd.kafka.avro.v2+json' })).sort((a, b) => a.offset - b.offset)
  assert.deepEqual(records.map((r) => ({ offset: r.offset, key: r.key, value: r.value })), data.map((d, i) => ({ offset: i, key: keys[i], value: d.avroJson })))
  await deleteConsumer(c)
})
