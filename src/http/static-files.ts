// Files served as they are (the web console's pages). They are read once at
// boot into memory: a request is a lookup by exact name in the map built
// then, so no request path ever reaches the file system and no `..`, encoded
// slash or NUL can name a file outside the directory. Names are one path
// segment of lower-case letters, digits, `-` and `_`, with dotted extensions
// from a fixed table; anything else in the directory is not served.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import type { Reply } from './handler.js'

/** Content types by extension; text is UTF-8. JavaScript's type per RFC 9239. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon'
}

const NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)+$/

/** True for a name StaticFiles may serve (one segment, no dot segments, a known extension). */
export function servableName (name: string): boolean {
  return NAME.test(name) && CONTENT_TYPES[extname(name)] !== undefined
}

interface StaticFile {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
}

/**
 * Whether `ifNoneMatch` (RFC 9110 §13.1.2) matches `etag`: `*`, or a list of
 * entity tags compared weakly (a `W/` prefix is ignored).
 */
export function noneMatch (ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false
  const value = ifNoneMatch.trim()
  if (value === '*') return true
  for (const raw of value.split(',')) {
    const tag = raw.trim()
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true
  }
  return false
}

export class StaticFiles {
  private constructor (private readonly files: ReadonlyMap<string, StaticFile>, private readonly headers: Readonly<Record<string, string>>) {}

  /**
   * The servable files directly in `dir` (subdirectories are not served),
   * each answered with `headers` besides its type, ETag and Cache-Control.
   */
  static load (dir: string, headers: Readonly<Record<string, string>> = {}): StaticFiles {
    const files = new Map<string, StaticFile>()
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || !servableName(entry.name)) continue
      const body = readFileSync(join(dir, entry.name))
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
      files.set(entry.name, { body, type: CONTENT_TYPES[extname(entry.name)] as string, etag })
    }
    return new StaticFiles(files, headers)
  }

  /** The names served, sorted. */
  get names (): string[] {
    return [...this.files.keys()].sort()
  }

  /**
   * The answer for file `name`: 200 with it, 304 when `ifNoneMatch` names its
   * ETag, null when there is no such file. The files change only with the
   * proxy's version and their names carry no version, so clients revalidate
   * every time (`no-cache`); a 304 costs one round trip and no body.
   */
  reply (name: string, ifNoneMatch: string | undefined): Reply | null {
    const file = this.files.get(name)
    if (file === undefined) return null
    const headers = { ...this.headers, etag: file.etag, 'cache-control': 'no-cache' }
    if (noneMatch(ifNoneMatch, file.etag)) return { status: 304, body: null, headers }
    return { status: 200, type: file.type, body: file.body, headers }
  }
}
