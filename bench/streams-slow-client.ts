// A slow SSE client: one stream read at --slow-bytes-per-s (1 KiB/s: the
// socket is left paused and 1 KiB is taken from it each second) on a topic
// written at --mib-per-s, with --normal-clients full-speed streams alongside
// (their latency and completeness show whether they were slowed). Samples the
// whole proxy's RSS (primary + workers) and its librdkafka clients every
// second, then lets the slow client read at full speed for --catch-up-s and
// records what happened to it: ended with an error event carrying the id to
// resume from, or detached onto a reader of its own (one more librdkafka
// client in the proxy), or still reading the shared window. Prints the memory
// bound the configuration sets next to the RSS measured.
//
// The compiled proxy (dist/, built first unless --no-build) runs with its
// cluster of workers against a broker started here; the producer and the
// normal clients are child processes of this script (--role); the slow client
// runs here.
//
// Run: node --import tsx bench/streams-slow-client.ts [--mib-per-s 10] [--seconds 60]
//   [--bytes 1024] [--slow-bytes-per-s 1024] [--normal-clients 2] [--catch-up-s 10]
//   [--partitions 1] [--linger-ms 5] [--client-buffer-bytes N] [--max-readers N]
//   [--workers N] [--no-build]
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { defaultConfig } from '../src/config/schema.js'
import { rssOf, sleep } from './lib.js'
import {
  clientsRole, environment, heapOf, Histogram, librdkafkaClients, MIB, openSse, producerRole, report, runRole, SseScanner, withStreamsBench,
  type ClientsArgs, type ClientsResult, type ProducerArgs, type ProducerResult
} from './streams-lib.js'

const SCRIPT = fileURLToPath(import.meta.url)
await runRole({ producer: producerRole, clients: clientsRole })

const { values: flags } = parseArgs({
  options: {
    'mib-per-s': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '60' },
    bytes: { type: 'string', default: '1024' },
    'slow-bytes-per-s': { type: 'string', default: '1024' },
    'normal-clients': { type: 'string', default: '2' },
    'catch-up-s': { type: 'string', default: '10' },
    partitions: { type: 'string', default: '1' },
    'linger-ms': { type: 'string', default: String(defaultConfig().producer.linger_ms) },
    'client-buffer-bytes': { type: 'string' },
    'max-readers': { type: 'string' },
    workers: { type: 'string' },
    'no-build': { type: 'boolean', default: false }
  }
})
const BYTES = Number(flags.bytes)
const RATE = Math.round(Number(flags['mib-per-s']) * MIB / BYTES)
const SECONDS = Number(flags.seconds)
const EXPECTED = Math.round(RATE * SECONDS)
const SLOW_BYTES = Number(flags['slow-bytes-per-s'])
const NORMAL = Number(flags['normal-clients'])
const TOPIC = 'streams-slow'
const env: Record<string, string> = {
  ...(flags['client-buffer-bytes'] === undefined ? {} : { KAFKA_PROXY_STREAMS__CLIENT_BUFFER_BYTES: flags['client-buffer-bytes'] }),
  ...(flags['max-readers'] === undefined ? {} : { KAFKA_PROXY_STREAMS__MAX_READERS: flags['max-readers'] }),
  ...(flags.workers === undefined ? {} : { KAFKA_PROXY_SERVER__WORKERS: flags.workers })
}

