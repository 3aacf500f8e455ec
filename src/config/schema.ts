// The single source of truth for configuration: defaults, the environment
// names, config.toml and docs/configuration.md are all derived from this
// schema. Adding a key or a table means editing this file (schema and
// interface) and re-running scripts/gen-config-docs.ts; nothing else.
//
// Own keys are snake_case and never contain '.' or '__'; the environment
// naming rule in env.ts relies on that to stay unambiguous.

export type ScalarType = 'string' | 'integer' | 'number' | 'boolean'
type PassthroughValue = string | number | boolean

interface Documented {
  readonly description: string
}

export interface LeafSchema extends Documented {
  readonly type: ScalarType | 'array'
  readonly default: PassthroughValue | readonly string[]
  readonly enum?: readonly string[]
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  /** Strings, or tables (an array of tables such as [[authorization.rules]]; every key has a default). */
  readonly items?: { readonly type: 'string' } | TableItems | OwnedTableItems
  readonly examples?: readonly unknown[]
}

/** The table each element of an array of tables is. */
export interface TableItems {
  readonly type: 'object'
  readonly additionalProperties: false
  readonly properties: Readonly<Record<string, LeafSchema>>
}

/**
 * Tables whose shape a module checks itself ([[routes]], src/routes/config.ts):
 * their nested capability tables are beyond what this schema's walker describes.
 */
export interface OwnedTableItems {
  readonly type: 'object'
}

/** True for an array of tables ([[name]] in TOML). */
export function isTableArray (schema: LeafSchema): schema is LeafSchema & { readonly items: TableItems } {
  return schema.type === 'array' && schema.items !== undefined && 'properties' in schema.items
}

/** A table of operator-supplied client properties, copied through unchecked. */
export interface PassthroughSchema extends Documented {
  readonly type: 'object'
  readonly default: Readonly<Record<string, never>>
  readonly additionalProperties: { readonly type: readonly ScalarType[] }
  readonly examples: readonly [Readonly<Record<string, PassthroughValue>>]
}

export interface TableSchema extends Documented {
  readonly type: 'object'
  readonly default: Readonly<Record<string, never>>
  readonly additionalProperties: false
  readonly properties: Readonly<Record<string, NodeSchema>>
}

export type NodeSchema = LeafSchema | PassthroughSchema | TableSchema

const PASSTHROUGH_VALUE = { type: ['string', 'number', 'boolean'] } as const

