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
import type { Tails } from './tail.js'
import { PositionTracker } from './tracker.js'

export interface OpenDeps {
  metadata: ClusterMetadata
  readers: StreamReaders
  registry: SchemaRegistryClient
  encodeIds: boolean
  /** The process's topic tails (fan-out); null: every stream reads on its own. */
  tails: Tails | null
}

export interface OpenedStream {
  delivery: Delivery
  topic: string
  partitions: number[]
  /** Resumed offsets that could not be honoured (deleted by retention, past the end). */
  resets: Reset[]
  /** A stream of the topics matching this pattern (topic '-'). */
  pattern?: RegExp
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

function sameOffsets (a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  for (const [p, o] of a) if (b.get(p) !== o) return false
  return true
}

/**
 * Where a stream's records come from: the topic's tail when the stream
 * starts inside its window (or at the topic's end, where a tail starts on
 * this stream's reader), else a reader of the stream's own.
 */
export async function openTopicStream (deps: OpenDeps, topic: string, params: StreamParams): Promise<OpenedStream> {
  const info = await topicOf(deps.metadata, topic)
  if (params.resume !== null) checkResume(params.resume, info)
  const partitions = await streamPartitions(deps.metadata, info, params.partitions)
  const stream = (source: RecordSource, position: StreamPosition, resets: Reset[]): OpenedStream => {
    const tracker = new PositionTracker(position, deps.encodeIds)
    const delivery = new Delivery(source, tracker, { filter: params.filter, render: params.render, registry: deps.registry })
    return { delivery, topic, partitions, resets }
  }
  const tails = deps.tails
  // `latest` where a tail runs: its head, with no broker round trip.
  const running = tails?.get(topic)
  const head = params.resume === null && params.from.kind === 'latest' ? running?.position(partitions) : undefined
  if (running !== undefined && head !== undefined && head !== null) return stream(running.subscribe(head), new Map([[topic, new Map(head)]]), [])
  const wanted = exactly(params.resume, topic, partitions)
  const resumed = wanted?.get(topic)
  if (running !== undefined && resumed !== undefined && running.covers(resumed)) return stream(running.subscribe(new Map(resumed)), wanted as StreamPosition, [])
  // `latest` where no tail runs yet: the first such stream starts the tail;
  // those arriving while it does wait for it and subscribe at its head,
  // instead of each taking a reader of its own (clients reconnecting at once
  // took every reader of the pool, and the rest were 503s).
  if (tails !== null && running === undefined && params.resume === null && params.from.kind === 'latest') {
    const starting = tails.starting(topic)
    if (starting !== undefined) {
      await starting
      return await openTopicStream(deps, topic, params)
    }
    const started = tails.willStart(topic)
    try {
      return await openFromReader(deps, topic, partitions, params, wanted, stream)
    } finally {
      started()
    }
  }
  return await openFromReader(deps, topic, partitions, params, wanted, stream)
}

/** A stream whose start needs a reader: to find its offsets, and to read from there (or to start the topic's tail). */
async function openFromReader (deps: OpenDeps, topic: string, partitions: number[], params: StreamParams, wanted: StreamPosition | null,
  stream: (source: RecordSource, position: StreamPosition, resets: Reset[]) => OpenedStream): Promise<OpenedStream> {
  const tails = deps.tails
  const reader = await deps.readers.acquire(wanted)
  // Whether `reader` is still this function's to give back on a failure.
  let holding = true
  try {
    if (wanted !== null && reader.continues(wanted)) return stream(new ReaderSource(deps.readers, reader), wanted, [])
    const start = await resolveStart(reader, topic, partitions, params.from, params.resume)
    const offsets = start.position.get(topic) as Map<number, number>
    if (tails !== null) {
      const tail = tails.get(topic)
      if (tail !== undefined && tail.covers(offsets)) {
        holding = false
        deps.readers.release(reader, true)
        return stream(tail.subscribe(new Map(offsets)), start.position, start.resets)
      }
      if (sameOffsets(offsets, start.ends)) {
        holding = false
        const atEnd = tails.start(topic, reader, offsets)
        if (atEnd !== null) {
          atEnd.extend(offsets)
          if (atEnd.covers(offsets)) return stream(atEnd.subscribe(new Map(offsets)), start.position, start.resets)
        }
        // The reader went to the tail (or back to the pool): read on a fresh one.
        const own = await deps.readers.acquire(null)
        return openOwn(deps, own, start.position, stream, start.resets)
      }
    }
    holding = false
    return openOwn(deps, reader, start.position, stream, start.resets)
  } catch (err) {
    if (holding) deps.readers.release(reader, false)
    throw err
  }
}

function openOwn (deps: OpenDeps, reader: StreamReader, position: StreamPosition,
  stream: (source: RecordSource, position: StreamPosition, resets: Reset[]) => OpenedStream, resets: Reset[]): OpenedStream {
  try {
    reader.assign(position)
  } catch (err) {
    deps.readers.release(reader, false)
    throw err
  }
  return stream(new ReaderSource(deps.readers, reader), position, resets)
}
