// What the strict JSON input checks cost on the proxy's real request bodies:
// the baseline is what the produce paths did before (Buffer -> string ->
// JSON.parse); the candidates add, one by one, the UTF-8 check
// (buffer.isUtf8), the byte scan (depth, string length, numbers, member
// count) and the key count after the parse that finds repeated keys, i.e.
// the whole of parseJson. Rounds are interleaved, the order rotating, so
// drift on a busy machine hits all of them alike; the result per shape is the
// time per body (fastest round, which a shared machine disturbs least, and
// median) and the per-round ratio to the baseline (median).
// Run: node --import tsx bench/micro/json-input.ts [--rounds 40] [--ms 25]
import { isUtf8 } from 'node:buffer'
import { parseArgs } from 'node:util'
import { median } from '../lib.js'
import { parseJson, scanJson, type JsonLimits } from '../../src/json/parse.js'
import { decodeProduceBody, decodeRecords } from '../../src/produce/v2-body.js'

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    ms: { type: 'string', default: '25' }
  }
})
const ROUNDS = Number(flags.rounds)
const MS = Number(flags.ms)
const LIMITS: JsonLimits = { maxDepth: 1000, maxStringBytes: 20_000_000 }

const b64 = (n: number): string => Buffer.alloc(n, 120).toString('base64')
const v2 = (records: number, value: () => unknown): Buffer =>
  Buffer.from(JSON.stringify({ records: Array.from({ length: records }, value) }))

const shapes: Array<{ name: string, body: Buffer }> = [
  // The benchmark's produce request: 100 records x 100 B binary.
  { name: 'v2 binary 100 x 100 B', body: v2(100, () => ({ value: b64(100) })) },
  { name: 'v2 binary 100 x 100 B + key', body: v2(100, () => ({ key: b64(8), value: b64(100) })) },
  { name: 'v2 binary 1000 x 1 KB', body: v2(1000, () => ({ value: b64(1024) })) },
  { name: 'v2 json 100 small objects', body: v2(100, () => ({ value: { id: 12345, name: 'customer', tags: ['a', 'b'], score: 0.5, active: true } })) },
  { name: 'v3 record (BINARY 100 B)', body: Buffer.from(JSON.stringify({ value: { type: 'BINARY', data: b64(100) } })) }
]

const baseline = (b: Buffer): unknown => JSON.parse(b.toString('utf8'))
const allCandidates: Array<[string, (b: Buffer) => unknown]> = [
  ['baseline JSON.parse', baseline],
  ['+ isUtf8', (b) => { if (!isUtf8(b)) throw new Error('x'); return JSON.parse(b.toString('utf8')) }],
  ['+ isUtf8 + scan', (b) => { if (!isUtf8(b)) throw new Error('x'); scanJson(b, LIMITS); return JSON.parse(b.toString('utf8')) }],
  ['parseJson (all checks)', (b) => parseJson(b, LIMITS)],
  // The whole v2 binary decode (parse, shape checks, base64), before and after.
  ['v2 decode, JSON.parse', (b) => decodeRecords('binary', (JSON.parse(b.toString('utf8')) as { records: unknown[] }).records)],
  ['v2 decode, parseJson', (b) => decodeProduceBody('binary', b, LIMITS)]
]

function timeOne (fn: (b: Buffer) => unknown, body: Buffer): number {
  let n = 0
  const start = process.hrtime.bigint()
  const until = start + BigInt(MS) * 1_000_000n
  let now = start
  while (now < until) {
    for (let i = 0; i < 50; i++) fn(body)
    n += 50
    now = process.hrtime.bigint()
  }
  return Number(now - start) / n
}

process.stdout.write(`node ${process.version}, ${ROUNDS} rounds x ${MS} ms per candidate and shape\n`)
for (const { name, body } of shapes) {
  // The v2 decode candidates only apply to v2 binary bodies.
  const candidates = name.startsWith('v2 binary') ? allCandidates : allCandidates.slice(0, 4)
  for (const [, fn] of candidates) fn(body)
  const times = candidates.map(() => [] as number[])
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < candidates.length; k++) {
      const c = (k + r) % candidates.length
      times[c]?.push(timeOne((candidates[c] as [string, (b: Buffer) => unknown])[1], body))
    }
  }
  process.stdout.write(`\n${name} (${body.length} bytes)\n`)
  const base = times[0] as number[]
  for (let c = 0; c < candidates.length; c++) {
    const t = times[c] as number[]
    const ratios = t.map((x, i) => x / (base[i] as number))
    const best = Math.min(...t)
    process.stdout.write(`  ${(candidates[c] as [string, unknown])[0].padEnd(26)} best ${(best / 1000).toFixed(2).padStart(8)} µs  ` +
      `median ${(median(t) / 1000).toFixed(2).padStart(8)} µs  best/best-baseline x${(best / Math.min(...base)).toFixed(3)}  ` +
      `per-round ratio median x${median(ratios).toFixed(3)}\n`)
  }
}
