// Every error the proxy can answer with, in one table: the HTTP status, the
// Confluent `error_code` clients switch on, and whether repeating the request
// can succeed. Handlers throw `ProxyError` with a key of this table; they never
// choose status numbers themselves.

/**
 * What a failed produce did to Kafka. Clients need it to retry without loss
 * or duplicates: `no` means nothing was written and a retry is safe; `unknown`
 * means the record may be in Kafka (e.g. a timeout after it was sent); `yes`
 * means it is, and what failed came after it (a reply that did not arrive).
 */
export type Persisted = 'no' | 'unknown' | 'yes'

interface ErrorSpec {
  readonly status: number
  readonly errorCode: number
  readonly retriable: boolean
  readonly message: string
}

export const ERRORS = {
  notFound: { status: 404, errorCode: 404, retriable: false, message: 'HTTP 404 Not Found' },
  methodNotAllowed: { status: 405, errorCode: 405, retriable: false, message: 'HTTP 405 Method Not Allowed' },
  notAcceptable: { status: 406, errorCode: 406, retriable: false, message: 'HTTP 406 Not Acceptable' },
  unsupportedMediaType: { status: 415, errorCode: 415, retriable: false, message: 'HTTP 415 Unsupported Media Type' },
  badRequest: { status: 400, errorCode: 400, retriable: false, message: 'Bad Request' },
  malformedJson: { status: 400, errorCode: 400, retriable: false, message: 'Malformed JSON' },
  // JSON the proxy cannot take exactly as sent (src/json/parse.ts); Jackson, under Confluent's proxy, answers its own limits with 400 too.
  invalidUtf8: { status: 400, errorCode: 400, retriable: false, message: 'JSON text must be UTF-8' },
  jsonTooDeep: { status: 400, errorCode: 400, retriable: false, message: 'JSON nesting is deeper than the limit' },
  jsonStringTooLong: { status: 400, errorCode: 400, retriable: false, message: 'A JSON string is longer than the limit' },
  numberOutOfRange: { status: 400, errorCode: 400, retriable: false, message: 'A JSON number cannot be kept exactly' },
  duplicateKey: { status: 400, errorCode: 400, retriable: false, message: 'A key appears more than once in one JSON object' },
  payloadTooLarge: { status: 413, errorCode: 413, retriable: false, message: 'Request body is larger than the limit' },
  unprocessable: { status: 422, errorCode: 422, retriable: false, message: 'Unprocessable Entity' },
  emptyPayload: { status: 422, errorCode: 42206, retriable: false, message: 'Payload error. Request body is empty. Data is required.' },
  batchValidation: { status: 422, errorCode: 42208, retriable: false, message: 'Batch validation error.' },
  nullPayload: { status: 422, errorCode: 42206, retriable: false, message: 'Payload error. Null input provided. Data is required.' },
  invalidPayload: { status: 422, errorCode: 42206, retriable: false, message: 'Payload error.' },
  clusterNotFound: { status: 404, errorCode: 404, retriable: false, message: 'Cluster cannot be found.' },
  // Kafka refused an admin request as invalid (TopicExists, InvalidReplicationFactor, PolicyViolation…).
  kafkaBadRequest: { status: 400, errorCode: 40002, retriable: false, message: 'Kafka bad request' },
  // v3: Kafka's UnknownTopicOrPartition/UnknownTopicId (v2 uses 40403 for consumer instances).
  unknownTopicOrPartition: { status: 404, errorCode: 40403, retriable: false, message: 'This server does not host this topic-partition.' },
  kafkaThrottled: { status: 429, errorCode: 42901, retriable: true, message: 'Request throttled by a Kafka quota' },
  rateLimited: { status: 429, errorCode: 429, retriable: true, message: 'Request rate limit exceeded' },
  streamExpired: { status: 408, errorCode: 408, retriable: true, message: 'Streaming connection open for longer than allowed: Connection will be closed.' },
  topicNotFound: { status: 404, errorCode: 40401, retriable: false, message: 'Topic not found.' },
  partitionNotFound: { status: 404, errorCode: 40402, retriable: false, message: 'Partition not found.' },
  consumerNotFound: { status: 404, errorCode: 40403, retriable: false, message: 'Consumer instance not found.' },
  consumerExists: { status: 409, errorCode: 40902, retriable: false, message: 'Consumer with specified consumer ID already exists in the specified consumer group.' },
  illegalState: { status: 409, errorCode: 40903, retriable: false, message: 'Illegal state' },
  formatMismatch: { status: 406, errorCode: 40601, retriable: false, message: 'The requested embedded data format does not match the deserializer for this consumer instance' },
  invalidConsumerConfig: { status: 422, errorCode: 40001, retriable: false, message: 'Invalid consumer configuration' },
  kafkaConsumerConfig: { status: 422, errorCode: 42204, retriable: false, message: 'Invalid consumer configuration' },
  directoryUnavailable: { status: 503, errorCode: 50305, retriable: true, message: 'The consumer directory did not answer; retry' },
  consumerThreadsBusy: { status: 503, errorCode: 50304, retriable: true, message: 'All consumer threads are busy; retry the read' },
  clusterUnreachable: { status: 503, errorCode: 50302, retriable: true, message: 'Kafka cluster is unreachable' },
  poolBusy: { status: 503, errorCode: 50301, retriable: true, message: 'Proxy is overloaded: the worker pool queue is full' },
  shuttingDown: { status: 503, errorCode: 50303, retriable: true, message: 'Proxy is shutting down; retry on another instance' },
  tooManyConnections: { status: 503, errorCode: 50306, retriable: true, message: 'Too many open connections to this proxy process; retry later' },
  tooManyConnectionsFromAddress: { status: 429, errorCode: 42903, retriable: true, message: 'Too many open connections from this address; retry later' },
  // Security (src/security/): no or bad credentials, a principal refused, a principal's quota.
  unauthenticated: { status: 401, errorCode: 40100, retriable: false, message: 'Authentication required' },
  forbidden: { status: 403, errorCode: 40300, retriable: false, message: 'Forbidden' },
  quotaExceeded: { status: 429, errorCode: 42902, retriable: true, message: 'Quota exceeded for this principal' },
  // The quota ledger in the primary did not answer (src/security/quotas.ts): refused rather than let through uncounted.
  quotaUnavailable: { status: 503, errorCode: 50309, retriable: true, message: 'The quota ledger did not answer; retry' },
  // A client-sent record header with a name identity.headers reserves (src/security/identity.ts).
  reservedHeader: { status: 422, errorCode: 42212, retriable: false, message: 'A record header name is reserved for the proxy\'s identity headers' },
  // HTTP-level failures, answered before a request reaches a route.
  malformedRequest: { status: 400, errorCode: 400, retriable: false, message: 'Malformed HTTP request' },
  requestTimeout: { status: 408, errorCode: 408, retriable: true, message: 'The request was not received in time' },
  uriTooLong: { status: 414, errorCode: 414, retriable: false, message: 'Request URI is longer than the limit' },
  headersTooLarge: { status: 431, errorCode: 431, retriable: false, message: 'Request header fields are larger than the limit' },
  kafkaRetriable: { status: 500, errorCode: 50003, retriable: true, message: 'Retriable Kafka error' },
  kafkaError: { status: 500, errorCode: 50002, retriable: false, message: 'Kafka error' },
  kafkaAuthentication: { status: 401, errorCode: 40101, retriable: false, message: 'Kafka authentication failed' },
  kafkaAuthorization: { status: 403, errorCode: 40301, retriable: false, message: 'Kafka authorization failed' },
  internal: { status: 500, errorCode: 500, retriable: false, message: 'Internal Server Error' },
  // Schema formats (avro, jsonschema, protobuf) and the schema registry.
  keySchemaMissing: { status: 422, errorCode: 42201, retriable: false, message: 'Request includes keys but does not include key schema' },
  valueSchemaMissing: { status: 422, errorCode: 42202, retriable: false, message: 'Request includes values but does not include value schema' },
  schemaConversion: { status: 422, errorCode: 42203, retriable: false, message: 'Conversion of JSON to Object failed' },
  invalidSchema: { status: 422, errorCode: 42205, retriable: false, message: 'Invalid schema' },
  registryNotConfigured: { status: 422, errorCode: 42206, retriable: false, message: 'Schema Registry must be configured when using schemas.' },
  registryRefused: { status: 422, errorCode: 42207, retriable: false, message: 'Error serializing message.' },
  // Confluent answers 42207 for any registry error status; a registry 5xx is transient, so this one is retriable.
  registryFailed: { status: 422, errorCode: 42207, retriable: true, message: 'Error serializing message.' },
  registryForbidden: { status: 403, errorCode: 40301, retriable: false, message: 'Schema Registry authorization failed' },
  registryUnavailable: { status: 408, errorCode: 40801, retriable: true, message: 'Schema Registry is unavailable' },
  // A consumed record whose bytes do not fit the read's format (not JSON or not UTF-8 for json/STRING,
  // bad magic byte, unknown schema id, corrupt payload), first in a read: Confluent's 50002, with a
  // message naming topic, partition and offset and the ways past it (src/render/undecodable.ts).
  undecodableRecord: { status: 500, errorCode: 50002, retriable: false, message: 'Record could not be deserialized' },
  // Push delivery (src/streams/): an event id or cursor that is not a position, and the per-process stream cap.
  invalidEventId: { status: 400, errorCode: 400, retriable: false, message: 'Invalid event id' },
  tooManyStreams: { status: 503, errorCode: 50307, retriable: true, message: 'This proxy process serves as many streams as it may; retry, another process or instance may take it' },
  // Streams under a JWT (src/streams/reauth.ts): the token ran out unrenewed or stopped verifying; a renewal for a stream no process holds.
  credentialsExpired: { status: 401, errorCode: 40102, retriable: true, message: 'The credentials of this stream expired; resume from its event id with a fresh token' },
  streamNotFound: { status: 404, errorCode: 40405, retriable: false, message: 'Stream not found.' },
  // Webhook subscriptions (src/webhooks/): an unknown subscription, and a callback URL the safety rules refuse.
  subscriptionNotFound: { status: 404, errorCode: 40404, retriable: false, message: 'Subscription not found.' },
  callbackRefused: { status: 422, errorCode: 42210, retriable: false, message: 'The callback URL is not allowed' },
  // Application routes (src/routes/): a view that cannot answer, a reply not in time, an Idempotency-Key reused for another request.
  viewUnavailable: { status: 503, errorCode: 50308, retriable: true, message: 'The view of this route\'s topic is not available' },
  replyTimeout: { status: 504, errorCode: 50401, retriable: true, message: 'No reply arrived in time' },
  idempotencyKeyReused: { status: 422, errorCode: 42211, retriable: false, message: 'The Idempotency-Key was used for a different request' }
} as const satisfies Record<string, ErrorSpec>

