// Hostile request bodies against every JSON body the API takes: v2 produce
// in each embedded format, v3 produce (one record, a stream, a batch), and
// the v2/v3 admin and consumer bodies. Each must be a 4xx in the API's error
// body (status, error_code, a message naming the reason, a JSON content
// type), never a 500, and must not change what reaches Kafka: what is
// accepted is read back with a plain librdkafka consumer and compared byte
// for byte.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createTopic, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { createConsumer, V2 } from '../helpers/consumers.js'

const BINARY = 'application/vnd.kafka.binary.v2+json'
const JSON_V2 = 'application/vnd.kafka.json.v2+json'
const AVRO = 'application/vnd.kafka.avro.v2+json'
const JSONSCHEMA = 'application/vnd.kafka.jsonschema.v2+json'
const PROTOBUF = 'application/vnd.kafka.protobuf.v2+json'
const JSON_TYPE = 'application/json'
const MIB = 1024 * 1024

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  return url
}

interface Raw {
  status: number
  type: string
  text: string
  body: any
}

/** One request with exactly these body bytes (invalid UTF-8 included). */
function send (method: string, url: string, contentType: string, body: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: unknown
        try { parsed = text === '' ? null : JSON.parse(text.split('\r\n')[0] as string) } catch { parsed = undefined }
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', text, body: parsed })
      })
    })
    // A refused oversized upload may be cut off before it is all sent.
    req.on('error', (err) => { if ((err as NodeJS.ErrnoException).code !== 'EPIPE' && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    req.end(body)
  })
}

const show = (r: Raw): string => `HTTP ${r.status} ${r.type} ${r.text.slice(0, 300)}`
const b = (...parts: Array<string | Buffer | number[]>): Buffer => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p) : Buffer.isBuffer(p) ? p : Buffer.from(p)))

interface Hostile {
  name: string
  /** JSON text (or bytes that are not) put where a value goes. */
  value: Buffer
  status: number
  reason: RegExp
}

const HOSTILE: Hostile[] = [
  { name: 'nesting 100,000 deep', value: b('['.repeat(100_000), ']'.repeat(100_000)), status: 400, reason: /nesting is deeper than the limit of 1000 levels/ },
  { name: 'invalid UTF-8', value: b('"a', [0xff, 0xfe, 0xc3], 'b"'), status: 400, reason: /must be UTF-8.*invalid byte sequence at byte \d+/ },
  { name: 'a raw NUL and control characters in a string', value: b('"a', [0x00], 'b', [0x1f], '"'), status: 400, reason: /control character/i },
  { name: 'an unpaired surrogate escape', value: b('"a\\ud800b"'), status: 400, reason: /unpaired surrogate escape/ },
  { name: 'the number 1e400', value: b('1e400'), status: 400, reason: /beyond the range of a double/ },
  { name: 'the integer 2^64', value: b('18446744073709551616'), status: 400, reason: /18446744073709551616.*beyond ±\(2\^53 - 1\)/ }
]

interface Endpoint {
  name: string
  method?: string
  path: string
  type: string
  /** The body with `hole` where one value goes. */
  body: (hole: Buffer) => Buffer
  /** A body with a key given twice. */
  duplicate: Buffer
  /** Produce errors say whether anything was written. */
  produce: boolean
  /** v3 streams answer 200 and put each record's error on its own line. */
  stream?: boolean
}

