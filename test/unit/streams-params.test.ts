// Stream request parameters (all 400s happen before a stream starts), the
// position tracker behind every event id, and the record filters.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { parseFrom, parsePartitions, parseStreamParams } from '../../src/streams/params.js'
import { PositionTracker } from '../../src/streams/tracker.js'
import { matches } from '../../src/streams/filter.js'
import { formatPosition } from '../../src/streams/position.js'
import type { ConsumerMessage } from '../../src/kafka/binding.js'
import { rejects } from '../helpers/errors.js'

const LIMITS = { cursorTimeoutMs: 5000, cursorMaxTimeoutMs: 30000, cursorMaxRecords: 1000, cursorMaxBytes: 4096 }

function req (headers: Record<string, string> = {}): IncomingMessage {
  return { headers } as unknown as IncomingMessage
}

const parse = (query: string, headers: Record<string, string> = {}): ReturnType<typeof parseStreamParams> =>
  parseStreamParams(query, req(headers), LIMITS)

test('defaults: from latest, every partition, BINARY, no filter, the configured cursor bounds', () => {
  const p = parse('')
  assert.deepEqual(p.from, { kind: 'latest' })
  assert.equal(p.resume, null)
  assert.equal(p.partitions, null)
  assert.deepEqual(p.render, { keyFormat: 'BINARY', valueFormat: 'BINARY', policy: 'fail' })
  assert.deepEqual(p.filter, { key: null, headers: [] })
  assert.deepEqual([p.timeoutMs, p.maxRecords, p.maxBytes], [5000, 1000, 4096])
})

test('from: latest, earliest and ISO-8601 date-times with a zone', () => {
  assert.deepEqual(parseFrom('earliest'), { kind: 'earliest' })
  assert.deepEqual(parseFrom('2024-05-01T12:00:00Z'), { kind: 'time', ms: Date.UTC(2024, 4, 1, 12) })
  assert.deepEqual(parseFrom('2024-05-01T12:00+02:00'), { kind: 'time', ms: Date.UTC(2024, 4, 1, 10) })
  assert.deepEqual(parseFrom('2024-02-29T00:00:00.5Z'), { kind: 'time', ms: Date.UTC(2024, 1, 29) + 500 })
  for (const bad of ['Latest', 'now', '1714564800000', '2024-05-01', '2024-05-01T12:00:00', '2023-02-29T00:00Z', '2024-02-30T00:00Z',
    '2024-13-01T00:00Z', '2024-01-01T24:00Z', '2024-01-01T23:60Z', '2024-01-01T00:00+25:00', ' 2024-05-01T12:00:00Z', '1969-12-31T23:59:59Z']) {
    rejects(() => parseFrom(bad), 'badRequest', /from must be latest, earliest or an ISO-8601/)
  }
})

test('partitions: canonical ids, each once', () => {
  assert.deepEqual(parsePartitions('0,2'), [0, 2])
  assert.deepEqual(parsePartitions('7'), [7])
  for (const bad of ['', ',', '0,', '01', '-1', '1.0', 'a', '0,,1', '2147483648', ' 1']) rejects(() => parsePartitions(bad), 'badRequest', /partitions must be/)
  rejects(() => parsePartitions('1,2,1'), 'badRequest', /listed twice/)
})

test('Last-Event-ID (header) wins over the query, which an EventSource repeats on every reconnection', () => {
  const p = parse('last_event_id=t@0%231&cursor=t@0%232', { 'last-event-id': 't@0#9' })
  assert.deepEqual([...(p.resume?.get('t') ?? [])], [[0, 9]])
  assert.deepEqual([...(parse('cursor=t@0%233').resume?.get('t') ?? [])], [[0, 3]])
  assert.deepEqual([...(parse('last_event_id=t@0%234').resume?.get('t') ?? [])], [[0, 4]])
  assert.deepEqual([...(parse('cursor=t@0%235&last_event_id=t@0%231').resume?.get('t') ?? [])], [[0, 5]], 'cursor wins over last_event_id')
  rejects(() => parse('', { 'last-event-id': 't@0#01' }), 'invalidEventId', /^Invalid Last-Event-ID/)
  rejects(() => parse('cursor=bogus'), 'invalidEventId', /^Invalid cursor/)
  assert.equal(parse('cursor=').resume?.size, 0, 'an empty cursor names no partition: all start at their first record')
  assert.equal(parse('', { 'last-event-id': '' }).resume, null, 'an empty Last-Event-ID is none')
})

