// What every produce-side piscina task shares: run a pure decode or encode
// step over a request body and send the packed batch back transferred, not
// copied; errors travel as data because an Error subclass loses its class and
// fields across the thread boundary.
import { Piscina } from 'piscina'
import { packBatch, type BatchTaskResult, type DecodedBatch } from '../src/produce/v2-body.js'
import { serializeError } from '../src/errors.js'

export function runBatchTask (body: Uint8Array, step: (body: Buffer) => DecodedBatch): BatchTaskResult {
  try {
    const batch = packBatch(step(Buffer.from(body.buffer, body.byteOffset, body.byteLength)))
    const result: BatchTaskResult = { ok: true, batch }
    const movable = {
      [Piscina.transferableSymbol]: [batch.data, batch.index.buffer, batch.partitions.buffer],
      [Piscina.valueSymbol]: result
    }
    return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as BatchTaskResult
  } catch (err) {
    // Any error, not only a ProxyError: an unexpected one keeps its name,
    // message and stack, so the main thread logs what went wrong.
    return { ok: false, error: serializeError(err) }
  }
}
