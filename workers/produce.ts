// Piscina task: decode a large v2 produce body off the event loop.
// Pure: no sockets, no config. Errors travel as data because an Error subclass
// loses its class and fields across the thread boundary.
import { Piscina } from 'piscina'
import { decodeProduceBody, packBatch, type PackedBatch, type PlainFormat } from '../src/serdes/v2-produce.js'
import { serializeError, type SerializedError } from '../src/errors.js'

export interface ProduceTask {
  format: PlainFormat
  body: Uint8Array
}

export type ProduceTaskResult = { ok: true, batch: PackedBatch } | { ok: false, error: SerializedError }

export default function decodeProduce (task: ProduceTask): ProduceTaskResult {
  try {
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength)
    const batch = packBatch(decodeProduceBody(task.format, body))
    // Transfer, not copy, the packed bytes back to the main thread.
    const result: ProduceTaskResult = { ok: true, batch }
    const movable = {
      [Piscina.transferableSymbol]: [batch.data, batch.index.buffer, batch.partitions.buffer],
      [Piscina.valueSymbol]: result
    }
    return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as ProduceTaskResult
  } catch (err) {
    return { ok: false, error: serializeError(err) }
  }
}
