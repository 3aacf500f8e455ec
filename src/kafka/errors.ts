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
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  SASL_AUTHENTICATION_FAILED: 58
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
  RD.REQUEST_TIMED_OUT, RD.NETWORK_EXCEPTION, RD.NOT_ENOUGH_REPLICAS, RD.NOT_ENOUGH_REPLICAS_AFTER_APPEND
])

// Delivery failures where the broker provably did not append the record.
// Anything else reported after the record left the client (a timeout, a lost
// connection, an append followed by an ISR shrink) may have been written.
const NOT_WRITTEN = new Set<number>([
  RD.UNKNOWN_PARTITION, RD.UNKNOWN_TOPIC, RD.QUEUE_FULL, RD.TIMED_OUT_QUEUE, RD.PURGE_QUEUE,
  RD.UNKNOWN_TOPIC_OR_PART, RD.MSG_SIZE_TOO_LARGE, RD.NOT_ENOUGH_REPLICAS,
  RD.TOPIC_AUTHORIZATION_FAILED, RD.CLUSTER_AUTHORIZATION_FAILED, RD.AUTHENTICATION,
  RD.SASL_AUTHENTICATION_FAILED
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
