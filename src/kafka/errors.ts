// The one place Kafka client errors become proxy errors: one table of the
// Kafka error codes the proxy acts on, read by the producer, the consumers
// and the admin paths alike. Mapping is by the client's numeric `code`, never
// by message text.
//
// One code space serves every client: librdkafka passes broker errors
// through with Kafka's own numbers (org.apache.kafka.common.protocol.Errors)
// and gives its local errors negative ones (rd_kafka_resp_err_t), and the
// admin client (./admin.ts) raises Kafka's numbers for broker answers and
// librdkafka's TRANSPORT/TIMED_OUT for failures below the protocol.
import { createRequire } from 'node:module'
import { ProxyError, type ErrorKey, type Persisted } from '../errors.js'

/** How the proxy answers a failure with one Kafka error code. */
interface KafkaErrorSpec {
  readonly code: number
  /**
   * Kafka's name for a broker error (Errors.java); for a librdkafka local
   * error its rd_kafka_resp_err_t name without RD_KAFKA_RESP_ERR__.
   */
  readonly name: string
  /** librdkafka's name where it differs from Kafka's (rdkafka.h). */
  readonly rd?: string
  /**
   * A transient condition: the same request or record can succeed later
   * (Java's RetriableException family, Confluent's 50003). A client that
   * marks an error retriable itself (librdkafka's isRetriable, the admin
   * client's flag from Kafka's own table) is retriable whatever this says.
   */
  readonly retriable: boolean
  /**
   * For a produce failure of a record the client had accepted into its
   * queue: 'no' when the record is certainly not in Kafka (a retry cannot
   * duplicate it), 'unknown' when it may have been written. See NOT_WRITTEN.
   */
  readonly persisted: Persisted
  /**
   * What a failed produce, metadata or consumer call answers, where it is
   * not the retriable/non-retriable default (kafkaRetriable or kafkaError,
   * whose HTTP status and error_code are in src/errors.ts ERRORS).
   */
  readonly request?: 'kafkaAuthentication' | 'kafkaAuthorization' | 'clusterUnreachable'
  /** What a failed v2/v3 admin call answers, where it differs from `request`. */
  readonly admin?: ErrorKey
}

