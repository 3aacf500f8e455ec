import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolDecodeError, Reader, Writer } from '../../src/kafka/protocol/codec.js'
import { CreateTopics, DescribeCluster, DescribeConfigs, ApiVersions } from '../../src/kafka/protocol/apis.js'

const hex = (w: Writer): string => w.finish().toString('hex')
const reader = (w: Writer): Reader => new Reader(Buffer.from(w.finish()))

test('unsigned varints use LEB128 and round-trip at every length boundary', () => {
  assert.equal(hex(new Writer().uvarint(0)), '00')
  assert.equal(hex(new Writer().uvarint(127)), '7f')
  assert.equal(hex(new Writer().uvarint(128)), '8001')
  assert.equal(hex(new Writer().uvarint(300)), 'ac02')
  assert.equal(hex(new Writer().uvarint(0xffffffff)), 'ffffffff0f')
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 0x7fffffff, 0xffffffff]) {
    const r = reader(new Writer().uvarint(v))
    assert.equal(r.uvarint(), v)
    assert.equal(r.remaining, 0)
  }
  assert.throws(() => new Writer().uvarint(-1), RangeError)
  assert.throws(() => new Writer().uvarint(2 ** 32), RangeError)
})

test('signed varints are zig-zag encoded', () => {
  assert.equal(hex(new Writer().varint(0)), '00')
  assert.equal(hex(new Writer().varint(-1)), '01')
  assert.equal(hex(new Writer().varint(1)), '02')
  assert.equal(hex(new Writer().varint(-64)), '7f')
  assert.equal(hex(new Writer().varint(64)), '8001')
  for (const v of [0, 1, -1, 63, -64, 64, -65, 1000000, -1000000, 0x7fffffff, -0x80000000]) {
    assert.equal(reader(new Writer().varint(v)).varint(), v)
  }
})

test('malformed and truncated input fails with a decode error, not garbage', () => {
  assert.throws(() => new Reader(Buffer.from('ffffffffff01', 'hex')).uvarint(), ProtocolDecodeError)
  assert.throws(() => new Reader(Buffer.from('80', 'hex')).uvarint(), ProtocolDecodeError)
  assert.throws(() => new Reader(Buffer.from('0005', 'hex')).int32(), ProtocolDecodeError)
  assert.throws(() => new Reader(Buffer.from('0461', 'hex')).compactString(), ProtocolDecodeError)
  // A count larger than the bytes left cannot be honest.
  assert.throws(() => new Reader(Buffer.from('ff01', 'hex')).compactArray((r) => r.int8()), ProtocolDecodeError)
})

test('fixed-width integers, booleans and uuids are big-endian round trips', () => {
  const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
  const w = new Writer(1).int8(-2).int16(-300).int32(-70000).uint32(0xfffffffe).int64(-(2n ** 40n)).bool(true).bool(false).uuid(uuid).uuid(null)
  assert.equal(w.finish().subarray(0, 7).toString('hex'), 'fefed4fffeee90')
  const r = reader(w)
  assert.equal(r.int8(), -2)
  assert.equal(r.int16(), -300)
  assert.equal(r.int32(), -70000)
  assert.equal(r.uint32(), 0xfffffffe)
  assert.equal(r.int64(), -(2n ** 40n))
  assert.equal(r.bool(), true)
  assert.equal(r.bool(), false)
  assert.deepEqual(r.uuid(), uuid)
  assert.deepEqual(r.uuid(), Buffer.alloc(16))
  assert.equal(r.remaining, 0)
})

test('classic strings and bytes use int16/int32 lengths with -1 for null', () => {
  assert.equal(hex(new Writer().string(null)), 'ffff')
  assert.equal(hex(new Writer().string('ab')), '00026162')
  assert.equal(hex(new Writer().bytes(null)), 'ffffffff')
  assert.equal(hex(new Writer().bytes(Buffer.from([1, 2]))), '000000020102')
  const r = reader(new Writer().string('héllo').string(null).string('').bytes(Buffer.from('x')).bytes(null))
  assert.equal(r.string(), 'héllo')
  assert.equal(r.nullableString(), null)
  assert.equal(r.string(), '')
  assert.deepEqual(r.bytes(), Buffer.from('x'))
  assert.equal(r.bytes(), null)
  assert.throws(() => new Reader(Buffer.from('ffff', 'hex')).string(), ProtocolDecodeError)
})

test('compact strings and bytes store length + 1 with 0 for null', () => {
  assert.equal(hex(new Writer().compactString(null)), '00')
  assert.equal(hex(new Writer().compactString('')), '01')
  assert.equal(hex(new Writer().compactString('abc')), '04616263')
  assert.equal(hex(new Writer().compactBytes(null)), '00')
  assert.equal(hex(new Writer().compactBytes(Buffer.from([9]))), '0209')
  const long = 'x'.repeat(200)
  const r = reader(new Writer().compactString('ünï').compactString(null).compactString(long).compactBytes(Buffer.alloc(0)).compactBytes(null))
  assert.equal(r.compactString(), 'ünï')
  assert.equal(r.compactNullableString(), null)
  assert.equal(r.compactString(), long)
  assert.deepEqual(r.compactBytes(), Buffer.alloc(0))
  assert.equal(r.compactBytes(), null)
  assert.throws(() => new Reader(Buffer.from('00', 'hex')).compactString(), ProtocolDecodeError)
})

