// Fan-out latency: --clients SSE streams on one topic written at --rate
// records/s, next to a native librdkafka consumer with the proxy's own
// stream-reader properties (src/kafka/options.ts readerProperties) reading the
// same topic at the same time. Every record carries its send time; each
// receiver notes when it arrived. Reports p50/p99/p999 of the delivery latency
// of the proxy's clients and of the native consumer, and the added p99
// (proxy - native). Target: added p99 <= 20 ms, and every client gets every
// record once.
//
// Processes: the compiled proxy (dist/, built first unless --no-build) with
// its cluster of workers, the stamping producer, --client-procs processes of
// SSE clients (raw http, a minimal scanner) and the native consumer, each a
// child of this script (--role), so none shares the proxy's CPU time.
// Records sent in the first --warmup-s are counted but not timed.
//
// Run: node --import tsx bench/streams-fanout-latency.ts [--clients 100] [--rate 2000]
//   [--seconds 30] [--partitions 1] [--bytes 100] [--client-procs 2] [--linger-ms 0]
//   [--warmup-s 1] [--drain-s 15] [--workers N] [--no-build]
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/schema.js'
import { KafkaConsumer, type ConsumerClient, type ConsumerMessage } from '../src/kafka/binding.js'
import { readerProperties } from '../src/kafka/options.js'
import { cpuSeconds, sleep } from './lib.js'
import {
  clientsRole, environment, Histogram, now, parseStamp, producerRole, report, runRole, Tally, withStreamsBench,
  type ClientsArgs, type ClientsResult, type ProducerArgs, type ProducerResult, type Role
} from './streams-lib.js'

const SCRIPT = fileURLToPath(import.meta.url)

interface NativeArgs {
  bootstrap: string
  topic: string
  partitions: number
  expected: number
  warmup: number
}

interface NativeResult {
  received: number
  lost: number
  duplicated: number
  foreign: number
  latency: Array<[number, number]>
  settings: Record<string, unknown>
}

/**
 * The native baseline: one librdkafka consumer with the properties and the
 * consume steps of the proxy's stream readers (src/streams/reader.ts:
 * assign(), consume(consumer.max_poll_records) with a 100 ms timeout that
 * applies to the first record only), timing each batch as it reaches JavaScript.
 */
const nativeRole: Role = async (a: NativeArgs, io): Promise<NativeResult> => {
  const config = defaultConfig()
  const props = readerProperties({ ...config.kafka, bootstrap_servers: a.bootstrap }, config.consumer)
  const consumer = new KafkaConsumer(props.global, props.topic) as ConsumerClient
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  consumer.setDefaultIsTimeoutOnlyForFirstMessage(true)
  consumer.setDefaultConsumeTimeout(100)
  // The topic is new and empty: offset 0 is its head.
  consumer.assign(Array.from({ length: a.partitions }, (_, partition) => ({ topic: a.topic, partition, offset: 0 })))
  const latency = new Histogram()
  const tally = new Tally(a.expected, a.warmup, latency)
  io.ready()
  while (!io.isStopped() && !tally.complete) {
    const batch = await new Promise<ConsumerMessage[]>((resolve, reject) => consumer.consume(config.consumer.max_poll_records, (err, m) => err ? reject(err) : resolve(m)))
    const received = now()
    for (const m of batch) {
      const stamp = m.value == null ? null : parseStamp(m.value.toString('latin1', 0, 48), 0)
      if (stamp !== null) tally.record(stamp.seq, stamp.sent, received)
    }
  }
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  return {
    received: tally.distinct + tally.duplicated,
    lost: tally.expected - tally.distinct,
    duplicated: tally.duplicated,
    foreign: tally.foreign,
    latency: latency.pairs(),
    settings: { ...props.global, ...props.topic, 'bootstrap.servers': undefined, consume: `assign(); consume(${config.consumer.max_poll_records}) with a 100 ms timeout for the first record only` }
  }
}

await runRole({ producer: producerRole, clients: clientsRole, native: nativeRole })

const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '30' },
    partitions: { type: 'string', default: '1' },
    bytes: { type: 'string', default: '100' },
    'client-procs': { type: 'string', default: '2' },
    'linger-ms': { type: 'string', default: '0' },
    'warmup-s': { type: 'string', default: '1' },
    'drain-s': { type: 'string', default: '15' },
    workers: { type: 'string' },
    'no-build': { type: 'boolean', default: false }
  }
})
const CLIENTS = Number(flags.clients)
const RATE = Number(flags.rate)
const SECONDS = Number(flags.seconds)
const PARTITIONS = Number(flags.partitions)
const PROCS = Math.max(1, Math.min(CLIENTS, Number(flags['client-procs'])))
const EXPECTED = Math.round(RATE * SECONDS)
const WARMUP = Math.round(RATE * Number(flags['warmup-s']))
const TARGET_ADDED_P99_MS = 20
const TOPIC = 'streams-fanout'
const env: Record<string, string> = flags.workers === undefined ? {} : { KAFKA_PROXY_SERVER__WORKERS: flags.workers }

