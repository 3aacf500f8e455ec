// Assertions on the proxy's errors, shared by the unit tests.
import assert from 'node:assert/strict'
import { ProxyError } from '../../src/errors.js'

/** `fn` throws a ProxyError with this table key (and a message matching `pattern`). */
export function rejects (fn: () => unknown, key: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.key, key)
    if (pattern !== undefined) assert.match(err.message, pattern)
    return true
  })
}

/** `fn` throws a ProxyError with this Confluent error_code (and a message matching `message`). */
export function throwsWith (fn: () => unknown, errorCode: number, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err))
    assert.equal(err.errorCode, errorCode)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}
