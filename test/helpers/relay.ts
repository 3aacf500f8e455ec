// A TCP relay in front of the proxy whose connections a test can cut at any
// moment, as a load balancer or a flaky network would.
import net from 'node:net'
import type { TestContext } from 'node:test'

export interface Relay {
  port: number
  /** Connections relayed so far. */
  connections: number
  /** Destroys every open connection (both sides). */
  cut (): void
}

export async function startRelay (t: TestContext, targetPort: number): Promise<Relay> {
  const open = new Set<net.Socket>()
  const relay: Relay = {
    port: 0,
    connections: 0,
    cut: () => { for (const s of open) s.destroy() }
  }
  const server = net.createServer((client) => {
    relay.connections++
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('close', () => open.delete(s))
      s.on('error', () => {})
    }
    client.pipe(upstream)
    upstream.pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  relay.port = (server.address() as net.AddressInfo).port
  t.after(() => {
    relay.cut()
    server.close()
  })
  return relay
}
