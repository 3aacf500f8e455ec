// Runs one of Apache Kafka's own command-line tools from the jars the setup
// cached, e.g. `npm run kafka -- topics --bootstrap-server localhost:9092 --list`.
// Kafka's tools are an independent client: handy to create topics for the
// examples and to read back what the proxy wrote.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { setup } from './setup.mjs'

const TOOLS = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  'consumer-perf-test': 'org.apache.kafka.tools.ConsumerPerformance'
}

const [tool, ...args] = process.argv.slice(2)
const mainClass = TOOLS[tool]
if (mainClass === undefined) {
  process.stderr.write(`usage: npm run kafka -- <tool> [args]\ntools: ${Object.keys(TOOLS).join(', ')}\n`)
  process.exit(2)
}
await setup({ log: () => {} })
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).config.kafka_version
const classpath = path.join(root, '.cache', 'kafka', version, 'libs', '*')
const log4j = path.join(root, 'scripts', 'tools-log4j2.yaml')
const result = spawnSync('java', ['-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, mainClass, ...args], { stdio: 'inherit' })
process.exit(result.status ?? 1)
