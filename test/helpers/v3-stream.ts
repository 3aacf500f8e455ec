// A client for the v3 streaming produce endpoint: one chunked POST whose
// result lines can be read while the upload is still open (full duplex).
import assert from 'node:assert/strict'
import http from 'node:http'

export const JSON_TYPE = 'application/json'

export const b64 = (s: string): string => Buffer.from(s).toString('base64')
export const str = (data: string): { type: string, data: string } => ({ type: 'STRING', data })
export const recordsPath = (topic: string, cluster = 'any-cluster'): string => `/v3/clusters/${cluster}/topics/${topic}/records`

export interface StreamClient {
  status: Promise<number>
  /** The next result line, parsed; fails after a deadline. */
  next (): Promise<any>
  write (s: string): void
  end (s?: string): void
  /** Resolves with the lines not yet taken when the response ends. */
  ended: Promise<any[]>
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>
}

/** One chunked POST over node:http, with result lines readable while the upload is still open. */
export function openStream (url: string, path: string, contentType = JSON_TYPE, headers: Record<string, string> = {}): StreamClient {
  const lines: any[] = []
  const waiters: Array<(line: any) => void> = []
  let buffered = ''
  let resolveStatus: (s: number) => void = () => {}
  let resolveEnded: (rest: any[]) => void = () => {}
  const status = new Promise<number>((resolve) => { resolveStatus = resolve })
  const ended = new Promise<any[]>((resolve) => { resolveEnded = resolve })
  const req = http.request(`${url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': contentType, 'transfer-encoding': 'chunked' }
  }, (res) => {
    resolveStatus(res.statusCode ?? 0)
    res.setEncoding('utf8')
    res.on('data', (s: string) => {
      buffered += s
      let at: number
      while ((at = buffered.indexOf('\r\n')) !== -1) {
        const line = JSON.parse(buffered.slice(0, at))
        buffered = buffered.slice(at + 2)
        const w = waiters.shift()
        if (w !== undefined) w(line)
        else lines.push(line)
      }
    })
    res.on('end', () => {
      assert.equal(buffered, '', 'the response ends after a complete line')
      resolveEnded(lines.splice(0))
    })
  })
  // The server may close the connection while the upload is still going (a
  // stream past its maximum age); the upload's write error is expected then.
  req.on('error', () => {})
  const closed = new Promise<void>((resolve) => {
    req.on('socket', (socket) => socket.once('close', () => resolve()))
  })
  req.flushHeaders()
  return {
    status,
    ended,
    closed,
    write: (s) => { if (!req.destroyed) req.write(s) },
    end: (s) => { req.end(s) },
    next: () => {
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no result line within 10 s')), 10000)
        waiters.push((l) => { clearTimeout(timer); resolve(l) })
      })
    }
  }
}

/** Sends `records` as one stream and resolves with every result line once the response ends. */
export async function streamAll (url: string, path: string, records: unknown[]): Promise<any[]> {
  const client = openStream(url, path)
  client.end(records.map((r) => JSON.stringify(r)).join('\n'))
  assert.equal(await client.status, 200)
  return await client.ended
}
