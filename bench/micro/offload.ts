// Inline vs worker pool for decoding v2 produce bodies (JSON.parse + strict
// base64), at several body sizes. For each size: the inline decode time (the
// event loop is blocked for all of it) and the pool round trip (transfer in,
// decode, transfer out), as medians over many repetitions in this process.
// The offload threshold is the size above which the pool's overhead is a
// small share of the work and the inline stall grows long enough to hurt
// every other request on the event loop.
// Run: node --import tsx bench/micro/offload.ts
import { decodeProduceBody } from '../../src/produce/v2-body.js'
import { DEFAULT_JSON_LIMITS } from '../../src/json/parse.js'
import { TaskPool, transferableCopy } from '../../src/pool/pool.js'
import type { BatchTaskResult as ProduceTaskResult } from '../../src/produce/v2-body.js'

const SIZES = [1, 4, 16, 64, 128, 256, 1024, 4096]
const pool = new TaskPool({ threads: 1, maxQueue: 64 })

function body (kib: number): Buffer {
  const valueBytes = 100
  const perRecord = Math.ceil(valueBytes * 4 / 3) + 14
  const count = Math.max(1, Math.floor(kib * 1024 / perRecord))
  const value = Buffer.alloc(valueBytes, 120).toString('base64')
  return Buffer.from(JSON.stringify({ records: Array.from({ length: count }, () => ({ value })) }))
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

const rows: Array<{ kib: number, records: number, inlineUs: number, poolUs: number, overheadPct: number }> = []
for (const kib of SIZES) {
  const raw = body(kib)
  const reps = Math.max(20, Math.min(2000, Math.floor(20000 / kib)))
  let records = 0
  for (let i = 0; i < 10; i++) records = decodeProduceBody('binary', raw).count
  const inline: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    decodeProduceBody('binary', raw)
    inline.push((performance.now() - t) * 1000)
  }
  const pooled: number[] = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    const bytes = transferableCopy(Buffer.from(raw))
    const r = await pool.run<ProduceTaskResult>('produce', { format: 'binary', body: bytes, limits: DEFAULT_JSON_LIMITS }, [bytes.buffer as ArrayBuffer])
    if (!r.ok) throw new Error('decode failed')
    pooled.push((performance.now() - t) * 1000)
  }
  const inlineUs = median(inline)
  const poolUs = median(pooled)
  rows.push({ kib, records, inlineUs, poolUs, overheadPct: (poolUs - inlineUs) / inlineUs * 100 })
}
await pool.close()
process.stdout.write('body KiB  records  inline us  pool us  pool overhead\n')
for (const r of rows) {
  process.stdout.write(`${String(r.kib).padStart(8)}  ${String(r.records).padStart(7)}  ${r.inlineUs.toFixed(0).padStart(9)}  ${r.poolUs.toFixed(0).padStart(7)}  ${r.overheadPct.toFixed(0).padStart(12)}%\n`)
}
process.stdout.write(JSON.stringify({ offload: rows }) + '\n')
