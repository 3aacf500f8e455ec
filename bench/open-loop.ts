// An open-loop HTTP load generator for latency at a fixed rate: requests are
// due on an absolute schedule whatever the server does, and each latency runs
// from the moment its request was due, so a stall that holds requests back is
// counted for every request it delays (no coordinated omission). Requests go
// out on a few keep-alive connections over raw sockets, one in flight per
// connection; a due request that finds every connection busy waits in a queue,
// and that wait is part of its latency. Its own process, so nothing else in
// the harness shares its event loop.
//
// Prints one JSON line: { sent, ok, errors, seconds, p50, p99, p999, max } (ms).
// Usage: node --import tsx bench/open-loop.ts <url> <path> <contentType> <bodyFile> <rate> <connections> <durationMs>
import { readFileSync } from 'node:fs'
import net from 'node:net'

const [url = '', path = '/', contentType = 'application/json', bodyFile = '', rateArg = '100', connectionsArg = '8', durationArg = '5000'] = process.argv.slice(2)
const target = new URL(url)
const body = readFileSync(bodyFile)
const request = Buffer.concat([
  Buffer.from(`POST ${path} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: ${contentType}\r\ncontent-length: ${body.length}\r\n\r\n`),
  body
])
const interval = 1000 / Number(rateArg)
const durationMs = Number(durationArg)

const latencies: number[] = []
let ok = 0
// Answers that are not a 200 without record errors; unanswered requests count too.
let errors = 0
// Due times of requests waiting for a free connection, oldest first.
const backlog: number[] = []
let backlogHead = 0

// Any record-level error_code is a number; successes carry null.
const RECORD_ERROR = /"error_code":\d/
const HEADER_END = Buffer.from('\r\n\r\n')

class Connection {
  private readonly socket: net.Socket
  private due = -1
  private buffered: Buffer = Buffer.alloc(0)

  constructor (onReady: () => void) {
    this.socket = net.connect(Number(target.port), target.hostname, onReady)
    this.socket.setNoDelay(true)
    this.socket.on('data', (d: Buffer) => this.onData(d))
    // A broken connection leaves its request unanswered, counted at the end.
    this.socket.on('error', () => { this.due = -1 })
  }

  get idle (): boolean {
    return this.due < 0 && !this.socket.destroyed
  }

  send (due: number): void {
    this.due = due
    this.socket.write(request)
  }

  private onData (d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d])
    const end = this.buffered.indexOf(HEADER_END)
    if (end < 0) return
    const head = this.buffered.toString('latin1', 0, end)
    const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? '0')
    if (this.buffered.length < end + 4 + length) return
    const status = Number(head.slice(9, 12))
    const responseBody = this.buffered.toString('utf8', end + 4, end + 4 + length)
    this.buffered = this.buffered.subarray(end + 4 + length)
    latencies.push(performance.now() - this.due)
    if (status === 200 && !RECORD_ERROR.test(responseBody)) ok++
    else errors++
    this.due = -1
    const next = takeBacklog()
    if (next >= 0) this.send(next)
  }

  close (): void {
    this.socket.destroy()
  }
}

function takeBacklog (): number {
  if (backlogHead === backlog.length) return -1
  const due = backlog[backlogHead++] as number
  if (backlogHead === backlog.length) {
    backlog.length = 0
    backlogHead = 0
  }
  return due
}

const connections: Connection[] = []
await Promise.all(Array.from({ length: Number(connectionsArg) }, () => new Promise<void>((resolve) => connections.push(new Connection(resolve)))))

const started = performance.now()
const end = started + durationMs
let next = 0
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now()
    // Every request due by now goes out (or queues), on the absolute schedule.
    for (let due = started + next * interval; due <= now && due < end; due = started + ++next * interval) {
      const free = connections.find((c) => c.idle)
      if (free !== undefined) free.send(due)
      else backlog.push(due)
    }
    if (started + next * interval >= end) {
      resolve()
      return
    }
    setTimeout(tick, Math.max(0, started + next * interval - performance.now()))
  }
  tick()
})
// The last requests get their answers, up to 30 s.
const giveUp = performance.now() + 30000
const unanswered = (): boolean => latencies.length < next
while (unanswered() && performance.now() < giveUp) await new Promise((resolve) => setTimeout(resolve, 5))
const seconds = (performance.now() - started) / 1000
for (const c of connections) c.close()
const sorted = latencies.sort((a, b) => a - b)
const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
process.stdout.write(JSON.stringify({ sent: next, ok, errors: errors + next - latencies.length, seconds, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: sorted[sorted.length - 1] ?? Number.NaN }) + '\n')
process.exit(0)
