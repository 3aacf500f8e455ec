// The OpenAPI 3.0.3 description of every route the proxy serves: the v2 API
// at the root, the v3 API under /v3 and this project's extensions. It is a
// constant serialized once at boot and served at GET /openapi.json.
//
// v3 schema names and shapes follow Confluent's api/v3/openapi.yaml (so
// clients generated from it recognise them), with its known defects fixed:
// `type: int64` is written as integer/int64, `POST …/acls:batch` answers 204,
// `POST …/topics/-/configs:alter` is listed. Confluent's paths are relative to
// /v3; here every path is absolute and path parameters carry the router's
// names. Whatever the proxy adds to Confluent's API is marked
// `x-extension: true` (operations and schema properties) and tagged
// `Extensions` where it is a whole operation.
//
// test/unit/openapi.test.ts keeps the paths equal to the router's;
// test/integration/openapi.test.ts validates real responses against it.
import { reply, type Handler } from '../http/handler.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` })
const param = (name: string): JsonObject => ({ $ref: `#/components/parameters/${name}` })
const response = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` })

const STRING = { type: 'string' }
const INT = { type: 'integer' }
const INT32 = { type: 'integer', format: 'int32' }
const INT64 = { type: 'integer', format: 'int64' }
const BOOL = { type: 'boolean' }

function object (properties: JsonObject, required: string[] = [], extra: JsonObject = {}): JsonObject {
  const o: JsonObject = { type: 'object', properties, ...extra }
  if (required.length > 0) o.required = required
  return o
}

const arrayOf = (items: JsonObject): JsonObject => ({ type: 'array', items })

/** A Confluent v3 resource: `kind` + `metadata` + the resource's own fields. */
function resource (properties: JsonObject, required: string[], base = 'Resource'): JsonObject {
  return { allOf: [ref(base), object(properties, required)] }
}

function collection (item: string): JsonObject {
  return { allOf: [ref('ResourceCollection'), object({ data: arrayOf(ref(item)) }, ['data'])] }
}

const extension = (schema: JsonObject, description: string): JsonObject => ({ ...schema, description, 'x-extension': true })

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

function errors (...statuses: Array<number | '5XX'>): JsonObject {
  const out: JsonObject = {}
  for (const s of statuses) out[String(s)] = response(ERROR_RESPONSES[String(s)] as string)
  return out
}

// What every v3 admin call can fail with: bad enum/query values, Kafka
// authentication/authorization, unknown cluster or resource, an Accept
// without application/json, a Kafka quota, and Kafka/proxy failures.
const V3_READ_ERRORS = errors(400, 401, 403, 404, 406, 429, '5XX')
// …and for calls with a JSON body: its size, media type and validation.
const V3_WRITE_ERRORS = errors(400, 401, 403, 404, 406, 413, 415, 422, 429, '5XX')
const V2_METADATA_ERRORS = errors(404, 406, '5XX')
const V2_CONSUMER_ERRORS = errors(400, 404, 406, 409, 413, 415, 422, '5XX')

const V2_MEDIA = ['application/vnd.kafka.v2+json', 'application/vnd.kafka.v1+json', 'application/json']

function v2Content (schema: JsonObject): JsonObject {
  const content: JsonObject = {}
  for (const m of V2_MEDIA) content[m] = { schema }
  return content
}

const jsonContent = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } })

function ok (description: string, content: JsonObject | null, extra: JsonObject = {}): JsonObject {
  return content === null ? { description, ...extra } : { description, content, ...extra }
}

const NO_CONTENT = { description: 'No Content' }

interface Operation {
  summary: string
  description?: string
  tags: string[]
  operationId: string
  parameters?: JsonObject[]
  requestBody?: JsonObject
  responses: JsonObject
  extension?: boolean
}

function op (o: Operation): JsonObject {
  const out: JsonObject = { operationId: o.operationId, summary: o.summary, tags: o.tags }
  if (o.description !== undefined) out.description = o.description
  if (o.parameters !== undefined) out.parameters = o.parameters
  if (o.requestBody !== undefined) out.requestBody = o.requestBody
  out.responses = o.responses
  if (o.extension === true) out['x-extension'] = true
  return out
}

function jsonBody (schema: JsonObject, required = true): JsonObject {
  return { required, content: jsonContent(schema) }
}

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
    persisted: extension({ type: 'string', enum: ['no', 'unknown'] },
      'Produce failures only: `no` = nothing was written, a retry is safe; `unknown` = the record may have been written, a retry may duplicate it.')
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
const queryParam = (name: string, description: string, schema: JsonObject, required = false): JsonObject =>
  ({ name, in: 'query', required, description, schema })

// Records reads (v2 consumers, v3 stateless read): src/serdes/undecodable.ts.
const UNDECODABLE_PARAM = queryParam('undecodable',
  'A record whose key or value does not fit the format (not JSON, not UTF-8, bad magic byte, unknown schema id, corrupt payload): `fail` (default) ends the response before it, and a read that starts with it answers 500/50002 naming its offset; `raw` delivers it with its bytes (base64) and the reason.',
  { type: 'string', enum: ['fail', 'raw'] })

const PARAMETERS: JsonObject = {
  ClusterId: pathParam('cluster_id', 'The Kafka cluster ID.', STRING),
  TopicName: pathParam('topic', 'The topic name.', STRING),
  PartitionId: pathParam('partition', 'The partition ID.', INT32),
  BrokerId: pathParam('broker_id', 'The broker ID.', INT32),
  ConfigName: pathParam('name', 'The configuration parameter name.', STRING),
  ConsumerGroupId: pathParam('group', 'The consumer group ID.', STRING),
  ConsumerId: pathParam('consumer', 'The consumer (member) ID.', STRING),
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

const C = [param('ClusterId')]
const CT = [...C, param('TopicName')]
const CTP = [...CT, param('PartitionId')]
const CB = [...C, param('BrokerId')]
const CG = [...C, param('ConsumerGroupId')]
const CGC = [...CG, param('ConsumerId')]
const I = [param('V2Group'), param('V2Instance')]

// ---------------------------------------------------------------------------
// Responses

// v1/v2 errors come in the client's negotiated type, embedded formats
// included (src/http/error-response.ts); v3 errors are application/json.
const ERROR_MEDIA = [...V2_MEDIA, ...['binary', 'json', 'avro', 'jsonschema', 'protobuf']
  .flatMap((f) => [`application/vnd.kafka.${f}.v2+json`, `application/vnd.kafka.${f}.v1+json`])]
const errorResponse = (description: string): JsonObject =>
  ({ description, content: Object.fromEntries(ERROR_MEDIA.map((m) => [m, { schema: ref('Error') }])) })

const RESPONSES: JsonObject = {
  BadRequest: errorResponse('Malformed JSON, wrong field types or invalid parameters (400); Kafka refused the request as invalid (40002).'),
  Unauthorized: errorResponse('Kafka authentication failed (40101).'),
  Forbidden: errorResponse('Kafka or Schema Registry authorization failed (40301).'),
  NotFound: errorResponse('Unknown path (404), cluster (404), topic (40401 in v2 and produce, 40403 in v3), partition (40402) or consumer instance (40403).'),
  NotAcceptable: errorResponse('The Accept header names nothing this operation produces: an empty body, as Confluent answers; 40601 (with a body): the read format differs from the consumer\'s.'),
  RequestTimeout: errorResponse('Schema Registry unavailable (40801, retriable); the request body did not arrive within server.request_timeout_ms (408, retriable).'),
  Conflict: errorResponse('Consumer instance name taken (40902) or illegal consumer state (40903).'),
  PayloadTooLarge: errorResponse('The request body exceeds server.max_body_bytes (413).'),
  UnsupportedMediaType: errorResponse('The Content-Type is not accepted by this operation (415).'),
  UnprocessableEntity: errorResponse('Validation failure (422, 40001, 42201–42208).'),
  TooManyRequests: errorResponse('A Kafka quota throttled the request (42901) or a proxy rate limit was hit (429); retriable. JSON, unlike Confluent\'s HTML page.'),
  ServerError: errorResponse('Kafka or proxy failure: 50002 Kafka error, 50003 retriable Kafka error, 500 internal; 503 with 50301 pool busy, 50302 cluster unreachable, 50303 shutting down, 50304 consumer threads busy, 50305 consumer directory unavailable, 50306 too many connections (all retriable).')
}

// ---------------------------------------------------------------------------
// Paths

const V2_PRODUCE_MEDIA = ['binary', 'json', 'avro', 'jsonschema', 'protobuf']
  .flatMap((f) => [`application/vnd.kafka.${f}.v2+json`, `application/vnd.kafka.${f}.v1+json`])
  // Confluent's v1 generic types, binary records (src/http/media.ts).
  .concat(['application/vnd.kafka.v1+json', 'application/vnd.kafka+json', 'application/octet-stream'])

function v2ProduceBody (): JsonObject {
  const content: JsonObject = {}
  for (const m of V2_PRODUCE_MEDIA) {
    const format = /^application\/vnd\.kafka\.(\w+)\.v[12]\+json$/.exec(m)?.[1] ?? 'binary'
    content[m] = { schema: ref(format === 'binary' ? 'V2BinaryProduceRequest' : format === 'json' ? 'V2JsonProduceRequest' : 'V2ProduceRequest') }
  }
  return {
    required: true,
    description: 'The Content-Type names the embedded format of keys and values (binary: base64 strings; json: any JSON; avro, jsonschema, protobuf: the JSON form of the schema, with key_schema/value_schema or *_schema_id). v1 types are aliases; as in Confluent\'s v1, application/vnd.kafka.v1+json, application/vnd.kafka+json and application/octet-stream mean binary.',
    content
  }
}

const V2_PRODUCE_RESPONSES: JsonObject = {
  200: ok('One `offsets` entry per record, in request order; HTTP 200 even when some records failed.', v2Content(ref('V2ProduceResponse'))),
  ...errors(400, 401, 403, 404, 406, 408, 413, 415, 422, '5XX')
}

const READ_MEDIA: Record<string, JsonObject> = {
  'application/vnd.kafka.binary.v2+json': ref('V2BinaryRecord'),
  'application/vnd.kafka.binary.v1+json': ref('V2BinaryRecord'),
  'application/vnd.kafka.v2+json': ref('V2BinaryRecord'),
  'application/vnd.kafka.v1+json': ref('V2BinaryRecord'),
  'application/json': ref('V2BinaryRecord'),
  ...Object.fromEntries(['json', 'avro', 'jsonschema', 'protobuf']
    .flatMap((f) => [[`application/vnd.kafka.${f}.v2+json`, ref('V2ConsumedRecord')], [`application/vnd.kafka.${f}.v1+json`, ref('V2ConsumedRecord')]]))
}

function readResponses (): JsonObject {
  const content: JsonObject = {}
  for (const [m, schema] of Object.entries(READ_MEDIA)) content[m] = { schema: arrayOf(schema) }
  return {
    200: ok('The records read, in the consumer\'s format (the Accept header picks it and must match the instance\'s). `timestamp` and `headers` are extensions.', content),
    ...errors(400, 404, 406, 408, 409, '5XX')
  }
}

const V2_TAG = ['v2']
const V2_CONSUMER_TAG = ['v2 consumers']
const EXT_TAG = ['Extensions']

const paths: JsonObject = {
  '/': {
    get: op({ operationId: 'v2Root', summary: 'Ping', tags: V2_TAG, responses: { 200: ok('`{}`', v2Content(ref('EmptyObject'))), ...errors(406) } }),
    post: op({
      operationId: 'v2RootPost',
      summary: 'Test endpoint: accepts any JSON map',
      tags: V2_TAG,
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { 200: ok('`{}`', v2Content(ref('EmptyObject'))), ...errors(400, 406, 413) }
    })
  },
  '/topics': {
    get: op({ operationId: 'v2ListTopics', summary: 'List topic names (sorted, internal topics excluded)', tags: V2_TAG, responses: { 200: ok('Topic names.', v2Content(arrayOf(STRING))), ...V2_METADATA_ERRORS } })
  },
  '/topics/{topic}': {
    parameters: [param('TopicName')],
    get: op({ operationId: 'v2GetTopic', summary: 'Get a topic', tags: V2_TAG, responses: { 200: ok('The topic.', v2Content(ref('V2Topic'))), ...V2_METADATA_ERRORS } }),
    post: op({ operationId: 'v2ProduceToTopic', summary: 'Produce records to a topic', tags: V2_TAG, requestBody: v2ProduceBody(), responses: V2_PRODUCE_RESPONSES })
  },
  '/topics/{topic}/partitions': {
    parameters: [param('TopicName')],
    get: op({ operationId: 'v2ListPartitions', summary: 'List a topic\'s partitions', tags: V2_TAG, responses: { 200: ok('The partitions.', v2Content(arrayOf(ref('V2Partition')))), ...V2_METADATA_ERRORS } })
  },
  '/topics/{topic}/partitions/{partition}': {
    parameters: [param('TopicName'), param('PartitionId')],
    get: op({ operationId: 'v2GetPartition', summary: 'Get a partition', tags: V2_TAG, responses: { 200: ok('The partition.', v2Content(ref('V2Partition'))), ...V2_METADATA_ERRORS } }),
    post: op({
      operationId: 'v2ProduceToPartition',
      summary: 'Produce records to one partition',
      tags: V2_TAG,
      requestBody: v2ProduceBody(),
      responses: V2_PRODUCE_RESPONSES
    })
  },
  '/topics/{topic}/partitions/{partition}/offsets': {
    parameters: [param('TopicName'), param('PartitionId')],
    get: op({ operationId: 'v2GetPartitionOffsets', summary: 'Beginning and end offsets of a partition', tags: V2_TAG, responses: { 200: ok('The offsets.', v2Content(ref('V2PartitionOffsets'))), ...V2_METADATA_ERRORS } })
  },
  '/brokers': {
    get: op({ operationId: 'v2ListBrokers', summary: 'List broker IDs', tags: V2_TAG, responses: { 200: ok('Broker IDs.', v2Content(ref('V2Brokers'))), ...errors(406, '5XX') } })
  },
  '/consumers/{group}': {
    parameters: [param('V2Group')],
    post: op({
      operationId: 'v2CreateConsumer',
      summary: 'Create a consumer instance in a group',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: false, content: v2Content(ref('V2CreateConsumerRequest')) },
      responses: { 200: ok('The instance and its URL.', v2Content(ref('V2CreateConsumerResponse'))), ...V2_CONSUMER_ERRORS }
    })
  },
  '/consumers/{group}/instances/{instance}': {
    parameters: I,
    delete: op({ operationId: 'v2DeleteConsumer', summary: 'Close a consumer instance (it leaves its group)', tags: V2_CONSUMER_TAG, responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS } })
  },
  '/consumers/{group}/instances/{instance}/subscription': {
    parameters: I,
    post: op({
      operationId: 'v2Subscribe',
      summary: 'Subscribe to topics or a topic pattern',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2Subscription')) },
      responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS }
    }),
    get: op({ operationId: 'v2GetSubscription', summary: 'Current subscription', tags: V2_CONSUMER_TAG, responses: { 200: ok('Subscribed topics.', v2Content(ref('V2Topics'))), ...V2_CONSUMER_ERRORS } }),
    delete: op({ operationId: 'v2Unsubscribe', summary: 'Unsubscribe', tags: V2_CONSUMER_TAG, responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS } })
  },
  '/consumers/{group}/instances/{instance}/assignments': {
    parameters: I,
    post: op({
      operationId: 'v2Assign',
      summary: 'Assign partitions manually',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2Partitions')) },
      responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS }
    }),
    get: op({ operationId: 'v2GetAssignments', summary: 'Current assignment', tags: V2_CONSUMER_TAG, responses: { 200: ok('Assigned partitions.', v2Content(ref('V2Partitions'))), ...V2_CONSUMER_ERRORS } })
  },
  '/consumers/{group}/instances/{instance}/records': {
    parameters: I,
    get: op({
      operationId: 'v2ReadRecords',
      summary: 'Read records',
      description: 'A long poll: waits up to the instance\'s consumer.request.timeout.ms (shortened by `timeout`) unless more than fetch.min.bytes arrived or `max_bytes` is reached. Records carry `timestamp` and `headers` (extensions).',
      tags: V2_CONSUMER_TAG,
      parameters: [
        queryParam('timeout', 'Maximum wait in ms (values ≤ 0: the instance\'s).', INT),
        queryParam('max_bytes', 'Maximum raw key + value bytes (values ≤ 0: the configured cap).', INT),
        UNDECODABLE_PARAM
      ],
      responses: readResponses()
    })
  },
  '/consumers/{group}/instances/{instance}/topics/{topic}': {
    parameters: [...I, param('TopicName')],
    get: op({
      operationId: 'v2ReadTopic',
      summary: 'Read records of one topic (v1 form)',
      description: 'Subscribes the instance to the topic on first use, then reads as `…/records` does.',
      tags: V2_CONSUMER_TAG,
      parameters: [
        queryParam('timeout', 'Maximum wait in ms.', INT),
        queryParam('max_bytes', 'Maximum raw key + value bytes.', INT),
        UNDECODABLE_PARAM
      ],
      responses: readResponses()
    })
  },
  '/consumers/{group}/instances/{instance}/offsets': {
    parameters: I,
    post: op({
      operationId: 'v2CommitOffsets',
      summary: 'Commit offsets',
      description: 'With a body, commits offset + 1 of each entry (the last offset consumed); without one, commits what was delivered.',
      tags: V2_CONSUMER_TAG,
      parameters: [queryParam('async', 'Accepted for compatibility; commits always wait for the coordinator.', STRING)],
      requestBody: { required: false, content: v2Content(ref('V2OffsetCommitRequest')) },
      responses: {
        200: ok('v2: `[]`; v1 (Accept application/vnd.kafka.v1+json): one entry per committed partition, as Confluent\'s v1 answers.',
          v2Content(arrayOf(object({ topic: STRING, partition: INT32, consumed: INT64, committed: INT64 }, ['topic', 'partition', 'consumed', 'committed'])))),
        ...V2_CONSUMER_ERRORS
      }
    }),
    get: op({
      operationId: 'v2GetCommittedOffsets',
      summary: 'Committed offsets (a GET with a JSON body)',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2Partitions')) },
      responses: { 200: ok('Committed offsets.', v2Content(ref('V2CommittedOffsets'))), ...V2_CONSUMER_ERRORS }
    })
  },
  '/consumers/{group}/instances/{instance}/positions': {
    parameters: I,
    post: op({
      operationId: 'v2Seek',
      summary: 'Seek to offsets and/or timestamps',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2SeekRequest')) },
      responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS }
    })
  },
  '/consumers/{group}/instances/{instance}/positions/beginning': {
    parameters: I,
    post: op({
      operationId: 'v2SeekToBeginning',
      summary: 'Seek to the beginning of partitions',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2Partitions')) },
      responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS }
    })
  },
  '/consumers/{group}/instances/{instance}/positions/end': {
    parameters: I,
    post: op({
      operationId: 'v2SeekToEnd',
      summary: 'Seek to the end of partitions',
      tags: V2_CONSUMER_TAG,
      requestBody: { required: true, content: v2Content(ref('V2Partitions')) },
      responses: { 204: NO_CONTENT, ...V2_CONSUMER_ERRORS }
    })
  },
  '/health/live': {
    get: op({
      operationId: 'healthLive',
      summary: 'Liveness: 200 while the process serves HTTP',
      tags: EXT_TAG,
      extension: true,
      responses: { 200: ok('`{"status":"ok"}`', jsonContent(ref('Health'))) }
    })
  },
  '/health/ready': {
    get: op({
      operationId: 'healthReady',
      summary: 'Readiness: 200 while the Kafka cluster is reachable and the process is not draining',
      tags: EXT_TAG,
      extension: true,
      responses: {
        200: ok('`{"status":"ready"}`', jsonContent(ref('Health'))),
        503: ok('`{"status":"draining"}` or `{"status":"kafka unreachable"}`', jsonContent(ref('Health')))
      }
    })
  },
  '/openapi.json': {
    get: op({
      operationId: 'openapi',
      summary: 'This document',
      tags: EXT_TAG,
      extension: true,
      responses: { 200: ok('The OpenAPI 3.0.3 document of the whole API.', jsonContent({ type: 'object', additionalProperties: true })) }
    })
  },

  // ------------------------------------------------------------------ v3
  '/v3/clusters': {
    get: op({ operationId: 'listKafkaV3Clusters', summary: 'List Clusters (only the bootstrap.servers cluster)', tags: ['Cluster (v3)'], responses: { 200: ok('The clusters.', jsonContent(ref('ClusterDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}': {
    parameters: C,
    get: op({ operationId: 'getKafkaV3Cluster', summary: 'Get Cluster', tags: ['Cluster (v3)'], responses: { 200: ok('The cluster.', jsonContent(ref('ClusterData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/acls': {
    parameters: C,
    get: op({
      operationId: 'getKafkaV3Acls',
      summary: 'Search ACLs',
      tags: ['ACL (v3)'],
      parameters: ['AclResourceType', 'AclResourceName', 'AclPatternType', 'AclPrincipal', 'AclHost', 'AclOperation', 'AclPermission'].map(param),
      responses: { 200: ok('The ACLs that match.', jsonContent(ref('AclDataList'))), ...V3_READ_ERRORS }
    }),
    post: op({
      operationId: 'createKafkaV3Acls',
      summary: 'Create an ACL',
      tags: ['ACL (v3)'],
      requestBody: jsonBody(ref('CreateAclRequestData')),
      responses: {
        201: { description: 'Created; `Location` is the search URL of the new ACL.', headers: { Location: { schema: STRING } } },
        ...V3_WRITE_ERRORS
      }
    }),
    delete: op({
      operationId: 'deleteKafkaV3Acls',
      summary: 'Delete ACLs',
      tags: ['ACL (v3)'],
      parameters: ['AclResourceTypeRequired', 'AclResourceName', 'AclPatternTypeRequired', 'AclPrincipal', 'AclHost', 'AclOperationRequired', 'AclPermissionRequired'].map(param),
      responses: { 200: ok('The deleted ACLs.', jsonContent(ref('DeleteAclsResponseData'))), ...V3_READ_ERRORS }
    })
  },
  '/v3/clusters/{cluster_id}/acls:batch': {
    parameters: C,
    post: op({
      operationId: 'batchCreateKafkaV3Acls',
      summary: 'Batch Create ACLs',
      description: '204, as Confluent\'s proxy answers (its document says 201).',
      tags: ['ACL (v3)'],
      requestBody: jsonBody(ref('CreateAclRequestDataList')),
      responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS }
    })
  },
  '/v3/clusters/{cluster_id}/broker-configs': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3ClusterConfigs', summary: 'List Cluster Configs (dynamic cluster-wide broker configs)', tags: ['Configs (v3)'], responses: { 200: ok('The configs.', jsonContent(ref('ClusterConfigDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/broker-configs:alter': {
    parameters: C,
    post: op({ operationId: 'updateKafkaV3ClusterConfigs', summary: 'Batch Alter Cluster Configs', tags: ['Configs (v3)'], requestBody: jsonBody(ref('AlterConfigBatchRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/broker-configs/{name}': {
    parameters: [...C, param('ConfigName')],
    get: op({ operationId: 'getKafkaV3ClusterConfig', summary: 'Get Cluster Config', tags: ['Configs (v3)'], responses: { 200: ok('The config.', jsonContent(ref('ClusterConfigData'))), ...V3_READ_ERRORS } }),
    put: op({ operationId: 'updateKafkaV3ClusterConfig', summary: 'Update Cluster Config', tags: ['Configs (v3)'], requestBody: jsonBody(ref('UpdateConfigRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } }),
    delete: op({ operationId: 'deleteKafkaV3ClusterConfig', summary: 'Reset Cluster Config', tags: ['Configs (v3)'], responses: { 204: NO_CONTENT, ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3Brokers', summary: 'List Brokers', tags: ['Broker (v3)'], responses: { 200: ok('The brokers.', jsonContent(ref('BrokerDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/{broker_id}': {
    parameters: CB,
    get: op({ operationId: 'getKafkaV3Broker', summary: 'Get Broker', tags: ['Broker (v3)'], responses: { 200: ok('The broker.', jsonContent(ref('BrokerData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/-/configs': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3AllBrokerConfigs', summary: 'List Dynamic Broker Configs of every broker', tags: ['Configs (v3)'], responses: { 200: ok('The configs.', jsonContent(ref('BrokerConfigDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/{broker_id}/configs': {
    parameters: CB,
    get: op({ operationId: 'listKafkaV3BrokerConfigs', summary: 'List Broker Configs', tags: ['Configs (v3)'], responses: { 200: ok('The configs.', jsonContent(ref('BrokerConfigDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/{broker_id}/configs:alter': {
    parameters: CB,
    post: op({ operationId: 'updateKafkaV3BrokerConfigs', summary: 'Batch Alter Broker Configs', tags: ['Configs (v3)'], requestBody: jsonBody(ref('AlterConfigBatchRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/{broker_id}/configs/{name}': {
    parameters: [...CB, param('ConfigName')],
    get: op({ operationId: 'getKafkaV3BrokerConfig', summary: 'Get Broker Config', tags: ['Configs (v3)'], responses: { 200: ok('The config.', jsonContent(ref('BrokerConfigData'))), ...V3_READ_ERRORS } }),
    put: op({ operationId: 'updateKafkaV3BrokerConfig', summary: 'Update Broker Config', tags: ['Configs (v3)'], requestBody: jsonBody(ref('UpdateConfigRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } }),
    delete: op({ operationId: 'deleteKafkaV3BrokerConfig', summary: 'Reset Broker Config', tags: ['Configs (v3)'], responses: { 204: NO_CONTENT, ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/brokers/{broker_id}/partition-replicas': {
    parameters: CB,
    get: op({ operationId: 'searchKafkaV3ReplicasByBroker', summary: 'Search Replicas by Broker', tags: ['Broker (v3)'], responses: { 200: ok('The replicas.', jsonContent(ref('ReplicaDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3ConsumerGroups', summary: 'List Consumer Groups', tags: ['Consumer Group (v3)'], responses: { 200: ok('The groups.', jsonContent(ref('ConsumerGroupDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}': {
    parameters: CG,
    get: op({ operationId: 'getKafkaV3ConsumerGroup', summary: 'Get Consumer Group', tags: ['Consumer Group (v3)'], responses: { 200: ok('The group.', jsonContent(ref('ConsumerGroupData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers': {
    parameters: CG,
    get: op({ operationId: 'listKafkaV3Consumers', summary: 'List Consumers', tags: ['Consumer Group (v3)'], responses: { 200: ok('The group\'s members.', jsonContent(ref('ConsumerDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}': {
    parameters: CGC,
    get: op({ operationId: 'getKafkaV3Consumer', summary: 'Get Consumer', tags: ['Consumer Group (v3)'], responses: { 200: ok('The member.', jsonContent(ref('ConsumerData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}/assignments': {
    parameters: CGC,
    get: op({ operationId: 'listKafkaV3ConsumerAssignment', summary: 'List Consumer Assignments', tags: ['Consumer Group (v3)'], responses: { 200: ok('The member\'s partitions.', jsonContent(ref('ConsumerAssignmentDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/consumers/{consumer}/assignments/{topic}/partitions/{partition}': {
    parameters: [...CGC, param('TopicName'), param('PartitionId')],
    get: op({ operationId: 'getKafkaV3ConsumerAssignment', summary: 'Get Consumer Assignment', tags: ['Consumer Group (v3)'], responses: { 200: ok('The assignment.', jsonContent(ref('ConsumerAssignmentData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/lags': {
    parameters: CG,
    get: op({ operationId: 'listKafkaV3ConsumerLags', summary: 'List Consumer Lags', tags: ['Consumer Group (v3)'], responses: { 200: ok('Lag per assigned partition.', jsonContent(ref('ConsumerLagDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/lags/{topic}/partitions/{partition}': {
    parameters: [...CG, param('TopicName'), param('PartitionId')],
    get: op({ operationId: 'getKafkaV3ConsumerLag', summary: 'Get Consumer Lag', tags: ['Consumer Group (v3)'], responses: { 200: ok('The lag.', jsonContent(ref('ConsumerLagData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/consumer-groups/{group}/lag-summary': {
    parameters: CG,
    get: op({ operationId: 'getKafkaV3ConsumerGroupLagSummary', summary: 'Get Consumer Group Lag Summary', tags: ['Consumer Group (v3)'], responses: { 200: ok('Max and total lag.', jsonContent(ref('ConsumerGroupLagSummaryData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics': {
    parameters: C,
    get: op({
      operationId: 'listKafkaV3Topics',
      summary: 'List Topics',
      tags: ['Topic (v3)'],
      parameters: [queryParam('includeAuthorizedOperations', 'Include each topic\'s authorized_operations (camelCase, as Confluent\'s code reads it).', BOOL)],
      responses: { 200: ok('The topics, sorted by name.', jsonContent(ref('TopicDataList'))), ...V3_READ_ERRORS }
    }),
    post: op({
      operationId: 'createKafkaV3Topic',
      summary: 'Create Topic',
      tags: ['Topic (v3)'],
      requestBody: jsonBody(ref('CreateTopicRequestData')),
      responses: {
        200: ok('validate_only: the topic that would be created.', jsonContent(ref('TopicData'))),
        201: ok('The created topic; `Location` is its URL.', jsonContent(ref('TopicData')), { headers: { Location: { schema: STRING } } }),
        ...V3_WRITE_ERRORS
      }
    })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}': {
    parameters: CT,
    get: op({
      operationId: 'getKafkaV3Topic',
      summary: 'Get Topic',
      tags: ['Topic (v3)'],
      parameters: [queryParam('include_authorized_operations', 'Include authorized_operations.', BOOL)],
      responses: { 200: ok('The topic.', jsonContent(ref('TopicData'))), ...V3_READ_ERRORS }
    }),
    patch: op({ operationId: 'updatePartitionCountKafkaV3Topic', summary: 'Increase the partition count', tags: ['Topic (v3)'], requestBody: jsonBody(ref('UpdatePartitionCountRequestData')), responses: { 200: ok('The topic.', jsonContent(ref('TopicData'))), ...V3_WRITE_ERRORS } }),
    delete: op({ operationId: 'deleteKafkaV3Topic', summary: 'Delete Topic', tags: ['Topic (v3)'], responses: { 204: NO_CONTENT, ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/-/configs': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3AllTopicConfigs', summary: 'Get All Topic Configs', tags: ['Configs (v3)'], responses: { 200: ok('Every topic\'s configs.', jsonContent(ref('TopicConfigDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/-/configs:alter': {
    parameters: C,
    post: op({
      operationId: 'updateKafkaV3TopicsConfigsBatch',
      summary: 'Batch Alter the Configs of several Topics',
      description: 'In Confluent\'s code, not in its document.',
      tags: ['Configs (v3)'],
      requestBody: jsonBody(ref('AlterTopicsConfigsBatchRequestData')),
      responses: {
        204: NO_CONTENT,
        207: ok('Some topics failed; one entry per failed topic.', jsonContent(ref('AlterTopicsConfigsFailures'))),
        ...V3_WRITE_ERRORS
      }
    })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/configs': {
    parameters: CT,
    get: op({ operationId: 'listKafkaV3TopicConfigs', summary: 'List Topic Configs', tags: ['Configs (v3)'], responses: { 200: ok('The configs.', jsonContent(ref('TopicConfigDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/configs:alter': {
    parameters: CT,
    post: op({ operationId: 'updateKafkaV3TopicConfigBatch', summary: 'Batch Alter Topic Configs', tags: ['Configs (v3)'], requestBody: jsonBody(ref('AlterConfigBatchRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/configs/{name}': {
    parameters: [...CT, param('ConfigName')],
    get: op({ operationId: 'getKafkaV3TopicConfig', summary: 'Get Topic Config', tags: ['Configs (v3)'], responses: { 200: ok('The config.', jsonContent(ref('TopicConfigData'))), ...V3_READ_ERRORS } }),
    put: op({ operationId: 'updateKafkaV3TopicConfig', summary: 'Update Topic Config', tags: ['Configs (v3)'], requestBody: jsonBody(ref('UpdateConfigRequestData')), responses: { 204: NO_CONTENT, ...V3_WRITE_ERRORS } }),
    delete: op({ operationId: 'deleteKafkaV3TopicConfig', summary: 'Reset Topic Config', tags: ['Configs (v3)'], responses: { 204: NO_CONTENT, ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions': {
    parameters: CT,
    get: op({ operationId: 'listKafkaV3Partitions', summary: 'List Partitions', tags: ['Partition (v3)'], responses: { 200: ok('The partitions.', jsonContent(ref('PartitionDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}': {
    parameters: CTP,
    get: op({ operationId: 'getKafkaV3Partition', summary: 'Get Partition', tags: ['Partition (v3)'], responses: { 200: ok('The partition.', jsonContent(ref('PartitionData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/offset': {
    parameters: CTP,
    get: op({
      operationId: 'getKafkaV3PartitionOffsets',
      summary: 'Get Partition with its earliest and latest offsets',
      tags: ['Partition (v3)'],
      parameters: [queryParam('offset_type', 'Only `earliest_and_latest` (the default).', { type: 'string', 'x-extensible-enum': ['earliest_and_latest'] })],
      responses: { 200: ok('The partition and its offsets.', jsonContent(ref('PartitionWithOffsetsData'))), ...V3_READ_ERRORS }
    })
  },
  '/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment': {
    parameters: C,
    get: op({ operationId: 'listKafkaV3AllReplicaReassignments', summary: 'List All Replica Reassignments', tags: ['Partition (v3)'], responses: { 200: ok('Ongoing reassignments.', jsonContent(ref('ReassignmentDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/-/reassignment': {
    parameters: CT,
    get: op({ operationId: 'searchKafkaV3ReplicaReassignmentsByTopic', summary: 'Search Replica Reassignments By Topic', tags: ['Partition (v3)'], responses: { 200: ok('Ongoing reassignments of the topic.', jsonContent(ref('ReassignmentDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/reassignment': {
    parameters: CTP,
    get: op({ operationId: 'getKafkaV3ReplicaReassignment', summary: 'Get Replica Reassignment', tags: ['Partition (v3)'], responses: { 200: ok('The partition\'s reassignment.', jsonContent(ref('ReassignmentData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/replicas': {
    parameters: CTP,
    get: op({ operationId: 'listKafkaV3Replicas', summary: 'List Replicas', tags: ['Partition (v3)'], responses: { 200: ok('The replicas.', jsonContent(ref('ReplicaDataList'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/replicas/{broker_id}': {
    parameters: [...CTP, param('BrokerId')],
    get: op({ operationId: 'getKafkaV3Replica', summary: 'Get Replica', tags: ['Partition (v3)'], responses: { 200: ok('The replica.', jsonContent(ref('ReplicaData'))), ...V3_READ_ERRORS } })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/partitions/{partition}/records': {
    parameters: CTP,
    get: op({
      operationId: 'readKafkaV3Records',
      summary: 'Stateless read of one partition',
      description: 'Reads the records of one partition from `offset` on, with no consumer instance and no consumer group, and answers the offset to ask for next; see docs/stateless-read.md.',
      tags: EXT_TAG,
      extension: true,
      parameters: [
        queryParam('offset', 'The first offset to read; absent: the beginning of the partition.', { ...INT64, minimum: 0 }),
        queryParam('max_bytes', 'At most this many record bytes (capped by consumer.request_max_bytes).', { ...INT64, minimum: 1 }),
        queryParam('timeout', 'Maximum wait in ms for records to arrive (capped by consumer.request_timeout_ms).', { ...INT64, minimum: 0 }),
        queryParam('format', 'How keys and values are rendered (case-insensitive; default BINARY).', { type: 'string', 'x-extensible-enum': ['BINARY', 'STRING', 'JSON'] }),
        queryParam('key_format', 'How keys are rendered; default: format.', { type: 'string', 'x-extensible-enum': ['BINARY', 'STRING', 'JSON'] }),
        queryParam('value_format', 'How values are rendered; default: format.', { type: 'string', 'x-extensible-enum': ['BINARY', 'STRING', 'JSON'] }),
        UNDECODABLE_PARAM
      ],
      responses: { 200: ok('The records read.', jsonContent(ref('ReadRecordList'))), ...V3_READ_ERRORS }
    })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/records': {
    parameters: CT,
    post: op({
      operationId: 'produceRecord',
      summary: 'Produce records (streaming)',
      description: 'The body is a stream of concatenated ProduceRequest objects; the answer is HTTP 200 at once and one result object per record, in order, each followed by CRLF: a ProduceResponse (`error_code` 200) or an Error. `cluster_id` is not checked.',
      tags: ['Records (v3)'],
      requestBody: {
        required: true,
        description: 'One or more concatenated ProduceRequest objects.',
        content: jsonContent(ref('ProduceRequest'))
      },
      responses: {
        200: ok('One result per record, concatenated.', jsonContent({ anyOf: [ref('ProduceResponse'), ref('Error')] }), { 'x-stream': 'concatenated-json' }),
        ...errors(400, 404, 406, 413, 415, 422, 429, '5XX')
      }
    })
  },
  '/v3/clusters/{cluster_id}/topics/{topic}/records:batch': {
    parameters: CT,
    post: op({
      operationId: 'produceRecordsBatch',
      summary: 'Produce a batch of records',
      tags: ['Records (v3)'],
      requestBody: jsonBody(ref('ProduceBatchRequest')),
      responses: {
        207: ok('Successes and failures, each in request order.', jsonContent(ref('ProduceBatchResponse'))),
        ...errors(400, 404, 406, 413, 415, 422, 429, '5XX')
      }
    })
  }
}

export const OPENAPI_PATH = '/openapi.json'

export const OPENAPI: JsonObject = {
  openapi: '3.0.3',
  info: {
    title: 'kafka-http-proxy',
    version: '0.1.0',
    description: 'A Confluent REST Proxy compatible HTTP API for Apache Kafka: the v2 API at the root, the v3 API under /v3. ' +
      'Operations and fields the proxy adds are marked `x-extension: true` (operations also carry the `Extensions` tag); ' +
      'a client written for Confluent\'s proxy can ignore them. Every error body carries `retriable` and, for produce failures, `persisted`.',
    license: { name: 'Apache-2.0' }
  },
  servers: [{ url: '/' }],
  tags: [
    { name: 'v2', description: 'Confluent v2: metadata and produce.' },
    { name: 'v2 consumers', description: 'Confluent v2: stateful consumer instances.' },
    { name: 'Cluster (v3)' },
    { name: 'Broker (v3)' },
    { name: 'Configs (v3)' },
    { name: 'Topic (v3)' },
    { name: 'Partition (v3)' },
    { name: 'Consumer Group (v3)' },
    { name: 'ACL (v3)' },
    { name: 'Records (v3)' },
    { name: 'Extensions', description: 'Beyond Confluent\'s API: health, this document, the stateless read.' }
  ],
  paths,
  components: {
    parameters: PARAMETERS,
    schemas: { ...ERROR_SCHEMAS, ...V3_SCHEMAS, ...V2_SCHEMAS },
    responses: RESPONSES
  }
}

/** GET /openapi.json: the document, serialized once. */
export function openapiHandler (): Handler {
  const body = JSON.stringify(OPENAPI)
  return () => reply(200, 'application/json', body)
}
