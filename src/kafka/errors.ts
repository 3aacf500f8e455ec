// The one place Kafka client errors become proxy errors. Mapping is by the
// client's numeric `code` (librdkafka's rd_kafka_resp_err_t), never by message
// text.
import { createRequire } from 'node:module'
import { ProxyError, type Persisted } from '../errors.js'

/** librdkafka error codes the proxy reacts to (rdkafka.h, rd_kafka_resp_err_t). */
export const RD = {
  BAD_MSG: -199,
  DESTROY: -197,
  FAIL: -196,
  TRANSPORT: -195,
  MSG_TIMED_OUT: -192,
  UNKNOWN_PARTITION: -190,
  UNKNOWN_TOPIC: -188,
  ALL_BROKERS_DOWN: -187,
  QUEUE_FULL: -184,
  INVALID_ARG: -186,
  AUTHENTICATION: -169,
  TIMED_OUT: -185,
  TIMED_OUT_QUEUE: -166,
  STATE: -172,
  FATAL: -150,
  PURGE_QUEUE: -152,
  PURGE_INFLIGHT: -151,
  UNKNOWN_TOPIC_OR_PART: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  MSG_SIZE_TOO_LARGE: 10,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_VERSION: 35,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87
} as const

/** The error shape the Kafka client hands to callbacks. */
export interface KafkaClientError {
  code: number
  message: string
  isFatal?: boolean
  isRetriable?: boolean
}

// The binding drops the numeric code of client error *events* and passes only
// librdkafka's err2str(code) text, lowercased after its "Local: " prefix. The
// codes are recovered by comparing with err2str of the codes the proxy acts
// on, computed by the same binding, so no hand-written message text is used.
const err2str: (code: number) => string = createRequire(import.meta.url)('@confluentinc/kafka-javascript/librdkafka.js').err2str
const EVENT_TEXT = new Map<string, number>(
  [RD.ALL_BROKERS_DOWN, RD.FATAL, RD.TRANSPORT, RD.AUTHENTICATION].map((code) => {
    const text = err2str(code)
    const colon = text.indexOf(': ')
    return [(colon === -1 ? text : text.slice(colon + 2)).toLowerCase(), code]
  })
)

/** The librdkafka code of an error event, whether or not the binding kept it. */
export function eventErrorCode (err: KafkaClientError): number {
  if (err.code !== -1) return err.code
  return EVENT_TEXT.get(err.message) ?? -1
}

export function isKafkaClientError (err: unknown): err is KafkaClientError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number'
}

const AUTHENTICATION = new Set<number>([RD.AUTHENTICATION, RD.SASL_AUTHENTICATION_FAILED])
const AUTHORIZATION = new Set<number>([RD.TOPIC_AUTHORIZATION_FAILED, RD.CLUSTER_AUTHORIZATION_FAILED])

// Transient conditions: the same record can succeed later (Java's
// RetriableException family, which Confluent reports as 50003).
const RETRIABLE = new Set<number>([
  RD.TRANSPORT, RD.MSG_TIMED_OUT, RD.UNKNOWN_PARTITION, RD.UNKNOWN_TOPIC, RD.ALL_BROKERS_DOWN,
  RD.QUEUE_FULL, RD.TIMED_OUT, RD.TIMED_OUT_QUEUE, RD.PURGE_QUEUE, RD.PURGE_INFLIGHT,
  RD.UNKNOWN_TOPIC_OR_PART, RD.LEADER_NOT_AVAILABLE, RD.NOT_LEADER_FOR_PARTITION,
  RD.REQUEST_TIMED_OUT, RD.NETWORK_EXCEPTION, RD.NOT_ENOUGH_REPLICAS, RD.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  RD.KAFKA_STORAGE_ERROR,
  // Group coordinator moves and loads (Kafka marks them retriable): a fresh
  // cluster reports them while __consumer_offsets is being created.
  RD.COORDINATOR_LOAD_IN_PROGRESS, RD.COORDINATOR_NOT_AVAILABLE, RD.NOT_COORDINATOR
])