// Upper bounds of librdkafka properties come from librdkafka's
// CONFIGURATION.md, so an out-of-range value fails here, with a key path,
// instead of inside the client constructor at first use.
export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  description: 'kafka-http-proxy configuration',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      description: 'HTTP listener and process settings.',
      default: {},
      additionalProperties: false,
      properties: {
        host: {
          type: 'string',
          description: 'Listen address.',
          default: '0.0.0.0',
          minLength: 1
        },
        port: {
          type: 'integer',
          description: 'Listen port; 0 picks a free ephemeral port (used by tests).',
          default: 8082,
          minimum: 0,
          maximum: 65535
        },
        workers: {
          type: 'integer',
          description: 'HTTP worker processes; 0 means one per core (os.availableParallelism()).',
          default: 0,
          minimum: 0
        },
        advertised_url: {
          type: 'string',
          description: 'Absolute base URL (scheme://host:port, no path) used for consumer base_uri and v3 links; empty means the address and port the client\'s connection was accepted on (never the Host header, which any client can set). Set it when clients reach the proxy through a load balancer or another name.',
          default: '',
          examples: ['https://kafka-proxy.example.com:8443']
        },
        max_body_bytes: {
          type: 'integer',
          description: 'Request body size limit in bytes; larger bodies are answered with 413.',
          default: 67108864,
          minimum: 1
        },
        max_json_depth: {
          type: 'integer',
          description: 'Deepest nesting of arrays and objects in a JSON request body or streamed record (the body\'s own levels count); deeper input is answered with 400. 1000 is the limit of Jackson, under Confluent\'s proxy; the maximum keeps every step that walks a value well inside the call stack.',
          default: 1000,
          minimum: 1,
          maximum: 2000
        },
        max_json_string_bytes: {
          type: 'integer',
          description: 'Longest JSON string in a request body or streamed record, in bytes as sent (escapes count as written); a longer one is answered with 400. 0 means only max_body_bytes and v3.record_max_bytes apply.',
          default: 20000000,
          minimum: 0
        },
        shutdown_timeout_ms: {
          type: 'integer',
          description: 'On SIGTERM, time allowed for in-flight requests and the producer flush before the process exits anyway.',
          default: 15000,
          minimum: 0
        },
        drain_grace_ms: {
          type: 'integer',
          description: 'On SIGTERM, how long readiness (/health/ready) answers 503 while the process still serves everything as usual, before it stops accepting and drains: set it above the load balancer\'s health-check interval times its failure threshold, so the balancer stops sending before connections are refused. 0 drains at once.',
          default: 0,
          minimum: 0
        },
        keep_alive_timeout_ms: {
          type: 'integer',
          description: 'Idle time before a keep-alive connection is closed (node:http keepAliveTimeout); keep it above the idle timeout of any load balancer in front.',
          default: 65000,
          minimum: 0
        },
        headers_timeout_ms: {
          type: 'integer',
          description: 'Time allowed to receive the complete request headers (node:http headersTimeout); must not exceed request_timeout_ms.',
          default: 60000,
          minimum: 0
        },
        request_timeout_ms: {
          type: 'integer',
          description: 'Time allowed to receive the complete request body; a slower upload is answered 408 and its connection closed. v3 produce streams are exempt (see v3.stream_max_duration_ms). 0 disables it.',
          default: 120000,
          minimum: 0
        },
        max_header_bytes: {
          type: 'integer',
          description: 'Limit of the request line plus headers (node:http maxHeaderSize); larger requests are answered 431 (414 when the request line alone is over max_url_bytes).',
          default: 16384,
          minimum: 1024
        },
        max_url_bytes: {
          type: 'integer',
          description: 'Limit of the request URI (path and query); longer ones are answered 414. Keep it below max_header_bytes, which counts the URI too.',
          default: 8192,
          minimum: 256
        },
        max_connections: {
          type: 'integer',
          description: 'Open client connections allowed per worker process; the first request on a connection over the limit is answered with a retriable 503 (50306) and the connection is closed. Keep it below the process file descriptor limit (ulimit -n). 0 means no limit.',
          default: 10000,
          minimum: 0
        },
        max_connections_per_ip: {
          type: 'integer',
          description: 'Open connections one client address may hold per worker process; the first request on one over the limit is answered with a retriable 429 (42903) and the connection is closed. Behind a load balancer every client has its address: leave it at 0 (no limit) there.',
          default: 0,
          minimum: 0
        },
        max_requests_per_connection: {
          type: 'integer',
          description: 'Requests one HTTP/1.1 connection may carry (node:http maxRequestsPerSocket): the last is answered with `connection: close`, so clients reconnect and spread over processes. HTTP/2 connections are not counted. 0 means no limit.',
          default: 0,
          minimum: 0
        },
        tls: {
          type: 'object',
          description: 'TLS on the listener, on when cert_file is set (docs/security.md). Files are PEM and read again on SIGHUP: new connections get the renewed certificate, open ones keep theirs.',
          default: {},
          additionalProperties: false,
          properties: {
            cert_file: {
              type: 'string',
              description: 'The server certificate (PEM), followed by its intermediate CA certificates; empty means plain HTTP.',
              default: '',
              examples: ['/etc/proxy/tls.crt']
            },
            key_file: {
              type: 'string',
              description: 'The private key of cert_file (PEM).',
              default: '',
              examples: ['/etc/proxy/tls.key']
            },
            key_passphrase_file: {
              type: 'string',
              description: 'A file holding the passphrase of an encrypted key_file; empty for an unencrypted key.',
              default: ''
            },
            ca_file: {
              type: 'string',
              description: 'Certificate authorities (PEM) that client certificates must chain to (mTLS); required unless client_auth is "none".',
              default: ''
            },
            client_auth: {
              type: 'string',
              description: 'Client certificates: "none" never asks for one; "optional" asks, and a certificate that verifies against ca_file identifies the client (auth.mtls); "required" refuses the TLS handshake of a client without one.',
              default: 'none',
              enum: ['none', 'optional', 'required']
            },
            http2: {
              type: 'boolean',
              description: 'Offer HTTP/2 by ALPN next to HTTP/1.1, so many SSE streams share one connection (WebSocket clients and HTTP/1.1-only clients get HTTP/1.1 on the same port).',
              default: true
            }
          }
        }
      }
    },
    pool: {
      type: 'object',
      description: 'The piscina worker-thread pool in each HTTP worker process.',
      default: {},
      additionalProperties: false,
      properties: {
        threads: {
          type: 'integer',
          description: 'Worker threads per HTTP worker process; 0 means max(1, floor(cores / workers)).',
          default: 0,
          minimum: 0
        },
        max_queue: {
          type: 'integer',
          description: 'Tasks that may wait for a thread, per process; when the queue is full the request is answered with a retriable 503.',
          default: 4096,
          minimum: 0
        },
        offload_threshold_bytes: {
          type: 'integer',
          description: 'Request bodies at least this large are parsed and decoded in the pool instead of the event loop (a provisional default until bench/micro measures the crossover on this workload).',
          default: 131072,
          minimum: 0
        }
      }
    },
    kafka: {
      type: 'object',
      description: 'Connection to the Kafka cluster.',
      default: {},
      additionalProperties: false,
      properties: {
        bootstrap_servers: {
          type: 'string',
          description: 'Comma-separated host:port list of brokers; empty makes `npm start` run an embedded single-node dev broker.',
          default: '',
          examples: ['broker1:9092,broker2:9092']
        },
        client_id: {
          type: 'string',
          description: 'Kafka client.id prefix; the proxy appends the client role (producer, consumer, admin).',
          default: 'kafka-http-proxy',
          minLength: 1
        },
        metadata_refresh_ms: {
          type: 'integer',
          description: 'How often cluster metadata is refreshed in the background.',
          default: 5000,
          minimum: 1
        },
        unreachable_after_ms: {
          type: 'integer',
          description: 'With no successful metadata response for this long the cluster counts as unreachable: requests get 503 and readiness reports false.',
          default: 3000,
          minimum: 1
        },
        request_timeout_ms: {
          type: 'integer',
          description: 'Timeout for metadata and admin calls made on behalf of an HTTP request.',
          default: 5000,
          minimum: 1
        },
        auto_create_topics: {
          type: 'string',
          description: 'Whether a produce (v2, v3) or v2 subscribe to a topic that does not exist creates it, with the brokers\' num.partitions and default.replication.factor: "broker" when the brokers\' auto.create.topics.enable is true (read through the admin API, cached for a minute), "always" even when it is false, "never" not at all. A topic that is not created is 404/40401 at once.',
          default: 'broker',
          enum: ['broker', 'always', 'never']
        },
        security: {
          type: 'object',
          description: 'How every Kafka client of the proxy connects to the brokers: librdkafka security properties (security.protocol, sasl.*, ssl.*) given once for the producer, the consumers, the stateless readers and both admin clients. Applied before the per-client tables below, which may override them. Never reachable from API requests.',
          default: {},
          additionalProperties: PASSTHROUGH_VALUE,
          examples: [{ 'security.protocol': 'sasl_ssl', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.username': 'proxy', 'sasl.password': 'secret', 'ssl.ca.location': '/etc/kafka/ca.pem' }]
        },
        producer: {
          type: 'object',
          description: 'Operator-only librdkafka producer properties, applied after every property the proxy sets. Never reachable from API requests.',
          default: {},
          additionalProperties: PASSTHROUGH_VALUE,
          examples: [{ 'security.protocol': 'ssl', 'ssl.ca.location': '/etc/kafka/ca.pem' }]
        },
        consumer: {
          type: 'object',
          description: 'Operator-only librdkafka consumer properties, applied after every property the proxy sets. Never reachable from API requests.',
          default: {},
          additionalProperties: PASSTHROUGH_VALUE,
          examples: [{ 'fetch.wait.max.ms': 100, 'session.timeout.ms': 45000 }]
        },
        admin: {
          type: 'object',
          description: 'Operator-only librdkafka admin client properties, applied after every property the proxy sets. Never reachable from API requests.',
          default: {},
          additionalProperties: PASSTHROUGH_VALUE,
          examples: [{ 'security.protocol': 'ssl', 'ssl.ca.location': '/etc/kafka/ca.pem' }]
        }
      }
    },
    producer: {
      type: 'object',
      description: 'The shared producer used by produce requests.',
      default: {},
      additionalProperties: false,
      properties: {
        acks: {
          type: 'string',
          description: 'Acknowledgements the leader waits for: "all" in-sync replicas, "1" the leader only, "0" none.',
          default: 'all',
          enum: ['all', '1', '0']
        },
        enable_idempotence: {
          type: 'boolean',
          description: 'Idempotent producer (KIP-98): broker-side retries cannot duplicate or reorder records. Requires acks = "all" and max_in_flight <= 5.',
          default: true
        },
        compression: {
          type: 'string',
          description: 'Compression codec for record batches (librdkafka compression.codec).',
          default: 'none',
          enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd']
        },
        linger_ms: {
          type: 'integer',
          description: 'Time to wait for more records before sending a batch (librdkafka linger.ms).',
          default: 5,
          minimum: 0,
          maximum: 900000
        },
        batch_bytes: {
          type: 'integer',
          description: 'Maximum size of a record batch in bytes (librdkafka batch.size).',
          default: 1048576,
          minimum: 1,
          maximum: 2147483647
        },
        delivery_timeout_ms: {
          type: 'integer',
          description: 'A record not acknowledged within this time fails (librdkafka message.timeout.ms); 0 waits forever.',
          default: 30000,
          minimum: 0,
          maximum: 2147483647
        },
        max_in_flight: {
          type: 'integer',
          description: 'Unacknowledged requests per broker connection (librdkafka max.in.flight.requests.per.connection).',
          default: 5,
          minimum: 1,
          maximum: 1000000
        }
      }
    },
    consumer: {
      type: 'object',
      description: 'v2 consumer instances (Confluent consumer.* settings).',
      default: {},
      additionalProperties: false,
      properties: {
        threads: {
          type: 'integer',
          description: 'Consumer fetches that may run at once per HTTP worker process, each on its own libuv thread (the pool is sized threads + 4 so DNS and file I/O keep theirs). Keep it above the largest consumer group served by one process (a client creating a group\'s instances over one connection puts them all in one process); a read beyond it gets a retriable 503. Idle threads cost about 8 KiB of RSS each (BENCHMARKS.md).',
          default: 64,
          minimum: 1,
          maximum: 1000
        },
        request_timeout_ms: {
          type: 'integer',
          description: 'Longest a records read waits for data (Confluent consumer.request.timeout.ms). An instance created with its own consumer.request.timeout.ms uses that instead; a smaller `timeout` query parameter shortens either.',
          default: 1000,
          minimum: 0,
          maximum: 600000
        },
        request_max_bytes: {
          type: 'integer',
          description: 'Upper bound of one records response, counted as raw key + value bytes (Confluent consumer.request.max.bytes); caps the `max_bytes` query parameter.',
          default: 67108864,
          minimum: 1,
          maximum: 2147483647
        },
        instance_timeout_ms: {
          type: 'integer',
          description: 'A consumer instance not used for this long is closed and removed (Confluent consumer.instance.timeout.ms).',
          default: 300000,
          minimum: 1000,
          maximum: 2147483647
        },
        fetch_min_bytes: {
          type: 'integer',
          description: 'Default proxy-side minimum bytes before a records read returns early; -1 waits for the full timeout unless max_bytes is reached (Confluent fetch.min.bytes).',
          default: -1,
          minimum: -1,
          maximum: 10000000
        },
        prefetch_max_bytes: {
          type: 'integer',
          description: 'Per instance, how many bytes of records are fetched ahead of reads: the bound of librdkafka\'s queue (queued.max.messages.kbytes, rounded up to KiB, and fetch.max.bytes, so the queue holds at most about twice this) and, between reads of an instance that is being read, of the records taken from that queue ahead of the next read (at most 20 consume steps). Bounds memory per consumer; larger values help little (BENCHMARKS.md).',
          default: 1048576,
          minimum: 1024,
          maximum: 2097151000
        },
        max_poll_records: {
          type: 'integer',
          description: 'Records taken from librdkafka per consume step of a read; each step\'s records are rendered while the next step runs on a libuv thread.',
          default: 500,
          minimum: 1,
          maximum: 100000
        },
        strip_schema_framing: {
          type: 'string',
          description: 'Whether keys and values read as BINARY, STRING or JSON lose Confluent\'s schema-registry framing (magic byte 0 and a 4-byte schema id, which Confluent\'s Avro, JSON Schema and Protobuf serializers put before the payload), in every read: v2 consumer records (binary, json), v3 partition reads, SSE, WebSocket and cursor streams, and webhook deliveries. "none" delivers the bytes as stored. "value", "key" and "key_and_value" remove exactly the first 5 bytes of that side when its first byte is 0x00 and it has at least 5 bytes, and deliver any other key or value as stored (a 5-byte frame becomes an empty value; null stays null). Nothing in the bytes marks a frame, so data that starts with 0x00 and has 5 bytes or more loses its first 5 bytes too: set it only when the topics read are written with the framing. The avro, jsonschema and protobuf formats decode frames through the registry and are not affected; Protobuf message indexes after the schema id stay in the payload; stream and webhook key filters compare the bytes as stored, framing included.',
          default: 'none',
          enum: ['none', 'key', 'value', 'key_and_value']
        }
      }
    },
    schema_registry: {
      type: 'object',
      description: 'The Confluent-compatible schema registry used by the avro, jsonschema and protobuf formats.',
      default: {},
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          description: 'Base URL of the registry\'s Confluent-compatible API (e.g. http://registry:8081 or an Apicurio .../apis/ccompat/v7); empty means `npm start` runs an embedded dev registry when kafka.bootstrap_servers is empty too, and otherwise the schema formats answer 422/42206.',
          default: ''
        },
        basic_auth_user: {
          type: 'string',
          description: 'User for HTTP Basic authentication to the registry; empty sends none.',
          default: ''
        },
        basic_auth_password: {
          type: 'string',
          description: 'Password for HTTP Basic authentication to the registry.',
          default: ''
        },
        ca_file: {
          type: 'string',
          description: 'PEM file of certificate authorities trusted for an https registry URL; empty uses the system trust store.',
          default: ''
        },
        request_timeout_ms: {
          type: 'integer',
          description: 'Timeout of one registry request; a registry that does not answer in time gives 408/40801.',
          default: 5000,
          minimum: 100,
          maximum: 600000
        },
        key_subject_strategy: {
          type: 'string',
          description: 'Subject of key schemas: topic_name (<topic>-key), record_name (<fully qualified record name>) or topic_record_name (<topic>-<record name>).',
          default: 'topic_name',
          enum: ['topic_name', 'record_name', 'topic_record_name']
        },
        value_subject_strategy: {
          type: 'string',
          description: 'Subject of value schemas: topic_name (<topic>-value), record_name or topic_record_name.',
          default: 'topic_name',
          enum: ['topic_name', 'record_name', 'topic_record_name']
        }
      }
    },
    v3: {
      type: 'object',
      description: 'The v3 API (Confluent api.v3.* and streaming.* settings).',
      default: {},
      additionalProperties: false,
      properties: {
        resource_name_authority: {
          type: 'string',
          description: 'Authority of the resource names (crn://<authority>/kafka=<cluster id>/...) in v3 resources (Confluent confluent.resource.name.authority).',
          default: ''
        },
        batch_max_entries: {
          type: 'integer',
          description: 'Most entries one records:batch request may hold (Confluent api.v3.produce.batch.maximum.entries).',
          default: 10,
          minimum: 1,
          maximum: 50
        },
        record_max_bytes: {
          type: 'integer',
          description: 'Largest JSON object of one record in a produce stream or batch; a larger one gets a 400 result and ends the stream. 0 means only server.max_body_bytes applies (Confluent api.v3.produce.request.size.limit.max.bytes).',
          default: 0,
          minimum: 0
        },
        stream_max_duration_ms: {
          type: 'integer',
          description: 'Age after which each further record of a produce stream gets a 408 result and the connection is closed after stream_grace_period_ms (Confluent streaming.connection.max.duration.ms).',
          default: 86400000,
          minimum: 1
        },
        stream_grace_period_ms: {
          type: 'integer',
          description: 'Time between a produce stream passing stream_max_duration_ms and its connection being closed (Confluent streaming.connection.max.duration.grace.period.ms).',
          default: 500,
          minimum: 0
        },
        rate_limit: {
          type: 'object',
          description: 'Produce rate limits of the v3 records and records:batch endpoints, off by default (Confluent api.v3.produce.rate.limit.*). A record over a limit gets a 429 result and is not produced. Each limit is shared by the worker processes of one proxy instance (each enforces its share).',
          default: {},
          additionalProperties: false,
          properties: {
            enabled: {
              type: 'boolean',
              description: 'Whether the produce rate limits apply.',
              default: false
            },
            max_records_per_sec: {
              type: 'integer',
              description: 'Records per second for one cluster id (Confluent max.requests.per.sec).',
              default: 10000,
              minimum: 1
            },
            max_records_global_per_sec: {
              type: 'integer',
              description: 'Records per second for the whole proxy instance (Confluent max.requests.global.per.sec).',
              default: 10000,
              minimum: 1
            },
            max_bytes_per_sec: {
              type: 'integer',
              description: 'Record bytes per second for one cluster id (Confluent max.bytes.per.sec).',
              default: 10000000,
              minimum: 1
            },
            max_bytes_global_per_sec: {
              type: 'integer',
              description: 'Record bytes per second for the whole proxy instance (Confluent max.bytes.global.per.sec).',
              default: 10000000,
              minimum: 1
            }
          }
        }
      }
    },
    streams: {
      type: 'object',
      description: 'Push delivery of whole topics: Server-Sent Events, WebSocket and cursor reads on GET /v3/clusters/{cluster_id}/topics/{topic}/records (docs/streams.md).',
      default: {},
      additionalProperties: false,
      properties: {
        encode_ids: {
          type: 'boolean',
          description: 'Whether event ids and cursors are sent base64url-encoded; false sends the plain topic@partition#offset form. Both forms are accepted either way.',
          default: true
        },
        heartbeat_ms: {
          type: 'integer',
          description: 'Interval of the comment an idle SSE stream sends (and of the ping of an idle WebSocket), so load balancers keep idle connections open.',
          default: 15000,
          minimum: 100
        },
        retry_ms: {
          type: 'integer',
          description: 'The reconnection delay an SSE stream sends once, in its retry: field, to EventSource clients.',
          default: 2000,
          minimum: 0
        },
        max_per_process: {
          type: 'integer',
          description: 'Streams (SSE, WebSocket and cursor reads in progress) one process serves at once; beyond it a new one is answered 503 (retriable).',
          default: 10000,
          minimum: 1
        },
        max_readers: {
          type: 'integer',
          description: 'Kafka consumers one process runs for streams and cursor reads that read their own positions (each one librdkafka consumer); a stream that needs one while all are taken is answered 503 (retriable).',
          default: 64,
          minimum: 1
        },
        reader_idle_ms: {
          type: 'integer',
          description: 'A stream consumer unused this long is closed; until then a cursor read continuing where one stopped reuses it without a new assignment.',
          default: 30000,
          minimum: 100
        },
        cursor_timeout_ms: {
          type: 'integer',
          description: 'How long a cursor read without a timeout parameter waits for a first record.',
          default: 5000,
          minimum: 0
        },
        cursor_max_timeout_ms: {
          type: 'integer',
          description: 'The longest timeout a cursor read may ask for; larger values are lowered to it.',
          default: 30000,
          minimum: 0
        },
        cursor_max_records: {
          type: 'integer',
          description: 'The most records one cursor page holds (the default and the bound of max_records).',
          default: 1000,
          minimum: 1
        },
        cursor_max_bytes: {
          type: 'integer',
          description: 'The most key and value bytes one cursor page holds (the default and the bound of max_bytes); the first record always counts.',
          default: 4194304,
          minimum: 1
        },
        max_frame_bytes: {
          type: 'integer',
          description: 'The largest WebSocket frame a client may send (a record to produce, an ack); a larger one gets an error frame and the socket closes with 1009. Frames over twice this are refused by the WebSocket layer itself, unread.',
          default: 1048576,
          minimum: 1024
        },
        client_buffer_bytes: {
          type: 'integer',
          description: 'Fan-out: the window of latest records (key and value bytes) each topic tail keeps for the streams near the topic head, which share its one Kafka fetch. A stream that falls further behind is detached onto a consumer of its own (one of streams.max_readers); when none is free it ends with a retriable error carrying the id to resume from.',
          default: 8388608,
          minimum: 1024
        }
      }
    },
    webhooks: {
      type: 'object',
      description: 'Webhook subscriptions: records of a topic POSTed to an HTTP callback, signed, retried and committed per QoS (POST /v3/clusters/{cluster_id}/topics/{topic}/subscriptions; docs/webhooks.md).',
      default: {},
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description: 'Whether this process delivers subscriptions (each one a member of the subscription\'s consumer group). The API that manages them is served either way.',
          default: true
        },
        store_topic: {
          type: 'string',
          description: 'The compacted topic holding the subscriptions (callback secrets included: restrict it with ACLs) and their delivery statistics; created with one partition on first use. Every process reads it, so a subscription made through any process or instance is served by all.',
          default: '_kafka-http-proxy-webhooks',
          minLength: 1
        },
        store_replication_factor: {
          type: 'integer',
          description: 'Replication factor the store topic is created with; -1 uses the brokers\' default.replication.factor.',
          default: -1,
          minimum: -1,
          maximum: 32767
        },
        allowed_hosts: {
          type: 'array',
          description: 'Callback hosts allowed whatever address they resolve to: exact host names or IP addresses, or `*.example.com` for every name under a domain. Hosts not listed are allowed only when every address they resolve to is outside denied_networks (unless only_allowed_hosts).',
          default: [],
          items: { type: 'string' },
          examples: [['hooks.example.com', '*.internal.example.com', '127.0.0.1']]
        },
        only_allowed_hosts: {
          type: 'boolean',
          description: 'Refuse every callback host not in allowed_hosts.',
          default: false
        },
        denied_networks: {
          type: 'array',
          description: 'Networks (CIDR) no callback may reach unless its host is in allowed_hosts: checked when a subscription is made or changed, and again against the resolved address of every connection (DNS rebinding). The default refuses this host, link-local (cloud metadata), private, shared, multicast and reserved ranges of IPv4 and IPv6.',
          default: ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4', '::/128', '::1/128', '64:ff9b::/96', 'fc00::/7', 'fe80::/10', 'ff00::/8'],
          items: { type: 'string' },
          examples: [['127.0.0.0/8', '169.254.0.0/16', '::1/128']]
        },
        connect_timeout_ms: {
          type: 'integer',
          description: 'Time allowed to open a connection to a callback (TCP and TLS); a delivery that cannot connect in time is retried.',
          default: 5000,
          minimum: 1
        },
        response_timeout_ms: {
          type: 'integer',
          description: 'Time allowed from sending a delivery to the end of the callback\'s response; a slower callback counts as failed and the delivery is retried.',
          default: 10000,
          minimum: 1
        },
        max_response_bytes: {
          type: 'integer',
          description: 'Most bytes of a callback\'s response body that are read; the connection of a larger one is closed (only the status counts).',
          default: 4096,
          minimum: 0
        },
        max_attempts: {
          type: 'integer',
          description: 'Attempts per delivery of a subscription that does not give max_attempts; after the last one the records go to its dead_letter_topic, or it stops in state failed.',
          default: 10,
          minimum: 1,
          maximum: 1000
        },
        backoff_initial_ms: {
          type: 'integer',
          description: 'Delay before the second attempt of a delivery; each further one doubles it (with jitter: a random 50-100 % of it), up to backoff_max_ms. A Retry-After the callback sends is honoured up to backoff_max_ms.',
          default: 1000,
          minimum: 1
        },
        backoff_max_ms: {
          type: 'integer',
          description: 'Longest delay between two attempts of a delivery.',
          default: 300000,
          minimum: 1
        },
        auto_commit_interval_ms: {
          type: 'integer',
          description: 'How often a subscription with qos auto commits the positions of the records it took (librdkafka auto.commit.interval.ms).',
          default: 5000,
          minimum: 1
        },
        session_timeout_ms: {
          type: 'integer',
          description: 'A process that stops heartbeating (killed, hung) loses its partitions of a subscription after this long, and another process takes them over (librdkafka session.timeout.ms; the brokers bound it by group.min.session.timeout.ms, 6000 by default).',
          default: 10000,
          minimum: 1,
          maximum: 3600000
        },
        poll_interval_ms: {
          type: 'integer',
          description: 'Longest wait between two polls of an idle subscription\'s consumer: the added latency of a record arriving on an idle topic. Polls never block a thread.',
          default: 100,
          minimum: 1,
          maximum: 10000
        },
        max_buffered_records: {
          type: 'integer',
          description: 'Records one process holds per subscription partition, waiting for delivery; beyond it fetching that partition pauses, so a slow callback never grows memory.',
          default: 500,
          minimum: 1
        },
        threads: {
          type: 'integer',
          description: 'libuv threads the webhook consumers of one process may hold at once (polls, connects, offset lookups), added to the pool the primary sizes for each worker.',
          default: 4,
          minimum: 1,
          maximum: 64
        },
        max_connections_per_origin: {
          type: 'integer',
          description: 'Keep-alive connections one process opens to one callback origin (scheme, host and port).',
          default: 32,
          minimum: 1
        },
        status_interval_ms: {
          type: 'integer',
          description: 'How often a process writes the delivery statistics (last status, attempts, dead-lettered) of the partitions it delivers to the store topic.',
          default: 2000,
          minimum: 100
        }
      }
    },
    routes: {
      type: 'array',
      // eslint-disable-next-line no-template-curly-in-string
      description: 'Application routes, as [[routes]] tables: methods, path (a template with {param} segments and a trailing * or {name*}), and one capability: produce, fetch or sse, each a table whose values may hold ${params.x}, ${headers.x}, ${query.x} and ${identity.x} expressions; optional max_body_bytes and cors. Checked at start, each problem naming the route and field (docs/routes.md).',
      default: [],
      items: { type: 'object' },
      // eslint-disable-next-line no-template-curly-in-string
      examples: [[{ methods: ['GET'], path: '/items/{id}', fetch: { topic: 'items', key: '${params.id}' } }]]
    },
    route_settings: {
      type: 'object',
      description: 'Settings shared by every [[routes]] route (docs/routes.md). A table of its own because TOML cannot make `routes` both the array of routes and a table.',
      default: {},
      additionalProperties: false,
      properties: {
        view_max_bytes: {
          type: 'integer',
          description: 'Memory one process may give the latest-per-key view of one topic that fetch routes read (keys, values, content types and a measured per-key overhead); a view over it stops, logs an error and its routes answer 503 (50308).',
          default: 268435456,
          minimum: 1
        },
        max_body_bytes: {
          type: 'integer',
          description: 'Request body limit of a produce route without its own max_body_bytes; larger bodies are answered 413.',
          default: 1048576,
          minimum: 0
        },
        timeout_ms: {
          type: 'integer',
          description: 'How long a request/reply route (produce.reply_topic) waits for the reply without its own timeout_ms before answering 504.',
          default: 30000,
          minimum: 1
        },
        reply_ttl_ms: {
          type: 'integer',
          description: 'How long every process keeps a reply read from a reply topic, for the async reply resource (Location) and Idempotency-Key retries of request/reply routes.',
          default: 300000,
          minimum: 1000
        },
        correlation_header: {
          type: 'string',
          description: 'Record header that carries the proxy-generated correlation id of a request/reply route; the service answers with the same header.',
          default: 'correlation-id',
          minLength: 1
        },
        idempotency_ttl_ms: {
          type: 'integer',
          description: 'How long an Idempotency-Key of a produce route is remembered: a retry with the same key, route and body within it writes no second record and gets the first answer; the same key with another body is a 422.',
          default: 86400000,
          minimum: 1000
        }
      }
    },
    cors: {
      type: 'object',
      description: 'CORS of the [[routes]] routes (a route\'s own `cors` table replaces it); preflight OPTIONS is answered without Kafka. No allowed_origins: no CORS headers.',
      default: {},
      additionalProperties: false,
      properties: {
        allowed_origins: { type: 'array', description: 'Origins allowed (scheme://host[:port]), or "*".', default: [], items: { type: 'string' }, examples: [['https://app.example.com']] },
        allowed_methods: { type: 'array', description: 'Methods a preflight allows; empty: the route\'s methods.', default: [], items: { type: 'string' } },
        allowed_headers: { type: 'array', description: 'Request headers a preflight allows; empty: the headers the preflight asks for.', default: [], items: { type: 'string' } },
        exposed_headers: { type: 'array', description: 'Response headers scripts may read (Access-Control-Expose-Headers); ETag, Location and Kafka-Position are always exposed.', default: [], items: { type: 'string' } },
        credentials: { type: 'boolean', description: 'Access-Control-Allow-Credentials: true (needs explicit origins, not "*").', default: false },
        max_age_s: { type: 'integer', description: 'How long a browser may cache a preflight answer (Access-Control-Max-Age).', default: 600, minimum: 0 }
      }
    },
    log: {
      type: 'object',
      description: 'Logging.',
      default: {},
      additionalProperties: false,
      properties: {
        level: {
          type: 'string',
          description: 'Lowest level that is logged; "silent" logs nothing.',
          default: 'info',
          enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
        }
      }
    },
    access_log: {
      type: 'object',
      description: 'Access log: one JSON line per request on stdout (msg "request": method, path without the query, route template, status, duration_ms, bytes in and out, remote address, HTTP version, principal when authentication is on). Never a body, a header value or a query string.',
      default: {},
      additionalProperties: false,
      properties: {
        mode: {
          type: 'string',
          description: '"off"; "errors" (status 400 and up); "sampled" (every error, other requests at sample_rate); "all".',
          default: 'off',
          enum: ['off', 'errors', 'sampled', 'all']
        },
        sample_rate: {
          type: 'number',
          description: 'With mode = "sampled": the share of requests without an error that are logged (0 to 1).',
          default: 0.01,
          minimum: 0,
          maximum: 1,
          examples: [0.1]
        }
      }
    },
    metrics: {
      type: 'object',
      description: 'Prometheus metrics at GET /metrics: every process of the instance in one scrape (docs/metrics.md).',
      default: {},
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description: 'Serve /metrics and count; off, /metrics answers 404 and nothing is counted or sampled.',
          default: true
        },
        max_topic_labels: {
          type: 'integer',
          description: 'Distinct topic label values per metric family and process; records of further topics are counted under topic="(other)", so a client writing to many topics cannot grow the scrape without bound.',
          default: 100,
          minimum: 1,
          maximum: 10000
        },
        kafka_statistics_interval_ms: {
          type: 'integer',
          description: 'How often the producer\'s librdkafka statistics (broker round-trip times, queue depths, requests in flight, batch sizes) are refreshed for /metrics (librdkafka statistics.interval.ms); 0 turns them off.',
          default: 10000,
          minimum: 0,
          maximum: 86400000
        }
      }
    },
    instances: {
      type: 'object',
      description: 'Several proxy instances behind one load balancer (docs/deployment.md): a v2 consumer instance lives in the proxy instance that created it, and the others relay its calls there, so plain round-robin balancing works. Leave peers empty for a single instance.',
      default: {},
      additionalProperties: false,
      properties: {
        self_url: {
          type: 'string',
          description: 'This instance\'s base URL as the other instances reach it (http://host:port of its listener, not the load balancer\'s).',
          default: '',
          examples: ['http://10.0.0.11:8082']
        },
        peers: {
          type: 'array',
          description: 'Base URLs of the other instances (this one may be listed too; it is left out). The proxy only ever connects to these, never to a host a request names.',
          default: [],
          items: { type: 'string' },
          examples: [['http://10.0.0.11:8082', 'http://10.0.0.12:8082']]
        },
        secret: {
          type: 'string',
          description: 'Shared secret of the instances: the key of the HMAC-SHA256 that proves a call between instances (a client cannot pass a call off as relayed). Required with peers; the same on every instance.',
          default: ''
        },
        locate_timeout_ms: {
          type: 'integer',
          description: 'How long an instance waits for the others to say whether they hold a consumer instance; one that does not answer in time counts as not holding it.',
          default: 1000,
          minimum: 1
        }
      }
    },
    auth: {
      type: 'object',
      description: 'Authentication of API clients (docs/security.md). Off until a method is configured: [auth.jwt], [auth.basic], or client certificates (server.tls.client_auth). Several methods may be on at once; /health/* never asks for credentials.',
      default: {},
      additionalProperties: false,
      properties: {
        anonymous: {
          type: 'boolean',
          description: 'Once a method is configured: whether a request without credentials is served as the principal "anonymous" (true; rules may allow it what they name it for) or answered 401 (false). Credentials that are present but wrong are always 401.',
          default: false
        },
        realm: {
          type: 'string',
          description: 'The realm of the WWW-Authenticate challenges of 401 answers (RFC 9110 §11.6.1).',
          default: 'kafka-http-proxy',
          minLength: 1
        },
        challenge_ahead_s: {
          type: 'integer',
          description: 'Streams (SSE, WebSocket) opened with a JWT get a challenge this many seconds before the token expires; a stream not renewed with a fresh token by then ends with 40102 and the id to resume from (docs/security.md).',
          default: 30,
          minimum: 1
        },
        jwt: {
          type: 'object',
          description: 'JWT bearer tokens (RFC 7519), verified with the jose library: in the Authorization header, or for EventSource and WebSocket clients (which cannot set headers) in a query parameter or a cookie.',
          default: {},
          additionalProperties: false,
          properties: {
            jwks_url: {
              type: 'string',
              description: 'The issuer\'s JWKS (RFC 7517): fetched at start, cached for its Cache-Control max-age (jwks_cache_s without one), and fetched again when a token names an unknown kid (at most once per jwks_cooldown_s). Empty: keys from jwks_file only.',
              default: '',
              examples: ['https://idp.example/.well-known/jwks.json']
            },
            jwks_file: {
              type: 'string',
              description: 'A JWKS file of inline keys (public keys; `oct` keys for HS* algorithms), read at start and on SIGHUP; used with or instead of jwks_url.',
              default: ''
            },
            jwks_ca_file: {
              type: 'string',
              description: 'PEM certificate authorities trusted for an https jwks_url; empty uses the system trust store.',
              default: ''
            },
            issuer: {
              type: 'string',
              description: 'The required `iss` claim; empty accepts any issuer (not advised).',
              default: '',
              examples: ['https://idp.example/']
            },
            audience: {
              type: 'string',
              description: 'The required `aud` claim (one of the token\'s audiences); empty accepts any.',
              default: '',
              examples: ['kafka-proxy']
            },
            algorithms: {
              type: 'array',
              description: 'Signature algorithms accepted (JWA names, RFC 7518). `none` is never accepted; a key is only used with the algorithm family of its type, so an HS256 token signed with a public RSA key is refused.',
              default: ['RS256', 'ES256'],
              items: { type: 'string' }
            },
            identity_claim: {
              type: 'string',
              description: 'The claim that names the principal.',
              default: 'sub',
              minLength: 1
            },
            roles_claim: {
              type: 'string',
              description: 'The claim holding the principal\'s roles: an array of strings, or a space-separated string (the OAuth `scope` form). Empty: no roles.',
              default: 'roles'
            },
            clock_skew_s: {
              type: 'integer',
              description: 'Seconds of clock difference tolerated on exp, nbf and iat.',
              default: 30,
              minimum: 0,
              maximum: 3600
            },
            query_parameter: {
              type: 'string',
              description: 'Query parameter that may carry the token (EventSource, WebSocket); empty: none. It is removed before the request is logged or relayed.',
              default: 'access_token'
            },
            cookie: {
              type: 'string',
              description: 'Cookie that may carry the token; empty: none.',
              default: ''
            },
            jwks_cache_s: {
              type: 'integer',
              description: 'How long a fetched JWKS is used when its response has no Cache-Control max-age.',
              default: 300,
              minimum: 1
            },
            jwks_cooldown_s: {
              type: 'integer',
              description: 'Least time between two fetches of the JWKS caused by unknown kids, so forged kids cannot make the proxy flood the issuer.',
              default: 10,
              minimum: 0
            },
            jwks_timeout_ms: {
              type: 'integer',
              description: 'Time allowed for one JWKS fetch.',
              default: 5000,
              minimum: 1
            }
          }
        },
        basic: {
          type: 'object',
          description: 'HTTP Basic authentication (RFC 7617) against a users file. Send it over TLS only: the password crosses the connection with every request.',
          default: {},
          additionalProperties: false,
          properties: {
            users_file: {
              type: 'string',
              description: 'Lines of `name:<hash>` (scrypt as written by `npm run user -- add`, or bcrypt `$2a$`/`$2b$`/`$2y$`), `#` comments; never plain text. Read at start and on SIGHUP. Empty: Basic is off.',
              default: '',
              examples: ['/etc/proxy/users']
            },
            roles_file: {
              type: 'string',
              description: 'Optional lines of `name:role1,role2` giving Basic users roles.',
              default: ''
            }
          }
        },
        mtls: {
          type: 'object',
          description: 'The principal of a client that presented a certificate verified against server.tls.ca_file.',
          default: {},
          additionalProperties: false,
          properties: {
            identity: {
              type: 'string',
              description: 'What names the principal: the subject\'s CN, the first SAN of a kind, or the whole subject (`CN=…,O=…`).',
              default: 'cn',
              enum: ['cn', 'san_dns', 'san_email', 'san_uri', 'subject']
            }
          }
        }
      }
    },
    authorization: {
      type: 'object',
      description: 'Who may do what ([[authorization.rules]]; docs/security.md). No rules: every authenticated principal may do everything. Once a rule exists everything not allowed is denied.',
      default: {},
      additionalProperties: false,
      properties: {
        rules: {
          type: 'array',
          description: 'Rules, as [[authorization.rules]] tables. A rule matches a request when one of its principals, roles or claims (`name=value`) matches (none listed: every principal) and the resource is listed. Deny rules are evaluated before allow rules; the first match decides; nothing matched is denied.',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              effect: { type: 'string', description: '"allow" or "deny".', default: 'allow', enum: ['allow', 'deny'] },
              principals: { type: 'array', description: 'Principal names.', default: [], items: { type: 'string' } },
              roles: { type: 'array', description: 'Roles (auth.jwt.roles_claim, auth.basic.roles_file).', default: [], items: { type: 'string' } },
              claims: { type: 'array', description: 'JWT claims as `name=value`.', default: [], items: { type: 'string' } },
              operations: { type: 'array', description: 'produce, consume, describe, create, delete, alter, admin, or * for all.', default: [], items: { type: 'string' } },
              topics: { type: 'array', description: 'Topic names: exact, a prefix ending in *, or /regex/.', default: [], items: { type: 'string' } },
              groups: { type: 'array', description: 'Consumer groups, in the same forms.', default: [], items: { type: 'string' } },
              routes: { type: 'array', description: 'Routes by operationId or path template, in the same forms; once a rule names routes, every route is allowed only by such a rule.', default: [], items: { type: 'string' } },
              cluster: { type: 'boolean', description: 'The rule covers the cluster (brokers, broker configs, ACLs, reassignments).', default: false }
            }
          },
          // Complete, as the schema's defaults fill every rule in.
          examples: [[{ effect: 'allow', principals: ['alice'], roles: [], claims: [], operations: ['produce', 'consume', 'describe'], topics: ['sec-*'], groups: [], routes: [], cluster: false }]]
        },
        cache_entries: {
          type: 'integer',
          description: 'Decisions kept per process (principal, operation, resource); the cache is cleared when full.',
          default: 100000,
          minimum: 1
        }
      }
    },
    quotas: {
      type: 'object',
      description: 'Limits per principal for the whole proxy instance: its worker processes share them through the primary (each instance counts on its own; docs/security.md). Over a limit the answer is 429/42902 with Retry-After (per record in v3 records:batch and the streaming produce). They apply to requests that have a principal: with no authentication or authorization configured none has; anonymous clients (auth.anonymous = true) share the principal `anonymous`. 0: no limit.',
      default: {},
      additionalProperties: false,
      properties: {
        produce_records_per_s: { type: 'integer', description: 'Records one principal may produce per second (v2 produce, v3 records, records:batch and the streaming produce); one second of it may come at once.', default: 0, minimum: 0 },
        produce_bytes_per_s: { type: 'integer', description: 'Record bytes (key + value, as written to Kafka) one principal may produce per second.', default: 0, minimum: 0 },
        consume_bytes_per_s: { type: 'integer', description: 'Record bytes (key + value) one principal may read per second through v2 consumer instances and v3 partition reads (cursor pages: their records\' JSON). A read is admitted while the principal has bytes left, counted after, and asks for at most one second of this. SSE and WebSocket streams are refused at opening while the principal is over it; once open, what they deliver (their records\' JSON) counts, and over the quota they wait instead of reading.', default: 0, minimum: 0 },
        concurrent_streams: { type: 'integer', description: 'SSE, WebSocket and cursor streams one principal may hold open at once on the instance; one more is refused with 429.', default: 0, minimum: 0 }
      }
    },
    identity: {
      type: 'object',
      description: 'Writes the principal into the records it produces (opt-in, docs/security.md): headers that clients cannot forge.',
      default: {},
      additionalProperties: false,
      properties: {
        headers: {
          type: 'array',
          // The templates' ${...} placeholders are the documented syntax, not JavaScript's.
          // eslint-disable-next-line no-template-curly-in-string
          description: 'Record headers as `name=template`; the template may hold ${identity.sub} (the principal), ${identity.method}, ${identity.roles} and ${identity.claims.NAME}, and nothing a client sends. A header whose template resolves to nothing for a principal is left out. A record whose client-sent headers use one of these names (in any case) is refused with 422/42212.',
          default: [],
          items: { type: 'string' },
          // eslint-disable-next-line no-template-curly-in-string
          examples: [['x-principal=${identity.sub}', 'x-tenant=${identity.claims.tenant}']]
        },
        confluent_api: {
          type: 'boolean',
          // eslint-disable-next-line no-template-curly-in-string
          description: 'Write the headers into every record produced through the Confluent API (v2 produce, v3 records, records:batch and the streaming produce); without authentication the principal is `anonymous`. false: they are not written (application routes write their own ${identity.…} expressions).',
          default: false
        }
      }
    },
    dev: {
      type: 'object',
      description: 'The embedded single-node broker that `npm start` runs when kafka.bootstrap_servers is empty.',
      default: {},
      additionalProperties: false,
      properties: {
        broker_port: {
          type: 'integer',
          description: 'Preferred port of the embedded dev broker; a free one is picked if it is taken.',
          default: 9092,
          minimum: 0,
          maximum: 65535
        },
        data_dir: {
          type: 'string',
          description: 'Where the embedded dev broker keeps its data, relative to the project root.',
          default: '.data/kafka',
          minLength: 1
        }
      }
    }
  }
} as const satisfies Omit<TableSchema, 'default'> & { readonly $schema: string }

