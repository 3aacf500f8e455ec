// Record filters of a stream: `key=<string>` (the key's bytes equal the UTF-8
// of the string) and `header.<name>=<value>` (some header of that name has
// exactly those bytes). Several filters must all match. They compare the
// record's bytes as stored, before any rendering, so a filtered-out record
// costs no decoding.
import type { ConsumerMessage } from '../kafka/binding.js'

export interface RecordFilter {
  key: Buffer | null
  headers: ReadonlyArray<{ name: string, value: Buffer }>
}

export function hasFilter (f: RecordFilter): boolean {
  return f.key !== null || f.headers.length > 0
}

function bytesOf (v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

export function matches (m: ConsumerMessage, f: RecordFilter): boolean {
  if (f.key !== null) {
    const key = bytesOf(m.key)
    if (key === null || !key.equals(f.key)) return false
  }
  for (const want of f.headers) {
    let found = false
    for (const h of m.headers ?? []) {
      const v = bytesOf(h[want.name] as Buffer | string | null | undefined)
      if (v !== null && v.equals(want.value)) {
        found = true
        break
      }
    }
    if (!found) return false
  }
  return true
}
