// Loaded into every process of the proxy under soak (node --import; cluster
// workers inherit it through execArgv): every 10 s it appends one JSON line
// with this process's RSS, heap, event-loop delay and open handles to the file
// named by SOAK_PROBE_FILE. It reads nothing of the proxy and changes nothing.
import { appendFileSync, readdirSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import cluster from 'node:cluster'

const file = process.env.SOAK_PROBE_FILE
if (file !== undefined && file !== '') {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  const interval = Number(process.env.SOAK_PROBE_INTERVAL_MS ?? 10_000)
  setInterval(() => {
    const mem = process.memoryUsage()
    let fds = -1
    try {
      fds = readdirSync('/proc/self/fd').length
    } catch {}
    const line = {
      t: Date.now(),
      pid: process.pid,
      role: cluster.isPrimary ? 'primary' : 'worker',
      rssMiB: mem.rss / 1048576,
      heapMiB: mem.heapUsed / 1048576,
      eldP50Ms: delay.percentile(50) / 1e6,
      eldP99Ms: delay.percentile(99) / 1e6,
      eldMaxMs: delay.max / 1e6,
      // process.getActiveResourcesInfo() counts libuv handles and requests (sockets, timers, fs).
      handles: process.getActiveResourcesInfo().length,
      fds
    }
    delay.reset()
    appendFileSync(file, JSON.stringify(line) + '\n')
  }, interval).unref()
}
