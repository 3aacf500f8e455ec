#!/usr/bin/env node
// The installed command. It runs the compiled proxy (dist/, emitted by `npm run build`, which
// `npm start` runs first): plain JavaScript starts each cluster worker and pool thread without a
// TypeScript loader, and tsx stays a development dependency. Tests and development in a checkout
// run `node --import tsx src/main.ts`, the same program from its sources.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const main = new URL('../dist/src/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write(`kafka-http-proxy: ${fileURLToPath(main)} is missing; build it with \`npm run build\` (\`npm start\` builds before it starts)\n`)
  process.exit(1)
}
await import(main.href)
