// The delivery ledger of the fault tests, the way Kafka's system tests and
// Jepsen check a queue: clients produce records with unique ids through the
// proxy while a fault is injected, every answer is written down (offset, or
// error code, `retriable` and `persisted`), and afterwards an independent
// reader (a plain librdkafka consumer talking to the brokers, never the proxy)
// reads the topic to its end. The report counts what was acknowledged but is
// not in Kafka (must be 0), what is there twice, what failed by code, and
// whether each failure told the truth about `persisted` (a record answered
// `persisted: "no"` must be absent).
//
// Load is bounded twice: a rate per client (requests per second for v2,
// records per second for a v3 stream) and concurrency (one request in flight
// per v2 client, a window of unanswered records per v3 stream). Clients never
// retry, so a duplicate can only come from below the proxy.
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import rdkafka from '@confluentinc/kafka-javascript'

const { KafkaConsumer } = rdkafka

export type Via = 'v2-binary' | 'v2-json' | 'v3-stream' | 'route'

export type Outcome =
  | { kind: 'acked', at: number, partition: number, offset: number }
  | { kind: 'failed', at: number, status: number, errorCode: number, retriable: boolean | undefined, persisted: string | undefined, message: string }
  /** Connection refused: the request never reached the proxy. */
  | { kind: 'refused', at: number, error: string }
  /** Sent, then the connection ended (reset, closed, timed out) before this record's answer. */
  | { kind: 'no-answer', at: number, error: string }

export interface Attempt {
  id: string
  via: Via
  /** The client that sent it; one client's records go one after another. */
  client: number
  sentAt: number
  outcome?: Outcome
}

export interface LoadOptions {
  /** The proxy's base URL. */
  url: string
  topic: string
  /** Concurrent clients of each kind (default: 2 v2-binary, 1 v2-json, 1 v3-stream, and 1 route when `routePath` is given). */
  clients?: Partial<Record<Via, number>>
  /**
   * The path prefix of an application route (docs/routes.md) that produces to
   * `topic`: `POST <routePath>/<id>` with the id as the body, answered 202
   * with `Kafka-Position` once Kafka acknowledged it. The proxy must be
   * started with that route (ledgerRoute()).
   */
  routePath?: string
  /** Requests (v2) or records (v3) per second of each client. */
  ratePerClient?: number
  /** Records in one v2 request (default 1). */
  recordsPerRequest?: number
  /** Unanswered records one v3 stream may have (default 32). */
  streamWindow?: number
  /** Records after which a v3 stream is ended and a new one opened (default 500). */
  streamRecords?: number
  /** Cluster id in the v3 path (the proxy accepts its own; default: read from /v3/clusters). */
  clusterId?: string
  /** A request or stream line with no answer for this long counts as unanswered (default 60 s). */
  answerTimeoutMs?: number
  /** Connection: close on every v2 request instead of keep-alive. */
  closeConnections?: boolean
}

export interface Load {
  /** Stops starting new records and waits for every answer (or its timeout). */
  stop (): Promise<void>
}

interface ErrorFigures {
  count: number
  retriable: number
  persistedNo: number
  persistedUnknown: number
  persistedMissing: number
  /** Of these records, how many are in Kafka anyway. */
  present: number
}

export interface LedgerReport {
  sent: number
  acknowledged: number
  /** Acknowledged, and not in Kafka at all. Must be 0. */
  lost: number
  /** Acknowledged, but the acknowledged partition/offset holds no copy of it. Must be 0. */
  misplaced: number
  /** Extra copies in Kafka beyond the first. */
  duplicated: number
  /** Records in the topic no client sent. Must be 0. */
  foreign: number
  failed: number
  /** Failed with `persisted: "no"` and present in Kafka. Must be 0. */
  persistedNoPresent: number
  unknownPresent: number
  unknownAbsent: number
  /** Refused at connect (never reached the proxy). */
  refused: number
  refusedPresent: number
  /** Sent and never answered (connection reset or closed). */
  noAnswer: number
  noAnswerPresent: number
  /** Keyed by `${status}/${error_code}` for answers, `conn/${error}` otherwise. */
  errors: Record<string, ErrorFigures>
  /** Longest time between two acknowledgements during the run. */
  longestAckGapMs: number
  /**
   * Longest run of failures one client saw in a row: from sending the first
   * to the answer of the last (how long the proxy refused while it lasted).
   */
  longestFailureRunMs: number
  /** Per mark: time from the mark to the first acknowledgement of a record sent after it. */
  recoveryMs: Record<string, number | null>
  records: number
  byVia: Record<string, { sent: number, acknowledged: number }>
}

