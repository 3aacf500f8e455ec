// The web console in a real browser: Debian's chromium (installed by
// scripts/setup.mjs) driven by playwright-core, against the proxy and the
// test broker. The console is used as a person would: forms filled and
// buttons clicked; what it shows is checked against Kafka itself.
//
// CONSOLE_SCREENSHOTS=<dir> also saves screenshots of the main pages there
// (docs/console/ holds the ones the README shows).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { chromium, type Browser, type Page } from 'playwright-core'
import { ROUTES } from '../../src/api/routes.js'
import { defaultConfig } from '../../src/config/schema.js'
import { eventually, readAll, uniqueName } from '../helpers/kafka.js'
import { startProxy } from '../helpers/proxy.js'

// Debian's chromium; `npm test` installs it (scripts/setup.mjs ensureBrowser).
const BROWSER_PATH = '/usr/bin/chromium'
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ?? ''
const XSS = '<script>alert(1)</script><img src=x onerror="window.__xss=1">'
const V2 = 'application/vnd.kafka.v2+json'

/** Whether this build serves the topic event stream (GET …/topics/{topic}/records, issue #13). */
const HAS_STREAMS = Object.values(ROUTES).some((r) => r.method === 'GET' && r.path === '/v3/clusters/{cluster_id}/topics/{topic}/records')

async function launch (t: TestContext): Promise<Browser> {
  if (!existsSync(BROWSER_PATH)) {
    throw new Error(`the console test needs the chromium package (${BROWSER_PATH}): run it through \`npm test\`, which installs it, or apt-get install -y chromium`)
  }
  const browser = await chromium.launch({
    executablePath: BROWSER_PATH,
    // playwright-core adds its own headless switches; these are the ones the machines need.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
  })
  t.after(() => browser.close())
  return browser
}

/** A page that fails the test on a script error or any dialog (alert() is what an injected script would call). */
async function openPage (browser: Browser, problems: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
  page.setDefaultTimeout(15_000)
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`)
    d.dismiss().catch(() => {})
  })
  return page
}

async function shoot (page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === '') return
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
}

/** A request with the path exactly as written (fetch would resolve `..` first). */
function rawGet (url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: 'GET', headers }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Waits until the tail page's stream is open (or failed) and checks it is in the expected mode. */
async function tailOpen (page: Page, mode: 'event stream' | 'polling'): Promise<void> {
  const status = page.getByTestId('tail-status')
  await status.locator('.notice.ok, .notice.error').first().waitFor()
  const text = await status.innerText()
  assert.match(text, mode === 'event stream' ? /^streaming / : /^tailing /)
  assert.equal(await page.getByTestId('tail-mode').innerText(), mode)
}

async function api (method: string, url: string, body?: unknown, contentType = 'application/json'): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? { accept: contentType } : { accept: contentType, 'content-type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`)
  return text === '' ? null : JSON.parse(text)
}