await withStreamsBench({ env, topics: [{ name: TOPIC, partitions: PARTITIONS }], build: flags['no-build'] !== true }, async (bench) => {
  const url = bench.streamUrl(TOPIC, 'format=string')
  const groups = Array.from({ length: PROCS }, (_, i) => Math.floor(CLIENTS / PROCS) + (i < CLIENTS % PROCS ? 1 : 0))
  const clients = groups.map((n) => bench.spawn<ClientsResult>(SCRIPT, 'clients', { url, clients: n, expected: EXPECTED, warmup: WARMUP } satisfies ClientsArgs))
  const native = bench.spawn<NativeResult>(SCRIPT, 'native', { bootstrap: bench.bootstrap, topic: TOPIC, partitions: PARTITIONS, expected: EXPECTED, warmup: WARMUP } satisfies NativeArgs)
  await Promise.all([...clients.map((c) => c.ready), native.ready])
  const producer = bench.spawn<ProducerResult>(SCRIPT, 'producer', { bootstrap: bench.bootstrap, topic: TOPIC, rate: RATE, seconds: SECONDS, bytes: Number(flags.bytes), lingerMs: Number(flags['linger-ms']) } satisfies ProducerArgs)
  await producer.ready
  const cpuBefore = cpuSeconds(bench.pids())
  const wallBefore = performance.now()
  const produced = await producer.result
  const cpu = (cpuSeconds(bench.pids()) - cpuBefore) / ((performance.now() - wallBefore) / 1000)
  // Receivers finish by themselves once they have every record; the rest are stopped after --drain-s.
  const receivers = [...clients, native]
  await Promise.race([Promise.allSettled(receivers.map((r) => r.result)), sleep(Number(flags['drain-s']) * 1000)])
  for (const r of receivers) r.stop()
  const got = await Promise.all(clients.map((c) => c.result))
  const base = await native.result

  const proxyLatency = new Histogram()
  for (const g of got) proxyLatency.merge(g.latency)
  const nativeLatency = new Histogram()
  nativeLatency.merge(base.latency)
  const p = proxyLatency.summary()
  const n = nativeLatency.summary()
  const addedP99 = p === null || n === null ? null : Math.round((p.p99 - n.p99) * 100) / 100
  const sum = (f: (g: ClientsResult) => number): number => got.reduce((s, g) => s + f(g), 0)
  const delivery = {
    expectedPerClient: EXPECTED,
    lost: sum((g) => g.lost),
    duplicated: sum((g) => g.duplicated),
    foreign: sum((g) => g.foreign),
    clientsWithAll: got.reduce((s, g) => s + (g.minRecords === EXPECTED ? g.clients : 0), 0),
    minRecordsOfAClient: Math.min(...got.map((g) => g.minRecords)),
    endedEarly: sum((g) => g.endedEarly),
    errorEvents: got.flatMap((g) => g.errorEvents)
  }
  const result = {
    scenario: 'streams-fanout-latency',
    environment: environment(env),
    load: { clients: CLIENTS, clientProcesses: PROCS, rate: RATE, seconds: SECONDS, partitions: PARTITIONS, bytes: Number(flags.bytes), untimedWarmupRecords: WARMUP },
    producer: produced,
    proxy: { latencyMs: p, delivery, cpuCores: Math.round(cpu * 100) / 100 },
    clientProcessesCpuCores: got.map((g) => g.cpuCores),
    native: { latencyMs: n, received: base.received, lost: base.lost, duplicated: base.duplicated, settings: base.settings },
    addedP99Ms: addedP99,
    target: { addedP99Ms: TARGET_ADDED_P99_MS, met: addedP99 !== null && addedP99 <= TARGET_ADDED_P99_MS }
  }
  const complete = delivery.lost === 0 && delivery.duplicated === 0 && delivery.foreign === 0 && delivery.endedEarly === 0 && delivery.errorEvents.length === 0
  const ok = complete && produced.errors === 0 && produced.acked === EXPECTED && base.lost === 0 && base.duplicated === 0
  process.stdout.write(`native reader settings: ${JSON.stringify(base.settings)}\n`)
  const ms = (s: { p50: number, p99: number, p999: number } | null): string => s === null ? 'none' : `p50 ${s.p50} p99 ${s.p99} p999 ${s.p999} ms`
  report(result, `streams-fanout-latency: ${CLIENTS} clients x ${EXPECTED} records at ${RATE}/s: proxy ${ms(p)}; native ${ms(n)}; added p99 ${addedP99 ?? '-'} ms ` +
    `(target <= ${TARGET_ADDED_P99_MS}: ${result.target.met ? 'met' : 'NOT met'}); ${delivery.clientsWithAll}/${CLIENTS} clients got every record, ` +
    `lost ${delivery.lost}, duplicated ${delivery.duplicated}; ${ok ? 'no errors' : 'ERRORS'}`)
  return ok
})
