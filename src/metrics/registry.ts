// The metrics of one process. Two kinds of families live here:
//
// - Hot families (HTTP requests, produce and consume counts) are counted in
//   cells: a label set is bound once to a cell (a plain object with a number
//   field), and the hot path adds to that field. prom-client's own labelled
//   children hash their label values on every call (about 0.3 µs for a
//   counter, 0.5 µs for a histogram on this machine), which at tens of
//   thousands of requests a second is a measurable share of a produce, so the
//   cells are turned into prom-client's metric objects only when scraped.
// - Everything read rather than counted (gauges, process and runtime
//   statistics) is a prom-client metric in this process's Registry, whose
//   values are read when scraped.
//
// A scrape asks every process of the instance for `snapshot()` and merges
// them with prom-client's AggregatorRegistry (./cluster.ts): counters and
// histograms are summed over the processes; per-process families carry a
// `process` label (`primary`, `worker-<slot>`, a bounded set: a replaced
// worker takes its predecessor's slot) and stay apart.
//
// This module is process-wide state, as prom-client's own registry is: the
// subsystems that count import it, so that counting needs no plumbing
// through every constructor. configureMetrics() sets its limits once.
import { performance } from 'node:perf_hooks'
import client from 'prom-client'

/** One metric family as prom-client's getMetricsAsJSON() gives it (and AggregatorRegistry.aggregate takes it). */
export type MetricJson = Awaited<ReturnType<client.Registry['getMetricsAsJSON']>>[number]

type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit'

// The JSON shape prom-client's aggregator and formatter read (registry.js,
// metricAggregators.js): `type` as the text format's type name.
interface FamilyJson {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  aggregator: Aggregator
  values: Array<{ value: number, labels: Record<string, string | number>, metricName?: string }>
}

/** A counter's value for one label set; the hot path adds to `value`. */
export class CounterCell {
  value = 0
}

/** A histogram's buckets for one label set. */
export class HistogramCell {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor (private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe (v: number): void {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && v > (bounds[i] as number)) i++
    this.counts[i] = (this.counts[i] as number) + 1
    this.sum += v
    this.count++
  }
}

abstract class HotFamily<C> {
  private readonly cells = new Map<string, { labels: Record<string, string>, cell: C }>()

  constructor (readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  protected abstract make (): C

  /** The cell of one label set (in labelNames order); bind it once and keep it. */
  child (...values: string[]): C {
    const key = values.join('\u0000')
    let entry = this.cells.get(key)
    if (entry === undefined) {
      const labels: Record<string, string> = {}
      this.labelNames.forEach((n, i) => { labels[n] = values[i] ?? '' })
      entry = { labels, cell: this.make() }
      this.cells.set(key, entry)
    }
    return entry.cell
  }

  protected entries (): IterableIterator<{ labels: Record<string, string>, cell: C }> {
    return this.cells.values()
  }

  abstract toJSON (): FamilyJson
}

export class HotCounter extends HotFamily<CounterCell> {
  protected make (): CounterCell {
    return new CounterCell()
  }

  toJSON (): FamilyJson {
    const values = []
    for (const { labels, cell } of this.entries()) values.push({ value: cell.value, labels })
    return { name: this.name, help: this.help, type: 'counter', aggregator: 'sum', values }
  }
}

export class HotHistogram extends HotFamily<HistogramCell> {
  constructor (name: string, help: string, labelNames: readonly string[], readonly bounds: readonly number[]) {
    super(name, help, labelNames)
  }

  protected make (): HistogramCell {
    return new HistogramCell(this.bounds)
  }

