// The native baseline for consume scenarios: `consumers` librdkafka consumers
// in one group, from Node, at their own best: large consume batches in a
// tight loop and librdkafka's own queue and fetch defaults, nothing the proxy
// sets for itself (no prefetch cap, no offset-store discipline). Reads until
// `records` records arrived, timed from the first record, as the proxy side
// is. Prints one JSON line: { records, seconds, errors, settings }.
// Usage: node --import tsx bench/native-consume.ts <bootstrap> <topic> <group> <consumers> <records> [<batch> [<json of extra properties>]]
import { KafkaConsumer, type ConsumerClient } from '../src/kafka/binding.js'

const [bootstrap = '', topic = '', group = '', consumersArg = '1', recordsArg = '0', batchArg = '10000', extraArg = '{}'] = process.argv.slice(2)
const target = Number(recordsArg)
const batch = Number(batchArg)
// Measured on the bench machine (BENCHMARKS.md, "consume baselines"): with
// librdkafka's defaults (queued.min.messages 100000, queued.max.messages.kbytes
// 64 MiB, fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB) a consumer
// never waits on fetch.queue.backoff.ms at this rate; the extra properties
// are for comparison runs.
const settings: Record<string, string | number | boolean> = {
  'bootstrap.servers': bootstrap,
  'group.id': group,
  'enable.auto.commit': true,
  ...JSON.parse(extraArg) as Record<string, string | number | boolean>
}
let total = 0
let first = 0
let untimed = 0
let cpu = process.cpuUsage()
const consumers = await Promise.all(Array.from({ length: Number(consumersArg) }, async (_, i) => {
  const c = new KafkaConsumer({ ...settings, 'client.id': `native-${i}` }, { 'auto.offset.reset': 'earliest' }) as ConsumerClient
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  c.setDefaultConsumeTimeout(100)
  c.setDefaultIsTimeoutOnlyForFirstMessage(true)
  c.subscribe([topic])
  return c
}))
await Promise.all(consumers.map(async (c) => {
  while (total < target) {
    const got = await new Promise<unknown[]>((resolve, reject) => c.consume(batch, (err, m) => err ? reject(err) : resolve(m)))
    if (got.length > 0 && first === 0) {
      first = performance.now()
      cpu = process.cpuUsage()
      // The clock starts when the first batch is in: its records are not timed.
      untimed = got.length
    }
    total += got.length
  }
}))
const seconds = (performance.now() - first) / 1000
const used = process.cpuUsage(cpu)
process.stdout.write(JSON.stringify({ records: total - untimed, seconds, errors: 0, cpuMicrosPerRecord: (used.user + used.system) / (total - untimed), settings: { ...settings, 'bootstrap.servers': undefined, 'group.id': undefined, consumeBatch: batch, isTimeoutOnlyForFirstMessage: true } }) + '\n')
await Promise.all(consumers.map((c) => new Promise<void>((resolve) => c.disconnect(() => resolve()))))
process.exit(0)
