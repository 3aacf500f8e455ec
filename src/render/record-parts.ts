// What the v2 and v3 renderers (and the push-delivery streams) share: the
// consumed record's shape and the pieces of its JSON that do not depend on
// the API version.

/** What a renderer needs of a consumed record (the binding's message has this shape). */
export interface RecordLike {
  topic: string
  partition: number
  offset: number
  key?: Buffer | string | null
  value: Buffer | string | null
  timestamp?: number
  headers?: ReadonlyArray<Readonly<Record<string, Buffer | string | null | undefined>>>
}

export function asBuffer (v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

/**
 * The headers as `[{"name":…,"value":<base64>}]`, the shape v3 produce takes.
 * A header without a value is `null` in v3; v2 has always written "" (its
 * clients never saw a null there).
 */
export function headersJson (m: RecordLike, noValue: '""' | 'null'): string {
  const hs = m.headers
  if (hs === undefined || hs.length === 0) return '[]'
  let out = '['
  for (const h of hs) {
    // The binding gives each header as a one-key object.
    for (const name in h) {
      const v = asBuffer(h[name])
      out += `${out.length === 1 ? '' : ','}{"name":${JSON.stringify(name)},"value":${v === null ? noValue : `"${v.toString('base64')}"`}}`
    }
  }
  return out + ']'
}
