// Which process owns each v2 consumer instance. An instance lives in the
// process that created it (it owns a librdkafka consumer), while the port is
// shared by every worker without sticky load balancing, so a worker that gets
// a call for an instance it does not hold asks this directory where to
// forward it. The map lives in the primary: it outlives the workers, and
// handling one message at a time makes a claim atomic across the cluster, so
// of two processes creating the same name at once exactly one wins.
//
// Workers reach the primary over the cluster IPC channel. Every request
// carries an id its reply repeats; `type: 'directory'` keeps these messages
// apart from the worker's `{ type: 'listening' }` announcement.
import cluster from 'node:cluster'
import { ProxyError } from '../errors.js'

export interface ConsumerDirectory {
  /** Claims (group, name) for this process; false when any process already holds it. */
  claim (group: string, name: string): Promise<boolean>
  /**
   * Gives the name up. Callers may ignore the promise; awaiting it guarantees
   * that a claim any process makes afterwards sees the name free. It never
   * rejects: when the primary is unreachable this worker is about to go, and
   * its entries go with it.
   */
  release (group: string, name: string): Promise<void>
  /**
   * The internal base URL of the process that owns the instance; null when no
   * process does, or only this one (the caller asks only for instances it does
   * not hold, so its own claim means the instance is still being created or is
   * being deleted: not found either way).
   */
  locate (group: string, name: string): Promise<string | null>
  readonly selfUrl: string
}

/** Worker to primary. */
export type DirectoryRequest =
  | { type: 'directory', op: 'claim', id: number, group: string, name: string, owner: string }
  | { type: 'directory', op: 'release', id: number, group: string, name: string }
  | { type: 'directory', op: 'locate', id: number, group: string, name: string }

/** Primary to worker: replies by id, and `forget` for cached locations that no longer hold. */
export type DirectoryReply =
  | { type: 'directory', op: 'claimed', id: number, ok: boolean }
  | { type: 'directory', op: 'released', id: number }
  | { type: 'directory', op: 'located', id: number, owner: string | null }
  | { type: 'directory', op: 'forget', group: string, name: string }

/** The worker's end of the IPC channel: `process` in a cluster worker. */
export type DirectoryChannel = WorkerChannel<DirectoryRequest>

export interface DirectoryOptions {
  /** Defaults to the cluster IPC channel in a cluster worker; null asks for the in-memory directory. */
  channel?: DirectoryChannel | null
  /** How long a call waits for the primary. */
  timeoutMs?: number
  /** How long a located owner is reused without asking the primary again. */
  cacheMs?: number
}

const DEFAULT_TIMEOUT_MS = 2000
// The primary also tells every worker that located an instance when the
// instance goes (`forget`), so the cache is kept coherent by invalidation;
// the lifetime only bounds how long a lost invalidation could mislead.
const DEFAULT_CACHE_MS = 5000

// Length-prefixed, so no (group, name) pair can collide with another whatever
// characters either contains.
function keyOf (group: string, name: string): string {
  return `${group.length}:${group}${name}`
}

/** IPC-backed when running as a cluster worker, in-memory otherwise (single process, tests). */
export function createDirectory (selfUrl: string, opts: DirectoryOptions = {}): ConsumerDirectory {
  const channel = opts.channel === undefined ? workerChannel<DirectoryRequest>() : opts.channel
  if (channel === null) return new MemoryDirectory(selfUrl)
  return new IpcDirectory(selfUrl, channel, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.cacheMs ?? DEFAULT_CACHE_MS)
}

/** A cluster worker's channel to its primary, carrying messages of type M; null in any other process. */
export interface WorkerChannel<M> {
  send (msg: M, cb: (err: Error | null) => void): unknown
  on (event: 'message', listener: (msg: unknown) => void): unknown
}

export function workerChannel<M> (): WorkerChannel<M> | null {
  // `cluster.isWorker`, not just an IPC channel: a process forked by some
  // other parent has `process.send` too, but nobody there answers.
  if (!cluster.isWorker || process.send === undefined) return null
  return {
    // With a callback, a closed channel is reported to it instead of being
    // emitted as an 'error' event that would take the process down.
    send: (msg, cb) => process.send?.(msg, cb),
    on: (event, listener) => process.on(event, listener)
  }
}

class MemoryDirectory implements ConsumerDirectory {
  private readonly names = new Set<string>()

  constructor (readonly selfUrl: string) {}

  claim (group: string, name: string): Promise<boolean> {
    const key = keyOf(group, name)
    if (this.names.has(key)) return Promise.resolve(false)
    this.names.add(key)
    return Promise.resolve(true)
  }

  release (group: string, name: string): Promise<void> {
    this.names.delete(keyOf(group, name))
    return Promise.resolve()
  }

  // Every instance of a single process is local: there is nowhere to forward to.
  locate (): Promise<string | null> {
    return Promise.resolve(null)
  }
}

interface Pending {
  resolve (reply: DirectoryReply): void
  reject (err: Error): void
  timer: NodeJS.Timeout
  /** Set for a locate: where its answer is cached. */
  key: string | null
}

type RequestBody<R = DirectoryRequest> = R extends DirectoryRequest ? Omit<R, 'type' | 'id'> : never

class IpcDirectory implements ConsumerDirectory {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly cache = new Map<string, { owner: string, until: number }>()

  constructor (
    readonly selfUrl: string,
    private readonly channel: DirectoryChannel,
    private readonly timeoutMs: number,
    private readonly cacheMs: number
  ) {
    channel.on('message', (msg) => this.onMessage(msg))
  }

  async claim (group: string, name: string): Promise<boolean> {
    const reply = await this.call({ op: 'claim', group, name, owner: this.selfUrl }, null)
    return reply.op === 'claimed' && reply.ok
  }

