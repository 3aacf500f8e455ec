import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HistogramCell, HotCounter, HotHistogram } from '../../src/metrics/registry.js'
import { render } from '../../src/metrics/cluster.js'
import { readStatistics } from '../../src/metrics/kafka-stats.js'
import { readScrape } from '../helpers/prometheus.js'

test('a histogram cell counts a value equal to a bound in that bound\'s bucket (le)', () => {
  const cell = new HistogramCell([0.001, 0.01])
  for (const v of [0.0005, 0.001, 0.005, 0.01, 0.5]) cell.observe(v)
  assert.deepEqual([...cell.counts], [2, 2, 1])
  assert.equal(cell.count, 5)
})

test('hot families merge over processes: counters and histograms are summed per label set', async () => {
  const a = new HotCounter('t_requests_total', 'h', ['route'])
  const b = new HotCounter('t_requests_total', 'h', ['route'])
  a.child('/x').value += 2
  b.child('/x').value += 3
  b.child('/y').value += 1
  const ha = new HotHistogram('t_seconds', 'h', ['route'], [0.1, 1])
  const hb = new HotHistogram('t_seconds', 'h', ['route'], [0.1, 1])
  ha.child('/x').observe(0.05)
  hb.child('/x').observe(0.5)
  hb.child('/x').observe(5)
  const text = await render([[a.toJSON(), ha.toJSON()], [b.toJSON(), hb.toJSON()]] as never, false)
  const m = readScrape(text)
  assert.equal(m.value('t_requests_total', { route: '/x' }), 5)
  assert.equal(m.value('t_requests_total', { route: '/y' }), 1)
  assert.equal(m.value('t_seconds_bucket', { route: '/x', le: '0.1' }), 1)
  assert.equal(m.value('t_seconds_bucket', { route: '/x', le: '1' }), 2)
  assert.equal(m.value('t_seconds_bucket', { route: '/x', le: '+Inf' }), 3)
  assert.equal(m.histogramCount('t_seconds', { route: '/x' }), 3)
  assert.equal(m.value('t_seconds_sum', { route: '/x' }), 5.55)
})

test('OpenMetrics: counter families without _total, samples with it, and # EOF', async () => {
  const c = new HotCounter('t_records_total', 'h', [])
  c.child().value = 7
  const text = await render([[c.toJSON()]] as never, true)
  assert.match(text, /^# TYPE t_records counter$/m)
  assert.match(text, /^t_records_total 7$/m)
  assert.ok(text.endsWith('# EOF\n'))
})

test('librdkafka statistics: brokers by node id (bootstrap entries left out), times in seconds, topics capped', () => {
  const json = JSON.stringify({
    msg_cnt: 3,
    msg_size: 300,
    brokers: {
      '127.0.0.1:9092/bootstrap': { nodeid: -1, rtt: { avg: 9, p99: 9 } },
      '127.0.0.1:9092/1': { nodeid: 1, outbuf_cnt: 2, waitresp_cnt: 4, rtt: { avg: 1500, p99: 20000 } }
    },
    topics: { a: { batchsize: { avg: 1000 }, batchcnt: { avg: 10 } }, b: { batchsize: { avg: 1 }, batchcnt: { avg: 1 } } }
  })
  const r = readStatistics(json, 1)
  assert.deepEqual(r.brokers, [{ broker: '1', rttAvg: 0.0015, rttP99: 0.02, outbuf: 2, inflight: 4 }])
  assert.equal(r.queueMessages, 3)
  assert.equal(r.queueBytes, 300)
  assert.deepEqual(r.topics, [{ topic: 'a', batchBytes: 1000, batchRecords: 10 }])
})

test('the test parser reads label escapes and refuses malformed lines', () => {
  const m = readScrape('# TYPE x gauge\nx{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 1.5\n')
  assert.deepEqual(m.samples[0]?.labels, { a: 'q"uote', b: 'back\\slash', c: 'new\nline' })
  assert.throws(() => readScrape('x{a="1" 2\n'))
  assert.throws(() => readScrape('x{a=1} 2\n'))
})