/** What bounds the proxy's memory here, from its configuration (src/streams/tail.ts, reader.ts, pump.ts). */
function bound (): Record<string, unknown> {
  const config = defaultConfig()
  const windowBytes = Number(flags['client-buffer-bytes'] ?? config.streams.client_buffer_bytes)
  const prefetch = config.consumer.prefetch_max_bytes
  const workers = Number(flags.workers ?? os.availableParallelism())
  // src/streams/routes.ts BATCH_BYTES: a stream reads its next batch only once the last one was taken by the socket.
  const batchBytes = MIB
  const sysctl = (name: string): number => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2])
  // Per worker: the tail's window, the tail's reader and one detached reader,
  // each holding up to its queued.max.messages.kbytes plus one fetch response
  // of fetch.max.bytes; the slow stream's one batch waiting in its socket's write buffer.
  const readerBytes = 2 * Math.max(prefetch, MIB)
  const perWorker = windowBytes + 2 * readerBytes
  return {
    'streams.client_buffer_bytes': windowBytes,
    'consumer.prefetch_max_bytes': prefetch,
    'reader queued.max.messages.kbytes': Math.ceil(prefetch / 1024),
    'reader fetch.max.bytes': Math.max(prefetch, MIB),
    streamBatchBytes: batchBytes,
    'streams.max_readers': Number(flags['max-readers'] ?? config.streams.max_readers),
    workers,
    recordBytesPerWorkerBound: perWorker,
    recordBytesWholeProxyBound: workers * perWorker + batchBytes,
    rule: 'per worker: window (client_buffer_bytes) + 2 readers (the tail and one detached stream) x (queued.max.messages.kbytes + fetch.max.bytes); plus the slow stream\'s one batch (<= 1 MiB of record bytes, more as JSON) in its socket\'s write buffer. Record bytes only: V8 objects and allocator slack come on top',
    outsideRss: { 'server tcp_wmem max': sysctl('tcp_wmem'), 'client tcp_rmem max': sysctl('tcp_rmem'), note: 'kernel socket buffers between the proxy and the slow client, not counted in RSS' }
  }
}

