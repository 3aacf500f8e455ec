import { test } from 'node:test'
import assert from 'node:assert/strict'
import { serializeSuccess, success } from '../../src/api/v3/records.js'
import { successLine, successPrefix } from '../../src/api/v3/record-stream.js'
import { parseV3Record, type V3Record } from '../../src/produce/v3-record.js'

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678)

function viaSerializer (clusterId: string, topic: string, rec: V3Record, partition: number, offset: number): string {
  return serializeSuccess({ error_code: 200, ...success(clusterId, topic, rec, { partition, offset, error: null }) }) + '\r\n'
}

test('a concatenated success line is byte for byte what the compiled serializer writes', () => {
  const records: V3Record[] = [
    parseV3Record({ value: { type: 'BINARY', data: 'eHl6' } }, NOW),
    parseV3Record({ key: { type: 'STRING', data: 'k' }, value: { type: 'JSON', data: { a: 1 } } }, NOW),
    parseV3Record({ key: { type: 'STRING', data: 'only a key' } }, NOW + 1),
    parseV3Record({ value: { type: 'JSON', data: null }, timestamp: '1999-12-31T23:59:59.999Z' }, NOW),
    parseV3Record({}, NOW)
  ]
  // The schema types' summaries carry subject, id and version.
  const withSchema = parseV3Record({ value: { type: 'STRING', data: 'v' } }, NOW)
  withSchema.value = { type: 'AVRO', subject: 'a "quoted" \\ subject-value', schema_id: 7, schema_version: 3, size: 12 }
  records.push(withSchema)
  for (const [clusterId, topic] of [['lkc-1', 'orders'], ['clu"ster\u2028', 't.with_odd-chars']] as const) {
    const prefix = successPrefix(clusterId, topic)
    for (const [i, rec] of records.entries()) {
      const partition = i % 3
      const offset = 2 ** 40 + i
      const line = successLine(prefix, rec, partition, offset)
      assert.equal(line, viaSerializer(clusterId, topic, rec, partition, offset))
      assert.equal(JSON.parse(line).offset, offset)
    }
  }
})
