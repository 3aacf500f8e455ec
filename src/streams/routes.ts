// The route of push delivery: a GET on the path where v3 produce is a POST,
// whose representation the request chooses (docs/streams.md).
import type { JsonObject } from '../http/route.js'
import { defineRoutes, type Handlers } from '../http/route.js'
import { MEDIA } from '../http/media.js'
import { arrayOf, EXTENSION_TAGS, NO_CONTENT_RESPONSE, INT64, object, queryParam, STRING, UNDECODABLE_PARAM, V3_READ_ERRORS } from '../api/components.js'
import type { Streams } from './hub.js'
import { SSE_MEDIA } from './sse.js'

const FORMAT = { type: 'string', enum: ['BINARY', 'STRING', 'JSON', 'AVRO', 'JSONSCHEMA', 'PROTOBUF', 'binary', 'string', 'json', 'avro', 'jsonschema', 'protobuf'] }

// Gravitee's notation, plain or base64url (RFC 4648 §5); see src/streams/position.ts.
const POSITION: JsonObject = {
  type: 'string',
  description: 'A stream position: `<topic>@<partition>#<offset>,<partition>#<offset>` (topics joined by `;`), base64url-encoded or plain; empty for a pattern stream that matched no topic yet (every partition from its first record).',
  pattern: '^(?:[A-Za-z0-9_-]*|[A-Za-z0-9._-]+@(?:0|[1-9][0-9]{0,8})#(?:0|[1-9][0-9]{0,14}))$'
}

const SIDE: JsonObject = {
  type: 'object',
  nullable: true,
  description: 'The key or value: `{"type":"BINARY","data":"<base64>"}`, `{"type":"STRING","data":"…"}`, `{"type":"JSON","data":<JSON>}` or, for a schema format, `{"type":"AVRO"|"JSONSCHEMA"|"PROTOBUF","data":<the decoded value>}`; with undecodable=raw a record that does not fit is `{"type":"BINARY","data":…,"reason":…}`.',
  properties: { type: STRING, data: {}, reason: STRING },
  required: ['type']
}

export const STREAM_RECORD: JsonObject = object({
  topic: STRING,
  partition: { type: 'integer', format: 'int32' },
  offset: INT64,
  timestamp: { type: 'string', format: 'date-time', nullable: true },
  key: SIDE,
  value: SIDE,
  headers: arrayOf(object({ name: STRING, value: { type: 'string', format: 'byte', nullable: true } }, ['name', 'value']))
}, ['topic', 'partition', 'offset', 'timestamp', 'key', 'value', 'headers'])

const RESET = object({
  topic: STRING,
  partition: { type: 'integer', format: 'int32' },
  requested: INT64,
  offset: INT64,
  reason: { type: 'string', enum: ['deleted', 'past-end'] },
  message: STRING
}, ['topic', 'partition', 'requested', 'offset', 'reason', 'message'])

const CURSOR_PAGE = object({
  records: arrayOf(STREAM_RECORD),
  next_cursor: { ...POSITION, description: 'The cursor of the next page: the position after the last record of this one (or after records a filter passed over).' },
  resets: { ...arrayOf(RESET), description: 'Present when the cursor named offsets that could not be honoured: deleted by retention (the read restarted at the earliest offset) or past the end.' }
}, ['records', 'next_cursor'])

export const STREAM_QUERY: readonly JsonObject[] = [
  queryParam('from', 'Where a stream without a position starts: `latest` (default), `earliest`, or an ISO-8601 date and time with a zone (the first record at or after it on each partition).', {
    anyOf: [{ type: 'string', enum: ['latest', 'earliest'] }, { type: 'string', format: 'date-time' }]
  }),
  queryParam('partitions', 'Comma-separated partition ids to stream (default: every partition, including partitions the topic gains).', { type: 'string', pattern: '^(?:0|[1-9][0-9]{0,8})(?:,(?:0|[1-9][0-9]{0,8}))*$' }),
  queryParam('cursor', 'Resume from this position (cursor reads: the previous page\'s next_cursor).', POSITION),
  queryParam('last_event_id', 'Resume from this event id, for clients that cannot send the Last-Event-ID header (which wins when both are given).', POSITION),
  queryParam('key', 'Only records whose key is exactly these bytes (UTF-8). Filters on headers are `header.<name>=<value>`; all filters must match.', STRING),
  queryParam('format', 'How keys and values are rendered (case-insensitive; default BINARY).', FORMAT),
  queryParam('key_format', 'How keys are rendered; default: format.', FORMAT),
  queryParam('value_format', 'How values are rendered; default: format.', FORMAT),
  UNDECODABLE_PARAM,
  queryParam('timeout', 'Cursor reads: the longest wait in ms for a first record (default streams.cursor_timeout_ms, capped by streams.cursor_max_timeout_ms).', { ...INT64, minimum: 0 }),
  queryParam('max_records', 'Cursor reads: at most this many records (capped by streams.cursor_max_records).', { ...INT64, minimum: 1 }),
  queryParam('max_bytes', 'Cursor reads: at most this many key and value bytes, the first record always counting (capped by streams.cursor_max_bytes).', { ...INT64, minimum: 1 })
]

