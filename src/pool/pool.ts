// The one piscina pool of a process, for CPU-heavy work that would otherwise
// stall the event loop (large JSON bodies, base64, schema encoding). Small
// tasks stay inline: a pool round trip costs more than they do.
import { performance } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import { ProxyError } from '../errors.js'
import { poolTaskDuration, type HistogramCell } from '../metrics/registry.js'

export interface PoolOptions {
  threads: number
  maxQueue: number
}

// Task files live in workers/ next to src/, both in the source tree (run by
// tsx) and in dist/ (compiled), so the extension follows this module's own.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

export function taskFile (name: string): string {
  return new URL(`../../workers/${name}${EXT}`, import.meta.url).href
}

export class TaskPool {
  private readonly piscina: Piscina
  private readonly maxQueue: number
  // Task durations by task file, for /metrics.
  private readonly durations = new Map<string, HistogramCell>()

  constructor (opts: PoolOptions) {
    this.maxQueue = opts.maxQueue
    this.piscina = new Piscina({
      filename: taskFile('produce'),
      minThreads: opts.threads,
      maxThreads: opts.threads,
      maxQueue: opts.maxQueue,
      // Tasks are CPU-bound; a thread runs one at a time.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY
    })
  }

  /** Runs a task; a full queue is a retriable 503 rather than unbounded memory. */
  async run<R> (name: string, task: unknown, transferList?: ArrayBuffer[]): Promise<R> {
    if (this.piscina.queueSize >= this.maxQueue) throw new ProxyError('poolBusy', undefined, { persisted: 'no' })
    const started = performance.now()
    try {
      return await this.piscina.run(task, { filename: taskFile(name), transferList }) as R
    } catch (err) {
      // piscina has no error codes; its queue-limit error is only known by message.
      if ((err as Error).message === 'Task queue is at limit') throw new ProxyError('poolBusy', undefined, { persisted: 'no', cause: err })
      throw new ProxyError('internal', undefined, { cause: err })
    } finally {
      let cell = this.durations.get(name)
      if (cell === undefined) {
        cell = poolTaskDuration.child(name)
        this.durations.set(name, cell)
      }
      cell.observe((performance.now() - started) / 1000)
    }
  }

  get queueSize (): number {
    return this.piscina.queueSize
  }

  get threads (): number {
    return this.piscina.threads.length
  }

  /** Share of the pool's capacity spent running tasks since it started (piscina's utilization, 0 to 1). */
  get utilization (): number {
    return this.piscina.utilization
  }

  close (): Promise<void> {
    return this.piscina.destroy()
  }
}

/**
 * An ArrayBuffer holding exactly `buf`'s bytes that can be transferred. A
 * Buffer may be a view into a shared or pooled allocation; transferring that
 * would detach bytes other code still uses, so such views are copied first.
 */
export function transferableCopy (buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) return buf
  const copy = Buffer.allocUnsafeSlow(buf.byteLength)
  buf.copy(copy)
  return copy
}
