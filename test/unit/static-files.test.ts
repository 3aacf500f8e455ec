// Static files (the web console's): only plain names in the directory itself
// are served, from memory; ETags revalidate; nothing else reaches the disk.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noneMatch, servableName, StaticFiles } from '../../src/http/static-files.js'
import { consoleDirectory, loadConsole } from '../../src/api/console.js'
import { createLogger } from '../../src/logger.js'

test('servable names are one plain segment with a known extension', () => {
  for (const name of ['index.html', 'app.js', 'page-topics.js', 'style.css', 'a_b.min.js', 'icon.svg']) assert.ok(servableName(name), name)
  for (const name of ['..', '.', '../app.js', '..%2fapp.js', 'a/b.js', 'a\\b.js', '.env', '.app.js', 'app..js', 'app.js\0', 'APP.JS', 'app', 'app.ts', 'package.json', 'app.js.map', '']) {
    assert.ok(!servableName(name), JSON.stringify(name))
  }
})

test('If-None-Match matches the ETag weakly, in a list, or as *', () => {
  const etag = '"abc"'
  assert.ok(noneMatch('"abc"', etag))
  assert.ok(noneMatch('W/"abc"', etag))
  assert.ok(noneMatch('"x", W/"abc"', etag))
  assert.ok(noneMatch('*', etag))
  assert.ok(!noneMatch('"abcd"', etag))
  assert.ok(!noneMatch('abc', etag))
  assert.ok(!noneMatch(undefined, etag))
})

test('only the plain files directly in the directory are loaded; a lookup never touches the disk', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'static-files-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'index.html'), '<p>hi</p>')
  writeFileSync(join(dir, 'app.js'), 'export {}')
  writeFileSync(join(dir, '.hidden.js'), 'secret')
  writeFileSync(join(dir, 'notes.txt'), 'secret')
  mkdirSync(join(dir, 'sub.js'))
  writeFileSync(join(dir, 'sub.js', 'inner.js'), 'secret')
  symlinkSync('/etc/hostname', join(dir, 'link.css'))
  const files = StaticFiles.load(dir, { 'x-test': '1' })
  assert.deepEqual(files.names, ['app.js', 'index.html'])
  const r = files.reply('app.js', undefined)
  assert.equal(r?.status, 200)
  assert.equal(r?.type, 'text/javascript; charset=utf-8')
  assert.equal(String(r?.body), 'export {}')
  assert.equal(r?.headers?.['x-test'], '1')
  assert.equal(r?.headers?.['cache-control'], 'no-cache')
  const etag = r?.headers?.etag as string
  const again = files.reply('app.js', etag)
  assert.deepEqual([again?.status, again?.body], [304, null])
  assert.equal(again?.headers?.etag, etag)
  // Changed on disk after boot: still the content read at boot.
  writeFileSync(join(dir, 'app.js'), 'changed')
  assert.equal(String(files.reply('app.js', undefined)?.body), 'export {}')
  for (const name of ['../app.js', 'sub.js/inner.js', '.hidden.js', 'notes.txt', 'link.css', '__proto__', 'constructor']) {
    assert.equal(files.reply(name, undefined), null, name)
  }
})

test('the console\'s own files are found beside the sources and all of them are served', () => {
  const dir = consoleDirectory()
  assert.ok(dir !== null && dir.endsWith('/src/console/'), String(dir))
  const files = loadConsole(createLogger('silent', 'test'))
  assert.ok(files !== null)
  for (const name of ['index.html', 'app.js', 'api.js', 'dom.js', 'sse.js', 'tail.js', 'style.css']) assert.ok(files.names.includes(name), name)
  const csp = files.reply('index.html', undefined)?.headers?.['content-security-policy'] ?? ''
  assert.match(csp, /script-src 'self'/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
})
