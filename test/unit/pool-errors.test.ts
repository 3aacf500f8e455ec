// Errors that cross the worker-thread boundary arrive as plain data: the main
// thread must get back the same ProxyError, and for an unexpected failure
// what caused it, so that it is logged with its cause.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProxyError, rehydrateError, serializeError } from '../../src/errors.js'
import { TaskPool, transferableCopy } from '../../src/pool/pool.js'
import type { BatchTaskResult as ProduceTaskResult } from '../../src/produce/v2-body.js'
import { DEFAULT_JSON_LIMITS } from '../../src/json/parse.js'

test('a ProxyError keeps its key, message and persisted state', () => {
  const back = rehydrateError(serializeError(new ProxyError('jsonTooDeep', 'too deep', { persisted: 'no' })))
  assert.ok(back instanceof ProxyError)
  assert.deepEqual([back.key, back.status, back.errorCode, back.message, back.persisted], ['jsonTooDeep', 400, 400, 'too deep', 'no'])
})

test('an unexpected error becomes an internal 500 that carries its name, message and stack as the cause', () => {
  const original = new RangeError('Maximum call stack size exceeded')
  const data = structuredClone(serializeError(original))
  const back = rehydrateError(data)
  assert.deepEqual([back.key, back.status, back.message], ['internal', 500, 'Internal Server Error'])
  const cause = back.cause as Error
  assert.ok(cause instanceof Error)
  assert.equal(cause.name, 'RangeError')
  assert.equal(cause.message, 'Maximum call stack size exceeded')
  assert.equal(cause.stack, original.stack)
})

test('an unknown key from a task is an internal error, not a crash', () => {
  const back = rehydrateError({ key: 'no-such-key' as never, message: 'x' })
  assert.equal(back.key, 'internal')
})

test('a failure inside a real pool worker comes back with its cause', async (t) => {
  const pool = new TaskPool({ threads: 1, maxQueue: 4 })
  t.after(() => pool.close())
  // A body that is not bytes makes the task fail with a TypeError of its own, not a ProxyError.
  const result = await pool.run<ProduceTaskResult>('produce', { format: 'binary', body: 42, limits: DEFAULT_JSON_LIMITS })
  assert.equal(result.ok, false)
  if (result.ok) return
  const err = rehydrateError(result.error)
  assert.equal(err.key, 'internal')
  assert.equal((err.cause as Error).name, 'TypeError')
  assert.match((err.cause as Error).stack ?? '', /batch-task/)
  // A ProxyError from the worker keeps its code.
  const bad = transferableCopy(Buffer.from('{"records":[{"value":"YQ==","value":"Yg=="}]}'))
  const refused = await pool.run<ProduceTaskResult>('produce', { format: 'binary', body: bad, limits: DEFAULT_JSON_LIMITS }, [bad.buffer as ArrayBuffer])
  assert.equal(refused.ok ? null : rehydrateError(refused.error).key, 'duplicateKey')
})