export type PassthroughProperties = Record<string, string | number | boolean>

export interface ServerConfig {
  host: string
  port: number
  workers: number
  advertised_url: string
  max_body_bytes: number
  max_json_depth: number
  max_json_string_bytes: number
  shutdown_timeout_ms: number
  drain_grace_ms: number
  keep_alive_timeout_ms: number
  headers_timeout_ms: number
  request_timeout_ms: number
  max_header_bytes: number
  max_url_bytes: number
  max_connections: number
  max_connections_per_ip: number
  max_requests_per_connection: number
  tls: ServerTlsConfig
}

export interface ServerTlsConfig {
  cert_file: string
  key_file: string
  key_passphrase_file: string
  ca_file: string
  client_auth: 'none' | 'optional' | 'required'
  http2: boolean
}

export interface PoolConfig {
  threads: number
  max_queue: number
  offload_threshold_bytes: number
}

export interface KafkaConfig {
  bootstrap_servers: string
  client_id: string
  metadata_refresh_ms: number
  unreachable_after_ms: number
  request_timeout_ms: number
  auto_create_topics: 'broker' | 'always' | 'never'
  security: PassthroughProperties
  producer: PassthroughProperties
  consumer: PassthroughProperties
  admin: PassthroughProperties
}

export interface ProducerConfig {
  acks: 'all' | '1' | '0'
  enable_idempotence: boolean
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  linger_ms: number
  batch_bytes: number
  delivery_timeout_ms: number
  max_in_flight: number
}