export const STREAM_ROUTES = defineRoutes({
  streamKafkaV3Records: {
    method: 'GET',
    path: '/v3/clusters/{cluster_id}/topics/{topic}/records',
    summary: 'Stream a topic: Server-Sent Events, a cursor page, or a WebSocket',
    description: 'Push delivery of every partition of a topic (docs/streams.md). `Accept: text/event-stream`: an SSE stream, one event per record with the resumable position as its id (`event: delete` for tombstones, a heartbeat comment when idle); resume with the `Last-Event-ID` header. `Accept: application/json`: one long-poll page and the cursor of the next. `Upgrade: websocket` on the same path: records as text frames (the same JSON plus `id`), and records to produce or acks sent back. Nothing is stored on the proxy: a position resumes on any process of any instance. Errors before a stream starts are answered with the error body; after it started, SSE ends with `event: error`.',
    tags: EXTENSION_TAGS,
    extension: true,
    // Write: the records a WebSocket client sends are produced to the topic.
    access: [{ operation: 'Read', resource: 'topic' }, { operation: 'Write', resource: 'topic' }],
    query: STREAM_QUERY,
    produces: [MEDIA.json, SSE_MEDIA],
    responses: {
      200: {
        description: 'A cursor page (application/json) or an event stream (text/event-stream).',
        content: {
          [MEDIA.json]: CURSOR_PAGE,
          [SSE_MEDIA]: { type: 'string', description: 'An event stream (WHATWG HTML, server-sent events): `id:` the position after the record, `data:` the record as in a cursor page.' }
        }
      }
    },
    errors: V3_READ_ERRORS,
    // A HEAD would open a stream to send nothing.
    head: false
  },
  streamKafkaV3PatternRecords: {
    method: 'GET',
    path: '/v3/clusters/{cluster_id}/topics/-/records',
    summary: 'Stream every topic whose name matches a pattern',
    description: 'As the stream of one topic (SSE, cursor pages, or a WebSocket that only receives), over every topic whose whole name matches `topic_pattern` (Kafka\'s internal topics never do), including topics created after the stream started, from their first record. Positions name every topic (`;`-joined). No consumer group.',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [{ operation: 'Describe', resource: 'topic' }, { operation: 'Read', resource: 'topic' }],
    query: [
      queryParam('topic_pattern', 'A JavaScript regular expression matched against whole topic names, at most 256 characters, without backreferences or quantified groups that hold quantifiers.', { type: 'string', pattern: '^[A-Za-z0-9._-]{1,40}(?:\\.\\*)?$' }, true),
      ...STREAM_QUERY.filter((q) => q.name !== 'partitions')
    ],
    produces: [MEDIA.json, SSE_MEDIA],
    responses: {
      200: {
        description: 'A cursor page (application/json) or an event stream (text/event-stream).',
        content: {
          [MEDIA.json]: CURSOR_PAGE,
          [SSE_MEDIA]: { type: 'string', description: 'An event stream, as for one topic.' }
        }
      }
    },
    errors: V3_READ_ERRORS,
    head: false
  },
  renewStreamAuthorization: {
    method: 'POST',
    path: '/v3/streams/{stream_id}/authorization',
    summary: 'Renew the token of a stream (the answer to its challenge)',
    description: 'A stream opened with a JWT gets `event: challenge` (SSE) `auth.challenge_ahead_s` before the token expires, naming this path with its `stream_id`. A POST here authenticated with a fresh token of the same principal (Authorization: Bearer, or the token query parameter) that may still consume the stream\'s topics moves the stream\'s deadline to the fresh token\'s expiry; it may reach any process of the instance. A stream not renewed by its deadline ends with a final `event: error` (40102) carrying the id to resume from. WebSocket streams answer their challenge frame with a `{"token":"…"}` frame instead (docs/security.md).',
    tags: EXTENSION_TAGS,
    extension: true,
    access: [],
    produces: [MEDIA.json],
    responses: { 204: NO_CONTENT_RESPONSE },
    errors: [401, 403, 404, '5XX']
  }
})

export function streamHandlers (streams: Streams): Handlers<typeof STREAM_ROUTES> {
  return {
    streamKafkaV3Records: (ctx) => streams.records(ctx),
    streamKafkaV3PatternRecords: (ctx) => streams.records(ctx),
    renewStreamAuthorization: (ctx) => streams.renew(ctx)
  }
}
