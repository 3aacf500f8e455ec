// The native baseline for produce scenarios: the same librdkafka, from Node,
// with exactly the properties the proxy's producer uses, producing records of
// the scenario's size as fast as a bounded window of outstanding records
// allows. Prints one JSON line: { records, seconds, errors }.
// Usage: node --import tsx bench/native-produce.ts <bootstrap> <topic> <valueBytes> <durationMs> <window>
import { Producer } from '../src/kafka/client.js'
import { producerProperties } from '../src/kafka/options.js'
import { defaultConfig } from '../src/config/schema.js'

const [bootstrap = '', topic = '', valueBytes = '100', durationMs = '5000', windowArg = '3200'] = process.argv.slice(2)
const config = defaultConfig()
const producer = new Producer(producerProperties({ ...config.kafka, bootstrap_servers: bootstrap }, config.producer))
const value = Buffer.alloc(Number(valueBytes), 120)
const window = Number(windowArg)
let outstanding = 0
let acked = 0
let errors = 0
let resume: (() => void) | null = null
producer.on('delivery-report', (err) => {
  outstanding--
  if (err !== null && err !== undefined) errors++
  else acked++
  if (resume !== null && outstanding < window) {
    const r = resume
    resume = null
    r()
  }
})
await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
producer.setPollInBackground(true)
const started = performance.now()
const deadline = started + Number(durationMs)
while (performance.now() < deadline) {
  if (outstanding >= window) {
    await new Promise<void>((resolve) => { resume = resolve })
    continue
  }
  try {
    producer.produce(topic, -1, value, null, null, null)
    outstanding++
  } catch {
    // Queue full: wait for delivery reports to make room.
    await new Promise<void>((resolve) => { resume = resolve })
  }
  // Yield now and then so delivery reports are dispatched.
  if ((acked + outstanding) % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve))
}
const ackedInTime = acked
const seconds = (performance.now() - started) / 1000
await new Promise<void>((resolve) => producer.flush(30000, () => resolve()))
process.stdout.write(JSON.stringify({ records: ackedInTime, seconds, errors }) + '\n')
producer.disconnect(() => process.exit(0))