export interface ConsumerConfig {
  threads: number
  request_timeout_ms: number
  request_max_bytes: number
  instance_timeout_ms: number
  fetch_min_bytes: number
  prefetch_max_bytes: number
  max_poll_records: number
  strip_schema_framing: 'none' | 'key' | 'value' | 'key_and_value'
}

export type SubjectStrategy = 'topic_name' | 'record_name' | 'topic_record_name'

export interface SchemaRegistryConfig {
  url: string
  basic_auth_user: string
  basic_auth_password: string
  ca_file: string
  request_timeout_ms: number
  key_subject_strategy: SubjectStrategy
  value_subject_strategy: SubjectStrategy
}

export interface V3RateLimitConfig {
  enabled: boolean
  max_records_per_sec: number
  max_records_global_per_sec: number
  max_bytes_per_sec: number
  max_bytes_global_per_sec: number
}

export interface V3Config {
  resource_name_authority: string
  batch_max_entries: number
  record_max_bytes: number
  stream_max_duration_ms: number
  stream_grace_period_ms: number
  rate_limit: V3RateLimitConfig
}

export interface StreamsConfig {
  encode_ids: boolean
  heartbeat_ms: number
  retry_ms: number
  max_per_process: number
  max_readers: number
  reader_idle_ms: number
  cursor_timeout_ms: number
  cursor_max_timeout_ms: number
  cursor_max_records: number
  cursor_max_bytes: number
  max_frame_bytes: number
  client_buffer_bytes: number
}

