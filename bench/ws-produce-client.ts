// The load generator of the ws-produce-1-socket scenario: one WebSocket on the
// stream path, sending records of the v3 produce shape as text frames for a
// fixed time, pipelined. Nothing bounds the frames in flight but the socket's
// own back-pressure: frames go out while the socket buffers less than
// HIGH_WATER bytes, and the proxy stops reading the socket while 1,000
// results are outstanding (src/streams/ws.ts), so TCP fills and the buffer
// grows. `window` bounds records unacknowledged, for comparisons only. Each
// record carries its own `correlation`, as a client that matches results
// (which come in the order Kafka acknowledges them) to records must send.
// Its own process, so nothing else in the harness shares its event loop.
//
// Counts `result` frames with error_code 200 as ok; other results, `error`
// frames and records never answered as errors; record frames (the stream
// delivering the topic back, when the URL has no filter) as echoed.
// Prints one JSON line: { sent, ok, errors, echoed, seconds, cpuSeconds, firstError }.
// Usage: node --import tsx bench/ws-produce-client.ts <wsUrl> <durationMs> [window] [valueBytes]
import { WebSocket } from 'ws'

const [url = '', durationArg = '5000', windowArg = '0', bytesArg = '100'] = process.argv.slice(2)
// 0: no bound.
const window = Number(windowArg) > 0 ? Number(windowArg) : Number.POSITIVE_INFINITY
const tail = `,"value":{"type":"BINARY","data":"${Buffer.alloc(Number(bytesArg), 120).toString('base64')}"}}`
// A few hundred frames per turn of the event loop; the kernel's socket buffer
// holds far more, so this does not throttle the stream.
const HIGH_WATER = 64 * 1024

const RESULT = Buffer.from('{"event":"result"')
const ERROR = Buffer.from('{"event":"error"')
const START = Buffer.from('{"event":"start"')
const RECORD = Buffer.from('{"id":')
const ERROR_CODE = Buffer.from('"error_code":')
const OK_CODE = Buffer.from('200,')

let sent = 0
let ok = 0
let errors = 0
let echoed = 0
let firstError: string | null = null
let started = 0
let deadline = Number.POSITIVE_INFINITY
let sending = false
let flushing = false
// When the last record sent was answered.
let doneAt = 0
let cpuBefore = process.cpuUsage()

const socket = new WebSocket(url)
const answered = (): boolean => ok + errors >= sent
let finish: () => void = () => {}
const finished = new Promise<void>((resolve) => { finish = resolve })
const endIfAnswered = (): void => {
  if (!answered()) return
  doneAt = performance.now()
  finish()
}

const onFlushed = (): void => {
  flushing = false
  // setImmediate, not the write callback itself: a write that completed at
  // once calls back from the nextTick queue, which would starve the results.
  setImmediate(pump)
}

function pump (): void {
  if (!sending || flushing) return
  while (performance.now() < deadline) {
    if (sent - ok - errors >= window) return
    const frame = `{"correlation":${++sent}${tail}`
    if (socket.bufferedAmount + frame.length >= HIGH_WATER) {
      flushing = true
      socket.send(frame, onFlushed)
      return
    }
    socket.send(frame)
  }
  stopSending()
}

function stopSending (): void {
  if (!sending) return
  sending = false
  // The last results get up to 30 s.
  setTimeout(finish, 30000).unref()
  endIfAnswered()
}

function fail (data: Buffer): void {
  errors++
  firstError ??= data.toString('utf8', 0, 300)
}

socket.on('message', (data: Buffer, isBinary: boolean) => {
  if (isBinary) {
    fail(Buffer.from('a binary frame'))
  } else if (data.subarray(0, RESULT.length).equals(RESULT)) {
    const at = data.indexOf(ERROR_CODE, RESULT.length) + ERROR_CODE.length
    if (data.subarray(at, at + OK_CODE.length).equals(OK_CODE)) ok++
    else fail(data)
    if (sending) {
      // Results free room in the window.
      if (Number.isFinite(window)) pump()
    } else {
      endIfAnswered()
    }
  } else if (data.subarray(0, RECORD.length).equals(RECORD)) {
    echoed++
  } else if (data.subarray(0, ERROR.length).equals(ERROR)) {
    fail(data)
  } else if (started === 0 && data.subarray(0, START.length).equals(START)) {
    // The stream is set up: time from here.
    cpuBefore = process.cpuUsage()
    started = performance.now()
    deadline = started + Number(durationArg)
    sending = true
    // Also when a flush never completes (a proxy that stopped reading for good).
    setTimeout(stopSending, Number(durationArg))
    pump()
  }
})
socket.on('unexpected-response', (_req, res) => {
  process.stderr.write(`ws-produce-client: handshake refused: ${res.statusCode ?? 0}\n`)
  process.exit(1)
})
socket.on('error', (err) => {
  process.stderr.write(`ws-produce-client: ${err.message}\n`)
  process.exit(1)
})
socket.on('close', (code, reason) => {
  firstError ??= `closed ${code} ${reason.toString()}`
  finish()
})

await finished
if (started === 0) {
  process.stderr.write(`ws-produce-client: no start frame: ${firstError ?? ''}\n`)
  process.exit(1)
}
const seconds = ((doneAt === 0 ? performance.now() : doneAt) - started) / 1000
const cpu = process.cpuUsage(cpuBefore)
const unanswered = sent - ok - errors
process.stdout.write(JSON.stringify({ sent, ok, errors: errors + unanswered, echoed, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, firstError }) + '\n')
socket.terminate()
process.exit(0)
