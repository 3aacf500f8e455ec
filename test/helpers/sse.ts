// A minimal Server-Sent Events client for tests: one HTTP GET, the stream
// parsed as the WHATWG spec says (fields, comments, blank line dispatch, the
// last event id kept across events), and the raw text kept for assertions.
import http from 'node:http'

export interface SseEvent {
  /** The last event id in effect when this event was dispatched. */
  id: string
  event: string
  data: string
}

export interface SseOpen {
  status: number
  headers: http.IncomingHttpHeaders
  /** The body, when the answer is not a stream (an error). */
  body: string
}

export class SseClient {
  readonly events: SseEvent[] = []
  readonly comments: string[] = []
  /** The client's last event id: set by every id field, dispatched or not. */
  lastId = ''
  retry: number | null = null
  raw = ''
  ended = false
  private req: http.ClientRequest | null = null
  private res: http.IncomingMessage | null = null
  private buffer = ''
  private data: string[] = []
  private event = ''
  private waiters: Array<() => void> = []

  /** Opens the stream; resolves with the response's status once its headers arrived. */
  open (url: string, headers: Record<string, string> = {}): Promise<SseOpen> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        res.setEncoding('utf8')
        if (res.statusCode !== 200) {
          let body = ''
          res.on('data', (c: string) => { body += c })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
          return
        }
        this.res = res
        resolve({ status: 200, headers: res.headers, body: '' })
        res.on('data', (c: string) => this.feed(c))
        res.on('close', () => {
          this.ended = true
          this.wake()
        })
      })
      req.on('error', (err) => {
        this.ended = true
        this.wake()
        reject(err)
      })
      this.req = req
    })
  }

  close (): void {
    this.req?.destroy()
  }

  /** Stops reading the socket (a slow client); resume() reads on. */
  pause (): void {
    this.res?.pause()
  }

  resume (): void {
    this.res?.resume()
  }

  /** Resolves once `check` holds (checked after every chunk), or rejects at the deadline. */
  async until (check: () => boolean, timeoutMs = 20_000, what = 'the stream'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.events.length} events so far)`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Events of one type so far, without parsing them. */
  count (event: string): number {
    let n = 0
    for (const e of this.events) if (e.event === event) n++
    return n
  }

  records (): any[] {
    return this.events.filter((e) => e.event === 'message' || e.event === 'delete').map((e) => JSON.parse(e.data))
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  private feed (chunk: string): void {
    this.raw += chunk
    this.buffer += chunk
    let nl: number
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.buffer.slice(0, nl)
      this.buffer = this.buffer.slice(this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? nl + 2 : nl + 1)
      this.line(line)
    }
    this.wake()
  }

  private line (line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.events.push({ id: this.lastId, event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') })
      this.data = []
      this.event = ''
      return
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim())
      return
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.data.push(value)
    else if (field === 'event') this.event = value
    else if (field === 'id' && !value.includes('\u0000')) this.lastId = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value)
  }
}

/** The id of the cluster the proxy at `url` serves. */
export async function clusterIdOf (url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/v3/clusters`, { headers })
  const body = await res.json() as { data: Array<{ cluster_id: string }> }
  return (body.data[0] as { cluster_id: string }).cluster_id
}
