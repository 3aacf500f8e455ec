import { test } from 'node:test'
import assert from 'node:assert/strict'
import { murmur2, javaPartition } from '../helpers/murmur2.js'

// Apache Kafka's UtilsTest.testMurmur2 vectors.
const VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107]
]

test('murmur2 reference matches the Java client test vectors', () => {
  for (const [input, expected] of VECTORS) assert.equal(murmur2(Buffer.from(input)), expected, input)
})

test('javaPartition masks the sign bit before the modulo', () => {
  assert.equal(javaPartition(Buffer.from('21'), 7), (-973932308 & 0x7fffffff) % 7)
  for (const [input] of VECTORS) {
    const p = javaPartition(Buffer.from(input), 12)
    assert.ok(p >= 0 && p < 12)
  }
})
