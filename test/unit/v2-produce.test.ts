import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeProduceBody, decodeBase64, packBatch, unpackBatch } from '../../src/produce/v2-body.js'
import { DEFAULT_JSON_LIMITS } from '../../src/json/parse.js'
import { ProxyError } from '../../src/errors.js'
import decodeProduce from '../../workers/produce.js'
import type { BatchTaskResult as ProduceTaskResult } from '../../src/produce/v2-body.js'
import { TaskPool, transferableCopy } from '../../src/pool/pool.js'

function body (o: unknown): Buffer {
  return Buffer.from(JSON.stringify(o))
}

function rejectsWith (fn: () => unknown, errorCode: number, status: number): void {
  assert.throws(fn, (err: unknown) => err instanceof ProxyError && err.errorCode === errorCode && err.status === status)
}

test('binary format decodes base64 keys and values, null and absent as null', () => {
  const b = decodeProduceBody('binary', body({ records: [{ key: 'a2V5', value: 'dmFsdWU=' }, { value: null }, {}] }))
  assert.equal(b.count, 3)
  assert.deepEqual(b.keys.map((k) => k?.toString() ?? null), ['key', null, null])
  assert.deepEqual(b.values.map((v) => v?.toString() ?? null), ['value', null, null])
  assert.deepEqual([...b.partitions], [-1, -1, -1])
})

test('json format serializes any JSON value as UTF-8 JSON bytes', () => {
  const b = decodeProduceBody('json', body({ records: [{ key: { id: 1 }, value: [1, 'ü'] }, { value: 'x', partition: 2 }] }))
  assert.deepEqual(b.keys.map((k) => k?.toString() ?? null), ['{"id":1}', null])
  assert.deepEqual(b.values.map((v) => v?.toString() ?? null), ['[1,"ü"]', '"x"'])
  assert.deepEqual([...b.partitions], [-1, 2])
})

test('malformed JSON is a 400', () => {
  rejectsWith(() => decodeProduceBody('binary', Buffer.from('{"records": [')), 400, 400)
})

test('empty or missing records is a 422', () => {
  rejectsWith(() => decodeProduceBody('binary', body({ records: [] })), 422, 422)
  rejectsWith(() => decodeProduceBody('binary', body({})), 422, 422)
})

test('wrong shapes are 400s', () => {
  rejectsWith(() => decodeProduceBody('binary', body([])), 400, 400)
  rejectsWith(() => decodeProduceBody('binary', body({ records: 'x' })), 400, 400)
  rejectsWith(() => decodeProduceBody('binary', body({ records: [1] })), 400, 400)
  rejectsWith(() => decodeProduceBody('binary', body({ records: [{ value: 12 }] })), 400, 400)
  rejectsWith(() => decodeProduceBody('binary', body({ records: [{ value: 'YQ==', partition: 1.5 }] })), 400, 400)
})

test('a negative partition is 40402', () => {
  rejectsWith(() => decodeProduceBody('binary', body({ records: [{ value: 'YQ==', partition: -1 }] })), 40402, 404)
})

test('base64 is strict: standard alphabet, optional padding, no junk', () => {
  assert.equal(decodeBase64('YWJj', 'v').toString(), 'abc')
  assert.equal(decodeBase64('YWI=', 'v').toString(), 'ab')
  assert.equal(decodeBase64('YWI', 'v').toString(), 'ab')
  assert.equal(decodeBase64('', 'v').length, 0)
  for (const bad of ['YW J', 'YW-_', 'Y', 'YQ=', '====', 'YWJj\n', '!!!!']) {
    rejectsWith(() => decodeBase64(bad, 'v'), 400, 400)
  }
})

test('pack and unpack round-trip a batch, nulls included', () => {
  const b = decodeProduceBody('binary', body({ records: [{ key: 'AQI=', value: '' }, { value: 'AwQF', partition: 3 }, {}] }))
  const u = unpackBatch(packBatch(b))
  assert.deepEqual(u.keys, b.keys)
  assert.deepEqual(u.values, b.values)
  assert.deepEqual([...u.partitions], [...b.partitions])
})

test('decoding in the worker pool gives the same result as inline', async (t) => {
  const pool = new TaskPool({ threads: 1, maxQueue: 4 })
  t.after(() => pool.close())
  const records = Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`).toString('base64'), value: Buffer.alloc(i, i).toString('base64'), partition: i % 3 }))
  const raw = body({ records })
  const inline = decodeProduceBody('binary', raw)
  const bytes = transferableCopy(raw)
  const result = await pool.run<ProduceTaskResult>('produce', { format: 'binary', body: bytes }, [bytes.buffer as ArrayBuffer])
  assert.equal(result.ok, true)
  const pooled = unpackBatch((result as Extract<ProduceTaskResult, { ok: true }>).batch)
  assert.deepEqual(pooled.keys, inline.keys)
  assert.deepEqual(pooled.values, inline.values)
  assert.deepEqual([...pooled.partitions], [...inline.partitions])
})

test('the pool task reports errors as data that keeps the error code', () => {
  const result = decodeProduce({ format: 'binary', body: new Uint8Array(Buffer.from('{"records":[{"value":"@@"}]}')), limits: DEFAULT_JSON_LIMITS })
  assert.deepEqual(result, { ok: false, error: { key: 'badRequest', message: 'records[0].value is not a valid base64 string' } })
})

test('record headers decode from [{name, value}] with base64 values and survive packing', () => {
  const b = decodeProduceBody('binary', body({ records: [{ value: 'YQ==', headers: [{ name: 'h1', value: 'eA==' }, { name: 'h2', value: null }] }, { value: 'Yg==' }] }))
  assert.deepEqual(b.headers, [[{ h1: Buffer.from('x') }, { h2: Buffer.alloc(0) }], undefined])
  assert.deepEqual(unpackBatch(packBatch(b)).headers, b.headers)
  assert.equal(decodeProduceBody('binary', body({ records: [{ value: 'YQ==' }] })).headers, null)
  rejectsWith(() => decodeProduceBody('binary', body({ records: [{ value: 'YQ==', headers: { h: 'x' } }] })), 400, 400)
  rejectsWith(() => decodeProduceBody('binary', body({ records: [{ value: 'YQ==', headers: [{ name: 'h', value: '%%' }] }] })), 400, 400)
})
