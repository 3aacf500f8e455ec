import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compile, decode, encode, messageType, recordName } from '../../src/formats/protobuf.js'
import { ProxyError } from '../../src/errors.js'
import { rejects } from '../helpers/errors.js'

// Expected bytes follow the Protobuf encoding guide
// (https://protobuf.dev/programming-guides/encoding/): each field is a tag
// (field number << 3 | wire type) then its value; varints are 7 bits a byte,
// low group first; length-delimited values carry their length first.

function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

const ORDER = `syntax = "proto3";
package shop.v1;

import "google/protobuf/timestamp.proto";

message Order {
  int64 total_cents = 1;
  string order_id = 2;
  repeated string tags = 3;
  map<string, int32> counts = 4;
  Status status = 5;
  Customer customer = 6;
  optional string note = 7;
  oneof payment {
    string card = 8;
    string cash = 9;
  }
  google.protobuf.Timestamp created_at = 10;
  bytes blob = 11;
  float ratio = 12;
  bool gift = 13;
  double price = 14;
  uint64 big = 15;
  sint64 delta = 16;

  enum Status {
    STATUS_UNSPECIFIED = 0;
    PAID = 1;
  }
  message Line {
    string sku = 1;
    message Detail {
      int32 n = 1;
    }
  }
}

message Customer {
  string name = 1;
}
`

test('the classic example: 150 in field 1 is 08 96 01', () => {
  const s = compile({ schema: 'syntax = "proto3"; message Test1 { int32 a = 1; string b = 2; }' })
  // Field 1 varint (08), 150 = 0b1_0010110 -> 96 01; field 2 length-delimited (12), length 2, "hi".
  assert.equal(hex(encode(s, { a: 150, b: 'hi' })), '089601' + '12026869')
  assert.deepEqual(decode(s, Buffer.from('089601120168', 'hex')), { a: 150, b: 'h' })
})

test('64-bit integers: strings (or numbers) in, strings out, exact', () => {
  const s = compile({ schema: ORDER })
  // total_cents (08) = -1: a ten-byte varint of 2^64 - 1; delta (sint64, field 16: tag 0x80 0x01) = -1 zigzags to 01.
  assert.equal(hex(encode(s, { totalCents: '-1', delta: '-1' })), '08ffffffffffffffffff01' + '800101')
  const back = decode(s, encode(s, { totalCents: '9223372036854775807', big: '18446744073709551615', delta: 5 })) as Record<string, unknown>
  assert.equal(back.totalCents, '9223372036854775807')
  assert.equal(back.big, '18446744073709551615')
  assert.equal(back.delta, '5')
})

test('rendering prints defaults of fields without presence, in field-number order', () => {
  const s = compile({ schema: ORDER })
  const empty = decode(s, Buffer.alloc(0))
  // As JsonFormat.printer().includingDefaultValueFields(): a message field
  // (customer, created_at), a oneof member (card, cash) and a proto3
  // optional (note) are printed only when set.
  assert.deepEqual(empty, {
    totalCents: '0',
    orderId: '',
    tags: [],
    counts: {},
    status: 'STATUS_UNSPECIFIED',
    blob: '',
    ratio: 0,
    gift: false,
    price: 0,
    big: '0',
    delta: '0'
  })
  assert.deepEqual(Object.keys(empty as object), ['totalCents', 'orderId', 'tags', 'counts', 'status', 'blob', 'ratio', 'gift', 'price', 'big', 'delta'])
})

test('rendering: proto3 JSON names, enums by name, bytes base64, Timestamp as RFC 3339, floats as Java prints them', () => {
  const s = compile({ schema: ORDER })
  const value = {
    order_id: 'o-1',
    status: 'PAID',
    customer: {},
    note: '',
    cash: 'yes',
    createdAt: '2024-01-02T03:04:05.500Z',
    blob: 'AQL/',
    ratio: 0.1,
    counts: { a: 1 }
  }
  assert.deepEqual(decode(s, encode(s, value)), {
    totalCents: '0',
    orderId: 'o-1',
    tags: [],
    counts: { a: 1 },
    status: 'PAID',
    customer: { name: '' },
    note: '',
    cash: 'yes',
    createdAt: '2024-01-02T03:04:05.500Z',
    blob: 'AQL/',
    ratio: 0.1,
    gift: false,
    price: 0,
    big: '0',
    delta: '0'
  })
})