/** Where each id sits in the topic. */
export type TopicContents = Map<string, Array<{ partition: number, offset: number }>>

export class Ledger {
  readonly runId = randomUUID().slice(0, 8)
  readonly attempts: Attempt[] = []
  readonly marks: Array<{ name: string, at: number }> = []
  private seq = 0

  nextId (via: Via, client: number): string {
    return `${this.runId}-${via}-${client}-${++this.seq}`
  }

  /** Notes when a fault began or ended, for the recovery figures. */
  mark (name: string): void {
    this.marks.push({ name, at: Date.now() })
  }

  acknowledged (): number {
    return this.attempts.filter((a) => a.outcome?.kind === 'acked').length
  }

  /** Acknowledged records whose answer came after `since` (ms since the epoch). */
  ackedSince (since: number): number {
    return this.attempts.filter((a) => a.outcome?.kind === 'acked' && a.outcome.at >= since).length
  }

  record (via: Via, client: number): Attempt {
    const a: Attempt = { id: this.nextId(via, client), via, client, sentAt: Date.now() }
    this.attempts.push(a)
    return a
  }

  /** Starts the clients; they run until `stop()`. */
  start (opts: LoadOptions): Load {
    const clients = { 'v2-binary': 2, 'v2-json': 1, 'v3-stream': 1, route: opts.routePath === undefined ? 0 : 1, ...opts.clients }
    if (clients.route > 0 && opts.routePath === undefined) throw new Error('route clients need opts.routePath')
    const state = { stopped: false }
    const agent = new http.Agent({ keepAlive: opts.closeConnections !== true, maxSockets: clients['v2-binary'] + clients['v2-json'] + clients.route + 1 })
    const loops: Array<Promise<void>> = []
    let n = 0
    for (let i = 0; i < clients['v2-binary']; i++) loops.push(v2Client(this, opts, agent, 'v2-binary', ++n, state))
    for (let i = 0; i < clients['v2-json']; i++) loops.push(v2Client(this, opts, agent, 'v2-json', ++n, state))
    for (let i = 0; i < clients['v3-stream']; i++) loops.push(v3Client(this, opts, ++n, state))
    for (let i = 0; i < clients.route; i++) loops.push(routeClient(this, opts, agent, ++n, state))
    return {
      stop: async () => {
        state.stopped = true
        await Promise.all(loops)
        agent.destroy()
      }
    }
  }

