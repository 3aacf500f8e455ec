// The v3 API: every resource module registers its routes here. Modules get
// the shared dependencies and may return a close function for what they own.
import type { Config } from '../../config/schema.js'
import type { Logger } from '../../logger.js'
import type { Router } from '../../http/router.js'
import type { Handler } from '../../http/handler.js'
import type { KafkaProducer } from '../../kafka/producer.js'
import type { ClusterMetadata } from '../../kafka/metadata.js'
import type { ProtocolAdmin } from '../../kafka/protocol/admin.js'
import type { SchemaRegistryClient } from '../../serdes/registry.js'
import type { TaskPool } from '../../pool/pool.js'
import type { Resources } from './resource.js'
import { registerClusters } from './clusters.js'
import { registerBrokers } from './brokers.js'
import { registerConfigs } from './configs.js'
import { registerTopics } from './topics.js'
import { registerPartitions } from './partitions.js'
import { registerGroups } from './groups.js'
import { registerAcls } from './acls.js'
import { registerRead } from './read.js'
import { registerRecords } from './records.js'

export interface V3Deps {
  config: Config
  log: Logger
  producer: KafkaProducer
  metadata: ClusterMetadata
  admin: ProtocolAdmin
  resources: Resources
  registry: SchemaRegistryClient
  pool: TaskPool
  /** Worker processes sharing the port (rate limits divide instance-wide limits by it). */
  workers: number
}

export type Closer = () => Promise<void>
export type V3Module = (router: Router<Handler>, deps: V3Deps) => Closer | undefined

const MODULES: readonly V3Module[] = [
  registerClusters, registerBrokers, registerConfigs, registerTopics, registerPartitions,
  registerGroups, registerAcls, registerRead, registerRecords
]

/** Registers every v3 route; the returned function closes what the modules own. */
export function registerV3 (router: Router<Handler>, deps: V3Deps): Closer {
  const closers = MODULES.map((register) => register(router, deps)).filter((c): c is Closer => c !== undefined)
  return async () => {
    await Promise.allSettled(closers.map((c) => c()))
  }
}