test('web console', async (t) => {
  const { url } = await startProxy(t)
  const cid = (await api('GET', `${url}/v3/clusters`)).data[0].cluster_id as string
  const C = `${url}/v3/clusters/${cid}`
  const consoleUrl = `${url}/console/`

  await t.test('the console is static files: /console redirects to /console/, types, CSP, ETag revalidation', async () => {
    const redirect = await rawGet(url, '/console')
    assert.equal(redirect.status, 301)
    assert.equal(redirect.headers.location, 'console/')
    const page = await rawGet(url, '/console/')
    assert.equal(page.status, 200)
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8')
    const csp = String(page.headers['content-security-policy'])
    assert.match(csp, /script-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline/)
    assert.equal(page.headers['x-content-type-options'], 'nosniff')
    assert.equal(page.headers['cache-control'], 'no-cache')
    assert.match(page.body, /<script type="module" src="app.js"><\/script>/)
    for (const [file, type] of [['app.js', 'text/javascript; charset=utf-8'], ['style.css', 'text/css; charset=utf-8'], ['index.html', 'text/html; charset=utf-8']]) {
      const res = await rawGet(url, `/console/${file}`)
      assert.equal(res.status, 200, file)
      assert.equal(res.headers['content-type'], type, file)
      const etag = res.headers.etag as string
      assert.match(etag, /^"[A-Za-z0-9_-]{22}"$/)
      const again = await rawGet(url, `/console/${file}`, { 'if-none-match': `W/${etag}` })
      assert.equal(again.status, 304, `${file} revalidated`)
      assert.equal(again.body, '')
      assert.equal(again.headers.etag, etag)
    }
  })

  await t.test('no path outside the console\'s own files is served: dot segments, encoded slashes and NULs are 404', async () => {
    const attempts = [
      '/console/../package.json',
      '/console/..%2fpackage.json',
      '/console/..%2F..%2Fpackage.json',
      '/console/%2e%2e%2fpackage.json',
      '/console/%2e%2e/package.json',
      '/console/..%5cpackage.json',
      '/console/%2Fetc%2Fpasswd',
      '/console/%2e%2e',
      '/console/./app.js',
      '/console/app.js%00.html',
      '/console/app.js/',
      '/console/api.js/..',
      '/console/APP.JS',
      '/console/index.html%2f..%2f..%2fsrc%2fserver.ts',
      '/console/%252e%252e%252fpackage.json'
    ]
    for (const path of attempts) {
      const res = await rawGet(url, path)
      if (path === '/console/app.js/') {
        // Empty segments carry no meaning to the router: this is app.js itself.
        assert.equal(res.status, 200, path)
        continue
      }
      assert.equal(res.status, 404, path)
      assert.doesNotMatch(res.body, /"name": "kafka-http-proxy"|root:|startServer/, path)
    }
  })

  await t.test('the console\'s routes are not in the OpenAPI document', async () => {
    const doc = await api('GET', `${url}/openapi.json`)
    assert.deepEqual(Object.keys(doc.paths).filter((p) => p.startsWith('/console')), [])
  })

  const browser = await launch(t)
  const problems: string[] = []
  const page = await openPage(browser, problems)
  const topic = uniqueName('console-ui')

  await t.test('the cluster page shows the cluster and its brokers', async () => {
    await page.goto(consoleUrl)
    await page.getByTestId('cluster-id').getByText(cid).waitFor()
    const brokers = await api('GET', `${C}/brokers`)
    const rows = page.getByTestId('brokers').locator('tbody tr')
    assert.equal(await rows.count(), brokers.data.length)
    assert.match(await rows.first().innerText(), new RegExp(`^${brokers.data[0].broker_id}\\s+${brokers.data[0].host}\\s+${brokers.data[0].port}`))
    await shoot(page, 'cluster')
  })

  await t.test('a bearer token from the login field is sent as Authorization', async () => {
    await page.fill('[name=token]', 'console-test-token')
    const sent = page.waitForRequest((r) => r.url().includes('/v3/clusters'))
    await page.click('[data-testid=login] button[type=submit]')
    assert.equal((await sent).headers().authorization, 'Bearer console-test-token')
    await page.click('[data-testid=login] button[type=button]')
    const after = page.waitForRequest((r) => r.url().includes('/v3/clusters'))
    await page.goto(`${consoleUrl}#/topics`)
    assert.equal((await after).headers().authorization, undefined)
  })

  await t.test('a topic created through the form exists in Kafka with its partitions and configs', async () => {
    await page.goto(`${consoleUrl}#/topics`)
    const form = page.getByTestId('create-topic')
    await form.locator('[name=topic_name]').fill(topic)
    await form.locator('[name=partitions_count]').fill('3')
    await form.locator('[name=configs]').fill('retention.ms=3600000')
    await form.locator('button[type=submit]').click()
    await page.getByText(`Created topic ${topic} with 3 partition(s).`).waitFor()
    const created = await api('GET', `${C}/topics/${topic}`)
    assert.equal(created.partitions_count, 3)
    const retention = await api('GET', `${C}/topics/${topic}/configs/retention.ms`)
    assert.equal(retention.value, '3600000')
    await page.fill('[name=filter]', topic)
    assert.equal(await page.getByTestId('topics').locator(`tr[data-topic="${topic}"]`).count(), 1)
  })

  const tail = await openPage(browser, problems)

  await t.test(`a record produced through the form shows in the live tail (${HAS_STREAMS ? 'Server-Sent Events' : 'stateless reads: this build has no event stream'}), as text`, async () => {
    await tail.goto(`${consoleUrl}#/tail?topic=${topic}`)
    await tail.locator('[data-testid=tail-form] button[type=submit]').click()
    await tailOpen(tail, HAS_STREAMS ? 'event stream' : 'polling')

    await page.goto(`${consoleUrl}#/produce?topic=${topic}`)
    const form = page.getByTestId('produce-form')
    await form.locator('[name=partition]').fill('1')
    await form.locator('[name=key]').fill('k-xss')
    await form.locator('[name=value]').fill(XSS)
    await form.locator('[name=headers]').fill('trace=t-1\nsource=console')
    await form.locator('button[type=submit]').click()
    const status = await page.getByTestId('produce-status').getByText(/^Produced to /).innerText()
    const m = /partition (\d+) at offset (\d+)/.exec(status)
    assert.ok(m !== null, status)
    assert.equal(m[1], '1', 'the partition field is honoured')
    await shoot(page, 'produce')

    const rowLocator = tail.locator(`[data-testid=tail-records] tr[data-partition="${m[1]}"][data-offset="${m[2]}"]`)
    await rowLocator.waitFor({ timeout: 20_000 })
    const cells = await rowLocator.locator('td').allInnerTexts()
    assert.equal(cells[3], 'k-xss')
    assert.equal(cells[4], XSS, 'the value is shown as the text it is')
    assert.equal(cells[5], 'trace=t-1\nsource=console')
    // Nothing of the value became markup, and nothing ran.
    assert.equal(await tail.locator('main script, main img').count(), 0)
    assert.equal(await tail.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined)
    assert.deepEqual(problems, [])
    await shoot(tail, 'tail')

    // What Kafka holds is what was typed.
    const [record] = await readAll(topic, 3, 1)
    assert.equal(record?.key?.toString(), 'k-xss')
    assert.equal(record?.value?.toString(), XSS)
  })

  await t.test('the key filter shows only the records with that key', async () => {
    await tail.getByRole('button', { name: 'Stop' }).click()
    await tail.fill('[name=key]', 'wanted')
    await tail.locator('[data-testid=tail-form] button[type=submit]').click()
    await tailOpen(tail, HAS_STREAMS ? 'event stream' : 'polling')
    const produced = []
    for (const key of ['other', 'wanted', 'other']) {
      produced.push(await api('POST', `${C}/topics/${topic}/records`, { partition_id: 0, key: { type: 'STRING', data: key }, value: { type: 'STRING', data: `v-${key}` } }))
    }
    const wanted = produced[1]
    await tail.locator(`[data-testid=tail-records] tr[data-offset="${wanted.offset}"]`).waitFor({ timeout: 20_000 })
    // The last record, filtered out, was written after the wanted one: once a later record had time to arrive, only one row is there.
    await eventually(async () => (await readAll(topic, 3, 4)).length === 4 ? true : undefined, { what: 'all records in Kafka' })
    await tail.waitForTimeout(500)
    const rows = await tail.locator('[data-testid=tail-records] tr').allInnerTexts()
    assert.equal(rows.length, 1, rows.join('\n'))
    assert.match(rows[0] as string, /wanted\s+v-wanted/)
  })

  await t.test('without the event stream route the tail falls back to stateless partition reads', async () => {
    const fallback = await openPage(browser, problems)
    // A proxy without streams answers the GET on the records path 405 (only POST is routed there).
    await fallback.route((u) => /\/topics\/[^/]+\/records(\?|$)/.test(u.pathname + u.search) && !u.pathname.includes('/partitions/'), async (route) => {
      if (route.request().method() !== 'GET') return route.continue()
      await route.fulfill({ status: 405, contentType: 'application/json', headers: { allow: 'POST' }, body: '{"error_code":405,"message":"HTTP 405 Method Not Allowed"}' })
    })
    await fallback.goto(`${consoleUrl}#/tail?topic=${topic}`)
    await fallback.locator('[data-testid=tail-form] button[type=submit]').click()
    await tailOpen(fallback, 'polling')
    const r = await api('POST', `${C}/topics/${topic}/records`, { partition_id: 2, key: { type: 'STRING', data: 'polled' }, value: { type: 'JSON', data: { n: 1 } } })
    const rowLocator = fallback.locator(`[data-testid=tail-records] tr[data-partition="2"][data-offset="${r.offset}"]`)
    await rowLocator.waitFor({ timeout: 20_000 })
    const cells = await rowLocator.locator('td').allInnerTexts()
    assert.equal(cells[3], 'polled')
    await fallback.close()
  })

  await t.test('the topic page shows each partition\'s offsets', async () => {
    await page.goto(`${consoleUrl}#/topics/${topic}`)
    const rows = page.getByTestId('partitions').locator('tbody tr')
    await rows.first().waitFor()
    assert.equal(await rows.count(), 3)
    for (let p = 0; p < 3; p++) {
      const o = await api('GET', `${C}/topics/${topic}/partitions/${p}/offset`)
      const cells = await rows.nth(p).locator('td').allInnerTexts()
      assert.deepEqual([cells[0], cells[3], cells[4]], [String(p), String(o.earliest_offset), String(o.latest_offset)])
    }
    assert.ok(await page.getByTestId('configs').getByText('retention.ms').count() > 0)
    await shoot(page, 'topic')
  })

  await t.test('a consumer group shows its member and its lag', async () => {
    const group = uniqueName('console-group')
    const consumer = await api('POST', `${url}/consumers/${group}`, { name: 'c1', format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }, V2)
    await api('POST', `${consumer.base_uri}/subscription`, { topics: [topic] }, V2)
    await eventually(async () => {
      const res = await fetch(`${consumer.base_uri}/records`, { headers: { accept: 'application/vnd.kafka.binary.v2+json' } })
      const records = await res.json() as unknown[]
      return records.length > 0 ? true : undefined
    }, { what: 'a v2 read', timeoutMs: 30_000 })
    // v2 commits name the last record consumed: offset 0 commits 1 on partition 0, which holds three records (lag 2).
    await api('POST', `${consumer.base_uri}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] }, V2)
    await page.goto(`${consoleUrl}#/groups/${group}`)
    await page.getByTestId('members').waitFor()
    assert.equal(await page.getByTestId('members').locator('tbody tr').count(), 1)
    const lagRow = page.getByTestId('lags').locator('tbody tr').filter({ hasText: topic }).first()
    const cells = await lagRow.locator('td').allInnerTexts()
    assert.deepEqual(cells.slice(0, 5), [topic, '0', '1', '3', '2'])
    await shoot(page, 'group')
    await page.goto(`${consoleUrl}#/groups?filter=${group}`)
    await page.getByTestId('groups').getByText(group).waitFor()
    await shoot(page, 'groups')
    await fetch(consumer.base_uri, { method: 'DELETE', headers: { 'content-type': V2 } })
  })

  await t.test('the metrics page is offered exactly when the proxy serves /metrics', async () => {
    const served = (await fetch(`${url}/metrics`)).status === 200
    await page.goto(consoleUrl)
    await page.getByTestId('cluster-id').waitFor()
    const link = page.locator('[data-nav=metrics]')
    await eventually(async () => (await link.isHidden()) === !served ? true : undefined, { what: 'the metrics link state' })
    if (!served) return
    // Sampled every second; throughput and latency need two samples, with traffic between them
    // (a screenshot gets a longer line).
    const wanted = SCREENSHOTS === '' ? 2 : 12
    await page.goto(`${consoleUrl}#/metrics?every=1`)
    const charts = page.getByTestId('charts').locator('figure')
    await charts.first().waitFor()
    const titles = (await charts.locator('figcaption').allInnerTexts()).map((c) => c.replace(/\s.*$/s, ''))
    assert.ok(titles.includes('Throughput') && titles.includes('Latency'), titles.join(', '))
    await eventually(async () => {
      await fetch(`${C}/topics`)
      const points = await page.getByTestId('charts').locator('figure[data-points]').evaluateAll((fs) => fs.map((f) => Number(f.getAttribute('data-points'))))
      return points.length > 0 && points.every((n) => n >= wanted) ? true : undefined
    }, { what: `${wanted} samples in every chart`, timeoutMs: 30_000, intervalMs: 100 })
    await shoot(page, 'metrics')
  })

  await t.test('a topic deleted through the list is gone from Kafka', async () => {
    await page.goto(`${consoleUrl}#/topics?filter=${topic}`)
    await shoot(page, 'topics')
    const row = page.getByTestId('topics').locator(`tr[data-topic="${topic}"]`)
    await row.locator('[data-action=delete]').click()
    await row.locator('[data-action=confirm-delete]').click()
    await page.getByText(`Deleted topic ${topic}.`).waitFor()
    assert.equal(await page.getByTestId('topics').locator(`tr[data-topic="${topic}"]`).count(), 0)
    await eventually(async () => (await fetch(`${C}/topics/${topic}`)).status === 404 ? true : undefined, { what: 'the topic gone' })
    assert.deepEqual(problems, [])
  })
})

test('web console with authentication on: the page loads without credentials and works once a token is given', async (t) => {
  // An RS256 key pair, its public half in a JWKS file: tokens the test signs itself.
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const dir = mkdtempSync(join(tmpdir(), 'console-auth-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }))
  const base = defaultConfig().auth
  const { url } = await startProxy(t, {
    auth: { ...base, anonymous: false, jwt: { ...base.jwt, jwks_file: jwksFile, issuer: 'console-test', audience: 'kafka-proxy', algorithms: ['RS256'] } }
  })
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('console-user')
    .setIssuer('console-test').setAudience('kafka-proxy').setIssuedAt().setExpirationTime('10m').sign(privateKey)
  assert.equal((await fetch(`${url}/v3/clusters`)).status, 401, 'the API asks for credentials')
  assert.equal((await fetch(`${url}/console/app.js`)).status, 200, 'the console\'s files do not')

  const browser = await launch(t)
  const problems: string[] = []
  const page = await openPage(browser, problems)
  await page.goto(`${url}/console/`)
  await page.getByText('The proxy asks for a token: sign in with a bearer token.').waitFor()
  await page.fill('[name=token]', 'not-a-token')
  await page.click('[data-testid=login] button[type=submit]')
  await page.getByText('The proxy refused this token: sign in with another one.').waitFor()
  await page.click('[data-testid=login] button[type=button]')
  await page.fill('[name=token]', token)
  await page.click('[data-testid=login] button[type=submit]')
  const clusters = await (await fetch(`${url}/v3/clusters`, { headers: { authorization: `Bearer ${token}` } })).json() as { data: Array<{ cluster_id: string }> }
  const cid = clusters.data[0]?.cluster_id as string
  await page.getByTestId('cluster-id').getByText(cid).waitFor()
  assert.equal(await page.locator('#banner .notice').count(), 0)
  assert.deepEqual(problems, [])
})
