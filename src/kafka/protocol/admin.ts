// The admin operations the v3 API needs and the librdkafka binding does not
// expose (DescribeCluster, DescribeConfigs, IncrementalAlterConfigs,
// CreateTopics with validate_only, ACLs, partition reassignments). They are
// implemented over the Kafka wire protocol by ./client.ts; handlers depend on
// this interface only.
//
// Enum values are the Java client's names, the same strings the v3 API uses.

export type ConfigResourceType = 'TOPIC' | 'BROKER' | 'BROKER_LOGGER'

/** `name` is a topic name or a broker id; '' with BROKER means the cluster-wide default. */
export interface ConfigResource {
  type: ConfigResourceType
  name: string
}

export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_LOGGER_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG'
  | 'UNKNOWN'

export interface ConfigSynonym {
  name: string
  value: string | null
  source: ConfigSource
}

export interface ConfigEntry {
  name: string
  /** null for sensitive values and unset ones. */
  value: string | null
  isDefault: boolean
  isReadOnly: boolean
  isSensitive: boolean
  source: ConfigSource
  synonyms: ConfigSynonym[]
}

export type AlterConfigOperation = 'SET' | 'DELETE' | 'APPEND' | 'SUBTRACT'

export interface AlterConfigOp {
  name: string
  operation: AlterConfigOperation
  /** Ignored (sent as null) for DELETE. */
  value: string | null
}

export interface BrokerNode {
  id: number
  host: string
  port: number
  rack: string | null
}

export interface ClusterDescription {
  clusterId: string
  /** -1 when the cluster reports none. */
  controllerId: number
  brokers: BrokerNode[]
}

export interface NewTopic {
  name: string
  /** -1: the broker's default (also when assignments are given). */
  numPartitions: number
  /** -1: the broker's default (also when assignments are given). */
  replicationFactor: number
  /** Explicit replica lists by partition id; empty for none. */
  assignments: Array<{ partition: number, brokers: number[] }>
  configs: Array<{ name: string, value: string | null }>
}

export interface CreatedTopic {
  numPartitions: number
  replicationFactor: number
  configs: Array<{ name: string, value: string | null, isReadOnly: boolean, isSensitive: boolean, source: ConfigSource }>
}

export interface PartitionReassignment {
  topic: string
  partition: number
  replicas: number[]
  addingReplicas: number[]
  removingReplicas: number[]
}

export type AclResourceType = 'UNKNOWN' | 'ANY' | 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID' | 'DELEGATION_TOKEN'
export type AclPatternType = 'UNKNOWN' | 'ANY' | 'MATCH' | 'LITERAL' | 'PREFIXED'
export type AclOperation =
  | 'UNKNOWN' | 'ANY' | 'ALL' | 'READ' | 'WRITE' | 'CREATE' | 'DELETE' | 'ALTER' | 'DESCRIBE'
  | 'CLUSTER_ACTION' | 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS' | 'IDEMPOTENT_WRITE'
export type AclPermission = 'UNKNOWN' | 'ANY' | 'DENY' | 'ALLOW'

/** A concrete ACL: no ANY/MATCH/UNKNOWN values. */
export interface AclBinding {
  resourceType: AclResourceType
  resourceName: string
  patternType: AclPatternType
  principal: string
  host: string
  operation: AclOperation
  permission: AclPermission
}

/** An ACL filter: ANY (and MATCH for patterns) allowed; null strings match anything. */
export interface AclFilter {
  resourceType: AclResourceType
  resourceName: string | null
  patternType: AclPatternType
  principal: string | null
  host: string | null
  operation: AclOperation
  permission: AclPermission
}

/**
 * A Kafka error answered by the cluster: `code` is the Kafka protocol error
 * code (org.apache.kafka.common.protocol.Errors), `message` the broker's error
 * message or the error's name. The shape matches what kafka/errors.ts maps
 * (`code`, `message`, `isRetriable`).
 */
export class KafkaProtocolError extends Error {
  readonly code: number
  readonly isRetriable: boolean
  constructor (code: number, message: string, isRetriable: boolean) {
    super(message)
    this.name = 'KafkaProtocolError'
    this.code = code
    this.isRetriable = isRetriable
  }
}

/**
 * Every method rejects with a KafkaProtocolError for an error the cluster
 * answered, or with an error carrying librdkafka-style transport codes
 * (RD.TRANSPORT, RD.TIMED_OUT from kafka/errors.ts) when no broker could be
 * reached or a request timed out, so kafka/errors.ts `adminError` maps both.
 */
export interface ProtocolAdmin {
  describeCluster (): Promise<ClusterDescription>
  /** All entries of one resource, with synonyms and documentation off. */
  describeConfigs (resource: ConfigResource): Promise<ConfigEntry[]>
  /** One round trip per target broker for many resources; a failed resource carries its error. */
  describeConfigsMany (resources: ConfigResource[]): Promise<Array<{ resource: ConfigResource, entries: ConfigEntry[] } | { resource: ConfigResource, error: KafkaProtocolError }>>
  alterConfigs (resource: ConfigResource, ops: AlterConfigOp[], validateOnly: boolean): Promise<void>
  alterConfigsMany (changes: Array<{ resource: ConfigResource, ops: AlterConfigOp[] }>, validateOnly: boolean): Promise<Array<{ resource: ConfigResource, error: KafkaProtocolError | null }>>
  createTopic (topic: NewTopic, validateOnly: boolean): Promise<CreatedTopic>
  deleteTopic (name: string): Promise<void>
  createPartitions (topic: string, totalCount: number, validateOnly: boolean): Promise<void>
  /** null: every partition being reassigned. */
  listPartitionReassignments (partitions: Array<{ topic: string, partitions: number[] }> | null): Promise<PartitionReassignment[]>
  describeAcls (filter: AclFilter): Promise<AclBinding[]>
  /** Per binding, in order: null when created. */
  createAcls (bindings: AclBinding[]): Promise<Array<KafkaProtocolError | null>>
  /** Per filter, in order: the ACLs it deleted, or its error. */
  deleteAcls (filters: AclFilter[]): Promise<Array<{ error: KafkaProtocolError | null, deleted: AclBinding[] }>>
  close (): Promise<void>
}
