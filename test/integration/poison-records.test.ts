// Records whose content is hostile to a reader, on every read path: v2
// consumers in binary, json, avro, jsonschema and protobuf, and the v3
// stateless partition read. The records are written with a plain librdkafka
// producer (and schemas registered with the registry's own HTTP API), so they
// bypass every check of the proxy's produce side.
//
// What each path must do: deliver the normal records before and after; a
// record that is valid JSON however deep (5,000 levels here) is delivered
// byte for byte and never answers 500; a record not valid for the format
// answers 500/50002 naming its offset only once it is first in a read, a seek
// past it moves on, and undecodable=raw delivers it with its bytes and reason.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import avsc from 'avsc'
import protobufjs from 'protobufjs'
import { createKafkaAdmin } from '../../src/kafka/admin.js'
import { createLogger } from '../../src/logger.js'
import { bootstrap, createTopic, produceNative, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'
import { assertError, assign, createConsumer, request, show, subscribe, V2, type ConsumerRef, type HttpResult } from '../helpers/consumers.js'

const DEPTH = 5000
const deepText = '{"d":'.repeat(DEPTH) + '[' + '"bottom"' + ']' + '}'.repeat(DEPTH)
const controlText = '{"s":"a\\u0000b\\u0001\\u001f\\n\\"","t":"\\ud83d\\ude00"}'
const invalidUtf8 = Buffer.from([0x22, 0x61, 0xff, 0x62, 0x22]) // "a\xffb"
const overlong = Buffer.from([0x22, 0xc0, 0xaf, 0x22]) // an overlong '/'

interface Rec {
  key: Buffer | null
  value: Buffer | null
}

const text = (s: string): Buffer => Buffer.from(s)

function registryUrl (): string {
  const url = process.env.TEST_SCHEMA_REGISTRY_URL
  if (url === undefined || url === '') {
    throw new Error('TEST_SCHEMA_REGISTRY_URL is not set: run integration tests through `npm test`, which starts a schema registry')
  }
  return url
}

async function register (subject: string, schemaType: string, schema: string): Promise<number> {
  const res = await fetch(`${registryUrl()}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema, schemaType }),
    signal: AbortSignal.timeout(10_000)
  })
  const body = await res.json() as { id?: number }
  assert.equal(res.status, 200, JSON.stringify(body))
  return body.id as number
}

async function unknownSchemaId (): Promise<number> {
  for (let id = 0x7ffffff0; ; id--) {
    const res = await fetch(`${registryUrl()}/schemas/ids/${id}`, { signal: AbortSignal.timeout(10_000) })
    await res.arrayBuffer()
    if (res.status === 404) return id
  }
}

/** The Confluent frame: magic byte 0, schema id, then (protobuf) the message index list [0] as one 0 byte. */
function frame (id: number, payload: Buffer, protobuf = false): Buffer {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(id, 1)
  return Buffer.concat(protobuf ? [head, Buffer.from([0]), payload] : [head, payload])
}

/** Produces to one partition of `topic` past the proxy's checks; resolves with the offsets. */
async function produce (topic: string, records: Rec[], partition = 0): Promise<number[]> {
  const offsets = await produceNative(topic, partition, records)
  assert.deepEqual(offsets, records.map((_, i) => i), 'offsets follow the list')
  return offsets
}

// ---- v2 ------------------------------------------------------------------------

const accept = (format: string): string => `application/vnd.kafka.${format}.v2+json`

async function v2Consumer (url: string, format: string, topic: string): Promise<ConsumerRef> {
  const c = await createConsumer(url, uniqueName(`grp-poison-${format}`), { format, 'auto.offset.reset': 'earliest' })
  await assign(c, [{ topic, partition: 0 }])
  return c
}

function v2Read (c: ConsumerRef, format: string, query = ''): Promise<HttpResult> {
  return request('GET', `${c.path}/records?timeout=1000${query}`, { headers: { accept: accept(format) } })
}

async function v2Seek (c: ConsumerRef, topic: string, offset: number): Promise<void> {
  const res = await request('POST', `${c.path}/positions`, { headers: { 'content-type': V2 }, body: { offsets: [{ topic, partition: 0, offset }] } })
  assert.equal(res.status, 204, show(res))
}

interface Outcome {
  /** Records delivered, in order, with the raw text of the response that held them. */
  records: any[]
  texts: string[]
  /** The 500s seen: each must be 50002 and name the offset it stopped at. */
  errors: HttpResult[]
}

/**
 * Reads until `offsets` have all been delivered, as a client would: on a
 * 50002 it checks the message names the expected offset and seeks past it
 * (`past`). Fails on any other error and on a 500 for a record that should
 * have been delivered.
 */
async function readPast (readOnce: () => Promise<HttpResult>, past: (offset: number) => Promise<void>, expected: number[], undecodable: number[],
  recordsOf: (res: HttpResult) => any[], what: string): Promise<Outcome> {
  const out: Outcome = { records: [], texts: [], errors: [] }
  const deadline = Date.now() + 60_000
  const want = new Set(expected)
  while (out.records.filter((r) => want.has(r.offset)).length < expected.length) {
    assert.ok(Date.now() < deadline, `${what}: read ${JSON.stringify(out.records.map((r) => r.offset))} before the deadline`)
    const res = await readOnce()
    if (res.status === 200) {
      const got = recordsOf(res)
      if (got.length > 0) out.texts.push(res.text)
      out.records.push(...got)
      continue
    }
    // A client following `retriable` repeats the read (a fresh broker's
    // group coordinator answers NOT_COORDINATOR while it loads).
    if (res.body?.retriable === true && res.body?.error_code === 50003) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    assertError(res, 500, 50002, what)
    out.errors.push(res)
    const m = /offset (\d+)/.exec(res.body.message as string)
    assert.ok(m !== null, `${what}: the message names the offset: ${show(res)}`)
    const at = Number(m[1])
    assert.ok(undecodable.includes(at), `${what}: 50002 for offset ${at}, which should have been delivered: ${show(res)}`)
    assert.match(res.body.message, /topic .+, partition 0, offset \d+/, what)
    assert.match(res.body.message, /undecodable=raw/, what)
    // The same read again fails the same way: nothing was skipped silently.
    const again = await readOnce()
    assertError(again, 500, 50002, `${what} (again)`)
    assert.equal(again.body.message, res.body.message, what)
    await past(at + 1)
  }
  assert.deepEqual(out.records.map((r) => r.offset), expected, `${what}: offsets delivered, in order`)
  assert.deepEqual(out.errors.map((e) => Number(/offset (\d+)/.exec(e.body.message)?.[1])), undecodable, `${what}: a 50002 for each undecodable record, in order`)
  return out
}

/** Reads with undecodable=raw until `count` records came; no error of any kind is allowed. */
async function readRaw (readOnce: () => Promise<HttpResult>, count: number, recordsOf: (res: HttpResult) => any[], what: string): Promise<any[]> {
  const out: any[] = []
  const deadline = Date.now() + 60_000
  while (out.length < count) {
    assert.ok(Date.now() < deadline, `${what}: read ${out.length} of ${count} before the deadline`)
    const res = await readOnce()
    assert.equal(res.status, 200, `${what}: ${show(res)}`)
    out.push(...recordsOf(res))
  }
  return out
}

const v2Records = (res: HttpResult): any[] => res.body as any[]

// The JSON-valued records every JSON path reads: offsets 2 (deep) and 3
// (escaped control characters) are valid JSON; 4, 5 and 6 are not; 7 has a key
// that is not JSON.
const JSON_RECORDS: Rec[] = [
  { key: text('"k0"'), value: text('{"n":0}') },
  { key: null, value: text('{"n":1}') },
  { key: null, value: text(deepText) },
  { key: text('1e999'), value: text(controlText) },
  { key: null, value: text('not json') },
  { key: null, value: invalidUtf8 },
  { key: null, value: overlong },
  { key: text('plain key'), value: text('{"n":7}') },
  { key: null, value: text('{"n":8}') }
]
const JSON_UNDECODABLE = [4, 5, 6, 7]

test('v2 json: deep and escaped JSON delivered verbatim, non-JSON and invalid UTF-8 values and keys answer 50002 by offset, seek past and undecodable=raw', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('poison-json')
  await createTopic(topic, 1)
  await produce(topic, JSON_RECORDS)

  const c = await v2Consumer(url, 'json', topic)
  const seen = await readPast(() => v2Read(c, 'json'), (o) => v2Seek(c, topic, o), [0, 1, 2, 3, 8], JSON_UNDECODABLE, v2Records, 'v2 json')
  // The records before the first bad one came in 200s, not lost to its 50002.
  assert.deepEqual(seen.records.slice(0, 2).map((r) => r.value), [{ n: 0 }, { n: 1 }])
  assert.equal(seen.records[0].key, 'k0')
  assert.ok(seen.texts.some((s) => s.includes(`"value":${deepText},`)), 'the deep record is in the response byte for byte')
  const control = seen.records[3]
  assert.deepEqual(control.value, { s: 'a\u0000b\u0001\u001f\n"', t: '😀' })
  assert.ok(seen.texts.some((s) => s.includes(`"key":1e999,"value":${controlText},`)), 'numbers and escapes are not rewritten')
  assert.deepEqual(seen.records[4].value, { n: 8 })
  assert.equal(seen.errors.length, JSON_UNDECODABLE.length, 'no other 500')
  assert.match(seen.errors[0]?.body.message, /value of the record at topic .*, partition 0, offset 4 .*not JSON/)
  assert.match(seen.errors[3]?.body.message, /key of the record at .*offset 7 .*not JSON/)

  const raw = await v2Consumer(url, 'json', topic)
  const all = await readRaw(() => v2Read(raw, 'json', '&undecodable=raw'), JSON_RECORDS.length, v2Records, 'v2 json raw')
  assert.deepEqual(all.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  for (const r of all) {
    if (!JSON_UNDECODABLE.includes(r.offset)) assert.equal(r.undecodable, undefined, `offset ${r.offset} is not marked`)
  }
  const [r4, r5, r6, r7] = JSON_UNDECODABLE.map((o) => all[o])
  assert.equal(r4.value, null)
  assert.deepEqual(Object.keys(r4.undecodable), ['value'])
  assert.equal(Buffer.from(r4.undecodable.value.data, 'base64').toString(), 'not json')
  assert.match(r4.undecodable.value.reason, /not JSON/)
  assert.deepEqual(Buffer.from(r5.undecodable.value.data, 'base64'), invalidUtf8)
  assert.deepEqual(Buffer.from(r6.undecodable.value.data, 'base64'), overlong)
  assert.match(r5.undecodable.value.reason, /byte 0xff at byte 2/)
  assert.equal(r7.key, null)
  assert.deepEqual(r7.value, { n: 7 })
  assert.equal(Buffer.from(r7.undecodable.key.data, 'base64').toString(), 'plain key')
  assert.equal(r7.undecodable.value, undefined)

  assertError(await v2Read(raw, 'json', '&undecodable=skip'), 400, 400, 'an unknown policy')
})

test('v2 binary: every hostile record is delivered as its bytes, with no error', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('poison-binary')
  await createTopic(topic, 1)
  await produce(topic, JSON_RECORDS)
  const c = await v2Consumer(url, 'binary', topic)
  const all = await readRaw(() => v2Read(c, 'binary'), JSON_RECORDS.length, v2Records, 'v2 binary')
  assert.deepEqual(all.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  all.forEach((r, i) => {
    const rec = JSON_RECORDS[i] as Rec
    assert.deepEqual(r.value === null ? null : Buffer.from(r.value, 'base64'), rec.value, `value at ${i}`)
    assert.deepEqual(r.key === null ? null : Buffer.from(r.key, 'base64'), rec.key, `key at ${i}`)
  })
})

test('v2 json in a group: a bad record in one partition holds the read there until a seek; nothing of either partition is lost', async (t) => {
  const { url } = await startProxy(t)
  const topic = uniqueName('poison-group')
  await createTopic(topic, 2)
  await produce(topic, [{ key: null, value: text('{"p":0,"o":0}') }, { key: null, value: text('{') }, { key: null, value: text('{"p":0,"o":2}') }], 0)
  await produce(topic, [0, 1, 2].map((o) => ({ key: null, value: text(`{"p":1,"o":${o}}`) })), 1)
  const c = await createConsumer(url, uniqueName('grp-poison-group'), { format: 'json', 'auto.offset.reset': 'earliest' })
  await subscribe(c, [topic])
  const got: string[] = []
  const errors: string[] = []
  const deadline = Date.now() + 60_000
  while (got.length < 5) {
    assert.ok(Date.now() < deadline, `read ${JSON.stringify(got)} and errors ${JSON.stringify(errors)} before the deadline`)
    const res = await v2Read(c, 'json')
    if (res.status === 200) {
      for (const r of res.body as any[]) got.push(`${r.partition}@${r.offset}`)
      continue
    }
    assertError(res, 500, 50002)
    errors.push(res.body.message)
    assert.match(res.body.message, /partition 0, offset 1 /)
    await v2Seek(c, topic, 2)
  }
  assert.deepEqual(got.slice().sort(), ['0@0', '0@2', '1@0', '1@1', '1@2'])
  assert.equal(errors.length, 1, JSON.stringify(errors))
  // Within a partition the order holds.
  assert.ok(got.indexOf('0@0') < got.indexOf('0@2'))
})

// ---- v2 schema formats ---------------------------------------------------------

interface SchemaCase {
  format: 'avro' | 'jsonschema' | 'protobuf'
  schemaType: string
  schema: string
  /** Normal values, framed, each with the JSON a read renders. */
  normal: (id: number) => Array<{ bytes: Buffer, read: unknown }>
  /** Extra records valid for the format that must be delivered (e.g. deep JSON Schema payloads). */
  extra: (id: number) => Array<{ bytes: Buffer, check: (rendered: any, text: string) => void }>
}

const avroType = avsc.Type.forSchema({ type: 'record', name: 'Poison', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] })
const protoRoot = protobufjs.parse('syntax = "proto3"; message Poison { int32 n = 1; string s = 2; }').root
const protoType = protoRoot.lookupType('Poison')

const CASES: SchemaCase[] = [
  {
    format: 'avro',
    schemaType: 'AVRO',
    schema: JSON.stringify({ type: 'record', name: 'Poison', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] }),
    normal: (id) => [0, 1, 2].map((n) => ({ bytes: frame(id, avroType.toBuffer({ n, s: `a\u0000${n}` })), read: { n, s: `a\u0000${n}` } })),
    extra: () => []
  },
  {
    format: 'jsonschema',
    schemaType: 'JSON',
    schema: JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'Poison', type: 'object' }),
    normal: (id) => [0, 1, 2].map((n) => ({ bytes: frame(id, text(`{"n":${n},"s":"a\\u0000${n}"}`)), read: { n, s: `a\u0000${n}` } })),
    extra: (id) => [
      { bytes: frame(id, text(deepText)), check: (_r, body) => assert.ok(body.includes(`"value":${deepText},`), 'deep JSON Schema payload verbatim') },
      { bytes: frame(id, text(controlText)), check: (r) => assert.deepEqual(r.value, { s: 'a\u0000b\u0001\u001f\n"', t: '😀' }) }
    ]
  },
  {
    format: 'protobuf',
    schemaType: 'PROTOBUF',
    schema: 'syntax = "proto3";\nmessage Poison {\n  int32 n = 1;\n  string s = 2;\n}\n',
    normal: (id) => [0, 1, 2].map((n) => ({ bytes: frame(id, Buffer.from(protoType.encode(protoType.create({ n: n + 1, s: `a\u0000${n}` })).finish()), true), read: { n: n + 1, s: `a\u0000${n}` } })),
    extra: () => []
  }
]

for (const sc of CASES) {
  test(`v2 ${sc.format}: a deep JSON value, a non-JSON value, an unknown schema id and a corrupt payload answer 50002 by offset; seek past and undecodable=raw`, async (t) => {
    const { url } = await startProxy(t, { schema_registry: { url: registryUrl() } } as never)
    const topic = uniqueName(`poison-${sc.format}`)
    await createTopic(topic, 1)
    const id = await register(`${topic}-value`, sc.schemaType, sc.schema)
    const missing = await unknownSchemaId()
    const [n0, n1, n2] = sc.normal(id) as [{ bytes: Buffer, read: unknown }, { bytes: Buffer, read: unknown }, { bytes: Buffer, read: unknown }]
    const extra = sc.extra(id)
    // A frame whose payload its schema cannot decode: for Avro and Protobuf a
    // truncated varint, for JSON Schema text that is not JSON.
    const corrupt = sc.format === 'jsonschema' ? frame(id, text('{"n":')) : sc.format === 'avro' ? frame(id, Buffer.from([0x80])) : frame(id, Buffer.from([0x08, 0x80]), true)
    const records: Rec[] = [
      { key: null, value: n0.bytes },
      ...extra.map((e) => ({ key: null, value: e.bytes })),
      { key: null, value: text(deepText) }, // JSON, not framed: the magic byte is '{'
      { key: null, value: text('not json') },
      { key: null, value: frame(missing, text('{}'), sc.format === 'protobuf') },
      { key: null, value: corrupt },
      { key: text('not a frame'), value: n1.bytes },
      { key: null, value: n2.bytes }
    ]
    await produce(topic, records)
    const firstBad = 1 + extra.length
    const bad = [firstBad, firstBad + 1, firstBad + 2, firstBad + 3, firstBad + 4]
    const good = records.map((_, i) => i).filter((i) => !bad.includes(i))

    const c = await v2Consumer(url, sc.format, topic)
    const seen = await readPast(() => v2Read(c, sc.format), (o) => v2Seek(c, topic, o), good, bad, v2Records, `v2 ${sc.format}`)
    assert.deepEqual(seen.records[0].value, n0.read)
    extra.forEach((e, i) => e.check(seen.records[1 + i], seen.texts.join('\n')))
    assert.deepEqual(seen.records[seen.records.length - 1].value, n2.read)
    assert.match(seen.errors[0]?.body.message, new RegExp(`offset ${firstBad} could not be deserialized: .*magic byte`, 'i'))
    assert.match(seen.errors[2]?.body.message, new RegExp(`offset ${firstBad + 2} could not be deserialized: schema ${missing}`))
    assert.match(seen.errors[4]?.body.message, new RegExp(`key of the record at .*offset ${firstBad + 4}`))

    const raw = await v2Consumer(url, sc.format, topic)
    const all = await readRaw(() => v2Read(raw, sc.format, '&undecodable=raw'), records.length, v2Records, `v2 ${sc.format} raw`)
    assert.deepEqual(all.map((r) => r.offset), records.map((_, i) => i))
    for (const o of bad) {
      const r = all[o]
      const part = o === firstBad + 4 ? 'key' : 'value'
      assert.equal(r[part], null, `offset ${o}`)
      assert.deepEqual(Buffer.from(r.undecodable[part].data, 'base64'), records[o]?.[part], `raw bytes of offset ${o}`)
      assert.equal(typeof r.undecodable[part].reason, 'string')
    }
    assert.deepEqual(all[firstBad + 4].value, n1.read, 'the good value beside a bad key is delivered')
    assert.match(all[firstBad + 2].undecodable.value.reason, new RegExp(`schema ${missing}`))
    for (const o of good) assert.equal(all[o].undecodable, undefined)
  })
}

// ---- v3 stateless read ---------------------------------------------------------

let cachedClusterId: Promise<string> | null = null
function clusterId (): Promise<string> {
  cachedClusterId ??= (async () => {
    const admin = createKafkaAdmin({ bootstrapServers: bootstrap(), clientId: 'test-poison', requestTimeoutMs: 10000, properties: {}, log: createLogger('silent', 'test') })
    try {
      return (await admin.describeCluster()).clusterId
    } finally {
      await admin.close()
    }
  })()
  return cachedClusterId
}

test('v3 read: format=json delivers deep JSON verbatim, pages end before an undecodable record, which answers 50002 by offset; the next offset and undecodable=raw get past it', async (t) => {
  const { url } = await startProxy(t)
  const cluster = await clusterId()
  const topic = uniqueName('poison-v3')
  await createTopic(topic, 1)
  await produce(topic, JSON_RECORDS)
  const path = (q: string): string => `${url}/v3/clusters/${cluster}/topics/${topic}/partitions/0/records?${q}`
  let next = 0
  const readOnce = async (): Promise<HttpResult> => {
    const res = await request('GET', path(`offset=${next}&format=json&timeout=1000`))
    if (res.status === 200) next = res.body.next_offset
    return res
  }
  const seen = await readPast(readOnce, async (o) => { next = o }, [0, 1, 2, 3, 8], JSON_UNDECODABLE, (res) => res.body.data, 'v3 json')
  assert.deepEqual(seen.records[0].key, { type: 'JSON', data: 'k0' })
  assert.deepEqual(seen.records[1].value, { type: 'JSON', data: { n: 1 } })
  assert.ok(seen.texts.some((s) => s.includes(`"value":{"type":"JSON","data":${deepText}}`)), 'the deep record is in the response byte for byte')
  assert.deepEqual(seen.records[3].value.data, { s: 'a\u0000b\u0001\u001f\n"', t: '😀' })
  assert.match(seen.errors[0]?.body.message, /offset 4 .*not JSON.*read from offset 5/)

  // A page that ends before an undecodable record points next_offset at it.
  const upTo = await request('GET', path('offset=0&format=json&timeout=1000'))
  assert.equal(upTo.status, 200, show(upTo))
  assert.ok(upTo.body.data.every((r: any) => r.offset < 4))
  if (upTo.body.data.length === 4) assert.equal(upTo.body.next_offset, 4)
  assertError(await request('GET', path('offset=4&format=json')), 500, 50002)
  // STRING refuses invalid UTF-8 the same way; BINARY takes anything.
  const str = await request('GET', path('offset=5&format=string'))
  assertError(str, 500, 50002)
  assert.match(str.body.message, /offset 5 .*not UTF-8/)
  const bin = await request('GET', path('offset=4&format=binary&max_bytes=1'))
  assert.equal(bin.status, 200, show(bin))
  assert.deepEqual(bin.body.data[0].value, { type: 'BINARY', data: Buffer.from('not json').toString('base64') })

  next = 0
  const all = await readRaw(async () => {
    const res = await request('GET', path(`offset=${next}&format=json&undecodable=raw&timeout=1000`))
    if (res.status === 200) next = res.body.next_offset
    return res
  }, JSON_RECORDS.length, (res) => res.body.data, 'v3 raw')
  assert.deepEqual(all.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  assert.deepEqual(all[4].value.type, 'BINARY')
  assert.equal(Buffer.from(all[4].value.data, 'base64').toString(), 'not json')
  assert.match(all[4].value.reason, /not JSON/)
  assert.deepEqual(Buffer.from(all[5].value.data, 'base64'), invalidUtf8)
  assert.deepEqual(Buffer.from(all[6].value.data, 'base64'), overlong)
  assert.equal(Buffer.from(all[7].key.data, 'base64').toString(), 'plain key')
  assert.match(all[7].key.reason, /not JSON/)
  assert.deepEqual(all[7].value, { type: 'JSON', data: { n: 7 } })
  for (const o of [0, 1, 2, 3, 8]) assert.equal(all[o].value.reason, undefined)
  assertError(await request('GET', path('offset=0&undecodable=nope')), 400, 400)
})
