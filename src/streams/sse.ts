// Server-Sent Events framing (WHATWG HTML §9.2, "Server-sent events"):
//
//   retry: <ms>                      once, first
//   id: <position>                   the stream's start, before any record
//
//   id: <position after the record>
//   event: delete                    only for a tombstone (null value)
//   data: {"topic":…,"partition":…,"offset":…,…}
//
//   : heartbeat                      every streams.heartbeat_ms of silence
//
//   event: challenge                 a stream under a JWT, auth.challenge_ahead_s
//   data: {"stream_id":…,"expires_at":…,"method":"POST","path":…}   before its exp
//
// An event block with an id and no data sets the client's last event id
// without dispatching anything, so the stream's start, and the position past
// records a filter passed over, are resumable too: an EventSource that drops
// before its first record resumes exactly there instead of at `latest`.
// Failures after the stream started, and the end of the process, are a final
// `event: error` whose data is our error body plus the id to resume from.
// JSON text may hold line breaks (a JSON value is spliced verbatim); each line
// becomes its own data: field, which the client joins back with "\n".
import type { ServerResponse } from 'node:http'
import { errorBody, type ProxyError } from '../errors.js'
import type { StreamEvent } from './delivery.js'
import type { Sink } from './pump.js'
import type { Challenge } from './reauth.js'
import { describeReset, type Reset } from './start.js'

export const SSE_MEDIA = 'text/event-stream'

const LINE_BREAK = /\r\n|\r|\n/

function data (json: string): string {
  if (!json.includes('\n') && !json.includes('\r')) return `data: ${json}\n`
  return json.split(LINE_BREAK).map((line) => `data: ${line}\n`).join('')
}

/** One record as an SSE event block. */
export function sseEvent (e: StreamEvent): string {
  return `id: ${e.id}\n${e.tombstone ? 'event: delete\n' : ''}${data(e.json)}\n`
}

export class SseSink implements Sink {
  private gone = false
  private waiting: (() => void) | null = null

  constructor (private readonly res: ServerResponse, private readonly retryMs: number) {
    const settle = (): void => {
      this.gone = true
      this.wake()
    }
    res.once('close', settle)
    res.once('error', settle)
  }

  get closed (): boolean {
    return this.gone || this.res.destroyed
  }

  start (id: string, resets: readonly Reset[]): void {
    this.res.writeHead(200, {
      'content-type': SSE_MEDIA,
      'cache-control': 'no-cache',
      // nginx buffers proxied responses unless told otherwise.
      'x-accel-buffering': 'no'
    })
    let head = `retry: ${this.retryMs}\n\n`
    for (const r of resets) head += `event: reset\ndata: ${JSON.stringify({ ...r, message: describeReset(r) })}\n\n`
    head += `id: ${id}\n\n`
    this.res.write(head)
  }

  async events (events: readonly StreamEvent[]): Promise<void> {
    let chunk = ''
    for (const e of events) chunk += sseEvent(e)
    if (this.closed) return
    if (!this.res.write(chunk)) await this.drained()
  }

  /** A stream under a JWT, before the token expires (src/streams/reauth.ts). */
  challenge (c: Challenge): void {
    if (this.closed) return
    this.res.write(`event: challenge\ndata: ${JSON.stringify(c)}\n\n`)
  }

  /** The POST that renewed the stream had its 204: nothing to add here. */
  authorized (): void {}

  heartbeat (id: string | null): void {
    if (this.closed) return
    this.res.write(id === null ? ': heartbeat\n\n' : `: heartbeat\nid: ${id}\n\n`)
  }

  async end (err: ProxyError | null, id: string): Promise<void> {
    if (this.closed) return
    const final = err === null ? '' : `id: ${id}\nevent: error\ndata: ${JSON.stringify({ ...errorBody(err), id })}\n\n`
    await new Promise<void>((resolve) => {
      this.res.end(final, () => resolve())
      this.res.once('close', () => resolve())
    })
  }

  abort (): void {
    this.wake()
  }

  private drained (): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting = resolve
      this.res.once('drain', () => this.wake())
    })
  }

  private wake (): void {
    const w = this.waiting
    this.waiting = null
    w?.()
  }
}
