// Cursor reads: one long-poll page of a stream,
//   {"records":[{"topic":…,"partition":…,"offset":…,…},…],"next_cursor":"<id>"}
// answered as soon as there are records, else after `timeout`. A client
// follows next_cursor (Gravitee's HTTP GET entrypoint); reading on from it
// continues on the same reader when this process still has it. A page that
// resumed from a position retention deleted says so in `resets`.
import { MEDIA } from '../http/media.js'
import type { Reply } from '../http/handler.js'
import { undecodableError } from '../render/undecodable.js'
import type { StreamEvent } from './delivery.js'
import type { OpenedStream } from './open.js'
import type { StreamParams } from './params.js'
import { encodePosition } from './position.js'
import { describeReset } from './start.js'

export async function cursorPage (opened: OpenedStream, params: StreamParams, encodeIds: boolean): Promise<Reply> {
  const { delivery } = opened
  let keep = false
  try {
    const deadline = Date.now() + params.timeoutMs
    const events: StreamEvent[] = []
    let bytes = 0
    let first = true
    // Records a filter passes over move the cursor without filling the page;
    // the wait goes on until a record is delivered or the time is up.
    while (events.length === 0 && (first || Date.now() < deadline)) {
      first = false
      const batch = await delivery.next({
        maxRecords: params.maxRecords - events.length,
        maxBytes: params.maxBytes - bytes,
        timeoutMs: Math.max(0, deadline - Date.now())
      })
      for (const e of batch.events) {
        events.push(e)
        bytes += e.bytes
      }
      if (batch.stopped !== null) {
        if (events.length > 0) break
        const past = delivery.tracker.position()
        past.get(batch.stopped.topic)?.set(batch.stopped.partition, batch.stopped.offset + 1)
        throw undecodableError(batch.stopped, `read on from cursor ${encodePosition(past, encodeIds)}`)
      }
    }
    keep = true
    let body = '{"records":['
    for (let i = 0; i < events.length; i++) body += `${i === 0 ? '' : ','}${(events[i] as StreamEvent).json}`
    body += `],"next_cursor":${JSON.stringify(delivery.tracker.id())}`
    if (opened.resets.length > 0) body += `,"resets":${JSON.stringify(opened.resets.map((r) => ({ ...r, message: describeReset(r) })))}`
    return { status: 200, type: MEDIA.json, body: body + '}', headers: { 'cache-control': 'no-store' } }
  } finally {
    delivery.source.close(keep)
  }
}
