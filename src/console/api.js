// The console's way to the proxy: the public HTTP API, the same one every
// client uses, with the bearer token of the login field when one is set. The
// console lives at <proxy>/console/, so the API is one level up, wherever the
// proxy is mounted behind a reverse proxy.

export const API_ROOT = new URL('../', document.baseURI)

// sessionStorage: the token lives as long as the tab, never on disk beyond it.
const TOKEN_KEY = 'kafka-http-proxy.console.token'

export class ApiError extends Error {
  constructor (status, body, fallback) {
    const message = body !== null && typeof body === 'object' && typeof body.message === 'string' ? body.message : fallback
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.body = body
    /** Our error body's error_code (Confluent's), or the HTTP status when the body has none. */
    this.code = body !== null && typeof body === 'object' && typeof body.error_code === 'number' ? body.error_code : status
    this.retriable = body !== null && typeof body === 'object' && body.retriable === true
  }
}

export function getToken () {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? ''
  } catch {
    return ''
  }
}

export function setToken (token) {
  try {
    if (token === '') sessionStorage.removeItem(TOKEN_KEY)
    else sessionStorage.setItem(TOKEN_KEY, token)
  } catch {}
  window.dispatchEvent(new CustomEvent('console:auth', { detail: { signedIn: token !== '' } }))
}

/** Request headers with the token. */
export function authHeaders (headers = {}) {
  const token = getToken()
  return token === '' ? headers : { ...headers, authorization: `Bearer ${token}` }
}

/** The URL of an API path (`/v3/...`) with query parameters (null and '' values left out). */
export function apiUrl (path, query = {}) {
  const url = new URL(path.replace(/^\//, ''), API_ROOT)
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.append(name, String(value))
  }
  return url.href
}

/** A path from segments, each one encoded: `path('v3', 'clusters', id)`. */
export function path (...segments) {
  return '/' + segments.map((s) => encodeURIComponent(String(s))).join('/')
}

function parse (text) {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

export async function request (method, target, { query, body, signal, accept = 'application/json' } = {}) {
  const headers = authHeaders({ accept })
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(apiUrl(target, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store'
  })
  const text = await res.text()
  const data = parse(text)
  if (res.status === 401) window.dispatchEvent(new CustomEvent('console:unauthorized'))
  if (!res.ok) throw new ApiError(res.status, data, `${method} ${target}: HTTP ${res.status}`)
  return data
}

export const get = (target, opts) => request('GET', target, opts)
export const post = (target, body, opts = {}) => request('POST', target, { ...opts, body })
export const del = (target, opts) => request('DELETE', target, opts)

let cluster = null

/** The id of the proxy's Kafka cluster (the first and only one /v3/clusters lists). */
export function clusterId () {
  cluster ??= get('/v3/clusters').then((list) => {
    const first = list?.data?.[0]
    if (first === undefined) throw new Error('The proxy lists no Kafka cluster.')
    return first.cluster_id
  })
  cluster.catch(() => { cluster = null })
  return cluster
}

/** A path under the cluster: `await clusterPath('topics', name)`. */
export async function clusterPath (...segments) {
  return path('v3', 'clusters', await clusterId(), ...segments)
}

/** Every item of a v3 list. */
export async function list (target, opts) {
  const page = await get(target, opts)
  return Array.isArray(page?.data) ? page.data : []
}

/**
 * Produces one record with the v3 streaming produce endpoint and resolves to
 * its result line ({partition_id, offset, ...}); a failed record rejects with
 * its error body's message.
 */
export async function produce (topic, record, { signal } = {}) {
  const target = await clusterPath('topics', topic, 'records')
  const res = await fetch(apiUrl(target), {
    method: 'POST',
    headers: authHeaders({ accept: 'application/json', 'content-type': 'application/json' }),
    body: JSON.stringify(record),
    signal,
    cache: 'no-store'
  })
  const text = await res.text()
  // One result line per record, ended by CRLF.
  const result = parse(text.trim().split('\r\n')[0] ?? '')
  if (res.status === 401) window.dispatchEvent(new CustomEvent('console:unauthorized'))
  if (!res.ok) throw new ApiError(res.status, result, `produce: HTTP ${res.status}`)
  if (result === null || result.error_code !== 200) throw new ApiError(res.status, result, 'produce: no result')
  return result
}
