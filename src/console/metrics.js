// The proxy's own metrics as small charts, read from GET /metrics
// (Prometheus text exposition format 0.0.4) every SAMPLE_MS. A proxy without
// /metrics has no Metrics page: the navigation hides it. Charts are derived
// from the families found, by name:
//   throughput   *http_requests_total                         (rate, req/s)
//   latency      *http_request_duration_seconds histogram      (p99 of the interval, ms)
//   errors       *http_requests_total with a 5xx status class  (rate, req/s)
//   event loop   *eventloop_lag_p99_seconds (or *event_loop_delay*p99*)  (ms, the worst process)
// A chart whose family is absent is left out.
import { apiUrl, authHeaders } from './api.js'
import { el, replace, svg } from './dom.js'

const SAMPLE_MS = 5000
const KEEP = 60

/** True when the proxy serves /metrics. */
export async function metricsAvailable () {
  try {
    const res = await fetch(apiUrl('/metrics'), { headers: authHeaders({ accept: 'text/plain' }), cache: 'no-store' })
    await res.body?.cancel()
    return res.ok && /^(text\/plain|application\/openmetrics-text)/.test(res.headers.get('content-type') ?? '')
  } catch {
    return false
  }
}

/** Samples of the text format: [{ name, labels, value }]. */
export function parseMetrics (text) {
  const out = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const labels = {}
    if (m[3] !== undefined) {
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => c === 'n' ? '\n' : c)
    }
    const value = Number(m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : m[4])
    out.push({ name: m[1], labels, value })
  }
  return out
}

const isErrorClass = (labels) => /^5/.test(labels.status_class ?? labels.status ?? labels.code ?? '')

/** The totals one scrape gives for each chart's series (null: family absent). */
export function readings (samples) {
  const sum = (pred) => {
    let found = false
    let total = 0
    for (const s of samples) {
      if (!pred(s)) continue
      found = true
      total += s.value
    }
    return found ? total : null
  }
  // The console's own page loads and scrapes are left out of what it charts.
  const own = (s) => /^\/(metrics|console)/.test(s.labels.route ?? '')
  const requests = (s) => /(^|_)http_requests_total$/.test(s.name) && !own(s)
  const buckets = new Map()
  for (const s of samples) {
    if (!/(^|_)http_request_duration_seconds_bucket$/.test(s.name) || own(s)) continue
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)
    buckets.set(le, (buckets.get(le) ?? 0) + s.value)
  }
  let loop = null
  for (const s of samples) {
    if (/eventloop_lag_p99_seconds$|event_loop_delay.*p99/.test(s.name)) loop = Math.max(loop ?? 0, s.value)
  }
  const total = sum(requests)
  return {
    requests: total,
    errors: total === null ? null : (sum((s) => requests(s) && isErrorClass(s.labels)) ?? 0),
    buckets: buckets.size === 0 ? null : buckets,
    loopMs: loop === null ? null : loop * 1000
  }
}

/** The q-quantile of the observations between two scrapes' cumulative buckets, in ms. */
export function quantileMs (before, after, q) {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const deltas = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0))
  const total = deltas[deltas.length - 1] ?? 0
  if (total <= 0) return null
  const rank = q * total
  for (let i = 0; i < bounds.length; i++) {
    if (deltas[i] >= rank) {
      const upper = bounds[i]
      const lower = i === 0 ? 0 : bounds[i - 1]
      if (upper === Infinity) return lower * 1000
      const inBucket = deltas[i] - (i === 0 ? 0 : deltas[i - 1])
      const below = i === 0 ? 0 : deltas[i - 1]
      const frac = inBucket > 0 ? (rank - below) / inBucket : 1
      return (lower + (upper - lower) * frac) * 1000
    }
  }
  return null
}

const CHARTS = [
  { key: 'throughput', title: 'Throughput', unit: 'req/s' },
  { key: 'latency', title: 'Latency p99', unit: 'ms' },
  { key: 'errors', title: 'Errors (5xx)', unit: 'req/s' },
  { key: 'loop', title: 'Event-loop delay p99', unit: 'ms' }
]

export function render (view, _params, query) {
  // ?every=<seconds> samples faster or slower (1 to 60 s).
  const every = Number(query.get('every'))
  const sampleMs = Number.isInteger(every) && every >= 1 && every <= 60 ? every * 1000 : SAMPLE_MS
  const grid = el('div', { class: 'charts', 'data-testid': 'charts' })
  const status = el('p', { class: 'count' }, 'reading /metrics…')
  view.replaceChildren(el('h1', {}, 'Proxy metrics'), status, grid)
  const series = Object.fromEntries(CHARTS.map((c) => [c.key, []]))
  let previous = null
  let timer = null
  let stopped = false

  const scrape = async () => {
    try {
      const res = await fetch(apiUrl('/metrics'), { headers: authHeaders({ accept: 'text/plain' }), cache: 'no-store' })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      const now = Date.now()
      const r = readings(parseMetrics(await res.text()))
      if (previous !== null) {
        const secs = (now - previous.at) / 1000
        const rate = (a, b) => a === null || b === null ? null : Math.max(0, (b - a) / secs)
        push(series.throughput, rate(previous.r.requests, r.requests))
        push(series.errors, rate(previous.r.errors, r.errors))
        push(series.latency, previous.r.buckets === null || r.buckets === null ? null : quantileMs(previous.r.buckets, r.buckets, 0.99))
      }
      push(series.loop, r.loopMs)
      previous = { at: now, r }
      status.textContent = `sampled every ${sampleMs / 1000} s, last ${new Date(now).toLocaleTimeString()}`
      draw(grid, series, r, sampleMs)
    } catch (err) {
      status.textContent = `/metrics: ${err.message}`
    }
    if (!stopped) timer = setTimeout(scrape, sampleMs)
  }
  scrape()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

function push (points, value) {
  points.push(value)
  if (points.length > KEEP) points.shift()
}

function draw (grid, series, r, sampleMs) {
  const present = { throughput: r.requests !== null, latency: r.buckets !== null, errors: r.errors !== null, loop: r.loopMs !== null }
  replace(grid, CHARTS.filter((c) => present[c.key]).map((c) => chart(c, series[c.key], sampleMs)))
  if (grid.childElementCount === 0) grid.append(el('p', {}, 'No chartable families in /metrics yet.'))
}

function chart ({ title, unit }, points, sampleMs) {
  const w = 240
  const h = 60
  const values = points.filter((v) => v !== null && Number.isFinite(v))
  const max = Math.max(1e-9, ...values)
  const step = w / Math.max(1, KEEP - 1)
  const offset = KEEP - points.length
  const coords = []
  points.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return
    coords.push(`${((offset + i) * step).toFixed(1)},${(h - (v / max) * (h - 4) - 2).toFixed(1)}`)
  })
  const last = values.length === 0 ? '—' : format(values[values.length - 1])
  return el('figure', { class: 'chart', 'data-points': String(values.length) },
    el('figcaption', {}, title, el('strong', {}, ` ${last} ${unit}`)),
    svg('svg', { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: 'img', 'aria-label': `${title} over the last ${Math.round(KEEP * sampleMs / 1000)} s` },
      svg('polyline', { points: coords.join(' '), fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 })
    ),
    el('small', {}, `max ${values.length === 0 ? '—' : format(max)} ${unit}`)
  )
}

function format (v) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}
