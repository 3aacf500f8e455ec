// Real HTTP receivers for the webhook tests, and the calls that manage
// subscriptions through the proxy's API. A receiver records every request it
// gets (with its Standard Webhooks headers and the record positions in its
// body) and answers as the test's `behave` says: a status, a delay, or no
// answer at all until the proxy gives up.
import type { TestContext } from 'node:test'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { request, show, type HttpResult } from './consumers.js'
import { eventually } from './kafka.js'

export interface Delivery {
  seq: number
  id: string
  timestamp: number
  signature: string | undefined
  body: string
  /** The records of the body: one for a single delivery, the array of a batch. */
  records: Array<{ topic: string, partition: number, offset: number, key: any, value: any, headers: any[] }>
  receivedAt: number
  /** Set when the receiver answered: the status it gave. */
  answered?: number
  /** The connection closed before the receiver answered (the proxy gave up). */
  abandoned?: boolean
}

export type Behaviour = (d: Delivery) => { status?: number, delayMs?: number, hang?: boolean, headers?: Record<string, string> }

export interface Receiver {
  url: string
  port: number
  deliveries: Delivery[]
  /** Requests being answered right now, per partition (the most seen at once is in `maxConcurrent`). */
  maxConcurrent: Map<number, number>
  behave: Behaviour
  close (): Promise<void>
}

export async function startReceiver (t: TestContext, behave: Behaviour = () => ({ status: 200 })): Promise<Receiver> {
  const deliveries: Delivery[] = []
  const inFlight = new Map<number, number>()
  const maxConcurrent = new Map<number, number>()
  const receiver: Receiver = { url: '', port: 0, deliveries, maxConcurrent, behave, close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let parsed: unknown = null
      try {
        parsed = JSON.parse(body)
      } catch {}
      const records = (Array.isArray(parsed) ? parsed : parsed === null ? [] : [parsed]) as Delivery['records']
      const d: Delivery = {
        seq: deliveries.length,
        id: String(req.headers['webhook-id'] ?? ''),
        timestamp: Number(req.headers['webhook-timestamp']),
        signature: req.headers['webhook-signature'] as string | undefined,
        body,
        records,
        receivedAt: Date.now()
      }
      deliveries.push(d)
      const partitions = [...new Set(records.map((r) => r.partition))]
      for (const p of partitions) {
        const n = (inFlight.get(p) ?? 0) + 1
        inFlight.set(p, n)
        maxConcurrent.set(p, Math.max(maxConcurrent.get(p) ?? 0, n))
      }
      let ended = false
      const end = (): void => {
        if (ended) return
        ended = true
        for (const p of partitions) inFlight.set(p, (inFlight.get(p) ?? 1) - 1)
      }
      res.on('close', () => {
        if (d.answered === undefined) d.abandoned = true
        end()
      })
      const how = receiver.behave(d)
      if (how.hang === true) return
      const answer = (): void => {
        d.answered = how.status ?? 200
        end()
        res.writeHead(d.answered, { 'content-type': 'text/plain', ...how.headers })
        res.end('ok')
      }
      if (how.delayMs !== undefined && how.delayMs > 0) setTimeout(answer, how.delayMs)
      else answer()
    })
  })
  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  receiver.port = port
  receiver.url = `http://127.0.0.1:${port}/hook`
  receiver.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
  t.after(() => receiver.close())
  return receiver
}

/** The Standard Webhooks check, written here from the convention with node:crypto only. */
export function verifySignature (secret: string, d: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${d.id}.${d.timestamp}.${d.body}`).digest()
  return (d.signature ?? '').split(' ').some((part) => {
    const comma = part.indexOf(',')
    if (part.slice(0, comma) !== 'v1') return false
    const got = Buffer.from(part.slice(comma + 1), 'base64')
    return got.length === expected.length && timingSafeEqual(got, expected)
  })
}

export async function clusterId (url: string): Promise<string> {
  const res = await request('GET', `${url}/v3/clusters`)
  const id = res.body?.data?.[0]?.cluster_id
  if (typeof id !== 'string') throw new Error(`no cluster id: ${show(res)}`)
  return id
}

export function subscriptionsUrl (url: string, cid: string, topic: string): string {
  return `${url}/v3/clusters/${cid}/topics/${encodeURIComponent(topic)}/subscriptions`
}

export async function createSubscription (url: string, cid: string, topic: string, body: Record<string, unknown>): Promise<any> {
  const res = await request('POST', subscriptionsUrl(url, cid, topic), { headers: { 'content-type': 'application/json' }, body })
  if (res.status !== 201) throw new Error(`create subscription: ${show(res)}`)
  return res.body
}

export async function getSubscription (url: string, cid: string, topic: string, id: string): Promise<HttpResult> {
  return await request('GET', `${subscriptionsUrl(url, cid, topic)}/${id}`)
}

/** Waits until the subscription's group has a member holding every partition (deliveries can start). */
export async function awaitAssigned (url: string, cid: string, group: string, partitions: number, timeoutMs = 30000): Promise<void> {
  await eventually(async () => {
    const res = await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${encodeURIComponent(group)}/consumers`)
    if (res.status !== 200) return undefined
    let n = 0
    for (const c of res.body.data as any[]) {
      const a = await request('GET', `${url}/v3/clusters/${cid}/consumer-groups/${encodeURIComponent(group)}/consumers/${encodeURIComponent(c.consumer_id)}/assignments`)
      n += (a.body?.data ?? []).length
    }
    return n === partitions ? true : undefined
  }, { timeoutMs, intervalMs: 200, what: `group ${group} to hold ${partitions} partitions` })
}