  /** Compares the answers with what the topic holds. */
  report (contents: TopicContents): LedgerReport {
    const sent = new Set(this.attempts.map((a) => a.id))
    const r: LedgerReport = {
      sent: this.attempts.length,
      acknowledged: 0,
      lost: 0,
      misplaced: 0,
      duplicated: 0,
      foreign: 0,
      failed: 0,
      persistedNoPresent: 0,
      unknownPresent: 0,
      unknownAbsent: 0,
      refused: 0,
      refusedPresent: 0,
      noAnswer: 0,
      noAnswerPresent: 0,
      errors: {},
      longestAckGapMs: 0,
      longestFailureRunMs: 0,
      recoveryMs: {},
      records: 0,
      byVia: {}
    }
    for (const [id, where] of contents) {
      r.records += where.length
      if (!sent.has(id)) r.foreign += where.length
      else r.duplicated += where.length - 1
    }
    for (const a of this.attempts) {
      const where = contents.get(a.id)
      const present = where !== undefined
      const via = r.byVia[a.via] ??= { sent: 0, acknowledged: 0 }
      via.sent++
      const o = a.outcome
      if (o === undefined) throw new Error(`record ${a.id} has no outcome: stop() the load before the report`)
      if (o.kind === 'acked') {
        r.acknowledged++
        via.acknowledged++
        if (!present) r.lost++
        else if (!where.some((w) => w.partition === o.partition && w.offset === o.offset)) r.misplaced++
        continue
      }
      if (o.kind === 'refused' || o.kind === 'no-answer') {
        if (o.kind === 'refused') {
          r.refused++
          if (present) r.refusedPresent++
        } else {
          r.noAnswer++
          if (present) r.noAnswerPresent++
        }
        const e = r.errors[`conn/${o.kind}`] ??= emptyFigures()
        e.count++
        if (present) e.present++
        continue
      }
      r.failed++
      const e = r.errors[`${o.status}/${o.errorCode}`] ??= emptyFigures()
      e.count++
      if (o.retriable === true) e.retriable++
      if (present) e.present++
      if (o.persisted === 'no') {
        e.persistedNo++
        if (present) r.persistedNoPresent++
      } else if (o.persisted === 'unknown') {
        e.persistedUnknown++
        if (present) r.unknownPresent++
        else r.unknownAbsent++
      } else {
        e.persistedMissing++
      }
    }
    const ackTimes = this.attempts.flatMap((a) => a.outcome?.kind === 'acked' ? [a.outcome.at] : []).sort((x, y) => x - y)
    for (let i = 1; i < ackTimes.length; i++) r.longestAckGapMs = Math.max(r.longestAckGapMs, (ackTimes[i] as number) - (ackTimes[i - 1] as number))
    const runStart = new Map<number, number>()
    for (const a of this.attempts) {
      const o = a.outcome as Outcome
      if (o.kind === 'acked') {
        runStart.delete(a.client)
        continue
      }
      const start = runStart.get(a.client) ?? a.sentAt
      runStart.set(a.client, start)
      r.longestFailureRunMs = Math.max(r.longestFailureRunMs, o.at - start)
    }
    for (const m of this.marks) {
      let first: number | null = null
      for (const a of this.attempts) {
        if (a.outcome?.kind === 'acked' && a.sentAt >= m.at && (first === null || a.outcome.at < first)) first = a.outcome.at
      }
      r.recoveryMs[m.name] = first === null ? null : first - m.at
    }
    return r
  }
}

function emptyFigures (): ErrorFigures {
  return { count: 0, retriable: 0, persistedNo: 0, persistedUnknown: 0, persistedMissing: 0, present: 0 }
}

/** The figures on one line each, for the test output and RELIABILITY.md. */
export function formatReport (name: string, r: LedgerReport): string {
  const errors = Object.entries(r.errors).sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `${code}×${e.count}` +
      ` (retriable ${e.retriable}, persisted no ${e.persistedNo}/unknown ${e.persistedUnknown}${e.persistedMissing > 0 ? `/missing ${e.persistedMissing}` : ''}, in Kafka ${e.present})`)
  const recovery = Object.entries(r.recoveryMs).map(([m, ms]) => `${m} ${ms === null ? 'never' : `${ms} ms`}`)
  return [
    `ledger ${name}: sent ${r.sent}, acknowledged ${r.acknowledged}, lost ${r.lost}, misplaced ${r.misplaced}, duplicated ${r.duplicated}, foreign ${r.foreign}`,
    `  failed ${r.failed}: persisted "no" but in Kafka ${r.persistedNoPresent}; "unknown" in Kafka ${r.unknownPresent}, absent ${r.unknownAbsent}; refused at connect ${r.refused} (in Kafka ${r.refusedPresent}); unanswered ${r.noAnswer} (in Kafka ${r.noAnswerPresent})`,
    `  errors: ${errors.join('; ') || 'none'}`,
    `  by client: ${Object.entries(r.byVia).map(([v, f]) => `${v} ${f.acknowledged}/${f.sent}`).join(', ')}; longest gap between acknowledgements ${r.longestAckGapMs} ms, longest run of failures ${r.longestFailureRunMs} ms; recovery after ${recovery.join(', ') || '-'}`
  ].join('\n')
}

/** The invariants every fault must keep, whatever it is. */
export function soundness (r: LedgerReport): Record<string, number> {
  return { lost: r.lost, misplaced: r.misplaced, foreign: r.foreign, persistedNoPresent: r.persistedNoPresent, refusedPresent: r.refusedPresent }
}

