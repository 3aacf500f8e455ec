// A multi-node KRaft cluster on one machine, for failover tests: every node is
// a combined broker+controller started by ./kafka-broker.ts with its own data
// dir and ports, one shared cluster id and one static voter set, so any
// majority of the nodes keeps the controller quorum. Replication defaults to
// every node with min.insync.replicas one below it, as a production cluster of
// that size would run.
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:net'
import { join, resolve } from 'node:path'
import { releasePorts, reservePort } from './guard.js'
import { randomClusterId, startBroker, type RunningBroker } from './kafka-broker.js'

export interface ClusterOptions {
  libDir: string
  /** Holds one directory per node (`node-1`, …). */
  dataDir: string
  /** Nodes in the cluster; 3 unless told. */
  nodes?: number
  host?: string
  heapMb?: number
  /** Extra or overriding server properties for every node. */
  properties?: Record<string, string>
  log?: (msg: string, fields?: Record<string, unknown>) => void
}

export interface KafkaCluster {
  /** Every node's client address, comma-separated. */
  bootstrapServers: string
  /** The running node with this id (1-based), or undefined while it is stopped. */
  node (id: number): RunningBroker | undefined
  /** Kills one node's JVM at once (SIGKILL), as a crash would. */
  kill (id: number): Promise<void>
  /** Starts a killed or stopped node again on its data dir and ports. */
  restart (id: number): Promise<RunningBroker>
  stop (): Promise<void>
}

export async function startCluster (opts: ClusterOptions): Promise<KafkaCluster> {
  const count = opts.nodes ?? 3
  const host = opts.host ?? '127.0.0.1'
  const held: Server[] = []
  const ports: Array<{ port: number, controllerPort: number }> = []
  try {
    for (let i = 0; i < count; i++) ports.push({ port: await reservePort(host, 0, held), controllerPort: await reservePort(host, 0, held) })
  } finally {
    await releasePorts(held)
  }
  const clusterId = randomClusterId()
  const quorumVoters = ports.map((p, i) => `${i + 1}@${host}:${p.controllerPort}`).join(',')
  const properties: Record<string, string> = {
    'offsets.topic.replication.factor': String(count),
    'transaction.state.log.replication.factor': String(count),
    'transaction.state.log.min.isr': String(Math.max(1, count - 1)),
    'share.coordinator.state.topic.replication.factor': String(count),
    'share.coordinator.state.topic.min.isr': String(Math.max(1, count - 1)),
    'default.replication.factor': String(count),
    'min.insync.replicas': String(Math.max(1, count - 1)),
    ...opts.properties
  }
  const start = (id: number): Promise<RunningBroker> => {
    const dataDir = join(resolve(opts.dataDir), `node-${id}`)
    mkdirSync(dataDir, { recursive: true })
    const p = ports[id - 1] as { port: number, controllerPort: number }
    return startBroker({
      libDir: opts.libDir,
      dataDir,
      host,
      port: p.port,
      controllerPort: p.controllerPort,
      nodeId: id,
      quorumVoters,
      clusterId,
      properties,
      // A node alone cannot elect a controller, so the nodes start together and each waits for the others.
      startTimeoutMs: 120_000,
      ...(opts.heapMb === undefined ? {} : { heapMb: opts.heapMb }),
      ...(opts.log === undefined ? {} : { log: opts.log })
    })
  }
  const running = new Map<number, RunningBroker>()
  const ids = Array.from({ length: count }, (_, i) => i + 1)
  const started = await Promise.allSettled(ids.map(async (id) => running.set(id, await start(id))))
  const failed = started.find((r) => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all([...running.values()].map((b) => b.stop()))
    throw failed.reason
  }
  return {
    bootstrapServers: ports.map((p) => `${host}:${p.port}`).join(','),
    node: (id) => running.get(id),
    kill: async (id) => {
      const node = running.get(id)
      if (node === undefined) return
      running.delete(id)
      process.kill(node.pid, 'SIGKILL')
      // The guard exits with its JVM; stop() then only tidies up.
      await node.stop()
    },
    restart: async (id) => {
      const node = await start(id)
      running.set(id, node)
      return node
    },
    stop: async () => {
      await Promise.all([...running.values()].map((b) => b.stop()))
      running.clear()
    }
  }
}