// Delivery failures that leave the record out of Kafka, so a retry cannot
// duplicate it. The binding does not expose rd_kafka_message_status(), so the
// state is read from the code, following the persistence status librdkafka
// itself assigns to each code (rd_kafka_handle_Produce_error in
// rdkafka_request.c):
// - client errors raised before the record was sent: the local size limit
//   (message.max.bytes, same code as the broker's), a full queue, an unknown
//   topic or partition, an invalid argument, a request that timed out while
//   still queued, a record purged from the queue, a failed authentication;
// - errors the broker returns for the whole batch in a produce response
//   before appending it: validation of its bytes against the topic (size,
//   invalid record such as a keyless record on a compacted topic, timestamp,
//   message format, compression), invalid topic or acks, authorization, and
//   the leader, replica and storage refusals librdkafka retries as
//   NOT_PERSISTED. With unbounded `retries` (librdkafka's default; the proxy
//   does not set it) a retried record that finally fails reports
//   MSG_TIMED_OUT, so these codes reach a delivery report from the attempt
//   that was refused, not after an earlier attempt that may have landed.
// Everything else may have been written: a timeout or lost connection after
// the batch left (TRANSPORT, TIMED_OUT, REQUEST_TIMED_OUT, MSG_TIMED_OUT,
// which librdkafka marks POSSIBLY_PERSISTED even for a record that never left
// the queue), an append followed by an ISR shrink
// (NOT_ENOUGH_REPLICAS_AFTER_APPEND), a record purged in flight, idempotence
// sequence errors, a fatal producer error, and codes the proxy does not know.
const NOT_WRITTEN = new Set<number>([
  RD.QUEUE_FULL, RD.UNKNOWN_PARTITION, RD.UNKNOWN_TOPIC, RD.INVALID_ARG, RD.TIMED_OUT_QUEUE,
  RD.PURGE_QUEUE, RD.AUTHENTICATION,
  RD.MSG_SIZE_TOO_LARGE, RD.RECORD_LIST_TOO_LARGE, RD.INVALID_RECORD, RD.INVALID_TIMESTAMP,
  RD.UNSUPPORTED_FOR_MESSAGE_FORMAT, RD.UNSUPPORTED_COMPRESSION_TYPE, RD.UNSUPPORTED_VERSION,
  RD.TOPIC_EXCEPTION, RD.INVALID_REQUIRED_ACKS, RD.POLICY_VIOLATION,
  RD.TOPIC_AUTHORIZATION_FAILED, RD.CLUSTER_AUTHORIZATION_FAILED, RD.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  RD.SASL_AUTHENTICATION_FAILED,
  RD.UNKNOWN_TOPIC_OR_PART, RD.LEADER_NOT_AVAILABLE, RD.NOT_LEADER_FOR_PARTITION, RD.NOT_ENOUGH_REPLICAS,
  RD.KAFKA_STORAGE_ERROR
])

/**
 * Maps a produce failure of one record. `enqueued` says whether the client
 * accepted the record into its queue: a record refused synchronously was never
 * sent, whatever the code.
 */
export function produceError (err: KafkaClientError, enqueued: boolean): ProxyError {
  const persisted: Persisted = !enqueued || NOT_WRITTEN.has(err.code) ? 'no' : 'unknown'
  const message = err.message
  if (AUTHENTICATION.has(err.code)) return new ProxyError('kafkaAuthentication', message, { persisted })
  if (AUTHORIZATION.has(err.code)) return new ProxyError('kafkaAuthorization', message, { persisted })
  if (err.isRetriable === true || RETRIABLE.has(err.code)) return new ProxyError('kafkaRetriable', message, { persisted })
  return new ProxyError('kafkaError', message, { persisted })
}