test('unknown and repeated parameters are refused, so a typo is not a different stream', () => {
  rejects(() => parse('partition=1'), 'badRequest', /unknown parameter "partition"/)
  rejects(() => parse('from=earliest&from=latest'), 'badRequest', /more than once/)
  rejects(() => parse('header.=x'), 'badRequest', /unknown parameter/)
  rejects(() => parse('format=xml'), 'badRequest', /format must be one of BINARY, STRING, JSON, AVRO, JSONSCHEMA, PROTOBUF/)
  rejects(() => parse('undecodable=skip'), 'badRequest', /undecodable must be one of fail, raw/)
  rejects(() => parse('max_records=0'), 'badRequest', /max_records must be an integer of at least 1/)
  rejects(() => parse('timeout=-1'), 'badRequest', /timeout must be a non-negative integer/)
})

test('formats per side, filters, and cursor bounds lowered to the configured maximum', () => {
  const p = parse('format=json&key_format=string&key=k1&header.kind=even&header.kind=x&timeout=999999&max_records=5&max_bytes=999999')
  assert.deepEqual(p.render, { keyFormat: 'STRING', valueFormat: 'JSON', policy: 'fail' })
  assert.deepEqual(p.filter.key, Buffer.from('k1'))
  assert.deepEqual(p.filter.headers, [{ name: 'kind', value: Buffer.from('even') }, { name: 'kind', value: Buffer.from('x') }])
  assert.deepEqual([p.timeoutMs, p.maxRecords, p.maxBytes], [30000, 5, 4096])
  assert.deepEqual(parse('key=').filter.key, Buffer.alloc(0))
})

test('group and qos: qos defaults to none without a group and to auto with one; combinations a group cannot serve are 400', () => {
  assert.deepEqual([parse('').group, parse('').qos], [null, 'none'])
  assert.deepEqual([parse('group=g1').group, parse('group=g1').qos], ['g1', 'auto'])
  assert.equal(parse('group=g1&qos=at-least-once').qos, 'at-least-once')
  assert.equal(parse('group=g1&qos=at-most-once&from=earliest').qos, 'at-most-once')
  rejects(() => parse('qos=auto'), 'badRequest', /needs a consumer group/)
  rejects(() => parse('group=g1&qos=none'), 'badRequest', /without a consumer group/)
  rejects(() => parse('group=g1&qos=exactly-once'), 'badRequest', /qos must be one of none, auto, at-most-once, at-least-once/)
  rejects(() => parse('group='), 'badRequest', /group must be/)
  rejects(() => parse('group=a%0Ab'), 'badRequest', /group must be/)
  rejects(() => parse('group=g1&partitions=0'), 'badRequest', /the group assigns them/)
  rejects(() => parse('group=g1&from=2024-05-01T00:00:00Z'), 'badRequest', /committed offsets/)
})

test('tracker: the id after each record names every partition, partitions ascending', () => {
  const t = new PositionTracker(new Map([['t', new Map([[2, 5], [0, 0], [1, 3]])]]), false)
  assert.equal(t.id(), 't@0#0,1#3,2#5')
  t.advance('t', 1, 3)
  assert.equal(t.id(), 't@0#0,1#4,2#5')
  t.advance('t', 1, 2)
  assert.equal(t.id(), 't@0#0,1#4,2#5', 'never backwards')
  t.advance('t', 9, 0)
  assert.equal(t.id(), 't@0#0,1#4,2#5', 'a partition outside the stream is ignored')
  t.add('t', new Map([[3, 0]]))
  t.add('u', new Map([[0, 7]]))
  assert.equal(t.id(), 't@0#0,1#4,2#5,3#0;u@0#7')
  assert.equal(formatPosition(t.position()), 't@0#0,1#4,2#5,3#0;u@0#7')
  const growing = new PositionTracker(new Map([['t', new Map()]]), false, true)
  growing.advance('t', 3, 9)
  assert.equal(growing.id(), 't@3#10', 'a group stream\'s tracker takes in partitions as their records come')
  const encoded = new PositionTracker(new Map([['t', new Map([[0, 1]])]]), true)
  assert.equal(encoded.id(), Buffer.from('t@0#1').toString('base64url'))
})

test('filters: exact key bytes, a header of that name with exactly those bytes, all of them', () => {
  const m = { topic: 't', partition: 0, offset: 0, key: Buffer.from('k1'), value: null, size: 0, headers: [{ a: Buffer.from('1') }, { b: Buffer.from('2') }, { a: Buffer.from('3') }] } as unknown as ConsumerMessage
  assert.ok(matches(m, { key: Buffer.from('k1'), headers: [] }))
  assert.ok(!matches(m, { key: Buffer.from('k'), headers: [] }))
  assert.ok(matches(m, { key: null, headers: [{ name: 'a', value: Buffer.from('3') }, { name: 'b', value: Buffer.from('2') }] }))
  assert.ok(!matches(m, { key: null, headers: [{ name: 'a', value: Buffer.from('2') }] }))
  assert.ok(!matches({ ...m, key: null } as unknown as ConsumerMessage, { key: Buffer.alloc(0), headers: [] }), 'a null key is not the empty key')
})
