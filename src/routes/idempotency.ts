// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) on produce
// routes. A request with a key is remembered, per process, by route and key
// for route_settings.idempotency_ttl_ms with a fingerprint of what it asked
// (method, path, content type, body): a retry with the same key and
// fingerprint writes no second record and gets the first answer (for
// request/reply routes: the same reply); the same key with another
// fingerprint is a 422. A retry that arrives while the first is still being
// written waits for it, so concurrent duplicates write one record.
//
// The window in which a duplicate can still be written (docs/routes.md):
// the memory is per worker process, so a retry that a load balancer or
// node:cluster hands to another process or instance is written again; and a
// first attempt that failed (whatever `persisted` said) is forgotten so the
// retry can write — with `persisted: "unknown"` that retry may duplicate it.
import { createHash } from 'node:crypto'
import type { Ctx, Reply } from '../http/handler.js'
import { ProxyError } from '../errors.js'

/** Keys one process remembers at most; the oldest are forgotten first beyond it. */
export const MAX_KEYS = 100_000

/** The longest Idempotency-Key taken (the draft leaves it to the server). */
const MAX_KEY_LENGTH = 255

interface Remembered {
  readonly fingerprint: string
  readonly at: number
  answer: Promise<Reply>
}

export class IdempotencyKeys {
  private readonly entries = new Map<string, Remembered>()
  private readonly sweeper: NodeJS.Timeout

  constructor (private readonly ttlMs: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, ttlMs / 4))
    this.sweeper.unref()
  }

  get size (): number {
    return this.entries.size
  }

  /**
   * Runs `write` once per route, key and fingerprint within the TTL; a
   * request without the header runs it every time.
   */
  async run (ctx: Ctx, scope: string, body: Buffer, write: () => Promise<Reply>): Promise<Reply> {
    const header = ctx.req.headers['idempotency-key']
    if (header === undefined) return await write()
    const raw = Array.isArray(header) ? header.join(',') : header
    // The header is an sf-string (RFC 8941): a quoted string; a bare token is taken too.
    const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw
    if (key === '' || key.length > MAX_KEY_LENGTH) throw new ProxyError('badRequest', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`)
    const fingerprint = createHash('sha256')
      .update(ctx.req.method ?? '').update('\0').update(ctx.path).update('\0')
      .update(ctx.req.headers['content-type'] ?? '').update('\0').update(body)
      .digest('base64')
    const id = `${scope}\0${key}`
    const known = this.entries.get(id)
    if (known !== undefined && Date.now() - known.at <= this.ttlMs) {
      if (known.fingerprint !== fingerprint) throw new ProxyError('idempotencyKeyReused', `Idempotency-Key ${JSON.stringify(key)} was used for a different request on this route within the last ${this.ttlMs} ms`)
      const first = await known.answer
      return { ...first, headers: { ...first.headers, 'idempotent-replayed': 'true' } }
    }
    const entry: Remembered = { fingerprint, at: Date.now(), answer: write() }
    this.entries.delete(id)
    this.entries.set(id, entry)
    if (this.entries.size > MAX_KEYS) this.entries.delete(this.entries.keys().next().value as string)
    try {
      return await entry.answer
    } catch (err) {
      // A failure is not remembered: the retry must be able to write.
      if (this.entries.get(id) === entry) this.entries.delete(id)
      throw err
    }
  }

  close (): void {
    clearInterval(this.sweeper)
  }

  private sweep (): void {
    const cutoff = Date.now() - this.ttlMs
    for (const [id, e] of this.entries) {
      if (e.at >= cutoff) break
      this.entries.delete(id)
    }
  }
}