  toJSON (): FamilyJson {
    const values: FamilyJson['values'] = []
    for (const { labels, cell } of this.entries()) {
      let cumulative = 0
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += cell.counts[i] as number
        values.push({ value: cumulative, labels: { ...labels, le: i < this.bounds.length ? this.bounds[i] as number : '+Inf' }, metricName: `${this.name}_bucket` })
      }
      values.push({ value: cell.sum, labels, metricName: `${this.name}_sum` })
      values.push({ value: cell.count, labels, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values }
  }
}

/** Every metric name starts with this. */
export const PREFIX = 'kafka_proxy_'

/**
 * Latency buckets in seconds: 100 µs to 10 s, about three per decade, so a
 * sub-millisecond produce and a 30-second long poll both land in a bucket
 * that says something.
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
]

/** The label value topics beyond metrics.max_topic_labels share; no topic can be named so (Kafka allows [a-zA-Z0-9._-]). */
export const OTHER_TOPICS = '(other)'

export interface MetricsOptions {
  enabled: boolean
  /** Distinct topic label values per family and process; the rest count as OTHER_TOPICS. */
  maxTopicLabels: number
}

let options: MetricsOptions = { enabled: true, maxTopicLabels: 100 }

/** The label value of this process: `primary` or `worker-<slot>`. */
let processLabel = 'primary'

/** The prom-client registry of this process (gauges, runtime statistics). */
export const registry = new client.Registry()

const hot: Array<HotFamily<unknown>> = []

function hotFamily<F extends HotFamily<unknown>> (family: F): F {
  hot.push(family)
  return family
}

export const httpRequests = hotFamily(new HotCounter(`${PREFIX}http_requests_total`,
  'HTTP requests answered, by route template (`unmatched` when no route matched), method and status class.',
  ['route', 'method', 'status_class']))

export const httpDuration = hotFamily(new HotHistogram(`${PREFIX}http_request_duration_seconds`,
  'Time from a request\'s arrival to its answer (for a stream, to its end), by route template, method and status class.',
  ['route', 'method', 'status_class'], LATENCY_BUCKETS))

const producedRecords = hotFamily(new HotCounter(`${PREFIX}produce_records_total`,
  'Records Kafka acknowledged, by topic.', ['topic']))
const producedBytes = hotFamily(new HotCounter(`${PREFIX}produce_bytes_total`,
  'Key and value bytes of the records Kafka acknowledged, by topic.', ['topic']))
const produceErrors = hotFamily(new HotCounter(`${PREFIX}produce_record_errors_total`,
  'Records that failed, by topic and the error_code their result carries.', ['topic', 'code']))
const consumedRecords = hotFamily(new HotCounter(`${PREFIX}consume_records_total`,
  'Records handed to clients, by API (v2 consumer instances, v3 reads, streams, webhooks) and topic.', ['api', 'topic']))
const consumedBytes = hotFamily(new HotCounter(`${PREFIX}consume_bytes_total`,
  'Key and value bytes of the records handed to clients, by API and topic.', ['api', 'topic']))

export const poolTaskDuration = hotFamily(new HotHistogram(`${PREFIX}pool_task_duration_seconds`,
  'Worker-pool tasks from submission to result (queue wait included), by task.', ['task'], LATENCY_BUCKETS))

interface TopicCells {
  records: CounterCell
  bytes: CounterCell
}

/** Cells per topic, up to the topic label limit; a Map lookup per batch on the hot path. */
class TopicIndex<T> {
  private readonly byTopic = new Map<string, T>()
  private other: T | null = null

  /** `make` gets the label value: the topic, or OTHER_TOPICS. */
  constructor (private readonly make: (label: string) => T) {}

