// librdkafka's own statistics of the producer (the `statistics.interval.ms`
// property; its JSON is documented in librdkafka's STATISTICS.md) as gauges:
// per broker the round-trip time of the last window, requests waiting to be
// sent and requests in flight; the producer's queue; per topic the average
// batch. Only the last emitted statistics are kept, parsed when they arrive
// (every interval, on the event loop), and read at scrape time.
import { registerGauge, OTHER_TOPICS } from './registry.js'

interface Window {
  avg?: number
  p99?: number
}

interface BrokerStats {
  nodeid?: number
  outbuf_cnt?: number
  waitresp_cnt?: number
  rtt?: Window
}

interface TopicStats {
  batchsize?: Window
  batchcnt?: Window
}

interface Statistics {
  msg_cnt?: number
  msg_size?: number
  brokers?: Record<string, BrokerStats>
  topics?: Record<string, TopicStats>
}

interface Reading {
  brokers: Array<{ broker: string, rttAvg: number, rttP99: number, outbuf: number, inflight: number }>
  queueMessages: number
  queueBytes: number
  topics: Array<{ topic: string, batchBytes: number, batchRecords: number }>
}

const EMPTY: Reading = { brokers: [], queueMessages: 0, queueBytes: 0, topics: [] }

const US = 1e-6

/** The statistics JSON as the readings the gauges give; topics past `maxTopics` are left out. */
export function readStatistics (json: string, maxTopics: number): Reading {
  const stats = JSON.parse(json) as Statistics
  const brokers: Reading['brokers'] = []
  for (const b of Object.values(stats.brokers ?? {})) {
    // Bootstrap entries (nodeid -1) are connections, not brokers of the cluster.
    if (typeof b.nodeid !== 'number' || b.nodeid < 0) continue
    brokers.push({
      broker: String(b.nodeid),
      rttAvg: (b.rtt?.avg ?? 0) * US,
      rttP99: (b.rtt?.p99 ?? 0) * US,
      outbuf: b.outbuf_cnt ?? 0,
      inflight: b.waitresp_cnt ?? 0
    })
  }
  const topics: Reading['topics'] = []
  for (const [topic, t] of Object.entries(stats.topics ?? {})) {
    if (topics.length >= maxTopics) break
    if (topic === OTHER_TOPICS) continue
    topics.push({ topic, batchBytes: t.batchsize?.avg ?? 0, batchRecords: t.batchcnt?.avg ?? 0 })
  }
  return { brokers, queueMessages: stats.msg_cnt ?? 0, queueBytes: stats.msg_size ?? 0, topics }
}

/**
 * Registers the gauges; returns the listener for the producer's statistics
 * events (`{ message: json }`).
 */
export function producerStatistics (maxTopics: number): (event: { message?: unknown }) => void {
  let last = EMPTY
  const perBroker = (pick: (b: Reading['brokers'][number]) => number) => () => last.brokers.map((b) => ({ labels: { broker: b.broker }, value: pick(b) }))
  const perTopic = (pick: (t: Reading['topics'][number]) => number) => () => last.topics.map((t) => ({ labels: { topic: t.topic }, value: pick(t) }))
  registerGauge({ name: 'librdkafka_broker_rtt_avg_seconds', help: 'Average round-trip time to each broker over the last statistics window (librdkafka rtt.avg).', labelNames: ['broker'], aggregator: 'average', read: perBroker((b) => b.rttAvg) })
  registerGauge({ name: 'librdkafka_broker_rtt_p99_seconds', help: 'p99 round-trip time to each broker over the last statistics window, worst process (librdkafka rtt.p99).', labelNames: ['broker'], aggregator: 'max', read: perBroker((b) => b.rttP99) })
  registerGauge({ name: 'librdkafka_broker_outbuf_requests', help: 'Produce requests waiting to be sent to each broker (librdkafka outbuf_cnt).', labelNames: ['broker'], read: perBroker((b) => b.outbuf) })
  registerGauge({ name: 'librdkafka_broker_inflight_requests', help: 'Requests sent to each broker and awaiting a response (librdkafka waitresp_cnt).', labelNames: ['broker'], read: perBroker((b) => b.inflight) })
  registerGauge({ name: 'librdkafka_producer_queue_messages', help: 'Records in the producers\' queues, not yet acknowledged (librdkafka msg_cnt).', read: () => last.queueMessages })
  registerGauge({ name: 'librdkafka_producer_queue_bytes', help: 'Bytes of the records in the producers\' queues (librdkafka msg_size).', read: () => last.queueBytes })
  registerGauge({ name: 'librdkafka_topic_batch_bytes_avg', help: 'Average produce batch size per topic over the last statistics window (librdkafka batchsize.avg).', labelNames: ['topic'], aggregator: 'average', read: perTopic((t) => t.batchBytes) })
  registerGauge({ name: 'librdkafka_topic_batch_records_avg', help: 'Average records per produce batch per topic over the last statistics window (librdkafka batchcnt.avg).', labelNames: ['topic'], aggregator: 'average', read: perTopic((t) => t.batchRecords) })
  return (event) => {
    if (typeof event.message !== 'string') return
    try {
      last = readStatistics(event.message, maxTopics)
    } catch {
      // A malformed statistics document keeps the previous reading.
    }
  }
}
