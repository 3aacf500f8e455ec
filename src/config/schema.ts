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
  readonly items?: { readonly type: 'string' }
  readonly examples?: readonly unknown[]
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
        }
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
  keep_alive_timeout_ms: number
  headers_timeout_ms: number
  request_timeout_ms: number
  max_header_bytes: number
  max_url_bytes: number
  max_connections: number
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
}

export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

export interface DevConfig {
  broker_port: number
  data_dir: string
}

/** The validated configuration; `loadConfig` returns it deep-frozen. */
export interface Config {
  server: ServerConfig
  pool: PoolConfig
  kafka: KafkaConfig
  producer: ProducerConfig
  consumer: ConsumerConfig
  schema_registry: SchemaRegistryConfig
  v3: V3Config
  streams: StreamsConfig
  log: LogConfig
  dev: DevConfig
}

// The interfaces above are written out for readable hovers and docs; this
// type fails to compile when they and the schema disagree in either direction.
type FromSchema<S> =
  S extends { readonly properties: infer P } ? { -readonly [K in keyof P]: FromSchema<P[K]> }
    : S extends { readonly additionalProperties: infer V extends object } ? Record<string, FromSchema<V>>
      : S extends { readonly enum: ReadonlyArray<infer E> } ? E
        : S extends { readonly type: readonly ScalarType[] } ? ScalarOf<S['type'][number]>
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
const tables: readonly ConfigTable[] = (() => {
  const out: ConfigTable[] = []
  walk(root, [], out)
  return out.filter(t => t.path.length > 0)
})()

/** Every table in TOML order: a table's own keys come before its sub-tables. */
export function configTables (): readonly ConfigTable[] {
  return tables
}

/** Every configurable key, pass-through tables counted as one key each. */
export function configKeys (): readonly ConfigKey[] {
  return tables.flatMap(t => t.keys)
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