test('arrays: classic int32 count and compact count + 1, both nullable', () => {
  assert.equal(hex(new Writer().array(null, () => {})), 'ffffffff')
  assert.equal(hex(new Writer().array([1, 2], (w, v) => w.int8(v))), '000000020102')
  assert.equal(hex(new Writer().compactArray(null, () => {})), '00')
  assert.equal(hex(new Writer().compactArray([], () => {})), '01')
  assert.equal(hex(new Writer().compactArray([7, 8], (w, v) => w.int16(v))), '0300070008')
  const r = reader(new Writer()
    .compactArray(['a', 'b'], (w, v) => w.compactString(v))
    .compactArray(null, () => {})
    .compactArray([], () => {})
    .array([5], (w, v) => w.int32(v)))
  assert.deepEqual(r.compactArray((x) => x.compactString()), ['a', 'b'])
  assert.equal(r.compactArray((x) => x.int8()), null)
  assert.deepEqual(r.compactArray((x) => x.int8()), [])
  assert.deepEqual(r.array((x) => x.int32()), [5])
})

test('tagged fields: empty section is one zero byte; fields round-trip in tag order', () => {
  assert.equal(hex(new Writer().tagged()), '00')
  const fields = [{ tag: 0, data: Buffer.from([1, 2]) }, { tag: 300, data: Buffer.alloc(0) }]
  const w = new Writer().tagged(fields).int8(42)
  assert.equal(hex(w), '02' + '00' + '02' + '0102' + 'ac02' + '00' + '2a')
  const r = reader(w)
  assert.deepEqual(r.tagged(), fields)
  assert.equal(r.int8(), 42)
  assert.throws(() => new Writer().tagged([{ tag: 2, data: Buffer.alloc(0) }, { tag: 1, data: Buffer.alloc(0) }]), RangeError)
})

test('the writer grows past its initial capacity', () => {
  const w = new Writer(2)
  for (let i = 0; i < 1000; i++) w.int32(i)
  assert.equal(w.length, 4000)
  const r = new Reader(w.finish())
  for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i)
})

test('ApiVersions decodes both the v3 body and the v0 body of an UNSUPPORTED_VERSION answer', () => {
  const v3 = new Writer().int16(0)
    .compactArray([[18, 0, 4], [60, 0, 2]], (w, [k, lo, hi]) => w.int16(k as number).int16(lo as number).int16(hi as number).tagged())
    .int32(0).tagged([{ tag: 0, data: Buffer.from([1]) }])
  assert.deepEqual(ApiVersions.decode(reader(v3), 3), { errorCode: 0, apis: [{ key: 18, min: 0, max: 4 }, { key: 60, min: 0, max: 2 }] })
  const v0 = new Writer().int16(35).array([[18, 0, 2]], (w, [k, lo, hi]) => w.int16(k as number).int16(lo as number).int16(hi as number))
  assert.deepEqual(ApiVersions.decode(reader(v0), 3), { errorCode: 35, apis: [{ key: 18, min: 0, max: 2 }] })
})

test('DescribeCluster v1 request and response follow the message definition', () => {
  const req = new Writer()
  DescribeCluster.encode(req, 1, {})
  // IncludeClusterAuthorizedOperations=false, EndpointType=1 (brokers), no tags
  assert.equal(hex(req), '000100')
  const res = new Writer().int32(0).int16(0).compactString(null).int8(1).compactString('cid').int32(3)
    .compactArray([{ id: 3, host: 'h', port: 9092, rack: 'r1' }], (w, b) => w.int32(b.id).compactString(b.host).int32(b.port).compactString(b.rack).tagged())
    .int32(-2147483648).tagged()
  assert.deepEqual(DescribeCluster.decode(reader(res), 1), {
    errorCode: 0, errorMessage: null, clusterId: 'cid', controllerId: 3, brokers: [{ id: 3, host: 'h', port: 9092, rack: 'r1' }]
  })
})

test('DescribeConfigs v4 asks for all keys with synonyms and without documentation', () => {
  const w = new Writer()
  DescribeConfigs.encode(w, 4, { resources: [{ type: 2, name: 't' }] })
  // [ type=2, name "t", keys null, tags ] IncludeSynonyms=1 IncludeDocumentation=0 tags
  assert.equal(hex(w), '02' + '02' + '0274' + '00' + '00' + '01' + '00' + '00')
})

test('CreateTopics v7 response skips the topic id and reads configs and the tagged config error', () => {
  const res = new Writer().int32(0)
    .compactArray([0], (w) => {
      w.compactString('t').uuid(null).int16(0).compactString(null).int32(3).int16(1)
        .compactArray([0], (c) => c.compactString('retention.ms').compactString('1000').bool(false).int8(1).bool(false).tagged())
        .tagged([{ tag: 0, data: Buffer.from([0, 0]) }])
    })
    .tagged()
  assert.deepEqual(CreateTopics.decode(reader(res), 7), [{
    name: 't',
    errorCode: 0,
    errorMessage: null,
    numPartitions: 3,
    replicationFactor: 1,
    configs: [{ name: 'retention.ms', value: '1000', readOnly: false, source: 1, sensitive: false }]
  }])
})
