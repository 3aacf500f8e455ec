// A TCP relay whose connections a test can cut at any moment, as a load
// balancer or a flaky network would: in front of the proxy (clients'
// connections) or in front of a broker (the proxy's Kafka connections, see
// ./relayed-broker.ts). Besides cutting, it can stall (hold every byte, as a
// network partition that TCP rides out: held bytes go on in order when it
// ends), slow every chunk down, or refuse new connections.
import net from 'node:net'
import type { TestContext } from 'node:test'

export interface Relay {
  port: number
  /** Connections relayed so far. */
  connections: number
  /** Destroys every open connection (both sides). */
  cut (): void
  /** Holds every byte of open and new connections, both ways, until resume(). */
  stall (): void
  /** Delays every chunk by `ms` each way, until resume(). */
  slow (ms: number): void
  /** Accepts new connections and resets them at once, until resume(). */
  refuse (): void
  /** Ends a stall, slowdown or refusal; held bytes are sent on, in order. */
  resume (): void
}

interface Mode {
  stalled: boolean
  delayMs: number
  refusing: boolean
}

/** One direction of one connection: chunks in arrival order, each sent when due and not stalled. */
class Pipe {
  private readonly queue: Array<{ chunk: Buffer, due: number }> = []
  private timer: NodeJS.Timeout | null = null

  constructor (from: net.Socket, private readonly to: net.Socket, private readonly mode: Mode) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ chunk, due: Date.now() + mode.delayMs })
      this.pump()
    })
  }

  pump (): void {
    if (this.timer !== null) return
    while (this.queue.length > 0 && !this.mode.stalled) {
      const head = this.queue[0] as { chunk: Buffer, due: number }
      const wait = head.due - Date.now()
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null
          this.pump()
        }, wait)
        return
      }
      this.queue.shift()
      if (!this.to.destroyed) this.to.write(head.chunk)
    }
  }

  stop (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}

export async function startRelay (t: TestContext, targetPort: number): Promise<Relay> {
  const open = new Set<net.Socket>()
  const pipes = new Set<Pipe>()
  const mode: Mode = { stalled: false, delayMs: 0, refusing: false }
  const relay: Relay = {
    port: 0,
    connections: 0,
    cut: () => { for (const s of open) s.destroy() },
    stall: () => { mode.stalled = true },
    slow: (ms) => { mode.delayMs = ms },
    refuse: () => { mode.refusing = true },
    resume: () => {
      mode.stalled = false
      mode.delayMs = 0
      mode.refusing = false
      for (const p of pipes) p.pump()
    }
  }
  const server = net.createServer((client) => {
    if (mode.refusing) {
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    relay.connections++
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('close', () => open.delete(s))
      s.on('error', () => {})
    }
    const both = [new Pipe(client, upstream, mode), new Pipe(upstream, client, mode)]
    for (const p of both) pipes.add(p)
    const close = (): void => {
      for (const p of both) {
        p.stop()
        pipes.delete(p)
      }
      client.destroy()
      upstream.destroy()
    }
    client.on('close', close)
    upstream.on('close', close)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  relay.port = (server.address() as net.AddressInfo).port
  t.after(() => {
    relay.cut()
    server.close()
  })
  return relay
}