  get (topic: string): T {
    const hit = this.byTopic.get(topic)
    if (hit !== undefined) return hit
    if (this.byTopic.size >= options.maxTopicLabels) {
      this.other ??= this.make(OTHER_TOPICS)
      return this.other
    }
    const made = this.make(topic)
    this.byTopic.set(topic, made)
    return made
  }
}

const produceIndex = new TopicIndex<TopicCells>((topic) => ({ records: producedRecords.child(topic), bytes: producedBytes.child(topic) }))
const produceErrorIndex = new TopicIndex((topic) => ({ topic, codes: new Map<number, CounterCell>() }))

/** Records of one produce batch that Kafka acknowledged. */
export function countProduced (topic: string, records: number, bytes: number): void {
  if (records === 0) return
  const cells = produceIndex.get(topic)
  cells.records.value += records
  cells.bytes.value += bytes
}

/** A record of `topic` that failed with `errorCode` (the error_code of its result). */
export function countProduceError (topic: string, errorCode: number): void {
  const { topic: label, codes } = produceErrorIndex.get(topic)
  let cell = codes.get(errorCode)
  if (cell === undefined) {
    cell = produceErrors.child(label, String(errorCode))
    codes.set(errorCode, cell)
  }
  cell.value++
}

/** Which API handed records to a client. */
export type ConsumeApi = 'v2' | 'v3' | 'stream' | 'webhook'

const consumeIndexes = new Map<ConsumeApi, TopicIndex<TopicCells>>()

/** The cells to count records `api` hands out for `topic`; look them up once per batch of one topic. */
export function consumeCells (api: ConsumeApi, topic: string): TopicCells {
  let index = consumeIndexes.get(api)
  if (index === undefined) {
    index = new TopicIndex((t) => ({ records: consumedRecords.child(api, t), bytes: consumedBytes.child(api, t) }))
    consumeIndexes.set(api, index)
  }
  return index.get(topic)
}

/** Records (and their key + value bytes) that `api` handed to a client. */
export function countConsumed (api: ConsumeApi, topic: string, records: number, bytes: number): void {
  const cells = consumeCells(api, topic)
  cells.records.value += records
  cells.bytes.value += bytes
}

/** A gauge's reading: one number, or one per label set. */
export type GaugeReading = number | ReadonlyArray<{ labels: Readonly<Record<string, string>>, value: number }>

export interface GaugeSpec {
  /** Without the `kafka_proxy_` prefix, snake_case, e.g. `streams_active`. */
  name: string
  help: string
  /** Label names of a reading with label sets; none for a single number. */
  labelNames?: readonly string[]
  /**
   * How the processes' values merge in a scrape: `sum` (the default) for
   * counts such as active streams, `max`/`min` for worst and best cases.
   */
  aggregator?: Aggregator
  /** `true`: one series per process, with a `process` label, instead of a merged one. */
  perProcess?: boolean
  /** Called at every scrape; must be cheap and must not throw. */
  read: () => GaugeReading
}

/**
 * Registers a gauge read at scrape time: the API for subsystems to report
 * their state (active streams, webhook subscriptions, consumer instances).
 * A name registered twice replaces the earlier reader (a test that starts
 * two servers in one process reports the later one).
 */
export function registerGauge (spec: GaugeSpec): void {
  const name = `${PREFIX}${spec.name}`
  const labelNames = [...(spec.labelNames ?? []), ...(spec.perProcess === true ? ['process'] : [])]
  registry.removeSingleMetric(name)
  const read = spec.read
  const perProcess = spec.perProcess === true
  // prom-client calls collect with the gauge as `this`.
  const gauge: client.Gauge = new client.Gauge({
    name,
    help: spec.help,
    labelNames,
    aggregator: spec.aggregator ?? 'sum',
    registers: [registry],
    collect () {
      gauge.reset()
      const reading = read()
      if (typeof reading === 'number') {
        if (perProcess) gauge.set({ process: processLabel }, reading)
        else gauge.set(reading)
        return
      }
      for (const { labels, value } of reading) gauge.set(perProcess ? { ...labels, process: processLabel } : labels, value)
    }
  })
}

let runtimeCollected = false

/**
 * Sets the limits and the process label, and starts the runtime statistics
 * of this process (CPU, RSS, heap, event-loop delay, GC pauses) once.
 */
export function configureMetrics (opts: MetricsOptions, label: string): void {
  options = opts
  processLabel = label
  if (!opts.enabled || runtimeCollected) return
  runtimeCollected = true
  client.collectDefaultMetrics({
    register: registry,
    labels: { process: label },
    // The delay histogram is sampled at this resolution (ms) and reset at
    // every scrape, so the p99 is that of the last scrape interval.
    eventLoopMonitoringPrecision: 10,
    gcDurationBuckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1]
  })
  let last = performance.eventLoopUtilization()
  registerGauge({
    name: 'event_loop_utilization',
    help: 'Share of the time since the previous scrape the event loop was busy (0 to 1), per process.',
    perProcess: true,
    read: () => {
      const now = performance.eventLoopUtilization()
      const since = performance.eventLoopUtilization(now, last)
      last = now
      return since.utilization
    }
  })
}

export function metricsEnabled (): boolean {
  return options.enabled
}

export function processName (): string {
  return processLabel
}

/** This process's families, as a scrape merges them. */
export async function snapshot (): Promise<MetricJson[]> {
  const families = await registry.getMetricsAsJSON()
  // FamilyJson is the shape prom-client's aggregator reads; its typings name
  // `type` by an enum that does not exist at run time.
  for (const family of hot) families.push(family.toJSON() as unknown as MetricJson)
  return families
}
