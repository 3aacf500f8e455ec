import type { IncomingMessage } from 'node:http'
import { ProxyError } from '../errors.js'

/**
 * Reads a request body into one Buffer, refusing more than `limit` bytes.
 *
 * A declared Content-Length over the limit is refused before any byte is read;
 * a chunked body is refused as soon as it crosses the limit. Either way the
 * caller must close the connection after answering, because the rest of the
 * body is still on the wire.
 */
export function readBody (req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.pause()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks, size))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(new ProxyError('badRequest', 'Request body could not be read', { cause: err }))
    }
    const onAborted = (): void => {
      cleanup()
      reject(new ProxyError('badRequest', 'Request aborted by the client'))
    }
    function cleanup (): void {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}

function tooLarge (limit: number): ProxyError {
  return new ProxyError('payloadTooLarge', `Request body is larger than the limit of ${limit} bytes`)
}