export const SOUND = { lost: 0, misplaced: 0, foreign: 0, persistedNoPresent: 0, refusedPresent: 0 }

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Paces one client: resolves when its next request may start. */
function pacer (ratePerSecond: number): () => Promise<void> {
  const interval = 1000 / ratePerSecond
  let next = Date.now()
  return async () => {
    const now = Date.now()
    // A client that fell behind (a slow answer) does not burst to catch up.
    if (next < now - interval) next = now
    if (next > now) await sleep(next - now)
    next += interval
  }
}

interface Answer {
  status: number
  body: any
  headers: http.IncomingHttpHeaders
}

class NoAnswer extends Error {
  constructor (readonly refused: boolean, message: string) {
    super(message)
  }
}

function post (agent: http.Agent, url: string, contentType: string, body: string, timeoutMs: number, close: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': contentType, accept: 'application/vnd.kafka.v2+json', 'content-length': Buffer.byteLength(body) }
    if (close) headers.connection = 'close'
    const req = http.request(url, { method: 'POST', agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (err) => reject(new NoAnswer(false, err.message)))
      res.on('aborted', () => reject(new NoAnswer(false, 'response aborted')))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        resolve({ status: res.statusCode ?? 0, body: parsed ?? { error_code: -1, message: `not JSON: ${text.slice(0, 200)}` }, headers: res.headers })
      })
    })
    req.on('timeout', () => req.destroy(new Error('no answer in time')))
    req.on('error', (err: NodeJS.ErrnoException) => reject(new NoAnswer(err.code === 'ECONNREFUSED', err.code ?? err.message)))
    req.end(body)
  })
}

function failure (status: number, e: any, at: number): Outcome {
  return {
    kind: 'failed',
    at,
    status,
    errorCode: typeof e?.error_code === 'number' ? e.error_code : -1,
    retriable: typeof e?.retriable === 'boolean' ? e.retriable : undefined,
    persisted: typeof e?.persisted === 'string' ? e.persisted : undefined,
    message: String(e?.error ?? e?.message ?? '')
  }
}

async function v2Client (ledger: Ledger, opts: LoadOptions, agent: http.Agent, via: 'v2-binary' | 'v2-json', client: number, state: { stopped: boolean }): Promise<void> {
  const wait = pacer(opts.ratePerClient ?? 20)
  const perRequest = opts.recordsPerRequest ?? 1
  const type = via === 'v2-binary' ? 'application/vnd.kafka.binary.v2+json' : 'application/vnd.kafka.json.v2+json'
  const url = `${opts.url}/topics/${encodeURIComponent(opts.topic)}`
  while (!state.stopped) {
    await wait()
    if (state.stopped) break
    const batch = Array.from({ length: perRequest }, () => ledger.record(via, client))
    const records = batch.map((a) => ({ value: via === 'v2-binary' ? Buffer.from(a.id).toString('base64') : { id: a.id } }))
    try {
      const res = await post(agent, url, type, JSON.stringify({ records }), opts.answerTimeoutMs ?? 60_000, opts.closeConnections === true)
      const at = Date.now()
      const offsets = res.status === 200 ? res.body?.offsets : undefined
      batch.forEach((a, i) => {
        const o = offsets?.[i]
        if (o === undefined) a.outcome = failure(res.status, res.body, at)
        else if (o.error_code === null && typeof o.offset === 'number') a.outcome = { kind: 'acked', at, partition: o.partition, offset: o.offset }
        else a.outcome = failure(res.status, o, at)
      })
    } catch (err) {
      const at = Date.now()
      const refused = err instanceof NoAnswer && err.refused
      for (const a of batch) a.outcome = { kind: refused ? 'refused' : 'no-answer', at, error: (err as Error).message }
      // The proxy is away; do not spin.
      await sleep(50)
    }
  }
}

async function clusterId (url: string): Promise<string> {
  const res = await fetch(`${url}/v3/clusters`)
  const body = await res.json() as { data?: Array<{ cluster_id: string }> }
  return body.data?.[0]?.cluster_id ?? 'any-cluster'
}

