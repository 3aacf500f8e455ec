import { test } from 'node:test'
import assert from 'node:assert/strict'
import { errorMediaType } from '../../src/http/media.js'
import { errorJson, rawErrorResponse } from '../../src/http/error-response.js'
import { ProxyError } from '../../src/errors.js'
import { clientErrorOf } from '../../src/http/listener.js'
import { groupName, instanceName } from '../../src/api/v2/validate.js'

test('error bodies come in the best-accepted of our JSON types, JSON otherwise', () => {
  assert.equal(errorMediaType(undefined), 'application/json')
  assert.equal(errorMediaType('*/*'), 'application/json')
  assert.equal(errorMediaType('application/vnd.kafka.v2+json'), 'application/vnd.kafka.v2+json')
  assert.equal(errorMediaType('application/vnd.kafka.avro.v1+json, */*;q=0.1'), 'application/vnd.kafka.avro.v1+json')
  assert.equal(errorMediaType('application/json, application/vnd.kafka.v2+json'), 'application/json', 'a tie goes to the first listed')
  assert.equal(errorMediaType('application/json;q=0.2, application/vnd.kafka.v2+json;q=0.8'), 'application/vnd.kafka.v2+json')
  assert.equal(errorMediaType('application/vnd.kafka.nope.v2+json'), 'application/json', 'an unknown embedded format is not ours')
  assert.equal(errorMediaType('text/html'), 'application/json')
})

test('one serializer for every error body', () => {
  assert.deepEqual(JSON.parse(errorJson(new ProxyError('shuttingDown', undefined, { persisted: 'no' }))),
    { error_code: 50303, message: 'Proxy is shutting down; retry on another instance', retriable: true, persisted: 'no' })
  const raw = rawErrorResponse(new ProxyError('headersTooLarge'))
  const [head, body] = raw.split('\r\n\r\n') as [string, string]
  assert.match(head, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/)
  assert.match(head, /\r\nconnection: close/)
  assert.match(head, new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}`))
  assert.deepEqual(JSON.parse(body).error_code, 431)
})

test('parser errors map to 431, 414, 408 and 400', () => {
  const overflow = (packet: string): ProxyError =>
    clientErrorOf(Object.assign(new Error('overflow'), { code: 'HPE_HEADER_OVERFLOW', rawPacket: Buffer.from(packet) }), 100)
  assert.equal(overflow(`GET /${'x'.repeat(500)}`).status, 414, 'no end of the request line yet')
  assert.equal(overflow(`GET /${'x'.repeat(500)} HTTP/1.1\r\nhost: a\r\n`).status, 414)
  assert.equal(overflow(`GET /short HTTP/1.1\r\nx-big: ${'y'.repeat(500)}`).status, 431)
  assert.equal(overflow('y'.repeat(500)).status, 431, 'a later chunk: the URL cannot be told apart')
  assert.equal(clientErrorOf(Object.assign(new Error('t'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), 100).status, 408)
  const bad = clientErrorOf(Object.assign(new Error('p'), { code: 'HPE_INVALID_METHOD', reason: 'Invalid method encountered' }), 100)
  assert.deepEqual([bad.status, bad.message], [400, 'Malformed HTTP request: Invalid method encountered'])
})

test('consumer names: instance [A-Za-z0-9._-], group printable ASCII but "/", 1 to 249 characters', () => {
  for (const ok of ['my_consumer', 'rest-consumer-0f2a', 'a.b-c_d', 'x'.repeat(249)]) assert.equal(instanceName(ok), ok)
  for (const bad of ['', 'x'.repeat(250), 'a b', 'a/b', 'a:b', 'a\u0000', 'a\n', 'caf\u00e9', '\ufffd']) {
    assert.throws(() => instanceName(bad), (e: ProxyError) => e.status === 422 && e.errorCode === 422, JSON.stringify(bad))
  }
  for (const ok of ['orders:eu', 'billing@team', 'a+b=c,d~e', 'g'.repeat(249)]) assert.equal(groupName(ok), ok)
  for (const bad of ['', 'g'.repeat(250), 'a b', 'a/b', 'tab\t', 'nul\u0000', 'caf\u00e9', '\ufffd']) {
    assert.throws(() => groupName(bad), (e: ProxyError) => e.status === 422, JSON.stringify(bad))
  }
})