test('JSON names and .proto names are both accepted on the way in', () => {
  const s = compile({ schema: ORDER })
  // order_id is field 2, length-delimited: 12, length 1, "x".
  assert.equal(hex(encode(s, { order_id: 'x' })), '120178')
  assert.equal(hex(encode(s, { orderId: 'x' })), '120178')
})

test('data not matching the schema is 42203 naming the field', () => {
  const s = compile({ schema: ORDER })
  rejects(() => encode(s, { nope: 1 }), 'schemaConversion', /shop\.v1\.Order: unknown field: "nope"/)
  rejects(() => encode(s, { totalCents: 'abc' }), 'schemaConversion', /shop\.v1\.Order\.total_cents: invalid integer/)
  rejects(() => encode(s, { status: 'LOST' }), 'schemaConversion', /status/)
  rejects(() => encode(s, { customer: { name: 5 } }), 'schemaConversion', /shop\.v1\.Customer\.name/)
  rejects(() => encode(s, { card: 'a', cash: 'b' }), 'schemaConversion', /oneof payment/)
  rejects(() => encode(s, 'x'), 'schemaConversion')
})

test('message indexes name top-level and nested messages, enums not counted', () => {
  const s = compile({ schema: ORDER })
  assert.equal(messageType(s, [0]).fullName, '.shop.v1.Order')
  assert.equal(messageType(s, [1]).fullName, '.shop.v1.Customer')
  assert.equal(messageType(s, [0, 0]).fullName, '.shop.v1.Order.Line')
  assert.equal(messageType(s, [0, 0, 0]).fullName, '.shop.v1.Order.Line.Detail')
  // Customer{name: "a"}: field 1 length-delimited (0a), length 1, "a".
  assert.deepEqual(decode(s, Buffer.from('0a0161', 'hex'), [1]), { name: 'a' })
  assert.deepEqual(decode(s, Buffer.from('0802', 'hex'), [0, 0, 0]), { n: 2 })
  assert.throws(() => messageType(s, [2]), (err: unknown) => err instanceof ProxyError && err.errorCode === 50002)
  assert.throws(() => messageType(s, [0, 1]), (err: unknown) => err instanceof ProxyError && err.errorCode === 50002)
})

test('imports resolve from references; well-known types need none', () => {
  const s = compile({
    id: 3001,
    schema: 'syntax = "proto3"; package app; import "common/customer.proto"; message Envelope { common.Customer who = 1; }',
    references: [{ name: 'common/customer.proto', schema: 'syntax = "proto3"; package common; message Customer { string name = 1; }' }]
  })
  // The referenced file's messages are not the main file's: index [0] stays Envelope.
  assert.equal(recordName(s), 'app.Envelope')
  assert.deepEqual(decode(s, encode(s, { who: { name: 'x' } })), { who: { name: 'x' } })
  // A type nobody provides is an invalid schema that names it.
  rejects(() => compile({ schema: 'syntax = "proto3"; import "other.proto"; message M { other.T t = 1; }' }), 'invalidSchema', /other\.T/)
})

test('a referenced file of the same package does not shift message indexes', () => {
  const s = compile({
    id: 3002,
    schema: 'syntax = "proto3"; package p; import "dep.proto"; message Main { Dep d = 1; }',
    references: [{ name: 'dep.proto', schema: 'syntax = "proto3"; package p; message Dep { int32 v = 1; }' }]
  })
  assert.equal(messageType(s, [0]).fullName, '.p.Main')
  assert.throws(() => messageType(s, [1]))
})

test('invalid schemas are 42205', () => {
  for (const bad of ['message {', 'syntax = "proto3"; message M { Unknown u = 1; }', 'syntax = "proto3"; enum OnlyEnum { A = 0; }']) {
    assert.throws(() => compile({ schema: bad }), (err: unknown) => err instanceof ProxyError && err.errorCode === 42205 && err.status === 422, bad)
  }
})

test('recordName is the full name of the first message', () => {
  assert.equal(recordName(compile({ schema: ORDER })), 'shop.v1.Order')
  assert.equal(recordName(compile({ schema: 'syntax = "proto3"; message Bare { int32 a = 1; }' })), 'Bare')
})

test('a schema is compiled once per id', () => {
  const a = compile({ id: 7000, schema: ORDER })
  assert.equal(compile({ id: 7000, schema: ORDER }), a)
})

test('corrupt payloads are undecodable', () => {
  const s = compile({ schema: ORDER })
  // Field 2 length-delimited, length 5, but nothing follows.
  assert.throws(() => decode(s, Buffer.from('1205', 'hex')), (err: unknown) => err instanceof ProxyError && err.errorCode === 50002)
})
