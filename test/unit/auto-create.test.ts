import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isLegalTopicName } from '../../src/kafka/auto-create.js'

test('isLegalTopicName follows Kafka\'s rule: [a-zA-Z0-9._-], 1 to 249 characters, not "." or ".."', () => {
  for (const name of ['avrotest', 'a.b_c-D9', 'x'.repeat(249)]) assert.equal(isLegalTopicName(name), true, name)
  for (const name of ['', '.', '..', 'x'.repeat(250), 'with space', 'slash/name', 'ünïcode', 'nul\u0000']) {
    assert.equal(isLegalTopicName(name), false, JSON.stringify(name))
  }
})
