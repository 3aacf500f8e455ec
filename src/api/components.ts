// What the API's routes and its OpenAPI document share, as data: the
// component schemas, parameters and error responses, the media type lists,
// and the constructors route tables use to write schemas. Route tables
// (each API module's *_ROUTES) refer to components by $ref; the document
// (api/openapi.ts) carries them under `components`, and `serializer`
// compiles a route's declared response schema, so the schema given once
// documents the response and writes it.
//
// v3 schema names and shapes follow Confluent's api/v3/openapi.yaml (so
// clients generated from it recognise them), with its known defects fixed:
// `type: int64` is written as integer/int64. Whatever the proxy adds to
// Confluent's API is marked `x-extension: true`.
import fjs, { type AnySchema } from 'fast-json-stringify'
import { EMBEDDED_FORMATS, MEDIA, V2_OFFERS } from '../http/media.js'
import type { ErrorStatus, JsonObject, RouteSpec } from '../http/route.js'

export type { JsonObject } from '../http/route.js'

export const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })
export const param = (name: string): JsonObject => ({ $ref: `#/components/parameters/${name}` })
const response = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` })

export const STRING = { type: 'string' }
export const INT = { type: 'integer' }
export const INT32 = { type: 'integer', format: 'int32' }
export const INT64 = { type: 'integer', format: 'int64' }
export const BOOL = { type: 'boolean' }

export function object (properties: JsonObject, required: string[] = [], extra: JsonObject = {}): JsonObject {
  const o: JsonObject = { type: 'object', properties, ...extra }
  if (required.length > 0) o.required = required
  return o
}

export const arrayOf = (items: JsonObject): JsonObject => ({ type: 'array', items })

/** A Confluent v3 resource: `kind` + `metadata` + the resource's own fields. */
export function resource (properties: JsonObject, required: string[], base = 'Resource'): JsonObject {
  return { allOf: [ref(base), object(properties, required)] }
}

export function collection (item: string): JsonObject {
  return { allOf: [ref('ResourceCollection'), object({ data: arrayOf(ref(item)) }, ['data'])] }
}

export const extension = (schema: JsonObject, description: string): JsonObject => ({ ...schema, description, 'x-extension': true })

// Error responses, by status. `406` has no body (as Confluent's).
const ERROR_RESPONSES: Record<string, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  406: 'NotAcceptable',
  408: 'RequestTimeout',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  422: 'UnprocessableEntity',
  429: 'TooManyRequests',
  '5XX': 'ServerError'
}

/** The shared response documenting an error status. */
export function errorResponse (status: ErrorStatus): JsonObject {
  const name = ERROR_RESPONSES[String(status)]
  if (name === undefined) throw new Error(`no error response for status ${String(status)}`)
  return response(name)
}

// What every v3 admin call can fail with: bad enum/query values, Kafka
// authentication/authorization, unknown cluster or resource, an Accept
// without application/json, a Kafka quota, and Kafka/proxy failures.
export const V3_READ_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 406, 429, '5XX']
// …and for calls with a JSON body: its size, media type and validation.
export const V3_WRITE_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 404, 406, 413, 415, 422, 429, '5XX']
export const V2_METADATA_ERRORS: readonly ErrorStatus[] = [404, 406, '5XX']
export const V2_CONSUMER_ERRORS: readonly ErrorStatus[] = [400, 404, 406, 409, 413, 415, 422, '5XX']

/** What v2 resources answer in: the types they negotiate (http/media.ts). */
export const V2_MEDIA: readonly string[] = V2_OFFERS.map((o) => o.type)
export const JSON_MEDIA: readonly string[] = [MEDIA.json]

export const V2_TAGS = ['v2']
export const V2_CONSUMER_TAGS = ['v2 consumers']
export const EXTENSION_TAGS = ['Extensions']

export const NO_CONTENT_RESPONSE = { description: 'No Content' }

// ---------------------------------------------------------------------------
// Schemas

const ACL_OPERATIONS = ['ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS', 'IDEMPOTENT_WRITE']

const V3_SCHEMAS: JsonObject = {
  Relationship: object({ related: STRING }, ['related']),
  ResourceMetadata: object({ self: STRING, resource_name: { type: 'string', nullable: true } }, ['self']),
  ResourceCollectionMetadata: object({ self: STRING, next: { type: 'string', nullable: true } }, ['self']),
  Resource: object({ kind: STRING, metadata: ref('ResourceMetadata') }, ['kind', 'metadata']),
  ResourceCollection: object({ kind: STRING, metadata: ref('ResourceCollectionMetadata') }, ['kind', 'metadata']),
  AnyValue: { nullable: true, description: 'Any JSON value. Integers beyond ±(2^53 - 1) are refused (400): they cannot be kept exactly; send them as strings.' },

  ClusterData: resource({
    cluster_id: STRING,
    controller: ref('Relationship'),
    acls: ref('Relationship'),
    brokers: ref('Relationship'),
    broker_configs: ref('Relationship'),
    consumer_groups: ref('Relationship'),
    topics: ref('Relationship'),
    partition_reassignments: ref('Relationship')
  }, ['cluster_id', 'acls', 'brokers', 'broker_configs', 'consumer_groups', 'topics', 'partition_reassignments']),
  ClusterDataList: collection('ClusterData'),

  BrokerData: resource({
    cluster_id: STRING,
    broker_id: INT,
    host: { type: 'string', nullable: true },
    port: { type: 'integer', nullable: true },
    rack: { type: 'string', nullable: true },
    configs: ref('Relationship'),
    partition_replicas: ref('Relationship')
  }, ['cluster_id', 'broker_id', 'configs', 'partition_replicas']),
  BrokerDataList: collection('BrokerData'),

  ConfigSource: {
    type: 'string',
    'x-extensible-enum': ['DYNAMIC_CLUSTER_LINK_CONFIG', 'DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_LOGGER_CONFIG',
      'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG', 'UNKNOWN']
  },
  ConfigSynonymData: object({ name: STRING, value: { type: 'string', nullable: true }, source: ref('ConfigSource') }, ['name', 'source']),
  AbstractConfigData: resource({
    cluster_id: STRING,
    name: STRING,
    value: { type: 'string', nullable: true },
    is_default: BOOL,
    is_read_only: BOOL,
    is_sensitive: BOOL,
    source: ref('ConfigSource'),
    synonyms: arrayOf(ref('ConfigSynonymData'))
  }, ['cluster_id', 'name', 'is_default', 'is_read_only', 'is_sensitive', 'source', 'synonyms']),
  ClusterConfigType: { type: 'string', 'x-extensible-enum': ['BROKER'] },
  ClusterConfigData: resource({ config_type: ref('ClusterConfigType') }, ['config_type'], 'AbstractConfigData'),
  ClusterConfigDataList: collection('ClusterConfigData'),
  BrokerConfigData: resource({ broker_id: INT }, ['broker_id'], 'AbstractConfigData'),
  BrokerConfigDataList: collection('BrokerConfigData'),
  TopicConfigData: resource({ topic_name: STRING }, ['topic_name'], 'AbstractConfigData'),
  TopicConfigDataList: collection('TopicConfigData'),
  AlterConfigBatchRequestData: object({
    data: arrayOf(object({
      name: STRING,
      value: { type: 'string', nullable: true },
      operation: { type: 'string', nullable: true, 'x-extensible-enum': ['SET', 'DELETE'] }
    }, ['name'])),
    validate_only: BOOL
  }, ['data']),
  AlterTopicsConfigsBatchRequestData: object({
    data: arrayOf(object({
      topic_name: STRING,
      configs: arrayOf(object({
        name: STRING,
        value: { type: 'string', nullable: true },
        operation: { type: 'string', nullable: true, 'x-extensible-enum': ['SET', 'DELETE'] }
      }, ['name']))
    }, ['topic_name', 'configs'])),
    validate_only: BOOL
  }, ['data']),
  AlterTopicsConfigsFailures: object({
    failures: arrayOf(object({
      topic_name: STRING,
      error_code: INT32,
      message: STRING,
      retriable: extension(BOOL, 'Whether the same request can succeed later.')
    }, ['topic_name', 'error_code', 'message']))
  }, ['failures']),
  UpdateConfigRequestData: object({ value: { type: 'string', nullable: true } }),

  AuthorizedOperations: arrayOf({
    type: 'string',
    'x-extensible-enum': ['UNKNOWN', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION',
      'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE']
  }),
  TopicData: resource({
    cluster_id: STRING,
    topic_name: STRING,
    is_internal: BOOL,
    replication_factor: INT,
    partitions_count: INT,
    partitions: ref('Relationship'),
    configs: ref('Relationship'),
    partition_reassignments: ref('Relationship'),
    authorized_operations: ref('AuthorizedOperations')
  }, ['cluster_id', 'topic_name', 'is_internal', 'replication_factor', 'partitions_count', 'partitions', 'configs',
    'partition_reassignments']),
  TopicDataList: collection('TopicData'),
  CreateTopicRequestData: object({
    topic_name: STRING,
    partitions_count: { ...INT32, minimum: 1 },
    // CreateTopics carries it as an int16.
    replication_factor: { type: 'integer', minimum: 1, maximum: 32767 },
    // As Confluent's document declares it, or as its code reads it: `{"0": [1, 2]}`.
    replicas_assignments: {
      oneOf: [
        arrayOf(object({
          partition_id: { ...INT32, minimum: 0 },
          broker_ids: { ...arrayOf(INT32), minItems: 1 }
        }, ['partition_id', 'broker_ids'])),
        { type: 'object', additionalProperties: { ...arrayOf(INT32), minItems: 1 } }
      ]
    },
    configs: arrayOf(object({ name: STRING, value: { type: 'string', nullable: true } }, ['name'])),
    validate_only: BOOL
  }, ['topic_name']),
  UpdatePartitionCountRequestData: object({ partitions_count: { ...INT32, minimum: 1 } }, ['partitions_count']),

  PartitionData: resource({
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    leader: ref('Relationship'),
    replicas: ref('Relationship'),
    reassignment: ref('Relationship')
  }, ['cluster_id', 'topic_name', 'partition_id', 'replicas', 'reassignment']),
  PartitionDataList: collection('PartitionData'),
  // Confluent's document writes the offsets as `type: int64` (invalid OpenAPI); they are integer/int64.
  PartitionWithOffsetsData: resource({
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    earliest_offset: INT64,
    latest_offset: INT64
  }, ['cluster_id', 'topic_name', 'partition_id', 'earliest_offset', 'latest_offset']),
  ReplicaData: resource({
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    broker_id: INT,
    is_leader: BOOL,
    is_in_sync: BOOL,
    broker: ref('Relationship')
  }, ['cluster_id', 'topic_name', 'partition_id', 'broker_id', 'is_leader', 'is_in_sync', 'broker']),
  ReplicaDataList: collection('ReplicaData'),
  ReassignmentData: resource({
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    adding_replicas: arrayOf(INT),
    removing_replicas: arrayOf(INT),
    replicas: ref('Relationship')
  }, ['cluster_id', 'topic_name', 'partition_id', 'adding_replicas', 'removing_replicas', 'replicas']),
  ReassignmentDataList: collection('ReassignmentData'),

  ConsumerGroupState: {
    type: 'string',
    'x-extensible-enum': ['UNKNOWN', 'PREPARING_REBALANCE', 'COMPLETING_REBALANCE', 'ASSIGNING', 'RECONCILING', 'STABLE',
      'DEAD', 'EMPTY']
  },
  ConsumerGroupType: { type: 'string', 'x-extensible-enum': ['UNKNOWN', 'CLASSIC', 'CONSUMER', 'SHARE'] },
  ConsumerGroupData: resource({
    cluster_id: STRING,
    consumer_group_id: STRING,
    is_simple: BOOL,
    partition_assignor: STRING,
    state: ref('ConsumerGroupState'),
    type: ref('ConsumerGroupType'),
    is_mixed_consumer_group: BOOL,
    coordinator: ref('Relationship'),
    consumers: ref('Relationship'),
    lag_summary: ref('Relationship')
  }, ['cluster_id', 'consumer_group_id', 'is_simple', 'partition_assignor', 'state', 'coordinator', 'consumers',
    'lag_summary']),
  ConsumerGroupDataList: collection('ConsumerGroupData'),
  ConsumerData: resource({
    cluster_id: STRING,
    consumer_group_id: STRING,
    consumer_id: STRING,
    instance_id: { type: 'string', nullable: true },
    client_id: STRING,
    assignments: ref('Relationship')
  }, ['cluster_id', 'consumer_group_id', 'consumer_id', 'client_id', 'assignments']),
  ConsumerDataList: collection('ConsumerData'),
  ConsumerAssignmentData: resource({
    cluster_id: STRING,
    consumer_group_id: STRING,
    consumer_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    partition: ref('Relationship'),
    lag: ref('Relationship')
  }, ['cluster_id', 'consumer_group_id', 'consumer_id', 'topic_name', 'partition_id', 'partition', 'lag']),
  ConsumerAssignmentDataList: collection('ConsumerAssignmentData'),
  ConsumerLagData: resource({
    cluster_id: STRING,
    consumer_group_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    current_offset: INT64,
    log_end_offset: INT64,
    lag: INT64,
    consumer_id: STRING,
    instance_id: { type: 'string', nullable: true },
    client_id: STRING
  }, ['cluster_id', 'consumer_group_id', 'topic_name', 'partition_id', 'current_offset', 'log_end_offset', 'lag',
    'consumer_id', 'client_id']),
  ConsumerLagDataList: collection('ConsumerLagData'),
  ConsumerGroupLagSummaryData: resource({
    cluster_id: STRING,
    consumer_group_id: STRING,
    max_lag_consumer_id: STRING,
    max_lag_instance_id: { type: 'string', nullable: true },
    max_lag_client_id: STRING,
    max_lag_topic_name: STRING,
    max_lag_partition_id: INT,
    max_lag: INT64,
    total_lag: INT64,
    max_lag_consumer: ref('Relationship'),
    max_lag_partition: ref('Relationship')
  }, ['cluster_id', 'consumer_group_id', 'max_lag_consumer_id', 'max_lag_client_id', 'max_lag_topic_name',
    'max_lag_partition_id', 'max_lag', 'total_lag', 'max_lag_consumer', 'max_lag_partition']),

  // Closed enum, as in Confluent's document; the others are open.
  AclResourceType: { type: 'string', enum: ['UNKNOWN', 'ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN'] },
  AclPatternType: { type: 'string', 'x-extensible-enum': ['UNKNOWN', 'ANY', 'MATCH', 'LITERAL', 'PREFIXED'] },
  AclOperation: {
    type: 'string',
    'x-extensible-enum': ['UNKNOWN', 'ANY', 'ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION',
      'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE']
  },
  AclPermission: { type: 'string', 'x-extensible-enum': ['UNKNOWN', 'ANY', 'DENY', 'ALLOW'] },
  // What requests may send (the server takes any case): searches and deletes
  // match with ANY (and MATCH for patterns), a new ACL names concrete values;
  // UNKNOWN is only ever an answer.
  AclResourceTypeFilter: { type: 'string', enum: ['ANY', 'TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN'] },
  AclPatternTypeFilter: { type: 'string', enum: ['ANY', 'MATCH', 'LITERAL', 'PREFIXED'] },
  AclOperationFilter: { type: 'string', enum: ['ANY', ...ACL_OPERATIONS] },
  AclPermissionFilter: { type: 'string', enum: ['ANY', 'DENY', 'ALLOW'] },
  AclResourceTypeNew: { type: 'string', enum: ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN'] },
  AclPatternTypeNew: { type: 'string', enum: ['LITERAL', 'PREFIXED'] },
  AclOperationNew: { type: 'string', enum: ACL_OPERATIONS },
  AclPermissionNew: { type: 'string', enum: ['DENY', 'ALLOW'] },
  AclData: resource({
    cluster_id: STRING,
    resource_type: ref('AclResourceType'),
    resource_name: STRING,
    pattern_type: ref('AclPatternType'),
    principal: STRING,
    host: STRING,
    operation: ref('AclOperation'),
    permission: ref('AclPermission')
  }, ['cluster_id', 'resource_type', 'resource_name', 'pattern_type', 'principal', 'host', 'operation', 'permission']),
  AclDataList: collection('AclData'),
  DeleteAclsResponseData: object({ data: arrayOf(ref('AclData')) }, ['data']),
  CreateAclRequestData: object({
    resource_type: ref('AclResourceTypeNew'),
    resource_name: STRING,
    pattern_type: ref('AclPatternTypeNew'),
    principal: STRING,
    host: STRING,
    operation: ref('AclOperationNew'),
    permission: ref('AclPermissionNew')
  }, ['resource_type', 'resource_name', 'pattern_type', 'principal', 'host', 'operation', 'permission']),
  CreateAclRequestDataList: object({ data: arrayOf(ref('CreateAclRequestData')) }, ['data']),

  ProduceRequestHeader: object({ name: STRING, value: { type: 'string', format: 'byte', nullable: true } }, ['name']),
  ProduceRequestData: object({
    type: { type: 'string', 'x-extensible-enum': ['BINARY', 'JSON', 'STRING', 'AVRO', 'JSONSCHEMA', 'PROTOBUF'] },
    subject: { type: 'string', nullable: true },
    subject_name_strategy: { type: 'string', nullable: true, 'x-extensible-enum': ['TOPIC_NAME', 'RECORD_NAME', 'TOPIC_RECORD_NAME'] },
    schema_id: { type: 'integer', nullable: true },
    schema_version: { type: 'integer', nullable: true },
    schema: { type: 'string', nullable: true },
    data: ref('AnyValue')
  }, [], { nullable: true }),
  ProduceRequest: object({
    partition_id: { type: 'integer', nullable: true },
    headers: { ...arrayOf(ref('ProduceRequestHeader')), nullable: true, description: 'null: no headers.' },
    key: ref('ProduceRequestData'),
    value: ref('ProduceRequestData'),
    timestamp: { type: 'string', format: 'date-time', nullable: true }
  }),
  ProduceResponseData: object({
    size: INT,
    type: { type: 'string', nullable: true, 'x-extensible-enum': ['BINARY', 'JSON', 'STRING', 'AVRO', 'JSONSCHEMA', 'PROTOBUF'] },
    subject: { type: 'string', nullable: true },
    schema_id: { type: 'integer', nullable: true },
    schema_version: { type: 'integer', nullable: true }
  }, ['size'], { nullable: true }),
  ProduceResponse: object({
    error_code: INT32,
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    offset: INT64,
    timestamp: { type: 'string', format: 'date-time', nullable: true },
    key: ref('ProduceResponseData'),
    value: ref('ProduceResponseData')
  }, ['error_code', 'cluster_id', 'topic_name', 'partition_id', 'offset']),
  ProduceBatchRequestEntry: {
    allOf: [ref('ProduceRequest'), object({ id: { type: 'string', pattern: '^[0-9a-zA-Z_-]{1,80}$' } }, ['id'])]
  },
  ProduceBatchRequest: object({
    entries: { ...arrayOf(ref('ProduceBatchRequestEntry')), minItems: 1, description: 'At most v3.batch_max_entries entries, each with a distinct id.' }
  }, ['entries']),
  ProduceBatchResponseSuccessEntry: object({
    id: STRING,
    cluster_id: STRING,
    topic_name: STRING,
    partition_id: INT,
    offset: INT64,
    timestamp: { type: 'string', format: 'date-time', nullable: true },
    key: ref('ProduceResponseData'),
    value: ref('ProduceResponseData')
  }, ['id', 'cluster_id', 'topic_name', 'partition_id', 'offset']),
  ProduceBatchResponseFailureEntry: { allOf: [ref('Error'), object({ id: STRING }, ['id'])] },
  ProduceBatchResponse: object({
    successes: arrayOf(ref('ProduceBatchResponseSuccessEntry')),
    failures: arrayOf(ref('ProduceBatchResponseFailureEntry'))
  }, ['successes', 'failures']),

  ReadRecordData: extension(object({
    type: { type: 'string', 'x-extensible-enum': ['BINARY', 'STRING', 'JSON'] },
    data: ref('AnyValue'),
    reason: extension(STRING, 'Only with `undecodable=raw`, on a key or value that does not fit its format: why; `type` is then BINARY.')
  }, ['type', 'data'], { nullable: true }), 'A key or value as the `format` query parameter renders it: BINARY base64, STRING text, JSON a JSON value; null for a null key/value.'),
  ReadRecord: extension(object({
    partition_id: INT,
    offset: INT64,
    timestamp: { type: 'string', format: 'date-time', nullable: true },
    key: ref('ReadRecordData'),
    value: ref('ReadRecordData'),
    headers: arrayOf(ref('RecordHeader'))
  }, ['partition_id', 'offset', 'timestamp', 'key', 'value', 'headers']), 'One record of a stateless read.'),
  ReadRecordList: extension({
    allOf: [ref('ResourceCollection'), object({
      cluster_id: STRING,
      topic_name: STRING,
      partition_id: INT,
      next_offset: { ...INT64, description: 'The offset to ask for next (`metadata.next` is the URL that does).' },
      data: arrayOf(ref('ReadRecord'))
    }, ['cluster_id', 'topic_name', 'partition_id', 'next_offset', 'data'])]
  }, 'A page of one partition\'s records (kind KafkaRecordList), in offset order.')
}

const ERROR_SCHEMAS: JsonObject = {
  Error: object({
    error_code: { ...INT32, description: 'The HTTP status, or a Confluent sub-code (HTTP status × 100 + n).' },
    message: { type: 'string', nullable: true },
    retriable: extension(BOOL, 'Whether repeating the same request can succeed (a transient failure).'),
    persisted: extension({ type: 'string', enum: ['no', 'unknown', 'yes'] },
      'Produce failures only: `no` = nothing was written, a retry is safe; `unknown` = the record may have been written, a retry may duplicate it; `yes` = the record was written, what failed came after (a request/reply route\'s reply timing out).')
  }, ['error_code', 'message', 'retriable'])
}

// src/api/v2/validate.ts: instance names reach client.id, logs and URLs; group names group.id.
const INSTANCE_NAME = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' }
const GROUP_NAME = { type: 'string', pattern: '^[!-.0-~]{1,249}$', description: 'Printable ASCII other than space and /.' }

function intOrDecimal (minimum: number, maximum: number): JsonObject {
  return { nullable: true, oneOf: [{ type: 'integer', minimum, maximum }, { type: 'string', pattern: minimum < 0 ? '^(-1|[0-9]{1,7})$' : '^[0-9]{1,9}$' }] }
}

const V2_SCHEMAS: JsonObject = {
  V2Replica: object({ broker: INT, leader: BOOL, in_sync: BOOL }, ['broker', 'leader', 'in_sync']),
  V2Partition: object({ partition: INT, leader: INT, replicas: arrayOf(ref('V2Replica')) }, ['partition', 'leader', 'replicas']),
  V2Topic: object({
    name: STRING,
    configs: { type: 'object', additionalProperties: { type: 'string', nullable: true } },
    partitions: arrayOf(ref('V2Partition'))
  }, ['name', 'configs', 'partitions']),
  V2PartitionOffsets: object({ beginning_offset: INT64, end_offset: INT64 }, ['beginning_offset', 'end_offset']),
  V2Brokers: object({ brokers: arrayOf(INT) }, ['brokers']),
  RecordHeader: extension(object({ name: STRING, value: { type: 'string', format: 'byte', nullable: true } }, ['name', 'value']),
    'A Kafka record header; `value` is base64. The Kafka client cannot carry a null value: null is written as empty.'),
  V2ProduceRecord: object({
    key: ref('AnyValue'),
    value: ref('AnyValue'),
    partition: { type: 'integer', format: 'int32', nullable: true },
    headers: extension({ ...arrayOf(ref('RecordHeader')), nullable: true }, 'Kafka record headers; null is none.')
  }),
  V2BinaryProduceRecord: object({
    key: { type: 'string', format: 'byte', nullable: true },
    value: { type: 'string', format: 'byte', nullable: true },
    partition: { type: 'integer', format: 'int32', nullable: true },
    headers: extension({ ...arrayOf(ref('RecordHeader')), nullable: true }, 'Kafka record headers; null is none.')
  }),
  V2ProduceRequest: object({
    key_schema: { type: 'string', nullable: true },
    key_schema_id: { type: 'integer', format: 'int32', nullable: true },
    value_schema: { type: 'string', nullable: true },
    value_schema_id: { type: 'integer', format: 'int32', nullable: true },
    records: { ...arrayOf(ref('V2ProduceRecord')), minItems: 1 }
  }, ['records']),
  // binary and json: the schema fields of the schema formats mean nothing here and are not read.
  V2BinaryProduceRequest: object({ records: { ...arrayOf(ref('V2BinaryProduceRecord')), minItems: 1 } }, ['records']),
  V2JsonProduceRequest: object({ records: { ...arrayOf(ref('V2ProduceRecord')), minItems: 1 } }, ['records']),
  V2ProduceOffset: object({
    partition: { type: 'integer', format: 'int32', nullable: true },
    offset: { type: 'integer', format: 'int64', nullable: true },
    error_code: { type: 'integer', format: 'int32', nullable: true },
    error: { type: 'string', nullable: true },
    retriable: extension(BOOL, 'Failed records only: whether producing the record again can succeed.'),
    persisted: extension({ type: 'string', enum: ['no', 'unknown'] },
      'Failed records only: `no` = not written, safe to retry; `unknown` = may have been written.')
  }, ['partition', 'offset', 'error_code', 'error']),
  V2ProduceResponse: object({
    offsets: arrayOf(ref('V2ProduceOffset')),
    key_schema_id: { type: 'integer', format: 'int32', nullable: true },
    value_schema_id: { type: 'integer', format: 'int32', nullable: true }
  }, ['offsets', 'key_schema_id', 'value_schema_id']),
  V2CreateConsumerRequest: object({
    // null is absent in every field, as in Confluent's proxy.
    name: { ...INSTANCE_NAME, nullable: true },
    id: { ...INSTANCE_NAME, nullable: true, deprecated: true, description: 'Takes precedence over name.' },
    format: { type: 'string', nullable: true, enum: ['binary', 'json', 'avro', 'jsonschema', 'protobuf'] },
    'auto.offset.reset': { type: 'string', nullable: true, enum: ['earliest', 'latest', 'none', 'smallest', 'largest'] },
    'auto.commit.enable': { type: 'string', nullable: true, enum: ['true', 'false'] },
    // Confluent takes these as numbers or decimal strings; null is absent.
    'fetch.min.bytes': intOrDecimal(-1, 10_000_000),
    responseMinBytes: intOrDecimal(-1, 10_000_000),
    'consumer.request.timeout.ms': intOrDecimal(0, 2147483647),
    requestWaitMs: intOrDecimal(0, 2147483647)
  }),
  V2CreateConsumerResponse: object({ instance_id: STRING, base_uri: STRING }, ['instance_id', 'base_uri']),
  // Exactly one of the two.
  V2Subscription: {
    oneOf: [
      object({ topics: { ...arrayOf(STRING), minItems: 1, uniqueItems: true } }, ['topics']),
      object({ topic_pattern: STRING }, ['topic_pattern'])
    ]
  },
  V2Topics: object({ topics: arrayOf(STRING) }, ['topics']),
  V2TopicPartition: object({ topic: STRING, partition: INT32 }, ['topic', 'partition']),
  V2Partitions: object({ partitions: { ...arrayOf(ref('V2TopicPartition')), uniqueItems: true } }, ['partitions']),
  V2OffsetCommit: object({ topic: STRING, partition: { ...INT32, minimum: 0 }, offset: { ...INT64, minimum: 0 }, metadata: { type: 'string', nullable: true } }, ['topic', 'partition', 'offset']),
  V2OffsetCommitRequest: object({ offsets: { ...arrayOf(ref('V2OffsetCommit')), nullable: true, description: 'Absent or null: commit what was delivered.' } }),
  V2CommittedOffsets: object({
    offsets: arrayOf(object({ topic: STRING, partition: INT32, offset: INT64, metadata: STRING }, ['topic', 'partition', 'offset', 'metadata']))
  }, ['offsets']),
  // At least one of the two; null is absent. A seek has no use for `metadata` (Kafka keeps it with commits only): it is ignored.
  V2SeekRequest: object({
    offsets: {
      ...arrayOf(object({ topic: STRING, partition: { ...INT32, minimum: 0 }, offset: { ...INT64, minimum: 0 }, metadata: { type: 'string', nullable: true, description: 'Ignored.' } }, ['topic', 'partition', 'offset'])),
      minItems: 1,
      nullable: true
    },
    timestamps: {
      ...arrayOf(object({
        topic: STRING,
        partition: { ...INT32, minimum: 0 },
        timestamp: { oneOf: [{ type: 'string', format: 'date-time' }, { ...INT64, minimum: 0, description: 'Milliseconds since the epoch.' }] },
        metadata: { description: 'Ignored.' }
      }, ['topic', 'partition', 'timestamp'])),
      minItems: 1,
      nullable: true
    }
  }, [], { anyOf: [{ required: ['offsets'] }, { required: ['timestamps'] }] }),
  V2ConsumedRecord: object({
    topic: STRING,
    key: ref('AnyValue'),
    value: ref('AnyValue'),
    partition: INT32,
    offset: INT64,
    timestamp: extension({ type: 'integer', format: 'int64', nullable: true }, 'The record timestamp, ms since the epoch; null when it has none.'),
    headers: extension(arrayOf(ref('RecordHeader')), 'The record headers.'),
    undecodable: extension(object({ key: ref('UndecodableBytes'), value: ref('UndecodableBytes') }),
      'Only with `undecodable=raw`, on a record whose key or value does not fit the format (that side is then null): its bytes and why.')
  }, ['topic', 'key', 'value', 'partition', 'offset']),
  UndecodableBytes: extension(object({
    data: { type: 'string', format: 'byte', nullable: true },
    reason: STRING
  }, ['data', 'reason']), 'A key or value that could not be rendered in the requested format: its bytes (base64) and the reason.'),
  V2BinaryRecord: {
    allOf: [ref('V2ConsumedRecord'), object({
      key: { type: 'string', format: 'byte', nullable: true },
      value: { type: 'string', format: 'byte', nullable: true }
    })]
  },
  Health: extension(object({ status: { type: 'string', 'x-extensible-enum': ['ok', 'ready', 'draining', 'kafka unreachable'] } }, ['status']),
    'Process health.'),
  EmptyObject: object({})
}

// ---------------------------------------------------------------------------
// Parameters

const pathParam = (name: string, description: string, schema: JsonObject): JsonObject =>
  ({ name, in: 'path', required: true, description, schema })
export const queryParam = (name: string, description: string, schema: JsonObject, required = false): JsonObject =>
  ({ name, in: 'query', required, description, schema })

// Records reads (v2 consumers, v3 stateless read): src/render/undecodable.ts.
export const UNDECODABLE_PARAM = queryParam('undecodable',
  'A record whose key or value does not fit the format (not JSON, not UTF-8, bad magic byte, unknown schema id, corrupt payload): `fail` (default) ends the response before it, and a read that starts with it answers 500/50002 naming its offset; `raw` delivers it with its bytes (base64) and the reason.',
  { type: 'string', enum: ['fail', 'raw'] })

export const PARAMETERS: JsonObject = {
  ClusterId: pathParam('cluster_id', 'The Kafka cluster ID.', STRING),
  TopicName: pathParam('topic', 'The topic name.', STRING),
  PartitionId: pathParam('partition', 'The partition ID.', INT32),
  BrokerId: pathParam('broker_id', 'The broker ID.', INT32),
  ConfigName: pathParam('name', 'The configuration parameter name.', STRING),
  ConsumerGroupId: pathParam('group', 'The consumer group ID.', STRING),
  ConsumerId: pathParam('consumer', 'The consumer (member) ID.', STRING),
  SubscriptionId: pathParam('subscription_id', 'The webhook subscription ID.', STRING),
  StreamId: pathParam('stream_id', 'The id of a stream under a JWT, from its challenge.', STRING),
  V2Group: pathParam('group', 'The consumer group.', GROUP_NAME),
  V2Instance: pathParam('instance', 'The consumer instance name (`instance_id`).', INSTANCE_NAME),
  AclResourceType: queryParam('resource_type', 'The ACL resource type (default ANY).', ref('AclResourceTypeFilter')),
  AclResourceTypeRequired: queryParam('resource_type', 'The ACL resource type.', ref('AclResourceTypeFilter'), true),
  AclResourceName: queryParam('resource_name', 'The ACL resource name.', STRING),
  AclPatternType: queryParam('pattern_type', 'The ACL pattern type (default ANY).', ref('AclPatternTypeFilter')),
  AclPatternTypeRequired: queryParam('pattern_type', 'The ACL pattern type.', ref('AclPatternTypeFilter'), true),
  AclPrincipal: queryParam('principal', 'The ACL principal.', STRING),
  AclHost: queryParam('host', 'The ACL host.', STRING),
  AclOperation: queryParam('operation', 'The ACL operation (default ANY).', ref('AclOperationFilter')),
  AclOperationRequired: queryParam('operation', 'The ACL operation.', ref('AclOperationFilter'), true),
  AclPermission: queryParam('permission', 'The ACL permission (default ANY).', ref('AclPermissionFilter')),
  AclPermissionRequired: queryParam('permission', 'The ACL permission.', ref('AclPermissionFilter'), true)
}

// The component each path parameter name stands for. v2 and v3 both say
// {group}, but a v2 group name is checked (src/api/v2/validate.ts).
const V3_PATH_PARAMETERS: Record<string, string> = {
  cluster_id: 'ClusterId',
  topic: 'TopicName',
  partition: 'PartitionId',
  broker_id: 'BrokerId',
  name: 'ConfigName',
  group: 'ConsumerGroupId',
  consumer: 'ConsumerId',
  subscription_id: 'SubscriptionId',
  stream_id: 'StreamId'
}
const V2_PATH_PARAMETERS: Record<string, string> = {
  topic: 'TopicName',
  partition: 'PartitionId',
  group: 'V2Group',
  instance: 'V2Instance'
}

/** The parameter component of `{name}` in `template`; a name without one is refused. */
export function pathParameter (name: string, template: string): JsonObject {
  const component = (template.startsWith('/v3/') ? V3_PATH_PARAMETERS : V2_PATH_PARAMETERS)[name]
  if (component === undefined) throw new Error(`${template}: no parameter component for {${name}}`)
  return param(component)
}

// ---------------------------------------------------------------------------
// Responses

// v1/v2 errors come in the client's negotiated type, embedded formats
// included (src/http/error-response.ts); v3 errors are application/json.
const ERROR_MEDIA = [...V2_MEDIA, ...EMBEDDED_FORMATS.flatMap(vendorTypes)]
const errorBody = (description: string): JsonObject =>
  ({ description, content: Object.fromEntries(ERROR_MEDIA.map((m) => [m, { schema: ref('Error') }])) })

export const RESPONSES: JsonObject = {
  BadRequest: errorBody('Malformed JSON, wrong field types or invalid parameters (400); Kafka refused the request as invalid (40002).'),
  Unauthorized: errorBody('Kafka authentication failed (40101).'),
  Forbidden: errorBody('Kafka or Schema Registry authorization failed (40301).'),
  NotFound: errorBody('Unknown path (404), cluster (404), topic (40401 in v2 and produce, 40403 in v3), partition (40402) or consumer instance (40403).'),
  NotAcceptable: errorBody('The Accept header names nothing this operation produces: an empty body, as Confluent answers; 40601 (with a body): the read format differs from the consumer\'s.'),
  RequestTimeout: errorBody('Schema Registry unavailable (40801, retriable); the request body did not arrive within server.request_timeout_ms (408, retriable).'),
  Conflict: errorBody('Consumer instance name taken (40902) or illegal consumer state (40903).'),
  PayloadTooLarge: errorBody('The request body exceeds server.max_body_bytes (413).'),
  UnsupportedMediaType: errorBody('The Content-Type is not accepted by this operation (415).'),
  UnprocessableEntity: errorBody('Validation failure (422, 40001, 42201–42208).'),
  TooManyRequests: errorBody('A Kafka quota throttled the request (42901) or a proxy rate limit was hit (429); retriable. JSON, unlike Confluent\'s HTML page.'),
  ServerError: errorBody('Kafka or proxy failure: 50002 Kafka error, 50003 retriable Kafka error, 500 internal; 503 with 50301 pool busy, 50302 cluster unreachable, 50303 shutting down, 50304 consumer threads busy, 50305 consumer directory unavailable, 50306 too many connections, 50307 too many streams (all retriable).')
}

/** Every component schema, by name. */
export const SCHEMAS: JsonObject = { ...ERROR_SCHEMAS, ...V3_SCHEMAS, ...V2_SCHEMAS }

/** `application/vnd.kafka.<format>.v2+json` and its v1 form. */
export function vendorTypes (format: string): string[] {
  return [`application/vnd.kafka.${format}.v2+json`, `application/vnd.kafka.${format}.v1+json`]
}

/**
 * The compiled serializer of a route's declared response body for `status`
 * (in `type`, when the route declares a schema per type), with the component
 * schemas it refers to: the schema that documents the response also writes it.
 */
export function serializer (route: RouteSpec, status: number, type?: string): (data: unknown) => string {
  const declared = route.responses[status]
  const schema = type === undefined ? declared?.schema : declared?.content?.[type]
  if (schema === undefined) throw new Error(`${route.method} ${route.path}: no ${status} response schema${type === undefined ? '' : ` for ${type}`}`)
  return fjs({ ...schema, components: { schemas: SCHEMAS } } as AnySchema)
}

/** The compiled serializer of one component schema (a part of a response a handler writes itself). */
export function componentSerializer (name: string): (data: unknown) => string {
  if (SCHEMAS[name] === undefined) throw new Error(`no component schema ${name}`)
  return fjs({ ...ref(name), components: { schemas: SCHEMAS } } as AnySchema)
}
