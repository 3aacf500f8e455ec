// Piscina task: encode a large avro/jsonschema/protobuf produce body off the
// event loop, with schemas the main thread already resolved (registry I/O
// never happens here). Pure: no sockets, no config. Each worker thread keeps
// its own compiled-schema cache, so a schema is compiled once per thread and
// id. The task's types belong to the code that runs it (src/formats/).
import { encodeBodyWithSchemas, type SchemaEncodeTask } from '../src/formats/schema-formats.js'
import type { BatchTaskResult } from '../src/produce/v2-body.js'
import { runBatchTask } from './batch-task.js'

export default function schemaEncode (task: SchemaEncodeTask): BatchTaskResult {
  return runBatchTask(task.body, (body) => encodeBodyWithSchemas(task.format, task.schemas, body))
}
