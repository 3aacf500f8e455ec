// A WebSocket test client (the `ws` package) that keeps every frame it got,
// parsed, and lets a test wait for frames and for the close.
import { WebSocket } from 'ws'

export interface WsClosed {
  code: number
  reason: string
}

export class WsClient {
  readonly frames: any[] = []
  closed: WsClosed | null = null
  private waiters: Array<() => void> = []

  constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')))
      this.wake()
    })
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
    ws.on('error', () => {})
  }

  /** Opens a socket; rejects with the HTTP answer when the handshake is refused. */
  static async open (url: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers })
    return await new Promise<WsClient>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { body += c })
        res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode ?? 0}`), { status: res.statusCode, body: body === '' ? null : JSON.parse(body) })))
      })
      ws.once('error', reject)
      // Registered before the handshake completes, so no frame is missed.
      const client = new WsClient(ws)
      ws.once('open', () => resolve(client))
    })
  }

  send (frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  records (): any[] {
    return this.frames.filter((f) => f.event === undefined)
  }

  events (name: string): any[] {
    return this.frames.filter((f) => f.event === name)
  }

  async until (check: () => boolean, timeoutMs = 20_000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.frames.length} frames, closed ${JSON.stringify(this.closed)})`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  close (): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate()
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
}