async function v3Client (ledger: Ledger, opts: LoadOptions, client: number, state: { stopped: boolean }): Promise<void> {
  let cid = opts.clusterId
  while (cid === undefined && !state.stopped) {
    try {
      cid = await clusterId(opts.url)
    } catch {
      await sleep(200)
    }
  }
  const path = `${opts.url}/v3/clusters/${cid ?? 'any-cluster'}/topics/${encodeURIComponent(opts.topic)}/records`
  const wait = pacer(opts.ratePerClient ?? 20)
  while (!state.stopped) {
    await oneStream(ledger, opts, path, client, state, wait)
    if (!state.stopped) await sleep(50)
  }
}

/** One streaming POST: records written as paced, each answered by its line, in order. */
function oneStream (ledger: Ledger, opts: LoadOptions, url: string, client: number, state: { stopped: boolean }, wait: () => Promise<void>): Promise<void> {
  const window = opts.streamWindow ?? 32
  const limit = opts.streamRecords ?? 500
  const timeoutMs = opts.answerTimeoutMs ?? 60_000
  const pending: Attempt[] = []
  let wakeWriter: (() => void) | null = null
  const stream = { finished: false }
  return new Promise<void>((resolve) => {
    let status = 0
    let errorBody = ''
    let buffered = ''
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      status = res.statusCode ?? 0
      res.setEncoding('utf8')
      res.on('data', (s: string) => {
        if (status !== 200) {
          errorBody += s
          return
        }
        buffered += s
        let at: number
        while ((at = buffered.indexOf('\r\n')) !== -1) {
          const line = buffered.slice(0, at)
          buffered = buffered.slice(at + 2)
          const a = pending.shift()
          if (a === undefined) continue
          let parsed: any
          try {
            parsed = JSON.parse(line)
          } catch {
            parsed = { error_code: -1, message: `not JSON: ${line.slice(0, 200)}` }
          }
          const now = Date.now()
          a.outcome = parsed.error_code === 200 && typeof parsed.offset === 'number'
            ? { kind: 'acked', at: now, partition: parsed.partition_id, offset: parsed.offset }
            : failure(200, parsed, now)
          wakeWriter?.()
        }
      })
      res.on('end', () => done(status === 200 ? 'the stream ended before this record\'s line' : undefined))
      res.on('error', (err) => done(err.message))
      res.on('aborted', () => done('response aborted'))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error('no answer in time')))
    req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message, err.code === 'ECONNREFUSED'))

    function done (reason: string | undefined, refused = false): void {
      if (stream.finished) return
      stream.finished = true
      const at = Date.now()
      let body: any
      if (status !== 200 && status !== 0) {
        try {
          body = JSON.parse(errorBody)
        } catch {
          body = { error_code: -1, message: `not JSON: ${errorBody.slice(0, 200)}` }
        }
      }
      for (const a of pending.splice(0)) {
        if (body !== undefined) a.outcome = failure(status, body, at)
        else a.outcome = { kind: refused ? 'refused' : 'no-answer', at, error: reason ?? 'closed' }
      }
      wakeWriter?.()
      resolve()
    }

    const writer = async (): Promise<void> => {
      for (let written = 0; written < limit && !state.stopped && !stream.finished; written++) {
        while (pending.length >= window && !stream.finished) await new Promise<void>((resolve) => { wakeWriter = resolve })
        wakeWriter = null
        if (stream.finished) return
        await wait()
        if (state.stopped || stream.finished) break
        const a = ledger.record('v3-stream', client)
        pending.push(a)
        req.write(JSON.stringify({ value: { type: 'STRING', data: a.id } }) + '\n')
      }
      if (!stream.finished) req.end()
    }
    writer().catch((err: Error) => {
      req.destroy(err)
    })
  })
}

/**
 * The [[routes]] entry a proxy needs for route clients: `POST <path>/{id}`
 * producing the body to `topic`, keyed by the id.
 */
export function ledgerRoute (topic: string, path = '/ledger'): { methods: string[], path: string, produce: { topic: string, key: string } } {
  // eslint-disable-next-line no-template-curly-in-string -- a route expression, not a template
  return { methods: ['POST'], path: `${path}/{id}`, produce: { topic, key: '${params.id}' } }
}