export interface WebhooksConfig {
  enabled: boolean
  store_topic: string
  store_replication_factor: number
  allowed_hosts: string[]
  only_allowed_hosts: boolean
  denied_networks: string[]
  connect_timeout_ms: number
  response_timeout_ms: number
  max_response_bytes: number
  max_attempts: number
  backoff_initial_ms: number
  backoff_max_ms: number
  auto_commit_interval_ms: number
  session_timeout_ms: number
  poll_interval_ms: number
  max_buffered_records: number
  threads: number
  max_connections_per_origin: number
  status_interval_ms: number
}

export interface RouteSettingsConfig {
  view_max_bytes: number
  max_body_bytes: number
  timeout_ms: number
  reply_ttl_ms: number
  correlation_header: string
  idempotency_ttl_ms: number
}

export interface CorsConfig {
  allowed_origins: string[]
  allowed_methods: string[]
  allowed_headers: string[]
  exposed_headers: string[]
  credentials: boolean
  max_age_s: number
}

export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

export interface InstancesConfig {
  self_url: string
  peers: string[]
  secret: string
  locate_timeout_ms: number
}

export interface AccessLogConfig {
  mode: 'off' | 'errors' | 'sampled' | 'all'
  sample_rate: number
}

export interface MetricsConfig {
  enabled: boolean
  max_topic_labels: number
  kafka_statistics_interval_ms: number
}

