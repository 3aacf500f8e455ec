// The produce capability of [[routes]]: the request body becomes the record
// value as it is, the request's content-type a record header, the key and
// further headers come from expressions. The answer is sent only once Kafka
// acknowledged the record (the shared producer runs with acks=all unless the
// operator changed producer.acks), and says where it landed.
import type { Ctx, Handler, Reply } from '../http/handler.js'
import { readBody } from '../http/body.js'
import type { KafkaProducer, OutgoingRecord } from '../kafka/producer.js'
import { resultAt } from '../kafka/producer.js'
import type { MessageHeader } from '../kafka/binding.js'
import type { AppRoute, ProduceCapability } from './config.js'
import { POSITION_HEADER, RequestValues } from './request.js'
import type { TopicView } from './view.js'
import type { IdempotencyKeys } from './idempotency.js'

export interface ProduceDeps {
  readonly producer: KafkaProducer
  /** The fetch view of a topic in this process, told of every write for read-your-writes. */
  readonly view: (topic: string) => TopicView | undefined
}

/** A record of a route request, before it is sent. */
export interface RouteRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: MessageHeader[]
  /** The request body as received (the value, or empty for a tombstone), for Idempotency-Key fingerprints. */
  readonly body: Buffer
}

/** Builds the record of a request from its body; throws 400 for an expression resolving to nothing. */
export function routeRecord (ctx: Ctx, cap: ProduceCapability, body: Buffer): RouteRecord {
  const values = new RequestValues(ctx)
  const key = cap.key === null ? null : Buffer.from(values.need(cap.key, 'produce.key'))
  const headers: MessageHeader[] = []
  const type = ctx.req.headers['content-type']
  if (type !== undefined && !cap.tombstone) headers.push({ 'content-type': type })
  for (const [name, e] of cap.headers) headers.push({ [name]: values.need(e, `produce.headers.${name}`) })
  return { key, value: cap.tombstone ? null : body, headers, body }
}

/** The request body, refused with 413 over the route's max_body_bytes. */
export function routeBody (ctx: Ctx, route: AppRoute): Promise<Buffer> {
  return readBody(ctx.req, route.maxBodyBytes)
}

/** Sends one record; resolves with its partition and offset once acknowledged, or throws its error (with `persisted`). */
export async function send (deps: ProduceDeps, topic: string, record: OutgoingRecord): Promise<{ partition: number, offset: number }> {
  const outcome = await deps.producer.produceRecords(topic, [record])
  const r = resultAt(outcome, 0)
  if (r.error !== null) throw r.error
  const partition = r.partition as number
  const offset = r.offset as number
  deps.view(topic)?.written(partition, offset)
  return { partition, offset }
}

/** 202 for POST (the record is accepted for whoever consumes it), 204 otherwise, with the record's position. */
export function acknowledged (method: string | undefined, partition: number, offset: number): Reply {
  return { status: method === 'POST' ? 202 : 204, body: null, headers: { [POSITION_HEADER]: `${partition}:${offset}` } }
}

/** The handler of a fire-and-forget produce route; `scope` names it for Idempotency-Key. */
export function produceHandler (route: AppRoute, cap: ProduceCapability, deps: ProduceDeps, keys: IdempotencyKeys, scope: string): Handler {
  return async (ctx) => {
    const body = await routeBody(ctx, route)
    const rec = routeRecord(ctx, cap, body)
    return await keys.run(ctx, scope, body, async () => {
      const at = await send(deps, cap.topic, { key: rec.key, value: rec.value, partition: -1, headers: rec.headers })
      return acknowledged(ctx.req.method, at.partition, at.offset)
    })
  }
}
