// From consumed records to deliverable events: the filters, the rendering and
// the event id of each record. Every record read moves the stream's position,
// whether it is delivered or passed over by a filter, so an id always names
// the position after everything before it; a record that stops rendering
// (undecodable=fail) and everything read after it are given back to the
// source, so the next read starts there.
import type { ConsumerMessage } from '../kafka/binding.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import type { Undecodable } from '../render/undecodable.js'
import { matches, hasFilter, type RecordFilter } from './filter.js'
import type { StreamPosition } from './position.js'
import type { ReadLimits } from './reader.js'
import { renderBatch, type StreamRenderOptions } from './render.js'
import type { PositionTracker } from './tracker.js'

/** Where a stream's records come from: its own reader, or a topic's shared tail. */
export interface RecordSource {
  read (limits: ReadLimits): Promise<ConsumerMessage[]>
  /** Gives back records of the last read (those not delivered), for the next read. */
  unread (records: ConsumerMessage[]): void
  /** Adds partitions (from their offsets): partitions the topic gained, topics a pattern matched later. */
  extend (position: StreamPosition): void
  /** Called with a batch's records before its events are handed out (a consumer group's commits, by QoS). */
  delivering?: (records: readonly ConsumerMessage[]) => Promise<void>
  /** True while the records read are a topic tail's, which other streams read too (src/streams/render.ts keeps their JSON). */
  readonly shared?: boolean
  /** Ends the source; `keep` lets a reader stay assigned for a read continuing at its position. */
  close (keep: boolean): void
}

export interface StreamEvent {
  /** The event id: the stream's position after this record. */
  id: string
  /** The record as one JSON object. */
  json: string
  /** A record with a null value (a delete on a compacted topic). */
  tombstone: boolean
  bytes: number
}

export interface EventBatch {
  events: StreamEvent[]
  /** The record that stopped the batch (undecodable=fail); it is the next to be read. */
  stopped: Undecodable | null
  /** Records read, delivered or filtered out. */
  read: number
}

export interface DeliveryOptions {
  filter: RecordFilter
  render: StreamRenderOptions
  registry: SchemaRegistryClient
}

export class Delivery {
  private readonly filtering: boolean

  constructor (readonly source: RecordSource, readonly tracker: PositionTracker, private readonly opts: DeliveryOptions) {
    this.filtering = hasFilter(opts.filter)
  }

  async next (limits: ReadLimits): Promise<EventBatch> {
    const records = await this.source.read(limits)
    if (records.length === 0) return { events: [], stopped: null, read: 0 }
    const wanted = this.filtering ? records.filter((m) => matches(m, this.opts.filter)) : records
    let rendered
    try {
      rendered = await renderBatch(wanted, this.opts.render, this.opts.registry, this.source.shared === true)
    } catch (err) {
      this.source.unread(records)
      throw err
    }
    const events: StreamEvent[] = []
    let k = 0
    for (let i = 0; i < records.length; i++) {
      const m = records[i] as ConsumerMessage
      if (this.filtering && wanted[k] !== m) {
        this.tracker.advance(m.topic, m.partition, m.offset)
        continue
      }
      if (k >= rendered.json.length) {
        this.source.unread(records.slice(i))
        await this.source.delivering?.(records.slice(0, i))
        return { events, stopped: rendered.stopped, read: i }
      }
      const json = rendered.json[k++] as string
      this.tracker.advance(m.topic, m.partition, m.offset)
      events.push({ id: this.tracker.id(), json, tombstone: m.value === null || m.value === undefined, bytes: json.length })
    }
    await this.source.delivering?.(records)
    return { events, stopped: null, read: records.length }
  }
}