async function routeClient (ledger: Ledger, opts: LoadOptions, agent: http.Agent, client: number, state: { stopped: boolean }): Promise<void> {
  const wait = pacer(opts.ratePerClient ?? 20)
  while (!state.stopped) {
    await wait()
    if (state.stopped) break
    const a = ledger.record('route', client)
    try {
      const res = await post(agent, `${opts.url}${opts.routePath as string}/${encodeURIComponent(a.id)}`, 'text/plain', a.id, opts.answerTimeoutMs ?? 60_000, opts.closeConnections === true)
      const at = Date.now()
      // One record, so one position: "partition:offset".
      const position = /^(\d+):(\d+)$/.exec(String(res.headers['kafka-position'] ?? ''))
      if (res.status === 202 && position !== null) a.outcome = { kind: 'acked', at, partition: Number(position[1]), offset: Number(position[2]) }
      else a.outcome = failure(res.status, res.body, at)
    } catch (err) {
      const refused = err instanceof NoAnswer && err.refused
      a.outcome = { kind: refused ? 'refused' : 'no-answer', at: Date.now(), error: (err as Error).message }
      await sleep(50)
    }
  }
}

/** What a record's value says its id is (the three clients encode it differently). */
export function idOf (value: Buffer | null): string {
  if (value === null) return ''
  const text = value.toString('utf8')
  if (text.startsWith('{')) {
    try {
      return String((JSON.parse(text) as { id?: unknown }).id)
    } catch {}
  }
  return text
}

function connect (consumer: InstanceType<typeof KafkaConsumer>): Promise<void> {
  return new Promise((resolve, reject) => consumer.connect({ timeout: 20_000 }, (err) => err ? reject(err) : resolve()))
}

/**
 * Reads every partition of `topic` from its start to the high watermark it
 * has when the read begins, with a plain librdkafka consumer on `servers`.
 */
export async function readTopic (servers: string, topic: string, opts: { timeoutMs?: number } = {}): Promise<TopicContents> {
  const consumer = new KafkaConsumer({
    'bootstrap.servers': servers,
    'group.id': `ledger-reader-${randomUUID().slice(0, 8)}`,
    'enable.auto.commit': false,
    // Reads only what the leader counts as committed (acknowledged by the
    // in-sync replicas), as any consumer would.
    'isolation.level': 'read_committed'
  }, { 'auto.offset.reset': 'earliest' })
  await connect(consumer)
  const contents: TopicContents = new Map()
  try {
    const md = await new Promise<any>((resolve, reject) => consumer.getMetadata({ topic, timeout: 20_000 }, (err, m) => err ? reject(err) : resolve(m)))
    const partitions = (md.topics.find((x: { name: string }) => x.name === topic)?.partitions ?? []).map((p: { id: number }) => p.id) as number[]
    if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions in the metadata`)
    const ends = new Map<number, number>()
    const starts = new Map<number, number>()
    for (const p of partitions) {
      const w = await new Promise<{ lowOffset: number, highOffset: number }>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, p, 20_000, (err, o) => err ? reject(err) : resolve(o)))
      starts.set(p, w.lowOffset)
      ends.set(p, w.highOffset)
    }
    const open = new Set(partitions.filter((p) => (ends.get(p) as number) > (starts.get(p) as number)))
    consumer.assign(partitions.filter((p) => open.has(p)).map((partition) => ({ topic, partition, offset: starts.get(partition) as number })))
    consumer.setDefaultConsumeTimeout(200)
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
    while (open.size > 0) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}: partitions ${[...open].join(',')} not read to their end within the deadline`)
      const batch = await new Promise<Array<{ partition: number, offset: number, value: Buffer | null }>>((resolve, reject) =>
        consumer.consume(5000, (err, m) => err ? reject(err) : resolve(m as any)))
      for (const m of batch) {
        const id = idOf(m.value)
        const list = contents.get(id) ?? []
        list.push({ partition: m.partition, offset: m.offset })
        contents.set(id, list)
        if (m.offset >= (ends.get(m.partition) as number) - 1) open.delete(m.partition)
      }
      if (batch.length === 0) {
        // A partition whose last offsets are not records (none here, without transactions) ends by position.
        const positions = consumer.position(partitions.filter((p) => open.has(p)).map((partition) => ({ topic, partition })))
        for (const pos of positions) if (pos.offset !== undefined && pos.offset >= (ends.get(pos.partition) as number)) open.delete(pos.partition)
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  }
  return contents
}
