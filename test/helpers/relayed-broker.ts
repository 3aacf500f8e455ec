// A broker of its own whose clients can be made to reach it through a relay
// (./relay.ts), for network faults between the proxy and Kafka. Kafka clients
// connect to the address a broker advertises, not the one they bootstrapped
// from, so the broker gets a second listener (RELAYED) that advertises the
// relay's port: clients bootstrapping from `relayed` stay behind the relay
// for every connection, while `direct` (the PLAINTEXT listener) is for the
// test's own admin and reader clients.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { startBroker, type RunningBroker } from '../../src/dev/kafka-broker.js'
import { libDir } from './broker.js'
import { freePort } from './command.js'
import { startRelay, type Relay } from './relay.js'

export interface RelayedBroker {
  /** Bootstrap servers for clients that must not pass the relay. */
  direct: string
  /** Bootstrap servers through the relay. */
  relayed: string
  relay: Relay
  broker: RunningBroker
}

export async function startRelayedBroker (t: TestContext): Promise<RelayedBroker> {
  const host = '127.0.0.1'
  const [port, controllerPort, relayedPort] = [await freePort(), await freePort(), await freePort()]
  const relay = await startRelay(t, relayedPort)
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-relayed-'))
  const broker = await startBroker({
    libDir: libDir(),
    dataDir,
    port,
    controllerPort,
    properties: {
      'auto.create.topics.enable': 'false',
      listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort},RELAYED://${host}:${relayedPort}`,
      'advertised.listeners': `PLAINTEXT://${host}:${port},RELAYED://${host}:${relay.port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,RELAYED:PLAINTEXT'
    }
  })
  t.after(async () => {
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  if (broker.port !== port) throw new Error(`the broker listens on ${broker.port}, not the chosen ${port}`)
  return { direct: broker.bootstrapServers, relayed: `${host}:${relay.port}`, relay, broker }
}
