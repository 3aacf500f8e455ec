// One scrape for the whole instance. The public port is shared by every
// worker process, so a scrape lands on any one of them; that worker asks the
// primary, which collects every worker's snapshot (./registry.ts) over the
// cluster IPC channel, adds its own, merges them with prom-client's
// AggregatorRegistry and answers the text. A worker that does not answer
// in time is left out of that scrape rather than failing it: its counters
// reappear, whole, in the next one.
//
// Messages carry `type: 'metrics'`, apart from the directory's and the
// worker's `listening` announcement.
import cluster, { type Worker } from 'node:cluster'
import client from 'prom-client'
import { ProxyError } from '../errors.js'
import { snapshot, type MetricJson } from './registry.js'

export const PROMETHEUS_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE
export const OPENMETRICS_TYPE = client.Registry.OPENMETRICS_CONTENT_TYPE

/** Worker to primary: a scrape to answer, or the snapshot a collect asked for. */
type WorkerToPrimary =
  | { type: 'metrics', op: 'scrape', id: number, openMetrics: boolean }
  | { type: 'metrics', op: 'snapshot', id: number, families: MetricJson[] }

/** Primary to worker: a request for its snapshot, or the answer to its scrape. */
type PrimaryToWorker =
  | { type: 'metrics', op: 'collect', id: number }
  | { type: 'metrics', op: 'scraped', id: number, body: string }

/** How long the primary waits for the workers' snapshots. */
const COLLECT_TIMEOUT_MS = 2000
/** How long a worker waits for the primary's answer. */
const SCRAPE_TIMEOUT_MS = 5000

/** The text of merged snapshots, in Prometheus text format or OpenMetrics. */
export async function render (snapshots: MetricJson[][], openMetrics: boolean): Promise<string> {
  const merged = client.AggregatorRegistry.aggregate(openMetrics ? snapshots.map(openMetricsNames) : snapshots)
  merged.setContentType(openMetrics ? OPENMETRICS_TYPE : PROMETHEUS_TYPE)
  return await merged.metrics()
}

/**
 * OpenMetrics names a counter family without its `_total` suffix and only
 * its sample with it. prom-client's formatter renames the family, but on the
 * wrapper AggregatorRegistry.aggregate registers, not on the metric it
 * reads, so its samples would come out as `…_total_total`; the families are
 * renamed here, before merging.
 */
function openMetricsNames (families: MetricJson[]): MetricJson[] {
  return families.map((f) => String(f.type) === 'counter' && f.name.endsWith('_total') ? { ...f, name: f.name.slice(0, -'_total'.length) } : f)
}

function isMessage (msg: unknown): msg is { type: 'metrics', op: string, id: number } {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'metrics' && typeof (msg as { id?: unknown }).id === 'number'
}

/** The metrics of this process and, in a cluster worker, of every other process of the instance. */
export interface MetricsSource {
  scrape (openMetrics: boolean): Promise<string>
}

/** Through the primary in a cluster worker; this process alone otherwise (tests, a single process). */
export function metricsSource (): MetricsSource {
  if (!cluster.isWorker || process.send === undefined) {
    return { scrape: async (openMetrics) => await render([await snapshot()], openMetrics) }
  }
  return workerSource()
}

let worker: MetricsSource | null = null

function workerSource (): MetricsSource {
  if (worker !== null) return worker
  let nextId = 1
  const pending = new Map<number, { resolve: (body: string) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }>()
  const send = (msg: WorkerToPrimary): void => {
    process.send?.(msg, undefined, undefined, () => {})
  }
  process.on('message', (msg: unknown) => {
    if (!isMessage(msg)) return
    const m = msg as PrimaryToWorker
    if (m.op === 'collect') {
      snapshot().then((families) => send({ type: 'metrics', op: 'snapshot', id: m.id, families }), () => {})
    } else if (m.op === 'scraped') {
      const p = pending.get(m.id)
      if (p === undefined) return
      pending.delete(m.id)
      clearTimeout(p.timer)
      p.resolve(m.body)
    }
  })
  worker = {
    scrape: (openMetrics) => new Promise((resolve, reject) => {
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new ProxyError('internal', 'The primary did not answer the metrics scrape in time'))
      }, SCRAPE_TIMEOUT_MS)
      pending.set(id, { resolve, reject, timer })
      send({ type: 'metrics', op: 'scrape', id, openMetrics })
    })
  }
  return worker
}

/** What the primary needs of `node:cluster`. */
export interface MetricsHub {
  on (event: 'message', listener: (worker: Worker, msg: unknown) => void): unknown
  readonly workers?: NodeJS.Dict<Worker>
}

/**
 * Installed by the primary: answers each worker's scrape with the merged
 * snapshots of every connected worker and of the primary itself.
 */
export function serveMetrics (hub: MetricsHub = cluster): void {
  let nextId = 1
  const collecting = new Map<number, (worker: Worker, families: MetricJson[]) => void>()

  const collect = async (): Promise<MetricJson[][]> => {
    const id = nextId++
    const targets = Object.values(hub.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected())
    const got: MetricJson[][] = [await snapshot()]
    if (targets.length === 0) return got
    await new Promise<void>((resolve) => {
      let waiting = targets.length
      const timer = setTimeout(() => {
        collecting.delete(id)
        resolve()
      }, COLLECT_TIMEOUT_MS)
      collecting.set(id, (_worker, families) => {
        got.push(families)
        if (--waiting === 0) {
          collecting.delete(id)
          clearTimeout(timer)
          resolve()
        }
      })
      const msg: PrimaryToWorker = { type: 'metrics', op: 'collect', id }
      for (const w of targets) w.send(msg, undefined, () => {})
    })
    return got
  }

  hub.on('message', (w, msg) => {
    if (!isMessage(msg)) return
    const m = msg as WorkerToPrimary
    if (m.op === 'snapshot') {
      collecting.get(m.id)?.(w, m.families)
      return
    }
    if (m.op !== 'scrape') return
    collect()
      .then((snapshots) => render(snapshots, m.openMetrics))
      .then((body) => {
        const reply: PrimaryToWorker = { type: 'metrics', op: 'scraped', id: m.id, body }
        if (w.isConnected()) w.send(reply, undefined, () => {})
      }, () => {})
  })
}