  async release (group: string, name: string): Promise<void> {
    try {
      await this.call({ op: 'release', group, name }, null)
    } catch {
      // See the interface: the entry goes when this worker exits.
    }
  }

  async locate (group: string, name: string): Promise<string | null> {
    const key = keyOf(group, name)
    const hit = this.cache.get(key)
    if (hit !== undefined) {
      if (hit.until > Date.now()) return hit.owner
      this.cache.delete(key)
    }
    const reply = await this.call({ op: 'locate', group, name }, key)
    return reply.op === 'located' && reply.owner !== this.selfUrl ? reply.owner : null
  }

  private call (body: RequestBody, key: string | null): Promise<DirectoryReply> {
    const id = this.nextId++
    const msg = { type: 'directory', id, ...body } as DirectoryRequest
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ProxyError('directoryUnavailable', `The consumer directory did not answer ${body.op} within ${this.timeoutMs} ms; retry`))
      }, this.timeoutMs)
      this.pending.set(id, { resolve, reject, timer, key })
      this.channel.send(msg, (err) => {
        if (err === null || err === undefined) return
        const p = this.pending.get(id)
        if (p === undefined) return
        this.pending.delete(id)
        clearTimeout(p.timer)
        p.reject(new ProxyError('directoryUnavailable', `The consumer directory cannot be reached (${err.message}); retry`, { cause: err }))
      })
    })
  }

  private onMessage (msg: unknown): void {
    if (!isReply(msg)) return
    if (msg.op === 'forget') {
      this.cache.delete(keyOf(msg.group, msg.name))
      return
    }
    const p = this.pending.get(msg.id)
    if (p === undefined) return
    this.pending.delete(msg.id)
    clearTimeout(p.timer)
    // Cached here, synchronously, not once the promise settles: a `forget`
    // for the same entry may follow on this ordered channel right behind the
    // reply, and it must find the entry to drop.
    if (msg.op === 'located' && msg.owner !== null && msg.owner !== this.selfUrl && p.key !== null) {
      this.cache.set(p.key, { owner: msg.owner, until: Date.now() + this.cacheMs })
    }
    p.resolve(msg)
  }
}

function isReply (msg: unknown): msg is DirectoryReply {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'directory'
}

function isRequest (msg: unknown): msg is DirectoryRequest {
  if (typeof msg !== 'object' || msg === null) return false
  const m = msg as Record<string, unknown>
  if (m.type !== 'directory' || typeof m.id !== 'number' || typeof m.group !== 'string' || typeof m.name !== 'string') return false
  return m.op === 'release' || m.op === 'locate' || (m.op === 'claim' && typeof m.owner === 'string')
}

/** What the service needs of a cluster `Worker`. */
export interface HubWorker {
  readonly id: number
  isDead (): boolean
  send (msg: DirectoryReply, cb: (err: Error | null) => void): unknown
}

/** What the service needs of `node:cluster`; tests pass an EventEmitter. */
export interface DirectoryHub {
  on (event: 'message', listener: (worker: HubWorker, msg: unknown) => void): unknown
  on (event: 'exit', listener: (worker: HubWorker) => void): unknown
}

interface Entry {
  group: string
  name: string
  owner: string
  worker: number
  /** Other workers that located the entry and may have cached it. */
  readers: Set<HubWorker>
}

/** Installed by the primary: answers workers' directory requests; forgets a worker's entries when it exits. */
export function serveDirectory (hub: DirectoryHub = cluster): void {
  const entries = new Map<string, Entry>()
  const owned = new Map<number, Set<string>>()

  const send = (worker: HubWorker, msg: DirectoryReply): void => {
    // The callback keeps a closed channel from being raised as an 'error'
    // event; a worker that cannot hear us is exiting, and its exit cleans up.
    worker.send(msg, () => {})
  }

  const drop = (key: string, entry: Entry): void => {
    entries.delete(key)
    owned.get(entry.worker)?.delete(key)
    for (const reader of entry.readers) send(reader, { type: 'directory', op: 'forget', group: entry.group, name: entry.name })
  }

  hub.on('message', (worker, msg) => {
    if (!isRequest(msg)) return
    // A message read after the worker exited would leave an entry that no
    // exit cleans up.
    if (worker.isDead()) return
    const key = keyOf(msg.group, msg.name)
    const entry = entries.get(key)
    switch (msg.op) {
      case 'claim': {
        const ok = entry === undefined
        if (ok) {
          entries.set(key, { group: msg.group, name: msg.name, owner: msg.owner, worker: worker.id, readers: new Set() })
          let keys = owned.get(worker.id)
          if (keys === undefined) {
            keys = new Set()
            owned.set(worker.id, keys)
          }
          keys.add(key)
        }
        send(worker, { type: 'directory', op: 'claimed', id: msg.id, ok })
        return
      }
      case 'release':
        // Only the owner gives a name up: a late release from a process that
        // no longer owns it must not free another process's instance.
        if (entry !== undefined && entry.worker === worker.id) drop(key, entry)
        send(worker, { type: 'directory', op: 'released', id: msg.id })
        return
      case 'locate':
        if (entry !== undefined && entry.worker !== worker.id) entry.readers.add(worker)
        send(worker, { type: 'directory', op: 'located', id: msg.id, owner: entry?.owner ?? null })
    }
  })

  // A worker's instances died with it.
  hub.on('exit', (worker) => {
    const keys = owned.get(worker.id)
    owned.delete(worker.id)
    for (const key of keys ?? []) {
      const entry = entries.get(key)
      if (entry !== undefined) drop(key, entry)
    }
    for (const entry of entries.values()) entry.readers.delete(worker)
  })
}
