// Records whose bytes do not fit the format a read asks for: a value that is
// not JSON under format json, a frame with a bad magic byte or a schema id the
// registry does not know, a payload its schema cannot decode. Confluent fails
// the read with 500/50002; clients handle that code, so it stays, but the
// message names the record and a read has two ways past it: seeking past the
// offset, or the per-request option `undecodable=raw`, which delivers such a
// record's bytes (base64) with the reason instead. See docs/undecodable-records.md.
//
// Everything here is plain data and pure functions, so renderers that use it
// can run on any thread; the ProxyError is built by the caller.
import { ProxyError } from '../errors.js'

export const UNDECODABLE_POLICIES = ['fail', 'raw'] as const
export type UndecodablePolicy = typeof UNDECODABLE_POLICIES[number]

/** Why one side of one record could not be rendered. */
export interface Undecodable {
  topic: string
  partition: number
  offset: number
  part: 'key' | 'value'
  reason: string
}

/** The `undecodable` query parameter of a records read; `fail` when absent. */
export function undecodableParam (query: URLSearchParams): UndecodablePolicy {
  const raw = query.get('undecodable')
  if (raw === null || raw === '') return 'fail'
  if (raw === 'fail' || raw === 'raw') return raw
  throw new ProxyError('badRequest', `Bad Request: undecodable must be one of fail, raw (got ${JSON.stringify(raw)}).`)
}

/**
 * The 50002 for a read whose first record cannot be rendered; `past` tells
 * the client how to move on (the API's way of setting a position).
 */
export function undecodableError (u: Undecodable, past: string): ProxyError {
  return new ProxyError('undecodableRecord',
    `The ${u.part} of the record at topic ${u.topic}, partition ${u.partition}, offset ${u.offset} could not be deserialized: ${u.reason}. ` +
    `To go on, ${past} or read with undecodable=raw.`)
}
