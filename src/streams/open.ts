// Opening a stream of one topic: the topic and partition checks (404s before
// anything is streamed), the id's consistency with the stream, a reader, and
// where it starts. The caller owns the returned stream and closes it.
import { ProxyError } from '../errors.js'
import type { ConsumerMessage } from '../kafka/binding.js'
import type { ClusterMetadata, TopicInfo } from '../kafka/metadata.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import { Delivery, type RecordSource } from './delivery.js'
import type { StreamParams } from './params.js'
import type { StreamPosition } from './position.js'
import type { ReadLimits, StreamReader, StreamReaders } from './reader.js'
import { resolveStart, type Reset } from './start.js'
import { PositionTracker } from './tracker.js'

export interface OpenDeps {
  metadata: ClusterMetadata
  readers: StreamReaders
  registry: SchemaRegistryClient
  encodeIds: boolean
}

export interface OpenedStream {
  delivery: Delivery
  topic: string
  partitions: number[]
  /** Resumed offsets that could not be honoured (deleted by retention, past the end). */
  resets: Reset[]
}

/** A stream's records from a reader of its own. */
export class ReaderSource implements RecordSource {
  private closed = false

  constructor (private readonly readers: StreamReaders, readonly reader: StreamReader) {}

  read (limits: ReadLimits): Promise<ConsumerMessage[]> {
    return this.reader.read(limits)
  }

  unread (records: ConsumerMessage[]): void {
    this.reader.unread(records)
  }

  extend (position: StreamPosition): void {
    this.reader.extend(position)
  }

  close (keep: boolean): void {
    if (this.closed) return
    this.closed = true
    this.readers.release(this.reader, keep)
  }
}

/** The topic, or 404/40403. */
export async function topicOf (metadata: ClusterMetadata, topic: string): Promise<TopicInfo> {
  const info = await metadata.topic(topic)
  if (info === null) throw new ProxyError('unknownTopicOrPartition', `Topic ${topic} not found.`)
  return info
}

/** Every partition id of a topic, ascending. */
export function partitionIds (info: TopicInfo): number[] {
  const out: number[] = []
  info.partitions.forEach((p, i) => { if (p !== undefined) out.push(i) })
  return out
}

/** The stream's partitions: those asked for, each of which must exist (404/40402), or all. */
export async function streamPartitions (metadata: ClusterMetadata, info: TopicInfo, asked: readonly number[] | null): Promise<number[]> {
  if (asked === null) return partitionIds(info)
  if (asked.every((p) => info.partitions[p] !== undefined)) return [...asked].sort((a, b) => a - b)
  // The cached view may predate added partitions; ask once before answering 404.
  let fresh: TopicInfo | undefined
  try {
    fresh = (await metadata.refresh()).topics.get(info.name)
  } catch {
    throw new ProxyError('clusterUnreachable')
  }
  const missing = asked.find((p) => fresh?.partitions[p] === undefined)
  if (missing !== undefined) throw new ProxyError('partitionNotFound', `Partition ${missing} of topic ${info.name} not found.`)
  return [...asked].sort((a, b) => a - b)
}

/** A resume position must be of this topic, naming only partitions it has. */
export function checkResume (resume: StreamPosition, info: TopicInfo): void {
  for (const [topic, offsets] of resume) {
    if (topic !== info.name) throw new ProxyError('invalidEventId', `Invalid event id: it names topic ${topic}, and this stream is of topic ${info.name}.`)
    for (const p of offsets.keys()) {
      if (info.partitions[p] === undefined) throw new ProxyError('partitionNotFound', `Partition ${p} of topic ${info.name} not found (named by the event id).`)
    }
  }
}

/** The part of `resume` on the stream's partitions, when it names every one of them. */
function exactly (resume: StreamPosition | null, topic: string, partitions: readonly number[]): StreamPosition | null {
  const offsets = resume?.get(topic)
  if (offsets === undefined || !partitions.every((p) => offsets.has(p))) return null
  return new Map([[topic, new Map(partitions.map((p) => [p, offsets.get(p) as number]))]])
}

export async function openTopicStream (deps: OpenDeps, topic: string, params: StreamParams): Promise<OpenedStream> {
  const info = await topicOf(deps.metadata, topic)
  if (params.resume !== null) checkResume(params.resume, info)
  const partitions = await streamPartitions(deps.metadata, info, params.partitions)
  const wanted = exactly(params.resume, topic, partitions)
  const reader = await deps.readers.acquire(wanted)
  const source = new ReaderSource(deps.readers, reader)
  try {
    let position: StreamPosition
    let resets: Reset[] = []
    if (wanted !== null && reader.continues(wanted)) position = wanted
    else {
      const start = await resolveStart(reader, topic, partitions, params.from, params.resume)
      reader.assign(start.position)
      position = start.position
      resets = start.resets
    }
    const tracker = new PositionTracker(position, deps.encodeIds)
    const delivery = new Delivery(source, tracker, { filter: params.filter, render: params.render, registry: deps.registry })
    return { delivery, topic, partitions, resets }
  } catch (err) {
    source.close(false)
    throw err
  }
}
