// The delivered position of one stream, and the event id that names it. Every
// pushed record carries the id of the position after it, so the text is
// rebuilt per record: each partition keeps its `p#offset` segment and only
// the one that moved is formatted again.
import { encodePlain, type StreamPosition } from './position.js'

interface TopicSegments {
  readonly topic: string
  readonly partitions: number[]
  readonly offsets: number[]
  readonly segments: string[]
  /** Index of each partition in the arrays above. */
  readonly index: Map<number, number>
}

export class PositionTracker {
  private readonly topics: TopicSegments[] = []
  private readonly byTopic = new Map<string, TopicSegments>()
  private cached: string | null = null
  /** Bumped on every change, so a caller can tell whether an id it sent is still current. */
  version = 0

  /** `grow`: a record of a partition not tracked yet adds it (a consumer group's assignment is not known up front). */
  constructor (position: StreamPosition, private readonly encode: boolean, private readonly grow = false) {
    for (const [topic, offsets] of position) this.add(topic, offsets)
  }

  /** Adds a topic's partitions (or more partitions of a topic already tracked). */
  add (topic: string, offsets: ReadonlyMap<number, number>): void {
    let t = this.byTopic.get(topic)
    if (t === undefined) {
      t = { topic, partitions: [], offsets: [], segments: [], index: new Map() }
      this.topics.push(t)
      this.byTopic.set(topic, t)
    }
    const entries = [...t.partitions.map((p, i) => [p, t.offsets[i] as number] as const), ...offsets]
    const merged = new Map(entries)
    const sorted = [...merged.keys()].sort((a, b) => a - b)
    t.partitions.length = 0
    t.offsets.length = 0
    t.segments.length = 0
    t.index.clear()
    for (const p of sorted) {
      const o = merged.get(p) as number
      t.index.set(p, t.partitions.length)
      t.partitions.push(p)
      t.offsets.push(o)
      t.segments.push(`${p}#${o}`)
    }
    this.changed()
  }

  /** The next offset of a partition; undefined when it is not in the stream. */
  next (topic: string, partition: number): number | undefined {
    const t = this.byTopic.get(topic)
    const i = t?.index.get(partition)
    return i === undefined ? undefined : (t as TopicSegments).offsets[i]
  }

  /** Records that the record at `offset` was delivered (or passed over by a filter). */
  advance (topic: string, partition: number, offset: number): void {
    const t = this.byTopic.get(topic)
    const i = t?.index.get(partition)
    if (i === undefined) {
      if (this.grow) this.add(topic, new Map([[partition, offset + 1]]))
      return
    }
    const seg = t as TopicSegments
    if ((seg.offsets[i] as number) > offset) return
    seg.offsets[i] = offset + 1
    seg.segments[i] = `${partition}#${offset + 1}`
    this.changed()
  }

  /** The event id of the current position. */
  id (): string {
    if (this.cached === null) {
      let plain = ''
      for (const t of this.topics) {
        if (t.partitions.length === 0) continue
        plain += `${plain === '' ? '' : ';'}${t.topic}@${t.segments.join(',')}`
      }
      this.cached = encodePlain(plain, this.encode)
    }
    return this.cached
  }

  /** The current position (a copy). */
  position (): StreamPosition {
    const out: StreamPosition = new Map()
    for (const t of this.topics) out.set(t.topic, new Map(t.partitions.map((p, i) => [p, t.offsets[i] as number])))
    return out
  }

  private changed (): void {
    this.cached = null
    this.version++
  }
}