await withStreamsBench({ env, topics: [{ name: TOPIC, partitions: Number(flags.partitions) }], build: flags['no-build'] !== true }, async (bench) => {
  const url = bench.streamUrl(TOPIC, 'format=string')
  const normal = NORMAL > 0 ? bench.spawn<ClientsResult>(SCRIPT, 'clients', { url, clients: NORMAL, expected: EXPECTED, warmup: 0 } satisfies ClientsArgs) : null
  await normal?.ready

  let last = -1
  let gaps = 0
  const slowScanner = new SseScanner((seq) => {
    if (last >= 0 && seq !== last + 1) gaps++
    last = seq
  })
  const slow = await openSse(url, slowScanner, { paused: true })
  const res = slow.res
  while (!slowScanner.started && !slow.closed) {
    const c = res.read() as Buffer | null
    if (c !== null) slowScanner.feed(c)
    else await once(res, 'readable')
  }
  const throttle = setInterval(() => {
    const n = Math.min(SLOW_BYTES, res.readableLength)
    if (n > 0) slowScanner.feed(res.read(n) as Buffer)
    else res.read(0)
  }, 1000)

  const started = performance.now()
  let phase = 'slow'
  const timeline: Array<{ t: number, phase: string, rssMiB: number, librdkafkaClients: number, slowRecords: number, slowBytes: number }> = []
  const sample = (): void => {
    const pids = bench.pids()
    timeline.push({ t: Math.round((performance.now() - started) / 1000), phase, rssMiB: Math.round(rssOf(pids) / MIB), librdkafkaClients: librdkafkaClients(pids), slowRecords: slowScanner.records, slowBytes: slowScanner.bytes })
  }
  sample()
  const sampler = setInterval(sample, 1000)

  const producer = bench.spawn<ProducerResult>(SCRIPT, 'producer', { bootstrap: bench.bootstrap, topic: TOPIC, rate: RATE, seconds: SECONDS, bytes: BYTES, lingerMs: Number(flags['linger-ms']) } satisfies ProducerArgs)
  const produced = await producer.result
  clearInterval(throttle)
  sample()
  const afterSlow = {
    records: slowScanner.records,
    bytesRead: slowScanner.bytes,
    behindRecords: produced.sent - (last + 1),
    behindRecordBytes: (produced.sent - (last + 1)) * BYTES,
    open: !slow.closed,
    errorEvent: slowScanner.error,
    librdkafkaClients: timeline.at(-1)?.librdkafkaClients
  }

  // Catch-up: the slow client reads at full speed; the proxy meets it at its position.
  phase = 'catch-up'
  const clientsBefore = librdkafkaClients(bench.pids())
  res.on('data', (c: Buffer) => slowScanner.feed(c))
  res.resume()
  const until = performance.now() + Number(flags['catch-up-s']) * 1000
  while (performance.now() < until && !slow.closed && last + 1 < produced.sent) await sleep(100)
  sample()
  clearInterval(sampler)
  const catchUpMaxClients = Math.max(...timeline.filter((s) => s.phase === 'catch-up').map((s) => s.librdkafkaClients))
  const heapMiB = await heapOf(bench.proxy.url)
  normal?.stop()
  const others = normal === null ? null : await normal.result
  slow.req.destroy()

  let outcome: Record<string, unknown>
  if (slowScanner.error !== null) {
    const body = JSON.parse(slowScanner.error) as { error_code?: number, retriable?: boolean, id?: string, message?: string }
    outcome = { what: 'ended with an error event carrying the id to resume from', errorCode: body.error_code, retriable: body.retriable, id: body.id, position: body.id === undefined ? undefined : Buffer.from(body.id, 'base64url').toString(), message: body.message }
  } else if (slow.closed) {
    outcome = { what: 'closed by the proxy without an error event' }
  } else if (catchUpMaxClients > clientsBefore) {
    outcome = { what: 'detached onto a reader of its own (one more librdkafka client in the proxy while it caught up)', librdkafkaClients: { before: clientsBefore, max: catchUpMaxClients } }
  } else {
    outcome = { what: 'still read from the shared window (no extra librdkafka client)', librdkafkaClients: { before: clientsBefore, max: catchUpMaxClients } }
  }
  const slowPhase = timeline.filter((s) => s.phase === 'slow').map((s) => s.librdkafkaClients)
  outcome.whileSlow = !afterSlow.open || afterSlow.errorEvent !== null
    ? 'ended while slow'
    : Math.max(...slowPhase) > (slowPhase[0] as number)
      ? 'detached onto a reader of its own while slow (one more librdkafka client in the proxy)'
      : 'held: no extra librdkafka client while slow; its stream waits for the socket to drain before it reads its next batch'
  outcome.catchUp = { seconds: Number(flags['catch-up-s']), records: slowScanner.records, nextSeq: last + 1, of: produced.sent, gapsInSequence: gaps }

  const rss = timeline.map((s) => s.rssMiB)
  const normalLatency = new Histogram()
  if (others !== null) normalLatency.merge(others.latency)
  const result = {
    scenario: 'streams-slow-client',
    environment: environment(env),
    load: { mibPerSecond: Number(flags['mib-per-s']), recordsPerSecond: RATE, bytes: BYTES, seconds: SECONDS, partitions: Number(flags.partitions), slowBytesPerSecond: SLOW_BYTES, normalClients: NORMAL },
    producer: produced,
    proxyRssMiB: { start: rss[0], endOfSlowPhase: timeline.filter((s) => s.phase === 'slow').at(-1)?.rssMiB, end: rss.at(-1), max: Math.max(...rss), endHeapMiB: heapMiB },
    bound: bound(),
    slowClient: { afterSlowPhase: afterSlow, outcome },
    normalClients: others === null ? null : { latencyMs: normalLatency.summary(), lost: others.lost, duplicated: others.duplicated, minRecords: others.minRecords, endedEarly: others.endedEarly, errorEvents: others.errorEvents },
    timeline
  }
  const normalOk = others === null || (others.lost === 0 && others.duplicated === 0 && others.endedEarly === 0 && others.errorEvents.length === 0)
  const ok = normalOk && produced.errors === 0 && produced.acked === EXPECTED && gaps === 0
  const b = result.bound as { recordBytesWholeProxyBound: number }
  const nl = result.normalClients?.latencyMs
  report(result, `streams-slow-client: ${flags['mib-per-s']} MiB/s for ${SECONDS} s, slow client at ${SLOW_BYTES} B/s: proxy RSS start ${result.proxyRssMiB.start} max ${result.proxyRssMiB.max} end ${result.proxyRssMiB.end} MiB ` +
    `(record bytes bound ${Math.round(b.recordBytesWholeProxyBound / MIB)} MiB + runtime); slow client ${afterSlow.behindRecords} records behind, then: ${String(outcome.what)}; ` +
    `${NORMAL} normal clients: ${others === null ? '-' : `lost ${others.lost}, p99 ${nl?.p99 ?? '-'} ms`}; ${ok ? 'no errors' : 'ERRORS'}`)
  return ok
})
