// /metrics of the real entry point (cluster primary + 2 workers): one scrape
// sees every process, and the counts match the traffic sent, whichever
// worker each request (a new connection each) landed on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, eventually, uniqueName } from '../helpers/kafka.js'
import { bootProxy } from '../helpers/process.js'
import { BINARY_V2, V2, createConsumer, deleteConsumer, readUntil, request, subscribe } from '../helpers/consumers.js'
import { scrape } from '../helpers/prometheus.js'

const P = 'kafka_proxy_'
const CLOSE = { connection: 'close' }

async function produce (url: string, topic: string, values: Buffer[]): Promise<any> {
  const res = await request('POST', `${url}/topics/${topic}`, {
    headers: { ...CLOSE, 'content-type': BINARY_V2, accept: V2 },
    body: { records: values.map((v) => ({ value: v.toString('base64') })) }
  })
  assert.equal(res.status, 200, res.text)
  return res.body
}

test('one scrape of /metrics counts the traffic of both worker processes', async (t) => {
  const topic = uniqueName('metrics')
  const group = uniqueName('metrics-group')
  await createTopic(topic, 2)
  const proxy = await bootProxy(t, {
    env: {
      KAFKA_PROXY_METRICS__KAFKA_STATISTICS_INTERVAL_MS: '500',
      // 100 records of 100 B are about 14 KB of JSON: decoded in the worker pool.
      KAFKA_PROXY_POOL__OFFLOAD_THRESHOLD_BYTES: '4096',
      KAFKA_PROXY_CONSUMER__REQUEST_TIMEOUT_MS: '1000'
    }
  })
  const url = proxy.url

  // 1,000 records of 100 B in 10 requests, each on a new connection, so the
  // cluster's round-robin spreads them over both workers.
  const value = Buffer.alloc(100, 'v')
  for (let i = 0; i < 10; i++) {
    const body = await produce(url, topic, Array.from({ length: 100 }, () => value))
    assert.ok(body.offsets.every((o: any) => o.error_code === null))
  }
  // One record over the producer's message.max.bytes fails on its own, with its own error_code.
  const refused = await produce(url, topic, [Buffer.alloc(1_100_000, 'x')])
  const refusedCode = refused.offsets[0].error_code as number
  assert.equal(typeof refusedCode, 'number', JSON.stringify(refused.offsets[0]))
  // Requests no route matches.
  for (let i = 0; i < 3; i++) {
    const res = await request('GET', `${url}/no/such/path`, { headers: CLOSE })
    assert.equal(res.status, 404)
  }

  const consumer = await createConsumer(url, group, { format: 'binary', 'auto.offset.reset': 'earliest' })
  await subscribe(consumer, [topic])
  const read = await readUntil(consumer, 1000, { deadlineMs: 30_000 })
  assert.equal(read.length, 1000)

  // The statistics arrive every 500 ms from each worker's producer.
  const m = await eventually(async () => {
    const s = await scrape(url)
    return s.value(`${P}librdkafka_broker_rtt_avg_seconds`) !== undefined ? s : undefined
  }, { timeoutMs: 15_000, what: 'librdkafka statistics in /metrics' })

  // Produce: every record, whichever worker took its request; bytes are key + value.
  assert.equal(m.value(`${P}produce_records_total`, { topic }), 1000)
  assert.equal(m.value(`${P}produce_bytes_total`, { topic }), 100_000)
  assert.equal(m.value(`${P}produce_record_errors_total`, { topic, code: String(refusedCode) }), 1)
  assert.equal(m.value(`${P}consume_records_total`, { api: 'v2', topic }), 1000)
  assert.equal(m.value(`${P}consume_bytes_total`, { api: 'v2', topic }), 100_000)

  // HTTP: by route template, method and status class; unmatched paths under one label.
  const produceRoute = { route: '/topics/{topic}', method: 'POST', status_class: '2xx' }
  assert.equal(m.value(`${P}http_requests_total`, produceRoute), 11)
  assert.equal(m.histogramCount(`${P}http_request_duration_seconds`, produceRoute), 11)
  assert.equal(m.value(`${P}http_requests_total`, { route: 'unmatched', method: 'GET', status_class: '4xx' }), 3)
  assert.equal(m.value(`${P}http_requests_total`, { route: '/consumers/{group}', method: 'POST', status_class: '2xx' }), 1)
  assert.ok(m.labelSets(`${P}http_requests_total`).every((l) => !('instance' in l) && !l.route?.includes(topic)), 'no topic names or ids in route labels')
  assert.equal(m.types.get(`${P}http_request_duration_seconds`), 'histogram')
  const buckets = m.bucketBounds(`${P}http_request_duration_seconds`)
  assert.ok(buckets.includes(0.0001) && buckets.includes(10) && buckets.includes(Infinity), `sub-millisecond to seconds buckets: ${buckets.join(',')}`)

  // Subsystem gauges, summed over the workers.
  assert.equal(m.value(`${P}v2_consumer_instances`), 1)
  assert.equal(m.value(`${P}kafka_reachable`), 1)
  assert.equal(m.value(`${P}pool_queue_depth`), 0)
  assert.ok((m.value(`${P}pool_threads`) ?? 0) >= 2)
  assert.ok((m.histogramCount(`${P}pool_task_duration_seconds`) ?? 0) >= 10, 'produce bodies were decoded in the pool')

  // Per process: the primary and both workers.
  const processes = new Set(m.labelSets(`${P}event_loop_utilization`).map((l) => l.process))
  assert.deepEqual([...processes].sort(), ['primary', 'worker-0', 'worker-1'])
  for (const name of ['nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes', 'process_cpu_seconds_total']) {
    assert.deepEqual(new Set(m.labelSets(name).map((l) => l.process)), processes, name)
  }
  assert.equal(new Set(m.labelSets(`${P}pool_utilization`).map((l) => l.process)).size, 2)
  assert.equal(m.types.get('nodejs_gc_duration_seconds'), 'histogram')
  assert.ok((m.histogramCount('nodejs_gc_duration_seconds') ?? 0) > 0, 'GC pauses observed')

  // librdkafka statistics of the producers, per broker id.
  for (const name of ['librdkafka_broker_rtt_avg_seconds', 'librdkafka_broker_rtt_p99_seconds', 'librdkafka_broker_inflight_requests', 'librdkafka_broker_outbuf_requests']) {
    const sets = m.labelSets(`${P}${name}`)
    assert.ok(sets.length > 0 && sets.every((l) => /^\d+$/.test(l.broker ?? '')), `${name}: ${JSON.stringify(sets)}`)
  }
  assert.notEqual(m.value(`${P}librdkafka_producer_queue_messages`), undefined)
  assert.ok((m.value(`${P}librdkafka_topic_batch_records_avg`, { topic }) ?? 0) >= 0)

  await deleteConsumer(consumer)
  const after = await scrape(url)
  assert.equal(after.value(`${P}v2_consumer_instances`), 0)

  // OpenMetrics when the scraper asks for it, as Prometheus does.
  const om = await fetch(`${url}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } })
  assert.equal(om.status, 200)
  assert.match(om.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/)
  const omText = await om.text()
  assert.ok(omText.endsWith('# EOF\n'))
  assert.match(omText, /^# TYPE kafka_proxy_produce_records counter$/m)
  assert.match(omText, new RegExp(`^kafka_proxy_produce_records_total\\{topic="${topic}"\\} 1000$`, 'm'))
  const plain = await fetch(`${url}/metrics`, { headers: { accept: 'text/plain' } })
  assert.equal(plain.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')

  // /metrics is not part of the API's OpenAPI document.
  const doc = await (await fetch(`${url}/openapi.json`)).json() as { paths: Record<string, unknown> }
  assert.equal(doc.paths['/metrics'], undefined)
})

test('topic labels are capped: further topics count under topic="(other)"', async (t) => {
  const topics = [uniqueName('cap-a'), uniqueName('cap-b'), uniqueName('cap-c')]
  for (const topic of topics) await createTopic(topic, 1)
  const proxy = await bootProxy(t, { workers: 1, env: { KAFKA_PROXY_METRICS__MAX_TOPIC_LABELS: '1' } })
  for (const topic of topics) await produce(proxy.url, topic, [Buffer.from('a'), Buffer.from('b')])
  const m = await scrape(proxy.url)
  assert.equal(m.value(`${P}produce_records_total`, { topic: topics[0] as string }), 2)
  assert.equal(m.value(`${P}produce_records_total`, { topic: '(other)' }), 4)
  assert.equal(m.labelSets(`${P}produce_records_total`).length, 2)
})

test('metrics.enabled = false: /metrics answers 404', async (t) => {
  const proxy = await bootProxy(t, { workers: 1, env: { KAFKA_PROXY_METRICS__ENABLED: 'false' } })
  const res = await fetch(`${proxy.url}/metrics`)
  assert.equal(res.status, 404)
})
