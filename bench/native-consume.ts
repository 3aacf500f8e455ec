// The native baseline for consume scenarios: `consumers` librdkafka consumers
// in one group, from Node, with the properties the proxy gives its consumer
// instances, reading until `records` records arrived. Prints one JSON line:
// { records, seconds, errors }.
// Usage: node --import tsx bench/native-consume.ts <bootstrap> <topic> <group> <consumers> <records> <prefetchBytes>
import { KafkaConsumer } from '../src/kafka/client.js'
import { consumerProperties } from '../src/kafka/options.js'
import { defaultConfig } from '../src/config/schema.js'

const [bootstrap = '', topic = '', group = '', consumersArg = '1', recordsArg = '0', prefetch = '1048576'] = process.argv.slice(2)
const config = defaultConfig()
const target = Number(recordsArg)
let total = 0
const started = performance.now()
const consumers = await Promise.all(Array.from({ length: Number(consumersArg) }, async (_, i) => {
  const props = consumerProperties({ ...config.kafka, bootstrap_servers: bootstrap }, { ...config.consumer, prefetch_max_bytes: Number(prefetch) }, {
    group, name: `native-${i}`, autoOffsetReset: 'earliest', autoCommit: true
  })
  const c = new KafkaConsumer(props.global, props.topic)
  await new Promise<void>((resolve, reject) => c.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  c.setDefaultConsumeTimeout(100)
  c.subscribe([topic])
  return c
}))
await Promise.all(consumers.map(async (c) => {
  while (total < target) {
    const batch = await new Promise<unknown[]>((resolve, reject) => c.consume(config.consumer.max_poll_records, (err, m) => err ? reject(err) : resolve(m)))
    total += batch.length
  }
}))
const seconds = (performance.now() - started) / 1000
process.stdout.write(JSON.stringify({ records: total, seconds, errors: 0 }) + '\n')
await Promise.all(consumers.map((c) => new Promise<void>((resolve) => c.disconnect(() => resolve()))))
process.exit(0)
