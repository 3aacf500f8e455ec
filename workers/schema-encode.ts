// Piscina task: encode a large avro/jsonschema/protobuf produce body off the
// event loop, with schemas the main thread already resolved (registry I/O
// never happens here). Pure: no sockets, no config. Each worker thread keeps
// its own compiled-schema cache, so a schema is compiled once per thread and
// id.
import { encodeBodyWithSchemas, type ProduceSchemas, type SchemaFormat } from '../src/formats/schema-formats.js'
import { runBatchTask, type BatchTaskResult } from './batch-task.js'

export interface SchemaEncodeTask {
  format: SchemaFormat
  schemas: ProduceSchemas
  body: Uint8Array
}

export type SchemaEncodeResult = BatchTaskResult

export default function schemaEncode (task: SchemaEncodeTask): SchemaEncodeResult {
  return runBatchTask(task.body, (body) => encodeBodyWithSchemas(task.format, task.schemas, body))
}
