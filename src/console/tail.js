// A live tail of one topic. It streams
//   GET /v3/clusters/{cluster_id}/topics/{topic}/records   (Accept: text/event-stream)
// and resumes from the last event id after a dropped connection, so nothing
// is lost or shown twice. A proxy without that route (404 with no Kafka
// error code, 405 or 406 on the GET) is tailed with the stateless partition
// read instead (GET …/partitions/{p}/records?offset=), one partition after
// the other, with the key and header filters applied here.
//
// Every record reaches `onRecord` as the stream's record shape:
//   { topic, partition, offset, timestamp, key, value, headers }
// with key and value as {type, data} (or null) and headers [{name, value: base64|null}].
import { ApiError, apiUrl, authHeaders, clusterPath, get, list } from './api.js'
import { base64Bytes } from './records.js'
import { SseParser, readStream } from './sse.js'

const RECONNECT_MS = 2000
const MAX_RECONNECT_MS = 30_000
/** A stateless read's wait for records when it tails one partition; more partitions share it. */
const POLL_WAIT_MS = 1000

/**
 * `opts`: { topic, from: 'latest'|'earliest', format, key, headers: [{name, value}] }
 * `on`: { record(r), status(kind, text), mode('sse'|'poll') }
 * Returns `stop()`.
 */
export function startTail (opts, on) {
  const abort = new AbortController()
  run(opts, on, abort.signal).catch((err) => {
    if (!abort.signal.aborted) on.status('error', err instanceof Error ? err.message : String(err))
  })
  return () => abort.abort()
}

async function run (opts, on, signal) {
  const target = await clusterPath('topics', opts.topic, 'records')
  const query = { from: opts.from, format: opts.format }
  if (opts.key !== '') query.key = opts.key
  for (const h of opts.headers) query[`header.${h.name}`] = h.value
  let lastId = ''
  let retryMs = RECONNECT_MS
  let failures = 0
  while (!signal.aborted) {
    let res
    try {
      const headers = authHeaders({ accept: 'text/event-stream' })
      if (lastId !== '') headers['last-event-id'] = lastId
      res = await fetch(apiUrl(target, query), { headers, signal, cache: 'no-store' })
    } catch (err) {
      if (signal.aborted) return
      await retry(on, `connection failed (${err.message})`, backoff(retryMs, ++failures), signal)
      continue
    }
    const type = res.headers.get('content-type') ?? ''
    if (!res.ok || !type.startsWith('text/event-stream')) {
      const body = await res.json().catch(() => null)
      const err = new ApiError(res.status, body, `HTTP ${res.status}`)
      if (streamsMissing(res.status, err.code)) return poll(opts, on, signal)
      if (res.status === 401) window.dispatchEvent(new CustomEvent('console:unauthorized'))
      if (!err.retriable) throw err
      await retry(on, err.message, backoff(retryMs, ++failures), signal)
      continue
    }
    failures = 0
    on.mode('sse')
    on.status('ok', `streaming ${opts.topic} (Server-Sent Events)`)
    let fatal = null
    const parser = new SseParser({
      onId: (id) => { lastId = id },
      onRetry: (ms) => { retryMs = ms },
      onEvent: (e) => {
        if (e.type === 'message' || e.type === 'delete') {
          on.record(JSON.parse(e.data))
        } else if (e.type === 'reset') {
          on.status('info', JSON.parse(e.data).message ?? 'the stream restarted at the log start')
        } else if (e.type === 'error') {
          const body = JSON.parse(e.data)
          if (body.retriable !== true) fatal = new ApiError(500, body, 'stream error')
          // Retriable: the stream ends and is resumed from the id the event carries.
          else on.status('info', body.message ?? 'stream error')
        }
      }
    })
    try {
      await readStream(res, parser, signal)
    } catch (err) {
      if (signal.aborted) return
      on.status('error', `stream interrupted (${err.message})`)
    }
    if (signal.aborted) return
    if (fatal !== null) throw fatal
    await retry(on, 'the stream ended', retryMs, signal)
  }
}

// A plain 404 (no Kafka error code: no such route), or the path answering
// only POST (405) or not this media type (406): a proxy without streams.
function streamsMissing (status, code) {
  return (status === 404 && code === 404) || status === 405 || status === 406
}

function backoff (base, failures) {
  return Math.min(MAX_RECONNECT_MS, base * 2 ** Math.min(failures - 1, 4))
}

async function retry (on, why, ms, signal) {
  on.status('info', `${why}; reconnecting in ${Math.round(ms / 1000)} s`)
  await sleep(ms, signal)
}

function sleep (ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })
}

/** The tail without streams: stateless reads of each partition from its end (or start). */
async function poll (opts, on, signal) {
  on.mode('poll')
  const topicPath = await clusterPath('topics', opts.topic)
  const partitions = (await list(`${topicPath}/partitions`, { signal })).map((p) => p.partition_id)
  const next = new Map()
  for (const p of partitions) {
    const o = await get(`${topicPath}/partitions/${p}/offset`, { signal })
    next.set(p, opts.from === 'earliest' ? o.earliest_offset : o.latest_offset)
  }
  on.status('ok', `tailing ${opts.topic} with stateless reads (this proxy has no event stream)`)
  const wait = Math.max(50, Math.floor(POLL_WAIT_MS / Math.max(1, partitions.length)))
  const format = opts.format.toUpperCase()
  // The stateless read renders binary, string and json; a schema format is shown as its bytes.
  const readFormat = ['BINARY', 'STRING', 'JSON'].includes(format) ? format : 'BINARY'
  const keyBytes = opts.key === '' ? null : new TextEncoder().encode(opts.key)
  while (!signal.aborted) {
    for (const p of partitions) {
      if (signal.aborted) return
      let page
      try {
        page = await get(`${topicPath}/partitions/${p}/records`, {
          query: { offset: next.get(p), timeout: wait, format: readFormat, undecodable: 'raw' },
          signal
        })
      } catch (err) {
        if (signal.aborted) return
        if (!(err instanceof ApiError) || !err.retriable) throw err
        on.status('info', `${err.message}; retrying`)
        await sleep(RECONNECT_MS, signal)
        continue
      }
      next.set(p, page.next_offset)
      for (const r of page.data) {
        const record = { topic: opts.topic, partition: r.partition_id, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }
        if (passes(record, keyBytes, opts.headers)) on.record(record)
      }
    }
  }
}

// The stream's filters, as the proxy applies them: the exact key bytes and
// exact header values, all of them.
function passes (record, keyBytes, headers) {
  if (keyBytes !== null && !sameBytes(bytesOf(record.key), keyBytes)) return false
  for (const want of headers) {
    const wanted = new TextEncoder().encode(want.value)
    if (!record.headers.some((h) => h.name === want.name && sameBytes(base64Bytes(h.value), wanted))) return false
  }
  return true
}

function bytesOf (data) {
  if (data === null || data === undefined) return null
  if (data.type === 'BINARY') return base64Bytes(data.data)
  if (data.type === 'STRING') return new TextEncoder().encode(data.data)
  return new TextEncoder().encode(JSON.stringify(data.data))
}

function sameBytes (a, b) {
  if (a === null || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