export interface DevConfig {
  broker_port: number
  data_dir: string
}

export interface AuthJwtConfig {
  jwks_url: string
  jwks_file: string
  jwks_ca_file: string
  issuer: string
  audience: string
  algorithms: string[]
  identity_claim: string
  roles_claim: string
  clock_skew_s: number
  query_parameter: string
  cookie: string
  jwks_cache_s: number
  jwks_cooldown_s: number
  jwks_timeout_ms: number
}

export interface AuthConfig {
  anonymous: boolean
  realm: string
  challenge_ahead_s: number
  jwt: AuthJwtConfig
  basic: { users_file: string, roles_file: string }
  mtls: { identity: 'cn' | 'san_dns' | 'san_email' | 'san_uri' | 'subject' }
}

export interface AuthorizationRule {
  effect: 'allow' | 'deny'
  principals: string[]
  roles: string[]
  claims: string[]
  operations: string[]
  topics: string[]
  groups: string[]
  routes: string[]
  cluster: boolean
}

export interface AuthorizationConfig {
  rules: AuthorizationRule[]
  cache_entries: number
}

export interface QuotasConfig {
  produce_records_per_s: number
  produce_bytes_per_s: number
  consume_bytes_per_s: number
  concurrent_streams: number
}

export interface IdentityConfig {
  headers: string[]
  confluent_api: boolean
}

