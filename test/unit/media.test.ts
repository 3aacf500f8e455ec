import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isV1GenericProduce, requestMedia, negotiator, V2_OFFERS, MEDIA } from '../../src/http/media.js'

test('requestMedia reads the embedded format and version of vendor types', () => {
  assert.deepEqual(requestMedia('application/vnd.kafka.binary.v2+json'), { format: 'binary', version: 2, vendor: true })
  assert.deepEqual(requestMedia('application/vnd.kafka.json.v1+json; charset=utf-8'), { format: 'json', version: 1, vendor: true })
  assert.deepEqual(requestMedia('Application/VND.Kafka.AVRO.v2+json'), { format: 'avro', version: 2, vendor: true })
  assert.deepEqual(requestMedia('application/vnd.kafka.v2+json'), { format: null, version: 2, vendor: true })
  assert.deepEqual(requestMedia('application/json'), { format: null, version: 2, vendor: false })
})

test('requestMedia rejects unknown types and formats', () => {
  assert.equal(requestMedia(undefined), null)
  assert.equal(requestMedia('text/plain'), null)
  assert.equal(requestMedia('application/vnd.kafka.xml.v2+json'), null)
  assert.equal(requestMedia('application/vnd.kafka.binary.v3+json'), null)
})

test('negotiator picks the first offer without an Accept header or for */*', () => {
  const n = negotiator(V2_OFFERS)
  assert.equal(n(undefined), MEDIA.v2)
  assert.equal(n('*/*'), MEDIA.v2)
  assert.equal(n('application/*'), MEDIA.v2)
})

test('negotiator honours client q-values and server qs', () => {
  const n = negotiator(V2_OFFERS)
  assert.equal(n('application/vnd.kafka.v2+json; q=0.9, application/json; q=0.5'), MEDIA.v2)
  assert.equal(n('application/json'), MEDIA.json)
  assert.equal(n('application/vnd.kafka.v1+json'), MEDIA.v1)
  assert.equal(n('application/json;q=1, application/vnd.kafka.v2+json;q=0.5'), MEDIA.json)
})

test('negotiator returns null when nothing acceptable is offered', () => {
  const n = negotiator(V2_OFFERS)
  assert.equal(n('text/plain'), null)
  assert.equal(n('application/vnd.kafka.v2+json;q=0'), null)
})

test('isV1GenericProduce: the generic types Confluent\'s v1 produce read as binary, but not ambiguous application/json', () => {
  for (const type of ['application/vnd.kafka.v1+json', 'application/vnd.kafka+json', 'Application/Octet-Stream; charset=x']) {
    assert.equal(isV1GenericProduce(type), true, type)
  }
  for (const type of [undefined, 'application/json', 'application/vnd.kafka.v2+json', 'application/vnd.kafka.binary.v1+json', 'text/plain']) {
    assert.equal(isV1GenericProduce(type), false, String(type))
  }
})
