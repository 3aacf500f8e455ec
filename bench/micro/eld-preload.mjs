// Preloaded into the proxy's processes by `bench/run.ts --eld <dir>` (node
// --import, inherited by the cluster workers): records, once a second, the
// event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution), the
// event-loop utilization and the garbage-collection pauses of this process,
// and writes them to <dir>/eld-<pid>.json when the process exits. Unlike a
// CPU profile it does not perturb the process (no sampling signals), so it
// can attribute latency tails at a fixed load. Plain JavaScript: the proxy
// runs compiled, without tsx.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks'

const dir = process.env.BENCH_ELD_DIR
if (dir !== undefined && dir !== '') {
  const seconds = []
  const eld = monitorEventLoopDelay({ resolution: 1 })
  eld.enable()
  let gc = []
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(e.duration)
  })
  obs.observe({ entryTypes: ['gc'] })
  let elu = performance.eventLoopUtilization()
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(now, elu)
    elu = now
    const ms = (ns) => ns / 1e6
    seconds.push({
      t: Date.now(),
      elu: delta.utilization,
      eldP50: ms(eld.percentile(50)),
      eldP99: ms(eld.percentile(99)),
      eldMax: ms(eld.max),
      gcCount: gc.length,
      gcTotalMs: gc.reduce((a, b) => a + b, 0),
      gcMaxMs: gc.length === 0 ? 0 : Math.max(...gc)
    })
    eld.reset()
    gc = []
  }, 1000)
  timer.unref()
  process.on('exit', () => {
    writeFileSync(path.join(dir, `eld-${process.pid}.json`), JSON.stringify({ pid: process.pid, seconds }) + '\n')
  })
}