/** The validated configuration; `loadConfig` returns it deep-frozen. */
export interface Config {
  server: ServerConfig
  auth: AuthConfig
  authorization: AuthorizationConfig
  quotas: QuotasConfig
  identity: IdentityConfig
  pool: PoolConfig
  kafka: KafkaConfig
  producer: ProducerConfig
  consumer: ConsumerConfig
  schema_registry: SchemaRegistryConfig
  v3: V3Config
  streams: StreamsConfig
  webhooks: WebhooksConfig
  /** [[routes]] tables as written; src/routes/config.ts checks and compiles them. */
  routes: unknown[]
  route_settings: RouteSettingsConfig
  cors: CorsConfig
  log: LogConfig
  access_log: AccessLogConfig
  metrics: MetricsConfig
  instances: InstancesConfig
  dev: DevConfig
}

// The interfaces above are written out for readable hovers and docs; this
// type fails to compile when they and the schema disagree in either direction.
type FromSchema<S> =
  S extends { readonly properties: infer P } ? { -readonly [K in keyof P]: FromSchema<P[K]> }
    : S extends { readonly additionalProperties: infer V extends object } ? Record<string, FromSchema<V>>
      : S extends { readonly enum: ReadonlyArray<infer E> } ? E
        : S extends { readonly type: readonly ScalarType[] } ? ScalarOf<S['type'][number]>
          : S extends { readonly type: 'array', readonly items: { readonly properties: infer P } } ? Array<{ -readonly [K in keyof P]: FromSchema<P[K]> }>
            : S extends { readonly type: 'array', readonly items: { readonly type: 'object' } } ? unknown[]
              : S extends { readonly type: 'array' } ? string[]
                : S extends { readonly type: infer T extends ScalarType } ? ScalarOf<T>
                  : never
