// The web console at /console/: static HTML, CSS and ES modules from
// src/console/, which need no build step, served from memory
// (http/static-files.ts). The console talks to the proxy through its public
// API only, as any client does, so these routes touch no Kafka resource and
// are not part of the API: they are left out of the OpenAPI document, and
// with auth on they are served without credentials (they hold no data; the
// page asks for a token and sends it with every API call).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ProxyError } from '../errors.js'
import type { Ctx, Reply } from '../http/handler.js'
import { defineRoutes, type Handlers } from '../http/route.js'
import { CONTENT_TYPES, StaticFiles } from '../http/static-files.js'
import type { Logger } from '../logger.js'

export const CONSOLE_PATH = '/console'

const PAGE_TYPES = [CONTENT_TYPES['.html'] as string]
const ASSET_TYPES = [...new Set(Object.values(CONTENT_TYPES))]

export const CONSOLE_ROUTES = defineRoutes({
  consolePage: {
    method: 'GET',
    path: CONSOLE_PATH,
    summary: 'The web console',
    description: '`/console` redirects to `/console/`, which is the console\'s page, so the page\'s relative links work behind a path prefix.',
    tags: [],
    internal: true,
    anonymous: true,
    access: [],
    produces: PAGE_TYPES,
    responses: { 200: { description: 'index.html' }, 301: { description: 'To `console/`.' } }
  },
  consoleAsset: {
    method: 'GET',
    path: `${CONSOLE_PATH}/{asset}`,
    summary: 'A file of the web console',
    tags: [],
    internal: true,
    anonymous: true,
    access: [],
    produces: ASSET_TYPES,
    responses: { 200: { description: 'The file.' }, 304: { description: 'Not modified (If-None-Match).' } }
  }
})

/**
 * Headers of every console file. The CSP allows scripts, styles and fetches
 * from the proxy alone: no inline script runs, so a record value rendered by
 * mistake as markup still could not execute (the console renders every value
 * as text: src/console/dom.js).
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer'
}

/**
 * Where the console's files are: src/console/ beside this module when running
 * from the sources; from a build (dist/src/api/), the checkout's src/console/,
 * since tsc emits TypeScript only and these files need no compiling. Null when
 * neither exists (a build copied without its sources).
 */
export function consoleDirectory (): string | null {
  for (const relative of ['../console/', '../../../src/console/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url))
    if (existsSync(`${dir}index.html`)) return dir
  }
  return null
}

/** The console's files, read once; null (and a warning) when they are missing. */
export function loadConsole (log: Logger, dir: string | null = consoleDirectory()): StaticFiles | null {
  if (dir === null) {
    log.warn('the web console\'s files (src/console/) are missing: /console answers 404')
    return null
  }
  return StaticFiles.load(dir, CONSOLE_HEADERS)
}

function ifNoneMatch (ctx: Ctx): string | undefined {
  const v = ctx.req.headers['if-none-match']
  return typeof v === 'string' ? v : undefined
}

/** `files`: the console's files; null answers 404 (the proxy runs without a console). */
export function consoleHandlers (files: StaticFiles | null): Handlers<typeof CONSOLE_ROUTES> {
  const serve = (name: string, ctx: Ctx): Reply => {
    const r = files?.reply(name, ifNoneMatch(ctx)) ?? null
    if (r === null) throw new ProxyError('notFound')
    return r
  }
  return {
    consolePage: (ctx) => {
      // The router takes /console and /console/ alike; relative links need the slash.
      if (!ctx.path.endsWith('/')) {
        if (files === null) throw new ProxyError('notFound')
        return { status: 301, body: null, headers: { location: `${CONSOLE_PATH.slice(1)}/`, 'cache-control': 'no-cache' } }
      }
      return serve('index.html', ctx)
    },
    consoleAsset: (ctx) => serve(ctx.params.asset as string, ctx)
  }
}
