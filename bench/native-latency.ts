// The native baseline for the latency scenario: batches of `records` records
// produced at `rate` batches per second with the proxy's producer properties;
// a batch's latency runs from its first produce() call to its last delivery
// report, what a proxy request waits for. Prints one JSON line:
// { records, seconds, errors, p50, p99, p999, settings } (latencies in ms).
// Between batches the loop waits on a timer, so delivery reports flow; nothing
// bounds the batches in flight.
// Usage: node --import tsx bench/native-latency.ts <bootstrap> <topic> <records> <rate> <durationMs>
import { Producer } from '../src/kafka/binding.js'
import { producerProperties } from '../src/kafka/options.js'
import { defaultConfig } from '../src/config/schema.js'

const [bootstrap = '', topic = '', recordsArg = '100', rateArg = '100', durationMs = '5000'] = process.argv.slice(2)
const config = defaultConfig()
const properties = producerProperties({ ...config.kafka, bootstrap_servers: bootstrap }, config.producer)
const producer = new Producer(properties)
const perBatch = Number(recordsArg)
const value = Buffer.alloc(100, 120)
const latencies: number[] = []
let errors = 0
let acked = 0
producer.on('delivery-report', (err, report) => {
  const batch = report.opaque as { started: number, left: number }
  if (err !== null && err !== undefined) errors++
  else acked++
  if (--batch.left === 0) latencies.push(performance.now() - batch.started)
})
await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
producer.setPollInBackground(true)
const interval = 1000 / Number(rateArg)
const started = performance.now()
const end = started + Number(durationMs)
// Batches go out on an absolute schedule, so a slow batch does not delay the next (no coordinated omission).
for (let i = 0; ; i++) {
  const due = started + i * interval
  if (due >= end) break
  const wait = due - performance.now()
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  const batch = { started: due, left: perBatch }
  for (let r = 0; r < perBatch; r++) producer.produce(topic, -1, value, null, null, batch)
}
await new Promise<void>((resolve) => producer.flush(30000, () => resolve()))
const seconds = (performance.now() - started) / 1000
const sorted = latencies.sort((a, b) => a - b)
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
const settings = { ...properties, 'bootstrap.servers': undefined, loop: `${perBatch} records per batch at ${rateArg} batches/s on an absolute schedule` }
process.stdout.write(JSON.stringify({ records: acked, seconds, errors, p50: q(0.5), p99: q(0.99), p999: q(0.999), settings }) + '\n')
producer.disconnect(() => process.exit(0))