async function setUp (t: TestContext, overrides: Parameters<typeof startProxy>[1] = {}): Promise<{ url: string, topic: string, endpoints: Endpoint[] }> {
  const { url } = await startProxy(t, { schema_registry: { url: registryUrl() }, ...overrides })
  const topic = uniqueName('hostile')
  await createTopic(topic, 1)
  const cid = (await (await fetch(`${url}/v3/clusters`)).json() as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id as string
  const consumer = await createConsumer(url, uniqueName('hostile-group'), { format: 'binary' })
  const instance = consumer.path.slice(url.length)
  const produce = (type: string, name: string, head = ''): Endpoint => ({
    name: `v2 produce ${name}`,
    path: `/topics/${topic}`,
    type,
    body: (hole) => b(`{${head}"records":[{"value":`, hole, '}]}'),
    duplicate: b(`{${head}"records":[{"value":"YQ==","value":"Yg=="}]}`),
    produce: true
  })
  const v3Record = (hole: Buffer): Buffer => b('{"value":{"type":"JSON","data":', hole, '}}')
  const endpoints: Endpoint[] = [
    produce(BINARY, 'binary'),
    produce(JSON_V2, 'json'),
    produce(AVRO, 'avro', '"value_schema":"\\"string\\"",'),
    produce(JSONSCHEMA, 'jsonschema', '"value_schema":"{\\"type\\":\\"string\\"}",'),
    produce(PROTOBUF, 'protobuf', '"value_schema":"syntax = \\"proto3\\"; message M { string a = 1; }",'),
    { name: 'v2 produce to a partition', path: `/topics/${topic}/partitions/0`, type: BINARY, body: (hole) => b('{"records":[{"value":', hole, '}]}'), duplicate: b('{"records":[{"value":"YQ=="}],"records":[]}'), produce: true },
    { name: 'v3 produce, one record', path: `/v3/clusters/${cid}/topics/${topic}/records`, type: JSON_TYPE, body: v3Record, duplicate: b('{"value":{"type":"JSON","data":1,"data":2}}'), produce: true, stream: true },
    {
      name: 'v3 produce, a stream after a valid record',
      path: `/v3/clusters/${cid}/topics/${topic}/records`,
      type: JSON_TYPE,
      body: (hole) => b('{"value":{"type":"STRING","data":"first"}}\n', v3Record(hole)),
      duplicate: b('{"value":{"type":"STRING","data":"first"}}\n{"key":null,"key":{"type":"STRING","data":"k"}}'),
      produce: true,
      stream: true
    },
    { name: 'v3 records:batch', path: `/v3/clusters/${cid}/topics/${topic}/records:batch`, type: JSON_TYPE, body: (hole) => b('{"entries":[{"id":"a","value":{"type":"JSON","data":', hole, '}}]}'), duplicate: b('{"entries":[{"id":"a","id":"b"}]}'), produce: true },
    { name: 'v3 topic create', path: `/v3/clusters/${cid}/topics`, type: JSON_TYPE, body: (hole) => b('{"topic_name":', hole, ',"partitions_count":1}'), duplicate: b(`{"topic_name":"${uniqueName('dup')}","topic_name":"${uniqueName('dup')}"}`), produce: false },
    { name: 'v3 configs:alter', path: `/v3/clusters/${cid}/topics/${topic}/configs:alter`, type: JSON_TYPE, body: (hole) => b('{"data":[{"name":"retention.ms","value":', hole, '}]}'), duplicate: b('{"data":[{"name":"retention.ms","value":"1000","value":"2000"}]}'), produce: false },
    { name: 'v2 consumer create', path: `/consumers/${uniqueName('g')}`, type: V2, body: (hole) => b('{"name":', hole, ',"format":"binary"}'), duplicate: b('{"name":"a","name":"b"}'), produce: false },
    { name: 'v2 subscription', path: `${instance}/subscription`, type: V2, body: (hole) => b('{"topics":[', hole, ']}'), duplicate: b(`{"topics":["${topic}"],"topics":["other"]}`), produce: false },
    { name: 'v2 assignments', path: `${instance}/assignments`, type: V2, body: (hole) => b(`{"partitions":[{"topic":"${topic}","partition":`, hole, '}]}'), duplicate: b(`{"partitions":[{"topic":"${topic}","partition":0,"partition":1}]}`), produce: false },
    { name: 'v2 positions', path: `${instance}/positions`, type: V2, body: (hole) => b(`{"offsets":[{"topic":"${topic}","partition":0,"offset":`, hole, '}]}'), duplicate: b(`{"offsets":[{"topic":"${topic}","partition":0,"offset":0,"offset":5}]}`), produce: false },
    { name: 'v2 commit', path: `${instance}/offsets`, type: V2, body: (hole) => b(`{"offsets":[{"topic":"${topic}","partition":0,"offset":`, hole, '}]}'), duplicate: b(`{"offsets":[{"topic":"${topic}","partition":0,"offset":0,"offset":5}]}`), produce: false }
  ]
  return { url, topic, endpoints }
}

/** The error body of a refusal: for a stream, the line of the record that was refused. */
function assertRefused (r: Raw, e: Endpoint, status: number, reason: RegExp, what: string): void {
  assert.notEqual(r.status, 500, `${what}: ${show(r)}`)
  assert.match(r.type, /json/, `${what}: content type`)
  let err = r.body
  if (e.stream === true) {
    assert.equal(r.status, 200, `${what}: a stream answers 200 and fails the record: ${show(r)}`)
    const lines = r.text.split('\r\n').filter((l) => l !== '').map((l) => JSON.parse(l))
    err = lines[lines.length - 1]
  } else {
    assert.equal(r.status, status, `${what}: ${show(r)}`)
  }
  assert.equal(err?.error_code, status, `${what}: error_code: ${show(r)}`)
  assert.equal(typeof err?.message, 'string', `${what}: message`)
  assert.match(err.message, reason, `${what}: message`)
  assert.ok(err.message.length < 400, `${what}: the message quotes at most a short slice of the input`)
  if (e.produce) assert.equal(err.persisted, 'no', `${what}: persisted`)
}

test('hostile values in every JSON body are 400s that name the reason, and write nothing', async (t) => {
  const { url, topic, endpoints } = await setUp(t)
  for (const e of endpoints) {
    for (const h of HOSTILE) {
      const r = await send(e.method ?? 'POST', `${url}${e.path}`, e.type, e.body(h.value))
      assertRefused(r, e, h.status, h.reason, `${e.name}, ${h.name}`)
    }
    const dup = await send('POST', `${url}${e.path}`, e.type, e.duplicate)
    assertRefused(dup, e, 400, /the key "[a-z_]+" appears more than once in one JSON object/, `${e.name}, a repeated key`)
  }
  // A 10 MiB key is named in the message by a short slice only.
  const longKey = b('{"', 'k'.repeat(10 * MIB), '":1}')
  for (const e of endpoints.filter((x) => x.path.includes('/records'))) {
    const r = await send('POST', `${url}${e.path}`, e.type, longKey)
    assertRefused(r, e, 400, /Unrecognized field "k+…"/, `${e.name}, a 10 MiB key`)
  }
  // Only the valid first records of the streams reached Kafka.
  const read = await readAll(topic, 1, 100, { timeoutMs: 5000 })
  assert.deepEqual(read.map((r) => r.value?.toString()), Array(HOSTILE.length + 1).fill('first'))
})

test('a malformed body to a missing topic is a 400, not a 404, and does not create the topic', async (t) => {
  const { url } = await startProxy(t, { kafka: { auto_create_topics: 'always' } as never })
  const missing = uniqueName('hostile-missing')
  const r2 = await send('POST', `${url}/topics/${missing}`, BINARY, b('{"records":['))
  assert.equal(r2.status, 400, show(r2))
  const r2dup = await send('POST', `${url}/topics/${missing}`, BINARY, b('{"records":[{"value":"YQ==","value":"Yg=="}]}'))
  assert.equal(r2dup.status, 400, show(r2dup))
  const cid = (await (await fetch(`${url}/v3/clusters`)).json() as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id as string
  const r3 = await send('POST', `${url}/v3/clusters/${cid}/topics/${missing}/records`, JSON_TYPE, b('{"value":'))
  assert.equal(r3.status, 200, show(r3))
  assert.equal(r3.body.error_code, 400, show(r3))
  const batch = await send('POST', `${url}/v3/clusters/${cid}/topics/${missing}/records:batch`, JSON_TYPE, b('{"entries":[{"id":"a","value":{"type":"BINARY","data":"%%"}}]}'))
  assert.equal(batch.status, 207, show(batch))
  assert.equal(batch.body.failures[0].error_code, 400, show(batch))
  const topics = await (await fetch(`${url}/topics`, { headers: { accept: V2 } })).json() as string[]
  assert.ok(!topics.includes(missing), 'no topic was created for a malformed body')
})

test('10 MiB strings: over the body limit a 413, over the string limit a 400, names a 4xx; nothing is written', async (t) => {
  const big = b('"', 'A'.repeat(10 * MIB), '"')
  const small = await setUp(t, { server: { max_body_bytes: 4 * MIB } as never })
  for (const e of small.endpoints) {
    const r = await send('POST', `${small.url}${e.path}`, e.type, e.body(big))
    // A stream bounds each record by the body limit and answers on the record's line.
    assertRefused(r, e, e.stream === true ? 400 : 413, /larger than the limit/, `${e.name}, 10 MiB over a 4 MiB body limit`)
  }
  const limited = await setUp(t, { server: { max_json_string_bytes: MIB } as never })
  for (const e of limited.endpoints) {
    const r = await send('POST', `${limited.url}${e.path}`, e.type, e.body(big))
    assertRefused(r, e, 400, /a JSON string of 10485760 bytes is longer than the limit of 1048576 bytes/, `${e.name}, 10 MiB over a 1 MiB string limit`)
  }
  // Within every limit of the proxy: names are refused by their own rules, records by Kafka's size limit.
  const open = await setUp(t)
  for (const e of open.endpoints) {
    const r = await send('POST', `${open.url}${e.path}`, e.type, e.body(big))
    assert.notEqual(r.status, 500, `${e.name}, 10 MiB within the limits: ${show(r)}`)
    assert.match(r.type, /json/)
    if (e.produce) {
      const results: any[] = r.status === 200 && r.body?.offsets !== undefined ? r.body.offsets : e.stream === true ? r.text.split('\r\n').filter((l) => l !== '').map((l) => JSON.parse(l)) : r.status === 207 ? r.body.failures : [r.body]
      for (const x of results.slice(e.stream === true && e.name.includes('stream') ? 1 : 0)) {
        assert.notEqual(x.error_code, null, `${e.name}: a 10 MiB record is refused: ${show(r)}`)
        assert.equal(x.persisted, 'no', `${e.name}: ${show(r)}`)
      }
    } else {
      assert.ok(r.status >= 400 && r.status < 500, `${e.name}, 10 MiB within the limits: ${show(r)}`)
    }
  }
  for (const env of [small, limited, open]) {
    const read = await readAll(env.topic, 1, 100, { timeoutMs: 3000 })
    assert.ok(read.every((r) => r.value?.toString() === 'first'), 'only the valid first records of streams were written')
  }
})

test('control characters and NUL: refused in names, kept byte for byte in data', async (t) => {
  const { url } = await startProxy(t, { schema_registry: { url: registryUrl() } })
  const cid = (await (await fetch(`${url}/v3/clusters`)).json() as { data: Array<{ cluster_id: string }> }).data[0]?.cluster_id as string
  const consumer = await createConsumer(url, uniqueName('hostile-names'), { format: 'binary' })
  const names: Array<[string, string, string, Buffer]> = [
    ['v3 topic create', `/v3/clusters/${cid}/topics`, JSON_TYPE, b('{"topic_name":"a\\u0000b","partitions_count":1}')],
    ['v3 topic create, newline', `/v3/clusters/${cid}/topics`, JSON_TYPE, b('{"topic_name":"a\\nb","partitions_count":1}')],
    ['v2 consumer create', `/consumers/${uniqueName('g')}`, V2, b('{"name":"a\\u0000b"}')],
    ['v2 subscription', `${consumer.path.slice(url.length)}/subscription`, V2, b('{"topics":["a\\u0000b"]}')],
    ['v2 assignments', `${consumer.path.slice(url.length)}/assignments`, V2, b('{"partitions":[{"topic":"a\\u0007b","partition":0}]}')],
    ['v2 positions', `${consumer.path.slice(url.length)}/positions`, V2, b('{"offsets":[{"topic":"a\\r\\nb","partition":0,"offset":0}]}')],
    ['v2 commit', `${consumer.path.slice(url.length)}/offsets`, V2, b(`{"offsets":[{"topic":"${'t'.repeat(300)}","partition":0,"offset":0}]}`)]
  ]
  for (const [what, path, type, body] of names) {
    const r = await send('POST', `${url}${path}`, type, body)
    assert.ok(r.status >= 400 && r.status < 500, `${what}: ${show(r)}`)
    assert.match(r.type, /json/, what)
    assert.equal(typeof r.body?.error_code, 'number', `${what}: ${show(r)}`)
    assert.match(r.body.message, /name|topic/i, `${what}: ${show(r)}`)
  }

  const topic = uniqueName('hostile-data')
  await createTopic(topic, 1)
  const raw = Buffer.from([0x00, 0x01, 0x1f, 0x7f, 0x0a, 0x0d, 0xff, 0x00])
  const text = 'a\u0000b\u0001\u001f\u007f\n€😀"\\'
  const deepValue = JSON.parse('['.repeat(990) + '"x"' + ']'.repeat(990)) as unknown
  const exact = 9007199254740991
  const sent: Buffer[] = []
  const v2 = async (type: string, body: unknown, expected: Buffer): Promise<void> => {
    const r = await send('POST', `${url}/topics/${topic}`, type, Buffer.from(JSON.stringify(body)))
    assert.equal(r.status, 200, show(r))
    assert.equal(r.body.offsets[0].error_code, null, show(r))
    sent.push(expected)
  }
  await v2(BINARY, { records: [{ value: raw.toString('base64') }] }, raw)
  await v2(JSON_V2, { records: [{ value: { text, n: exact, small: 0.1 } }] }, Buffer.from(JSON.stringify({ text, n: exact, small: 0.1 })))
  await v2(JSON_V2, { records: [{ value: deepValue }] }, Buffer.from(JSON.stringify(deepValue)))
  const v3 = await send('POST', `${url}/v3/clusters/${cid}/topics/${topic}/records`, JSON_TYPE, Buffer.from(JSON.stringify({ value: { type: 'STRING', data: text } })))
  assert.equal(v3.body.error_code, 200, show(v3))
  sent.push(Buffer.from(text))
  // A stream cut inside every byte of a multi-byte character still sends the character.
  const record = Buffer.from(JSON.stringify({ value: { type: 'STRING', data: '€😀' } }))
  const euro = record.indexOf(Buffer.from('€'))
  for (const at of [euro + 1, euro + 2, euro + 4, euro + 5, euro + 6]) {
    const lines = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${url}/v3/clusters/${cid}/topics/${topic}/records`, { method: 'POST', headers: { 'content-type': JSON_TYPE, 'transfer-encoding': 'chunked' } }, (res) => {
        let out = ''
        res.setEncoding('utf8')
        res.on('data', (s: string) => { out += s })
        res.on('end', () => resolve(out))
      })
      req.on('error', reject)
      req.write(record.subarray(0, at))
      setTimeout(() => req.end(record.subarray(at)), 20)
    })
    assert.equal(JSON.parse(lines.split('\r\n')[0] as string).error_code, 200, lines)
    sent.push(Buffer.from('€😀'))
  }
  const read = await readAll(topic, 1, sent.length)
  assert.deepEqual(read.map((r) => r.value?.toString('hex')), sent.map((s) => s.toString('hex')))
})