// Delivery failures that leave the record out of Kafka (`persisted: 'no'`),
// so a retry cannot duplicate it. The binding does not expose
// rd_kafka_message_status(), so the state is read from the code, following
// the persistence status librdkafka itself assigns to each code
// (rd_kafka_handle_Produce_error in rdkafka_request.c):
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
// Everything else may have been written (`persisted: 'unknown'`): a timeout
// or lost connection after the batch left (TRANSPORT, TIMED_OUT,
// REQUEST_TIMED_OUT, MSG_TIMED_OUT, which librdkafka marks POSSIBLY_PERSISTED
// even for a record that never left the queue), an append followed by an ISR
// shrink (NOT_ENOUGH_REPLICAS_AFTER_APPEND), a record purged in flight,
// idempotence sequence errors, a fatal producer error, and codes the proxy
// does not know.
//
// `retriable` here is the proxy's own list: the transient conditions above,
// and the group coordinator moves and loads a fresh cluster reports while
// __consumer_offsets is being created.
const TABLE = [
  // librdkafka local errors (rdkafka.h).
  { code: -199, name: 'BAD_MSG', retriable: false, persisted: 'unknown' },
  { code: -197, name: 'DESTROY', retriable: false, persisted: 'unknown' },
  { code: -196, name: 'FAIL', retriable: false, persisted: 'unknown' },
  { code: -195, name: 'TRANSPORT', retriable: true, persisted: 'unknown', request: 'clusterUnreachable' },
  { code: -192, name: 'MSG_TIMED_OUT', retriable: true, persisted: 'unknown' },
  { code: -190, name: 'UNKNOWN_PARTITION', retriable: true, persisted: 'no' },
  { code: -188, name: 'UNKNOWN_TOPIC', retriable: true, persisted: 'no' },
  { code: -187, name: 'ALL_BROKERS_DOWN', retriable: true, persisted: 'unknown', request: 'clusterUnreachable' },
  { code: -186, name: 'INVALID_ARG', retriable: false, persisted: 'no' },
  { code: -185, name: 'TIMED_OUT', retriable: true, persisted: 'unknown', request: 'clusterUnreachable' },
  { code: -184, name: 'QUEUE_FULL', retriable: true, persisted: 'no' },
  { code: -172, name: 'STATE', retriable: false, persisted: 'unknown' },
  // The proxy's own credentials ([kafka.security]), not the API client's: to
  // a client the cluster is unreachable until an operator fixes them
  // (docs/security.md), and the broker's reason goes to the log only.
  { code: -169, name: 'AUTHENTICATION', retriable: true, persisted: 'no', request: 'clusterUnreachable' },
  { code: -166, name: 'TIMED_OUT_QUEUE', retriable: true, persisted: 'no' },
  { code: -152, name: 'PURGE_QUEUE', retriable: true, persisted: 'no' },
  { code: -151, name: 'PURGE_INFLIGHT', retriable: true, persisted: 'unknown' },
  { code: -150, name: 'FATAL', retriable: false, persisted: 'unknown' },
  // Broker errors (Errors.java); -1 is librdkafka's RD_KAFKA_RESP_ERR_UNKNOWN too.
  { code: -1, name: 'UNKNOWN_SERVER_ERROR', rd: 'UNKNOWN', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION', rd: 'UNKNOWN_TOPIC_OR_PART', retriable: true, persisted: 'no', admin: 'unknownTopicOrPartition' },
  { code: 5, name: 'LEADER_NOT_AVAILABLE', retriable: true, persisted: 'no' },
  { code: 6, name: 'NOT_LEADER_OR_FOLLOWER', rd: 'NOT_LEADER_FOR_PARTITION', retriable: true, persisted: 'no' },
  { code: 7, name: 'REQUEST_TIMED_OUT', retriable: true, persisted: 'unknown' },
  { code: 10, name: 'MESSAGE_TOO_LARGE', rd: 'MSG_SIZE_TOO_LARGE', retriable: false, persisted: 'no' },
  { code: 13, name: 'NETWORK_EXCEPTION', retriable: true, persisted: 'unknown' },
  { code: 14, name: 'COORDINATOR_LOAD_IN_PROGRESS', retriable: true, persisted: 'unknown' },
  { code: 15, name: 'COORDINATOR_NOT_AVAILABLE', retriable: true, persisted: 'unknown' },
  { code: 16, name: 'NOT_COORDINATOR', retriable: true, persisted: 'unknown' },
  { code: 17, name: 'INVALID_TOPIC_EXCEPTION', rd: 'TOPIC_EXCEPTION', retriable: false, persisted: 'no', admin: 'kafkaBadRequest' },
  { code: 18, name: 'RECORD_LIST_TOO_LARGE', retriable: false, persisted: 'no' },
  { code: 19, name: 'NOT_ENOUGH_REPLICAS', retriable: true, persisted: 'no' },
  { code: 20, name: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', retriable: true, persisted: 'unknown' },
  { code: 21, name: 'INVALID_REQUIRED_ACKS', retriable: false, persisted: 'no' },
  { code: 29, name: 'TOPIC_AUTHORIZATION_FAILED', retriable: false, persisted: 'no', request: 'kafkaAuthorization' },
  { code: 30, name: 'GROUP_AUTHORIZATION_FAILED', retriable: false, persisted: 'unknown', request: 'kafkaAuthorization' },
  { code: 31, name: 'CLUSTER_AUTHORIZATION_FAILED', retriable: false, persisted: 'no', request: 'kafkaAuthorization' },
  { code: 32, name: 'INVALID_TIMESTAMP', retriable: false, persisted: 'no' },
  { code: 33, name: 'UNSUPPORTED_SASL_MECHANISM', retriable: false, persisted: 'unknown', admin: 'kafkaAuthentication' },
  { code: 35, name: 'UNSUPPORTED_VERSION', retriable: false, persisted: 'no', admin: 'kafkaBadRequest' },
  { code: 36, name: 'TOPIC_ALREADY_EXISTS', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 37, name: 'INVALID_PARTITIONS', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 38, name: 'INVALID_REPLICATION_FACTOR', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 39, name: 'INVALID_REPLICA_ASSIGNMENT', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 40, name: 'INVALID_CONFIG', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 41, name: 'NOT_CONTROLLER', retriable: false, persisted: 'unknown' },
  { code: 42, name: 'INVALID_REQUEST', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 43, name: 'UNSUPPORTED_FOR_MESSAGE_FORMAT', retriable: false, persisted: 'no' },
  { code: 44, name: 'POLICY_VIOLATION', retriable: false, persisted: 'no', admin: 'kafkaBadRequest' },
  { code: 53, name: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', retriable: false, persisted: 'no', admin: 'kafkaAuthorization' },
  { code: 54, name: 'SECURITY_DISABLED', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 56, name: 'KAFKA_STORAGE_ERROR', retriable: true, persisted: 'no' },
  // As AUTHENTICATION above.
  { code: 58, name: 'SASL_AUTHENTICATION_FAILED', retriable: true, persisted: 'no', request: 'clusterUnreachable' },
  { code: 65, name: 'DELEGATION_TOKEN_AUTHORIZATION_FAILED', retriable: false, persisted: 'unknown', admin: 'kafkaAuthorization' },
  { code: 69, name: 'GROUP_ID_NOT_FOUND', retriable: false, persisted: 'unknown' },
  { code: 73, name: 'TOPIC_DELETION_DISABLED', retriable: false, persisted: 'unknown', admin: 'kafkaBadRequest' },
  { code: 76, name: 'UNSUPPORTED_COMPRESSION_TYPE', retriable: false, persisted: 'no' },
  { code: 87, name: 'INVALID_RECORD', retriable: false, persisted: 'no' },
  { code: 89, name: 'THROTTLING_QUOTA_EXCEEDED', retriable: false, persisted: 'unknown', admin: 'kafkaThrottled' },
  { code: 100, name: 'UNKNOWN_TOPIC_ID', retriable: false, persisted: 'unknown', admin: 'unknownTopicOrPartition' }
] as const satisfies readonly KafkaErrorSpec[]

type Row = typeof TABLE[number]
type RdName<R> = R extends { rd: infer N extends string } ? N : R extends { name: infer N extends string } ? N : never
type KafkaName<R> = R extends { code: infer C extends number, name: infer N extends string } ? (`${C}` extends `-${number}` ? (C extends -1 ? N : never) : N) : never

const BY_CODE: ReadonlyMap<number, KafkaErrorSpec> = new Map(TABLE.map((row) => [row.code, row]))

/** librdkafka's names (rd_kafka_resp_err_t) for the codes of the table, as the binding's clients report them. */
export const RD = Object.freeze(Object.fromEntries(TABLE.map((row: KafkaErrorSpec) => [row.rd ?? row.name, row.code]))) as {
  readonly [R in Row as RdName<R>]: R['code']
}

/** Kafka's names (Errors.java) for the broker error codes of the table, as the admin client reports them. */
export const KAFKA = Object.freeze(Object.fromEntries(TABLE.filter((row) => row.code >= -1).map((row) => [row.name, row.code]))) as {
  readonly [R in Row as KafkaName<R>]: R['code']
}

/** The error shape the Kafka clients hand to callbacks. */
export interface KafkaClientError {
  code: number
  message: string
  isFatal?: boolean
  isRetriable?: boolean
}

export function isKafkaClientError (err: unknown): err is KafkaClientError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number'
}

/** An admin client error with a numeric code, shaped like the binding's errors so that all map alike. */
abstract class KafkaCodeError extends Error {
  readonly code: number
  readonly isRetriable: boolean
  constructor (code: number, message: string, isRetriable: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.isRetriable = isRetriable
  }
}

/**
 * A Kafka error answered by the cluster to the admin client: `code` is the
 * Kafka protocol error code, `message` the broker's error message or the
 * error's name, `isRetriable` Kafka's own classification.
 */
export class KafkaProtocolError extends KafkaCodeError {}

/**
 * A failure of the admin client below the protocol: no connection, a
 * dropped connection or an unanswered request, with librdkafka's codes for
 * the same conditions (TRANSPORT, TIMED_OUT); AUTHENTICATION for TLS
 * credentials of the proxy's that cannot be used (./options.ts).
 */
export class KafkaTransportError extends KafkaCodeError {
  constructor (code: typeof RD.TRANSPORT | typeof RD.TIMED_OUT | typeof RD.AUTHENTICATION, message: string, options?: { cause?: unknown }) {
    super(code, message, true, options)
  }
}

// The binding drops the numeric code of client error *events* and passes only
// librdkafka's err2str(code) text, lowercased after its "Local: " prefix. The
// codes are recovered by comparing with err2str of the codes the proxy acts
// on, computed by the same binding, so no hand-written message text is used.
const err2str: (code: number) => string = createRequire(import.meta.url)('@confluentinc/kafka-javascript/librdkafka.js').err2str
const EVENT_TEXT = new Map<string, number>(
  [RD.ALL_BROKERS_DOWN, RD.FATAL, RD.TRANSPORT, RD.AUTHENTICATION, RD.CLUSTER_AUTHORIZATION_FAILED].map((code) => {
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

function retriable (err: KafkaClientError, spec: KafkaErrorSpec | undefined): boolean {
  return err.isRetriable === true || spec?.retriable === true
}

/**
 * Maps a produce failure of one record. `enqueued` says whether the client
 * accepted the record into its queue: a record refused synchronously was never
 * sent, whatever the code.
 */
export function produceError (err: KafkaClientError, enqueued: boolean): ProxyError {
  const spec = BY_CODE.get(err.code)
  const persisted: Persisted = !enqueued || spec?.persisted === 'no' ? 'no' : 'unknown'
  // A lost connection fails the record, not the request: it is retriable with
  // its persisted state, where a metadata call would answer 503.
  const key = spec?.request === 'clusterUnreachable' ? undefined : spec?.request
  return new ProxyError(key ?? (retriable(err, spec) ? 'kafkaRetriable' : 'kafkaError'), err.message, { persisted })
}

/** Maps a failed metadata, consumer or admin call made on behalf of a request. */
export function requestError (err: unknown): ProxyError {
  if (err instanceof ProxyError) return err
  if (!isKafkaClientError(err)) return new ProxyError('internal', undefined, { cause: err })
  const spec = BY_CODE.get(err.code)
  if (spec?.request === 'clusterUnreachable') return new ProxyError('clusterUnreachable', undefined, { cause: err })
  return new ProxyError(spec?.request ?? (retriable(err, spec) ? 'kafkaRetriable' : 'kafkaError'), err.message)
}

/**
 * Maps a failed v2/v3 admin call: an error with a Kafka protocol `code` (from
 * the admin client or the binding's admin calls), a connection failure, or
 * anything else. Confluent's KafkaExceptionMapper answers the invalid
 * requests (TopicExists, InvalidReplicationFactor, PolicyViolation…) with
 * 400/40002.
 */
export function adminError (err: unknown): ProxyError {
  if (err instanceof ProxyError) return err
  const admin = isKafkaClientError(err) ? BY_CODE.get(err.code)?.admin : undefined
  if (admin !== undefined) return new ProxyError(admin, (err as KafkaClientError).message)
  return requestError(err)
}