type ScalarOf<T extends ScalarType> = T extends 'string' ? string : T extends 'boolean' ? boolean : number
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Assert<T extends true> = T
export type ConfigMatchesSchema = Assert<MutuallyAssignable<Config, FromSchema<typeof configSchema>>>

export function isTable (node: NodeSchema): node is TableSchema {
  return 'properties' in node
}

export function isPassthrough (node: NodeSchema): node is PassthroughSchema {
  return node.type === 'object' && !('properties' in node)
}

/** A configurable key: a scalar leaf, or a whole pass-through table. */
export interface ConfigKey {
  readonly path: readonly string[]
  readonly schema: LeafSchema | PassthroughSchema
}

/** A table of the schema (including nested ones), for docs and config.toml. */
export interface ConfigTable {
  readonly path: readonly string[]
  readonly schema: TableSchema | PassthroughSchema
  readonly keys: readonly ConfigKey[]
}

function walk (table: TableSchema, path: readonly string[], out: ConfigTable[]): void {
  const keys: ConfigKey[] = []
  const nested: Array<[string, TableSchema | PassthroughSchema]> = []
  for (const [name, node] of Object.entries(table.properties)) {
    if (isTable(node) || isPassthrough(node)) nested.push([name, node])
    else keys.push({ path: [...path, name], schema: node })
  }
  out.push({ path, schema: table, keys })
  for (const [name, node] of nested) {
    if (isTable(node)) walk(node, [...path, name], out)
    else out.push({ path: [...path, name], schema: node, keys: [{ path: [...path, name], schema: node }] })
  }
}

const root = configSchema as unknown as TableSchema
const walked: readonly ConfigTable[] = (() => {
  const out: ConfigTable[] = []
  walk(root, [], out)
  return out
})()
const tables: readonly ConfigTable[] = walked.filter(t => t.path.length > 0)
// Keys outside every table ([[routes]]): written before the first table in TOML.
const rootKeys: readonly ConfigKey[] = walked.find(t => t.path.length === 0)?.keys ?? []

/** Every table in TOML order: a table's own keys come before its sub-tables. */
export function configTables (): readonly ConfigTable[] {
  return tables
}

/** The keys at the top level, outside every table. */
export function topLevelKeys (): readonly ConfigKey[] {
  return rootKeys
}

/** Every configurable key, pass-through tables counted as one key each. */
export function configKeys (): readonly ConfigKey[] {
  return [...rootKeys, ...tables.flatMap(t => t.keys)]
}

function defaultsOf (node: NodeSchema): unknown {
  if (!isTable(node)) return structuredClone(node.default)
  const out: Record<string, unknown> = {}
  for (const [name, child] of Object.entries(node.properties)) out[name] = defaultsOf(child)
  return out
}

/** A fresh, mutable object holding every default. */
export function defaultConfig (): Config {
  return defaultsOf(root) as Config
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/

/** A key path in TOML syntax, e.g. `kafka.producer."linger.ms"`. */
export function formatPath (path: readonly string[]): string {
  return path.map(s => BARE_KEY.test(s) ? s : JSON.stringify(s)).join('.')
}

/** One configuration problem; `path` is a dotted key path or an env var name. */
export interface ConfigIssue {
  path: string
  message: string
}
