// JSON.parse vs the simdjson binding on the proxy's real request bodies: v2
// binary produce (base64 values), v2 json produce, and one v3 record object.
// Both parsers start from the Buffer node:http hands the proxy, so the UTF-8
// decode (Buffer -> string, which both APIs need) is part of each side's cost.
// Rounds of the parsers are interleaved in one process, the order rotating
// each round, so drift on a busy machine hits all of them alike; the result
// per shape is MB/s of body parsed (median over rounds) and the per-round
// ratio to JSON.parse (median, min, max).
// `simdjson.parse` builds the full JavaScript object, as the proxy needs it;
// `simdjson.lazyParse` only builds a native document and is reported with one
// key-path lookup per record, what a caller would need at the least.
// Run: node --import tsx bench/micro/json-parse.ts [--rounds 10] [--ms 200]
import { deepStrictEqual } from 'node:assert'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { median } from '../lib.js'

interface LazyDocument { valueForKeyPath: (path: string) => unknown }
interface Simdjson {
  parse: (json: string) => unknown
  lazyParse: (json: string) => LazyDocument
}

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    ms: { type: 'string', default: '200' }
  }
})
const ROUNDS = Number(flags.rounds)
const MS = Number(flags.ms)

let simdjson: Simdjson
try {
  simdjson = createRequire(import.meta.url)('simdjson') as Simdjson
} catch (err) {
  // A development dependency with a native build, which may have failed on this machine.
  process.stdout.write(`simdjson cannot be loaded (${(err as Error).message.split('\n')[0] ?? ''}); nothing to compare, skipping\n`)
  process.exit(0)
}

const b64 = (n: number): string => Buffer.alloc(n, 120).toString('base64')

interface Shape {
  name: string
  body: Buffer
  /** Records in the body, for the lazy side's one lookup per record. */
  records: number
  /** The key path of the first record's value, for the lazy side. */
  lazyPath: (i: number) => string
}

function v2 (records: number, value: () => unknown): Buffer {
  return Buffer.from(JSON.stringify({ records: Array.from({ length: records }, value) }))
}

const v3Record = {
  partition_id: null,
  headers: [{ name: 'trace', value: b64(16) }],
  key: { type: 'STRING', data: 'customer-1234' },
  value: { type: 'JSON', data: { id: 1234567, name: 'bench', amount: 12.5, tags: ['a', 'b'] } }
}

const SHAPES: Shape[] = [
  { name: 'v2 binary, 100 x 100 B', body: v2(100, () => ({ value: b64(100) })), records: 100, lazyPath: (i) => `records[${i}].value` },
  { name: 'v2 binary, 1000 x 1 KB', body: v2(1000, () => ({ value: b64(1024) })), records: 1000, lazyPath: (i) => `records[${i}].value` },
  { name: 'v2 json, 100 x ~100 B', body: v2(100, () => ({ value: { id: 1, name: 'bench', pad: 'x'.repeat(60) } })), records: 100, lazyPath: (i) => `records[${i}].value.id` },
  { name: 'v3 record, one small', body: Buffer.from(JSON.stringify(v3Record)), records: 1, lazyPath: () => 'value.data.id' }
]

type Parser = (body: Buffer, shape: Shape) => unknown
const PARSERS: Array<[string, Parser]> = [
  ['JSON.parse', (body) => JSON.parse(body.toString('utf8'))],
  ['simdjson.parse', (body) => simdjson.parse(body.toString('utf8'))],
  ['simdjson.lazyParse', (body, shape) => {
    const doc = simdjson.lazyParse(body.toString('utf8'))
    let last: unknown
    for (let i = 0; i < shape.records; i++) last = doc.valueForKeyPath(shape.lazyPath(i))
    return last
  }]
]

/** MB/s of body parsed by `fn` during `ms` milliseconds. */
function rate (fn: Parser, shape: Shape, ms: number): number {
  let n = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  // Checks the clock every few calls so tiny bodies are not dominated by it.
  const step = Math.max(1, Math.floor(65536 / shape.body.length))
  while (now < end) {
    for (let i = 0; i < step; i++) fn(shape.body, shape)
    n += step
    now = performance.now()
  }
  return n * shape.body.length / ((now - start) / 1000) / 1e6
}

interface Row { shape: string, bytes: number, mbPerSec: Record<string, number>, ratio: Record<string, { median: number, min: number, max: number }> }
const rows: Row[] = []
for (const shape of SHAPES) {
  // Both parsers must produce the same object, or the comparison is moot.
  deepStrictEqual(simdjson.parse(shape.body.toString('utf8')), JSON.parse(shape.body.toString('utf8')))
  for (const [, fn] of PARSERS) rate(fn, shape, 100) // warm-up (JIT, allocator)
  const samples = new Map<string, number[]>(PARSERS.map(([name]) => [name, []]))
  const ratios = new Map<string, number[]>(PARSERS.map(([name]) => [name, []]))
  for (let r = 0; r < ROUNDS; r++) {
    const round = new Map<string, number>()
    for (let k = 0; k < PARSERS.length; k++) {
      const [name, fn] = PARSERS[(r + k) % PARSERS.length] as [string, Parser]
      round.set(name, rate(fn, shape, MS))
    }
    const base = round.get('JSON.parse') as number
    for (const [name, v] of round) {
      samples.get(name)?.push(v)
      ratios.get(name)?.push(v / base)
    }
  }
  const row: Row = { shape: shape.name, bytes: shape.body.length, mbPerSec: {}, ratio: {} }
  for (const [name] of PARSERS) {
    const rs = ratios.get(name) as number[]
    row.mbPerSec[name] = median(samples.get(name) as number[])
    row.ratio[name] = { median: median(rs), min: Math.min(...rs), max: Math.max(...rs) }
  }
  rows.push(row)
}

const fmt = (n: number, d = 0): string => n.toFixed(d)
process.stdout.write(`${ROUNDS} interleaved rounds of ${MS} ms per parser; MB/s median, ratio to JSON.parse median [min-max]\n`)
for (const r of rows) {
  const cells = PARSERS.map(([name]) => {
    const ratio = r.ratio[name] as { median: number, min: number, max: number }
    return `${name} ${fmt(r.mbPerSec[name] as number)} MB/s` + (name === 'JSON.parse' ? '' : ` (${fmt(ratio.median, 2)} [${fmt(ratio.min, 2)}-${fmt(ratio.max, 2)}])`)
  })
  process.stdout.write(`${r.shape} (${r.bytes} B): ${cells.join(', ')}\n`)
}
process.stdout.write(JSON.stringify({ jsonParse: rows }) + '\n')
