import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Router } from '../../src/http/router.js'

function router (): Router<string> {
  return new Router<string>()
    .add('GET', '/', 'root')
    .add('GET', '/topics', 'list')
    .add('GET', '/topics/{topic}', 'get')
    .add('POST', '/topics/{topic}', 'produce')
    .add('POST', '/topics/{topic}/partitions/{partition}', 'produce-partition')
}

test('router matches static and parameter segments', () => {
  const r = router()
  assert.deepEqual(r.match('GET', '/'), { kind: 'found', handler: 'root', params: {} })
  assert.deepEqual(r.match('GET', '/topics'), { kind: 'found', handler: 'list', params: {} })
  assert.deepEqual(r.match('POST', '/topics/t1/partitions/3'), { kind: 'found', handler: 'produce-partition', params: { topic: 't1', partition: '3' } })
})

test('router tolerates a trailing slash', () => {
  assert.deepEqual(router().match('GET', '/topics/'), { kind: 'found', handler: 'list', params: {} })
})

test('router decodes percent-encoded parameters and rejects broken encodings', () => {
  const r = router()
  assert.deepEqual(r.match('GET', '/topics/a%2Eb'), { kind: 'found', handler: 'get', params: { topic: 'a.b' } })
  assert.deepEqual(r.match('GET', '/topics/%E0%A4%A'), { kind: 'not-found' })
})

test('router distinguishes unknown paths from unsupported methods', () => {
  const r = router()
  assert.deepEqual(r.match('GET', '/nope'), { kind: 'not-found' })
  assert.deepEqual(r.match('GET', '/topics/t/partitions'), { kind: 'not-found' })
  assert.deepEqual(r.match('DELETE', '/topics/t'), { kind: 'method-not-allowed', allow: 'GET, POST, HEAD, OPTIONS' })
  assert.deepEqual(r.match('OPTIONS', '/topics/t'), { kind: 'options', allow: 'GET, POST, HEAD, OPTIONS' })
  assert.deepEqual(r.match('OPTIONS', '/nothing'), { kind: 'not-found' })
})

test('router refuses HEAD where the GET route says so, and leaves it out of Allow', () => {
  const r = new Router<string>().add('GET', '/read', 'read', { head: false }).add('DELETE', '/read', 'close')
  assert.deepEqual(r.match('HEAD', '/read'), { kind: 'method-not-allowed', allow: 'GET, DELETE, OPTIONS' })
  assert.deepEqual(r.match('GET', '/read'), { kind: 'found', handler: 'read', params: {} })
})

test('router answers HEAD with the GET handler', () => {
  assert.deepEqual(router().match('HEAD', '/topics'), { kind: 'found', handler: 'list', params: {} })
})

test('router refuses conflicting parameter names and duplicate routes', () => {
  assert.throws(() => router().add('GET', '/topics/{name}/x', 'x'), /conflicts/)
  assert.throws(() => router().add('GET', '/topics', 'again'), /defined twice/)
})
