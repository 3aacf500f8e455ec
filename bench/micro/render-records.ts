// Rendering of a v2 records response: 10,000 records of 100 B, binary and
// json formats, median ms per render over several runs. The binary format is
// the consume benchmark's hot path; json shows the cost of validating and
// splicing record JSON instead of parse + stringify.
// Run: node --import tsx bench/micro/render-records.ts
import { renderRecords } from '../../src/render/v2-records.js'
import type { ConsumerMessage } from '../../src/kafka/binding.js'

const COUNT = Number(process.env.RECORDS ?? 10_000)
const RUNS = Number(process.env.RUNS ?? 31)

function medianMs (fn: () => unknown): number {
  for (let i = 0; i < 20; i++) fn()
  const runs: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now()
    fn()
    runs.push(performance.now() - t)
  }
  return runs.sort((a, b) => a - b)[RUNS >> 1] as number
}

const jsonValue = Buffer.from(JSON.stringify({ id: 123456, name: 'a record of about one hundred bytes', tags: ['x', 'y'], ok: true, n: 1.5 }).padEnd(100, ' '))
const make = (value: Buffer): ConsumerMessage[] => Array.from({ length: COUNT }, (_, i) => ({
  topic: 'bench', partition: i % 6, offset: 1_000_000 + i, key: null, value, size: value.length, timestamp: 1_700_000_000_000 + i, headers: []
}))
const binary = make(Buffer.alloc(100, 97))
const json = make(jsonValue)

// Encoding the text to bytes is part of the cost: a response is sent as bytes.
const run = (format: 'binary' | 'json', m: ConsumerMessage[]) => () => Buffer.from(renderRecords(format, m).body)
const rows = [
  { shape: `binary, ${COUNT} x 100 B`, ms: medianMs(run('binary', binary)) },
  { shape: `json, ${COUNT} x 100 B`, ms: medianMs(run('json', json)) }
]
for (const r of rows) process.stdout.write(`${r.shape}: ${r.ms.toFixed(2)} ms per response, ${(COUNT / r.ms * 1000 / 1e6).toFixed(2)} M records/s\n`)