export type ErrorKey = keyof typeof ERRORS

export class ProxyError extends Error {
  readonly key: ErrorKey
  readonly status: number
  readonly errorCode: number
  readonly retriable: boolean
  /** Set on produce failures only. */
  readonly persisted: Persisted | undefined

  constructor (key: ErrorKey, message?: string, opts?: { persisted?: Persisted, cause?: unknown }) {
    const spec: ErrorSpec = ERRORS[key]
    super(message ?? spec.message, opts?.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ProxyError'
    this.key = key
    this.status = spec.status
    this.errorCode = spec.errorCode
    this.retriable = spec.retriable
    this.persisted = opts?.persisted
  }
}

/** The JSON body of an error response: Confluent's shape plus two additive fields. */
export interface ErrorBody {
  error_code: number
  message: string
  retriable: boolean
  persisted?: Persisted
}

export function errorBody (err: ProxyError): ErrorBody {
  const body: ErrorBody = { error_code: err.errorCode, message: err.message, retriable: err.retriable }
  if (err.persisted !== undefined) body.persisted = err.persisted
  return body
}

/**
 * Errors that crossed a worker-thread boundary arrive as plain data; this is
 * their shape. An Error subclass loses its class and fields on the way, so a
 * task sends this instead and the main thread rebuilds the ProxyError, with
 * what caused it (name, message, stack) so that an internal failure can be
 * logged with its cause.
 */
export interface SerializedError {
  key: ErrorKey
  message: string
  persisted?: Persisted
  cause?: { name: string, message: string, stack?: string }
}

function serializeCause (err: unknown): SerializedError['cause'] {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack }
  return err === undefined ? undefined : { name: 'Error', message: String(err) }
}

export function serializeError (err: unknown): SerializedError {
  if (err instanceof ProxyError) {
    const out: SerializedError = { key: err.key, message: err.message }
    if (err.persisted !== undefined) out.persisted = err.persisted
    const cause = serializeCause(err.cause)
    if (cause !== undefined) out.cause = cause
    return out
  }
  return { key: 'internal', message: ERRORS.internal.message, cause: serializeCause(err) }
}

export function rehydrateError (e: SerializedError): ProxyError {
  let cause: Error | undefined
  if (e.cause !== undefined) {
    cause = new Error(e.cause.message)
    cause.name = e.cause.name
    if (e.cause.stack !== undefined) cause.stack = e.cause.stack
  }
  const opts = { persisted: e.persisted, cause }
  return new ProxyError(e.key in ERRORS ? e.key : 'internal', e.key in ERRORS ? e.message : ERRORS.internal.message, opts)
}
