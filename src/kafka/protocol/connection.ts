// One connection to one broker: size-prefixed frames, many requests in flight
// matched by correlation id, API version negotiation (ApiVersions, KIP-35 /
// KIP-511) and SASL authentication (KIP-43, KIP-152) before first use.
import { connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls'
import type { Logger } from '../../logger.js'
import { ApiVersions, SaslAuthenticate, SaslHandshake, type ApiSpec } from './apis.js'
import { Reader, Writer } from './codec.js'
import { ERR, protocolError, timeoutError, transportError } from './error-codes.js'
import { saslAuthenticate, type SaslCredentials } from './sasl.js'
import { tlsFor, type Address } from './security.js'

/** Frames beyond this are treated as a corrupt stream (the broker's default socket.request.max.bytes is 100 MiB). */
const MAX_FRAME = 100 * 1024 * 1024

export interface ConnectionOptions extends Address {
  clientId: string
  tls: TlsOptions | null
  sasl: SaslCredentials | null
  /** Bound of connect + negotiation + authentication. */
  timeoutMs: number
  log: Logger
}

// ApiVersions v3 identifies the client (KIP-511); both must match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
const SOFTWARE_NAME = 'kafka-http-proxy'
const SOFTWARE_VERSION = `node-${process.versions.node}`

interface Pending {
  resolve: (body: Reader) => void
  reject: (err: Error) => void
  flexibleHeader: boolean
  timer: NodeJS.Timeout | null
}

export class BrokerConnection {
  readonly address: string
  private readonly socket: Socket
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private chunks: Buffer[] = []
  private buffered = 0
  private versions = new Map<number, { min: number, max: number }>()
  private closedWith: Error | null = null
  /** Called once when the connection ends for any reason. */
  onClose: (() => void) | null = null

  private constructor (socket: Socket, private readonly opts: ConnectionOptions) {
    this.address = `${opts.host}:${opts.port}`
    this.socket = socket
    socket.setNoDelay(true)
    socket.setKeepAlive(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err) => this.fail(transportError(`connection to ${this.address} failed: ${err.message}`, err)))
    socket.on('close', () => this.fail(transportError(`connection to ${this.address} closed`)))
  }

  get closed (): boolean {
    return this.closedWith !== null
  }

  /** Connects, negotiates API versions and authenticates; rejects with a transport, timeout or protocol error. */
  static async open (opts: ConnectionOptions): Promise<BrokerConnection> {
    const address = `${opts.host}:${opts.port}`
    const socket = opts.tls === null
      ? netConnect({ host: opts.host, port: opts.port })
      : tlsConnect({ ...tlsFor(opts.tls, opts.host), host: opts.host, port: opts.port })
    const conn = new BrokerConnection(socket, opts)
    const deadline = Date.now() + opts.timeoutMs
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError(`connecting to ${address} timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs)
      timer.unref()
    })
    try {
      await Promise.race([conn.handshake(deadline), expired])
      opts.log.debug({ broker: address }, 'admin protocol connection ready')
      conn.idle()
      return conn
    } catch (err) {
      conn.close(err as Error)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private async handshake (deadline: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const ready = this.opts.tls === null ? 'connect' : 'secureConnect'
      const onReady = (): void => {
        this.socket.off('close', onClose)
        resolve()
      }
      const onClose = (): void => {
        this.socket.off(ready, onReady)
        reject(this.closedWith ?? transportError(`connection to ${this.address} closed`))
      }
      this.socket.once(ready, onReady)
      this.socket.once('close', onClose)
    })
    const api = await this.send(ApiVersions, 3, { softwareName: SOFTWARE_NAME, softwareVersion: SOFTWARE_VERSION }, deadline)
    // An UNSUPPORTED_VERSION answer still lists the broker's versions (KIP-511).
    if (api.errorCode !== 0 && api.errorCode !== ERR.UNSUPPORTED_VERSION) throw protocolError(api.errorCode)
    for (const a of api.apis) this.versions.set(a.key, { min: a.min, max: a.max })
    if (this.opts.sasl !== null) await this.authenticate(this.opts.sasl, deadline)
  }

  private async authenticate (sasl: SaslCredentials, deadline: number): Promise<void> {
    const hs = await this.request(SaslHandshake, { mechanism: sasl.mechanism }, deadline)
    if (hs.errorCode !== 0) {
      throw protocolError(hs.errorCode, `SASL mechanism ${sasl.mechanism} rejected by ${this.address}; enabled: ${hs.mechanisms.join(', ')}`)
    }
    await saslAuthenticate(sasl, async (token) => {
      const res = await this.request(SaslAuthenticate, { authBytes: token }, deadline)
      if (res.errorCode !== 0) throw protocolError(res.errorCode, res.errorMessage)
      return res.authBytes
    })
  }

  /** The highest version of `spec` both sides implement; rejects UNSUPPORTED_VERSION when there is none. */
  version (spec: ApiSpec<unknown, unknown>): number {
    const range = this.versions.get(spec.key)
    const top = range === undefined ? -1 : Math.min(range.max, spec.max)
    if (range === undefined || top < spec.min || top < range.min) {
      const offered = range === undefined ? 'none' : `v${range.min}-v${range.max}`
      throw protocolError(ERR.UNSUPPORTED_VERSION,
        `broker ${this.address} does not support ${spec.name} v${spec.min}-v${spec.max} (offers ${offered})`)
    }
    return top
  }

  /** Sends a request at the negotiated version; rejects with a timeout error at `deadline` (epoch ms). */
  request<Req, Res> (spec: ApiSpec<Req, Res>, req: Req, deadline: number): Promise<Res> {
    let version: number
    try {
      version = this.version(spec as ApiSpec<unknown, unknown>)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.send(spec, version, req, deadline)
  }

  private send<Req, Res> (spec: ApiSpec<Req, Res>, version: number, req: Req, deadline: number): Promise<Res> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith)
    const id = this.nextId
    this.nextId = (this.nextId + 1) | 0
    const flexible = version >= spec.flexible
    const w = new Writer()
    // Size placeholder, patched below. Request header v2 adds a tagged-field
    // section to v1; client_id stays a classic nullable string in both.
    w.int32(0).int16(spec.key).int16(version).int32(id).string(this.opts.clientId)
    if (flexible) w.tagged()
    spec.encode(w, version, req)
    const frame = w.finish()
    frame.writeInt32BE(frame.length - 4, 0)
    return new Promise<Res>((resolve, reject) => {
      const entry: Pending = {
        // ApiVersions answers with response header v0 even at flexible versions (KIP-511).
        flexibleHeader: flexible && spec.key !== ApiVersions.key,
        timer: null,
        resolve: (body) => {
          try {
            resolve(spec.decode(body, version))
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)))
          }
        },
        reject
      }
      const wait = deadline - Date.now()
      if (wait <= 0) {
        reject(timeoutError(`${spec.name} to ${this.address} timed out`))
        return
      }
      entry.timer = setTimeout(() => {
        // A late answer is dropped by its unknown correlation id.
        if (this.pending.delete(id)) this.idle()
        reject(timeoutError(`${spec.name} to ${this.address} timed out`))
      }, wait)
      entry.timer.unref()
      this.pending.set(id, entry)
      this.socket.ref()
      this.socket.write(frame)
    })
  }

  /** An idle connection must not keep the process alive. */
  private idle (): void {
    if (this.pending.size === 0 && this.closedWith === null) this.socket.unref()
  }

  private onData (chunk: Buffer): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    while (this.buffered >= 4) {
      let head = this.chunks[0] as Buffer
      if (head.length < 4) {
        head = Buffer.concat(this.chunks)
        this.chunks = [head]
      }
      const size = head.readInt32BE(0)
      if (size < 4 || size > MAX_FRAME) {
        this.close(transportError(`invalid frame size ${size} from ${this.address}`))
        return
      }
      if (this.buffered < size + 4) return
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks)
      const frame = all.subarray(4, size + 4)
      const rest = all.subarray(size + 4)
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
      this.dispatch(frame)
    }
  }

  private dispatch (frame: Buffer): void {
    const r = new Reader(frame)
    const id = r.int32()
    const entry = this.pending.get(id)
    if (entry === undefined) return
    this.pending.delete(id)
    if (entry.timer !== null) clearTimeout(entry.timer)
    this.idle()
    try {
      if (entry.flexibleHeader) r.tagged()
    } catch (err) {
      entry.reject(err as Error)
      return
    }
    entry.resolve(r)
  }

  private fail (err: Error): void {
    if (this.closedWith !== null) return
    this.closedWith = err
    for (const entry of this.pending.values()) {
      if (entry.timer !== null) clearTimeout(entry.timer)
      entry.reject(err)
    }
    this.pending.clear()
    this.socket.destroy()
    const onClose = this.onClose
    this.onClose = null
    onClose?.()
  }

  close (reason: Error = transportError(`connection to ${this.address} closed by the client`)): void {
    this.fail(reason)
  }
}
