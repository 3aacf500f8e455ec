// Records as text. Keys, values and headers are whatever a producer wrote;
// they are turned into strings here and reach the page only as text nodes.
import { el } from './dom.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The bytes of a base64 string; null for null. */
export function base64Bytes (b64) {
  if (b64 === null || b64 === undefined) return null
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** UTF-8 text of base64 bytes, or null when they are not UTF-8. */
export function utf8Of (b64) {
  const bytes = base64Bytes(b64)
  if (bytes === null) return null
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

/** A key or value ({type, data} or null) as display text plus a short label of its form. */
export function dataText (d) {
  if (d === null || d === undefined) return { text: 'null', label: 'null' }
  if (typeof d.reason === 'string') return { text: d.data, label: `undecodable: ${d.reason}` }
  switch (d.type) {
    case 'STRING': return { text: d.data, label: 'string' }
    case 'BINARY': {
      const text = utf8Of(d.data)
      return text === null ? { text: d.data, label: 'base64' } : { text, label: 'bytes as UTF-8' }
    }
    default: return { text: JSON.stringify(d.data), label: String(d.type).toLowerCase() }
  }
}

/** A `<td>` showing a key or value, its form in the title. */
export function dataCell (d) {
  const { text, label } = dataText(d)
  return el('td', { class: d === null || d === undefined ? 'data null' : 'data', title: label }, text)
}

/** `name=value` lines of record headers, values as UTF-8 text where they are. */
export function headersText (headers) {
  if (!Array.isArray(headers) || headers.length === 0) return ''
  return headers.map((h) => {
    if (h.value === null) return `${h.name}=null`
    const text = utf8Of(h.value)
    return `${h.name}=${text === null ? `base64:${h.value}` : text}`
  }).join('\n')
}

/** Text as base64 of its UTF-8 bytes (header values on produce). */
export function base64Utf8 (text) {
  const bytes = new TextEncoder().encode(text)
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

/** `name=value` (or `name: value`) lines into [{name, value}]; blank lines skipped. */
export function parsePairs (text) {
  const out = []
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue
    const m = /^\s*([^=:\s][^=:]*?)\s*[=:]\s?(.*)$/.exec(line)
    if (m === null) throw new Error(`not name=value: ${line}`)
    out.push({ name: m[1], value: m[2] })
  }
  return out
}
