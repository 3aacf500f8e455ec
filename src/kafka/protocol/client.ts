// Placeholder until the wire-protocol admin client lands; every call rejects.
import type { Logger } from '../../logger.js'
import type { ProtocolAdmin } from './admin.js'

export interface ProtocolClientOptions {
  /** Comma-separated host:port list (kafka.bootstrap_servers). */
  bootstrapServers: string
  /** client.id sent with every request. */
  clientId: string
  /** Bound of one admin call, connection included (kafka.request_timeout_ms). */
  requestTimeoutMs: number
  /**
   * The operator's librdkafka admin pass-through properties (kafka.admin);
   * the security ones (security.protocol, ssl.*, sasl.*) apply here too.
   */
  properties: Readonly<Record<string, string | number | boolean>>
  log: Logger
}

export function createProtocolAdmin (_opts: ProtocolClientOptions): ProtocolAdmin {
  const missing = (): Promise<never> => Promise.reject(new Error('protocol admin client not implemented'))
  return {
    describeCluster: missing,
    describeConfigs: missing,
    describeConfigsMany: missing,
    alterConfigs: missing,
    alterConfigsMany: missing,
    createTopic: missing,
    deleteTopic: missing,
    createPartitions: missing,
    listPartitionReassignments: missing,
    describeAcls: missing,
    createAcls: missing,
    deleteAcls: missing,
    close: async () => {}
  }
}
