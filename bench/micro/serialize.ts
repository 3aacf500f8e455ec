// fast-json-stringify (compiled at boot, as the proxy does) vs JSON.stringify
// on the proxy's real response shapes: a produce response of 100 offsets and
// a binary records response of 500 records. Median ops/s over several runs.
// Run: node --import tsx bench/micro/serialize.ts
import fjs from 'fast-json-stringify'
import { renderRecords } from '../../src/render/v2-records.js'
import type { ConsumerMessage } from '../../src/kafka/binding.js'

function opsPerSec (fn: () => unknown, ms = 1000): number {
  for (let i = 0; i < 1000; i++) fn()
  const runs: number[] = []
  for (let r = 0; r < 5; r++) {
    let n = 0
    const end = performance.now() + ms / 5
    while (performance.now() < end) { fn(); n++ }
    runs.push(n / (ms / 5) * 1000)
  }
  return runs.sort((a, b) => a - b)[2] as number
}

const offsetsSchema = {
  type: 'object',
  properties: {
    offsets: { type: 'array', items: { type: 'object', properties: { partition: { type: 'integer', nullable: true }, offset: { type: 'integer', nullable: true }, error_code: { type: 'integer', nullable: true }, error: { type: 'string', nullable: true } } } },
    key_schema_id: { type: 'integer', nullable: true },
    value_schema_id: { type: 'integer', nullable: true }
  }
} as const
const produceResponse = { offsets: Array.from({ length: 100 }, (_, i) => ({ partition: i % 3, offset: 1_000_000 + i, error_code: null, error: null })), key_schema_id: null, value_schema_id: null }
const compiled = fjs(offsetsSchema)

const messages: ConsumerMessage[] = Array.from({ length: 500 }, (_, i) => ({ topic: 'bench', partition: i % 6, offset: 1_000_000 + i, key: null, value: Buffer.alloc(100, 97), size: 100, timestamp: 1_700_000_000_000 + i, headers: [] }))
const rendered = JSON.parse(renderRecords('binary', messages).body) as unknown[]
const recordsSchema = fjs({ type: 'array', items: { type: 'object', properties: { topic: { type: 'string' }, key: { type: 'string', nullable: true }, value: { type: 'string', nullable: true }, partition: { type: 'integer' }, offset: { type: 'integer' }, timestamp: { type: 'integer', nullable: true }, headers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } } } } } })

const rows = [
  { shape: 'produce response, 100 offsets', fjs: opsPerSec(() => compiled(produceResponse)), json: opsPerSec(() => JSON.stringify(produceResponse)) },
  { shape: 'records response, 500 x 100 B', fjs: opsPerSec(() => recordsSchema(rendered)), json: opsPerSec(() => JSON.stringify(rendered)) }
]
for (const r of rows) process.stdout.write(`${r.shape}: fast-json-stringify ${r.fjs.toFixed(0)} ops/s, JSON.stringify ${r.json.toFixed(0)} ops/s, ratio ${(r.fjs / r.json).toFixed(2)}\n`)
process.stdout.write(JSON.stringify({ serialize: rows }) + '\n')
