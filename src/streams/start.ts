// Where a stream starts on each of its partitions: the position it resumes
// from, or `from` (latest, earliest or a timestamp) when it has none.
//
// A resumed offset is checked against the partition's log: below the log
// start the records were deleted (retention, DeleteRecords) and the stream
// restarts at the log start; past the end (a topic deleted and created again)
// it waits at the end. Either way the stream says so (a `reset`), because the
// client did not get what it asked for. A partition the position does not name
// starts at its log start: it is new to the stream (partitions a topic gained,
// a topic a pattern matched later), so all its records are after the id.
import type { StreamPosition } from './position.js'
import type { StreamReader } from './reader.js'

export type StartFrom =
  | { readonly kind: 'latest' }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'time', readonly ms: number }

export interface Reset {
  topic: string
  partition: number
  /** The offset the position asked for. */
  requested: number
  /** Where the stream starts instead. */
  offset: number
  reason: 'deleted' | 'past-end'
}

export interface Start {
  position: StreamPosition
  resets: Reset[]
  /** Each partition's end (high watermark) when asked. */
  ends: Map<number, number>
}

/** The start of `partitions` of `topic`; `resume` wins over `from` when given. */
export async function resolveStart (reader: StreamReader, topic: string, partitions: readonly number[],
  from: StartFrom, resume: StreamPosition | null): Promise<Start> {
  const offsets = new Map<number, number>()
  const ends = new Map<number, number>()
  const resets: Reset[] = []
  const marks = await Promise.all(partitions.map((p) => reader.watermarks(topic, p)))
  const found = resume === null && from.kind === 'time' ? await reader.offsetsForTimes(topic, partitions, from.ms) : null
  const resumed = resume?.get(topic)
  for (let i = 0; i < partitions.length; i++) {
    const partition = partitions[i] as number
    const { low, high } = marks[i] as { low: number, high: number }
    ends.set(partition, high)
    let offset: number
    if (resume !== null) {
      const requested = resumed?.get(partition)
      if (requested === undefined) offset = low
      else if (requested < low) {
        offset = low
        resets.push({ topic, partition, requested, offset, reason: 'deleted' })
      } else if (requested > high) {
        offset = high
        resets.push({ topic, partition, requested, offset, reason: 'past-end' })
      } else offset = requested
    } else if (from.kind === 'earliest') offset = low
    else if (from.kind === 'latest') offset = high
    else {
      // No record at or after the time: the stream waits at the end.
      const at = found?.get(partition) ?? -1
      offset = at < 0 ? high : Math.min(Math.max(at, low), high)
    }
    offsets.set(partition, offset)
  }
  return { position: new Map([[topic, offsets]]), resets, ends }
}

/** One line a client can read for each reset. */
export function describeReset (r: Reset): string {
  return r.reason === 'deleted'
    ? `offset ${r.requested} of ${r.topic} partition ${r.partition} was deleted (retention); restarting at the earliest offset, ${r.offset}`
    : `offset ${r.requested} of ${r.topic} partition ${r.partition} is past the end of the partition; continuing at its end, ${r.offset}`
}
