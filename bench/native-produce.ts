// The native baseline for produce scenarios: the same librdkafka, from Node,
// with exactly the properties the proxy's producer uses, producing records of
// the scenario's size as fast as it can. Nothing bounds the records in flight
// but librdkafka's own queue (queue.buffering.max.messages/kbytes): a full
// queue (QUEUE_FULL) is the only back-pressure.
//
// The loop produces for `sliceMs`, then yields to the event loop: the binding
// hands delivery reports to JavaScript through a uv_async, at most 100 per
// event-loop turn, so a loop that never yields sees almost none of them.
// That lag also means the reports seen inside the window undercount what the
// broker took (measured: 0.13M of 1.5M records reported after 5 s), so the
// rate is every record produced in the window over the time until the last of
// them was reported delivered: what this client really got written, and knew
// it, per second. flushedSeconds is when librdkafka itself had every ack.
// Prints one JSON line: { records, seconds, errors, reportedInWindow,
// windowSeconds, flushedSeconds, cpuSeconds, queueFull, settings }.
// Usage: node --import tsx bench/native-produce.ts <bootstrap> <topic> <valueBytes> <durationMs> [sliceMs]
import { Producer } from '../src/kafka/binding.js'
import { producerProperties } from '../src/kafka/options.js'
import { defaultConfig } from '../src/config/schema.js'

const [bootstrap = '', topic = '', valueBytes = '100', durationMs = '5000', sliceArg = '1', windowArg = '0'] = process.argv.slice(2)
const config = defaultConfig()
const properties = producerProperties({ ...config.kafka, bootstrap_servers: bootstrap }, config.producer)
const producer = new Producer(properties)
const value = Buffer.alloc(Number(valueBytes), 120)
const sliceMs = Number(sliceArg)
// 0: no bound. For comparisons only: the harness runs the unbounded loop.
const window = Number(windowArg) > 0 ? Number(windowArg) : Number.POSITIVE_INFINITY
let produced = 0
let acked = 0
let errors = 0
let queueFull = 0
let inWindow = true
let ackedInWindow = 0
producer.on('delivery-report', (err) => {
  if (err !== null && err !== undefined) {
    errors++
  } else {
    acked++
    if (inWindow) ackedInWindow++
  }
})
await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
producer.setPollInBackground(true)
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const cpuBefore = process.cpuUsage()
const started = performance.now()
const deadline = started + Number(durationMs)
for (let now = started; now < deadline; now = performance.now()) {
  const sliceEnd = Math.min(deadline, now + sliceMs)
  try {
    // performance.now() every 64 records keeps the clock off the per-record cost.
    do {
      if (produced - acked - errors >= window) break
      for (let i = 0; i < 64; i++) {
        producer.produce(topic, -1, value, null, null)
        produced++
      }
    } while (performance.now() < sliceEnd)
  } catch {
    // QUEUE_FULL: librdkafka's queue limit is the back-pressure.
    queueFull++
  }
  await yieldToLoop()
}
const windowSeconds = (performance.now() - started) / 1000
inWindow = false
// librdkafka's flush returns once the broker acknowledged everything; the
// reports reach JavaScript later, and only then would a client know.
await new Promise<void>((resolve) => producer.flush(120000, () => resolve()))
const flushedSeconds = (performance.now() - started) / 1000
const unreported = (): boolean => acked + errors < produced
for (const giveUp = performance.now() + 120000; unreported() && performance.now() < giveUp;) await yieldToLoop()
const seconds = (performance.now() - started) / 1000
// All threads of this process (JavaScript and librdkafka's): on a machine
// shared with other work, CPU per record moves far less than records/s.
const cpu = process.cpuUsage(cpuBefore)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
const settings = { ...properties, 'bootstrap.servers': undefined, loop: `produce() for ${sliceMs} ms, then setImmediate; ${Number.isFinite(window) ? `at most ${window} records in flight` : 'no bound on records in flight but librdkafka\'s queue'}` }
if (acked + errors < produced) errors += produced - acked - errors
process.stdout.write(JSON.stringify({ records: acked, seconds, errors, reportedInWindow: ackedInWindow, windowSeconds, flushedSeconds, cpuSeconds, queueFull, settings }) + '\n')
producer.disconnect(() => process.exit(0))
