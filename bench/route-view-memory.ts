// Memory of the latest-per-key view of fetch routes (src/routes/view.ts), per
// key: the view's own apply path over N records of a 100-byte value (the
// issue's 1M keys of 100 B), measured as heap and external memory growth
// after a full GC. No broker: the records are handed to apply() directly.
//   node --expose-gc --import tsx bench/route-view-memory.ts [keys] [valueBytes]
import { pino } from 'pino'
import { TopicView } from '../src/routes/view.js'

const N = Number(process.argv[2] ?? 1_000_000)
const SIZE = Number(process.argv[3] ?? 100)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')
const view = new TopicView({ topic: 't', properties: { global: {}, topic: {} }, maxBytes: Number.MAX_SAFE_INTEGER, maxPollRecords: 500, callTimeoutMs: 1000, log: pino({ level: 'silent' }) })
const apply = (view as unknown as { apply: (m: unknown) => void }).apply.bind(view)
const type = Buffer.from('application/json')
gc()
const before = process.memoryUsage()
for (let i = 0; i < N; i++) {
  // librdkafka hands each value over in a Buffer of its own, as allocUnsafeSlow makes one.
  const value = Buffer.allocUnsafeSlow(SIZE).fill(97)
  apply({ topic: 't', partition: 0, offset: i, key: Buffer.from(`key-${String(i).padStart(10, '0')}`), value, headers: [{ 'content-type': type }], size: SIZE, timestamp: 0 })
}
gc()
const after = process.memoryUsage()
const heap = (after.heapUsed - before.heapUsed) / N
const external = (after.external - before.external) / N
console.log(JSON.stringify({
  keys: N,
  valueBytes: SIZE,
  heapBytesPerKey: Math.round(heap),
  externalBytesPerKey: Math.round(external),
  totalBytesPerKey: Math.round(heap + external),
  countedBytesPerKey: Math.round(view.size.bytes / N),
  node: process.version
}))
