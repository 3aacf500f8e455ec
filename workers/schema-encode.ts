// Piscina task: encode a large avro/jsonschema/protobuf produce body off the
// event loop, with schemas the main thread already resolved (registry I/O
// never happens here). Pure: no sockets, no config. Each worker thread keeps
// its own compiled-schema cache, so a schema is compiled once per thread and
// id. Errors travel as data because an Error subclass loses its class and
// fields across the thread boundary.
import { Piscina } from 'piscina'
import { encodeBodyWithSchemas, type ProduceSchemas, type SchemaFormat } from '../src/serdes/schema-formats.js'
import { packBatch, type PackedBatch } from '../src/serdes/v2-produce.js'
import { serializeError, type SerializedError } from '../src/errors.js'

export interface SchemaEncodeTask {
  format: SchemaFormat
  schemas: ProduceSchemas
  body: Uint8Array
}

export type SchemaEncodeResult = { ok: true, batch: PackedBatch } | { ok: false, error: SerializedError }

export default function schemaEncode (task: SchemaEncodeTask): SchemaEncodeResult {
  try {
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength)
    const batch = packBatch(encodeBodyWithSchemas(task.format, task.schemas, body))
    const result: SchemaEncodeResult = { ok: true, batch }
    // Transfer, not copy, the packed bytes back to the main thread.
    const movable = {
      [Piscina.transferableSymbol]: [batch.data, batch.index.buffer, batch.partitions.buffer],
      [Piscina.valueSymbol]: result
    }
    return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as SchemaEncodeResult
  } catch (err) {
    return { ok: false, error: serializeError(err) }
  }
}