/** Maps a failed metadata or admin call made on behalf of a request. */
export function requestError (err: unknown): ProxyError {
  if (err instanceof ProxyError) return err
  if (!isKafkaClientError(err)) return new ProxyError('internal', undefined, { cause: err })
  if (AUTHENTICATION.has(err.code)) return new ProxyError('kafkaAuthentication', err.message)
  if (AUTHORIZATION.has(err.code)) return new ProxyError('kafkaAuthorization', err.message)
  if (err.code === RD.TRANSPORT || err.code === RD.ALL_BROKERS_DOWN || err.code === RD.TIMED_OUT) {
    return new ProxyError('clusterUnreachable', undefined, { cause: err })
  }
  if (err.isRetriable === true || RETRIABLE.has(err.code)) return new ProxyError('kafkaRetriable', err.message)
  return new ProxyError('kafkaError', err.message)
}

/**
 * Kafka protocol error codes (org.apache.kafka.common.protocol.Errors) that
 * admin requests map specially. librdkafka passes broker errors through with
 * the same numbers, so these apply to the binding's admin calls too.
 */
export const KAFKA = {
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  REQUEST_TIMED_OUT: 7,
  INVALID_TOPIC_EXCEPTION: 17,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_SASL_MECHANISM: 33,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  POLICY_VIOLATION: 44,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  SASL_AUTHENTICATION_FAILED: 58,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  GROUP_ID_NOT_FOUND: 69,
  TOPIC_DELETION_DISABLED: 73,
  THROTTLING_QUOTA_EXCEEDED: 89,
  UNKNOWN_TOPIC_ID: 100
} as const

// Confluent's KafkaExceptionMapper answers these with 400/40002.
const ADMIN_BAD_REQUEST = new Set<number>([
  KAFKA.TOPIC_ALREADY_EXISTS, KAFKA.INVALID_REPLICATION_FACTOR, KAFKA.INVALID_PARTITIONS,
  KAFKA.INVALID_REPLICA_ASSIGNMENT, KAFKA.INVALID_REQUEST, KAFKA.POLICY_VIOLATION, KAFKA.INVALID_CONFIG,
  KAFKA.TOPIC_DELETION_DISABLED, KAFKA.SECURITY_DISABLED, KAFKA.UNSUPPORTED_VERSION,
  KAFKA.UNKNOWN_SERVER_ERROR, KAFKA.INVALID_TOPIC_EXCEPTION
])
const ADMIN_AUTHORIZATION = new Set<number>([
  KAFKA.TOPIC_AUTHORIZATION_FAILED, KAFKA.GROUP_AUTHORIZATION_FAILED, KAFKA.CLUSTER_AUTHORIZATION_FAILED,
  KAFKA.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, KAFKA.DELEGATION_TOKEN_AUTHORIZATION_FAILED
])

/**
 * Maps a failed v3 admin call: an error with a Kafka protocol `code` (from
 * the protocol client or the binding's admin calls), a connection failure,
 * or anything else.
 */
export function adminError (err: unknown): ProxyError {
  if (err instanceof ProxyError) return err
  if (!isKafkaClientError(err)) return new ProxyError('internal', undefined, { cause: err })
  const message = err.message
  if (ADMIN_BAD_REQUEST.has(err.code)) return new ProxyError('kafkaBadRequest', message)
  if (ADMIN_AUTHORIZATION.has(err.code)) return new ProxyError('kafkaAuthorization', message)
  if (err.code === KAFKA.SASL_AUTHENTICATION_FAILED || err.code === KAFKA.UNSUPPORTED_SASL_MECHANISM) {
    return new ProxyError('kafkaAuthentication', message)
  }
  if (err.code === KAFKA.UNKNOWN_TOPIC_OR_PARTITION || err.code === KAFKA.UNKNOWN_TOPIC_ID) {
    return new ProxyError('unknownTopicOrPartition', message)
  }
  if (err.code === KAFKA.THROTTLING_QUOTA_EXCEEDED) return new ProxyError('kafkaThrottled', message)
  return requestError(err)
}
