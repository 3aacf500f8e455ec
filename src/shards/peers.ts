// v2 consumer instances across proxy instances behind one load balancer.
// Inside an instance the directory (./directory.ts) knows which process owns
// an instance; across instances nothing is shared: each instance is told the
// public base URLs of the others (`instances.peers`, configuration is the
// discovery), and a call for an instance no process here holds asks them, in
// parallel, whether one of theirs does. The call is then relayed (./forward.ts)
// to the instance that answered yes, which relays it on to its owning process
// as any call of its own. An instance that is gone answers nobody: its
// consumer instances are not found (404/40403) and clients recreate them;
// nobody else's are affected. No membership, no leader, no replicated state.
//
// Peers prove themselves with an HMAC (SHA-256) over method, path and a
// timestamp, keyed by the shared `instances.secret`: a client can neither ask
// the locate route nor pass a call off as relayed, and the proxy only ever
// connects to the configured peers, never to a host a request names.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http, { type IncomingMessage } from 'node:http'

/** Carries the HMAC on calls between instances. */
export const PEER_HEADER = 'x-kafka-proxy-peer'

/** The route a peer asks: 204 when a process of this instance holds the consumer instance, else 404. */
export const LOCATE_PATH = '/_proxy/peers/consumers/{group}/instances/{instance}'

export interface PeerOptions {
  /** This instance's public base URL, as the others know it. */
  selfUrl: string
  /** The public base URLs of the other instances (selfUrl may be listed; it is left out). */
  peers: readonly string[]
  secret: string
  /** How long a locate waits for the peers. */
  timeoutMs: number
}

// A signature older than this is refused (a replayed header from a log, say).
const MAX_SKEW_MS = 60_000
// A located owner is reused this long: a consumer that moved (deleted and
// recreated elsewhere) is misrouted at most that long, and then found.
const CACHE_MS = 2000

const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' })

function mac (secret: string, method: string, path: string, ts: string): string {
  return createHmac('sha256', secret).update(`${method}\n${path}\n${ts}`).digest('base64url')
}

export class PeerDirectory {
  private readonly peers: string[]
  private readonly cache = new Map<string, { owner: string, until: number }>()

  constructor (private readonly opts: PeerOptions) {
    if (opts.secret === '' || opts.selfUrl === '') throw new Error('instances.peers needs instances.secret and instances.self_url')
    const self = opts.selfUrl.replace(/\/$/, '')
    this.peers = [...new Set(opts.peers.map((p) => p.replace(/\/$/, '')))].filter((p) => p !== self)
    for (const p of this.peers) {
      if (new URL(p).protocol !== 'http:') throw new Error(`instances.peers: ${p} is not an http:// URL`)
    }
  }

  /** The header value that proves a call to a peer comes from an instance. */
  sign (method: string, path: string): string {
    const ts = String(Date.now())
    return `${ts}.${mac(this.opts.secret, method, path, ts)}`
  }

  /** True when `req` carries a valid, recent signature of its method and path. */
  verify (req: IncomingMessage): boolean {
    const value = req.headers[PEER_HEADER]
    if (typeof value !== 'string') return false
    const dot = value.indexOf('.')
    if (dot <= 0) return false
    const ts = value.slice(0, dot)
    const age = Date.now() - Number(ts)
    if (!Number.isFinite(age) || Math.abs(age) > MAX_SKEW_MS) return false
    const want = Buffer.from(mac(this.opts.secret, req.method ?? 'GET', req.url ?? '/', ts))
    const got = Buffer.from(value.slice(dot + 1))
    return got.length === want.length && timingSafeEqual(got, want)
  }

  /**
   * The base URL of the instance that holds (group, name); null when no peer
   * says it does. `fresh`: ask even when an answer is cached (a create must
   * not be refused for an instance that died a moment ago).
   */
  async locate (group: string, name: string, fresh = false): Promise<string | null> {
    if (this.peers.length === 0) return null
    const key = `${group.length}:${group}${name}`
    const hit = this.cache.get(key)
    if (!fresh && hit !== undefined && hit.until > Date.now()) return hit.owner
    this.cache.delete(key)
    const path = LOCATE_PATH.replace('{group}', encodeURIComponent(group)).replace('{instance}', encodeURIComponent(name))
    const answers = await Promise.all(this.peers.map((peer) => this.ask(peer, path)))
    const owner = this.peers.find((_, i) => answers[i] === true) ?? null
    if (owner !== null) {
      if (this.cache.size >= 10_000) this.cache.clear()
      this.cache.set(key, { owner, until: Date.now() + CACHE_MS })
    }
    return owner
  }

  /** Forgets a located owner that no longer has the instance. */
  forget (group: string, name: string): void {
    this.cache.delete(`${group.length}:${group}${name}`)
  }

  // An unreachable or slow peer counts as "not mine": its instances are gone with it.
  private ask (peer: string, path: string): Promise<boolean> {
    const url = new URL(peer)
    const full = url.pathname.replace(/\/$/, '') + path
    return new Promise((resolve) => {
      const req = http.request({
        agent,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? 80 : Number(url.port),
        method: 'GET',
        path: full,
        headers: { [PEER_HEADER]: this.sign('GET', full) },
        timeout: this.opts.timeoutMs
      }, (res) => {
        res.resume()
        resolve(res.statusCode === 204)
      })
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve(false))
      req.end()
    })
  }
}
