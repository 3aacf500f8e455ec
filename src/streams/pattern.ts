// Streams of every topic whose name matches a pattern
// (GET /v3/clusters/{cluster_id}/topics/-/records?topic_pattern=<regex>, as
// Gravitee's topics.pattern), including topics created after the stream
// started: at each heartbeat the stream takes in the topics and partitions the
// metadata cache shows newly matching, from their first record.
//
// The pattern is a JavaScript regular expression matched against the whole
// name. It runs on the event loop against names of at most 249 characters;
// patterns that can backtrack exponentially (a quantified group that itself
// holds a quantifier, backreferences) are refused, as are patterns longer
// than MAX_PATTERN_CHARS. Kafka's internal topics (`__consumer_offsets`,
// `__transaction_state`, …) never match.
import { ProxyError } from '../errors.js'
import type { ClusterMetadata, ClusterView } from '../kafka/metadata.js'
import type { SchemaRegistryClient } from '../registry/client.js'
import { Delivery } from './delivery.js'
import { ReaderSource, type OpenedStream } from './open.js'
import type { StreamParams } from './params.js'
import type { StreamPosition } from './position.js'
import type { StreamReaders } from './reader.js'
import { resolveStart, type Reset } from './start.js'
import { PositionTracker } from './tracker.js'

export const MAX_PATTERN_CHARS = 256

function bad (message: string): ProxyError {
  return new ProxyError('badRequest', `Bad Request: ${message}`)
}

/** The compiled pattern, anchored to whole names; 400 for one that is not a safe regular expression. */
export function parsePattern (raw: string | null): RegExp {
  if (raw === null || raw === '') throw bad('topic_pattern is required on topics/-/records (a regular expression over topic names).')
  if (raw.length > MAX_PATTERN_CHARS) throw bad(`topic_pattern is longer than ${MAX_PATTERN_CHARS} characters.`)
  if (/\\[1-9]|\\k</.test(raw)) throw bad('topic_pattern cannot hold backreferences.')
  // A group with a quantifier inside that is quantified itself ((a+)+, (a|aa)*…) backtracks exponentially.
  if (/\([^()]*(?:[+*]|\{\d)[^()]*\)\s*(?:[+*?]|\{\d)/.test(raw) || /\([^()]*\|[^()]*\)\s*[+*]/.test(raw)) {
    throw bad('topic_pattern cannot quantify a group that holds a quantifier or an alternation (it could take exponential time).')
  }
  try {
    // No u flag: topic names are ASCII, and it would refuse common escapes such as \-.
    return new RegExp(`^(?:${raw})$`)
  } catch (err) {
    throw bad(`topic_pattern is not a regular expression: ${(err as Error).message}.`)
  }
}

/** The topics of `view` the pattern matches, with their partitions. */
export function matching (view: ClusterView | null, pattern: RegExp): Map<string, number[]> {
  const out = new Map<string, number[]>()
  if (view === null) return out
  for (const [name, info] of view.topics) {
    if (name.startsWith('__') || !pattern.test(name)) continue
    const partitions: number[] = []
    info.partitions.forEach((p, i) => { if (p !== undefined) partitions.push(i) })
    out.set(name, partitions)
  }
  return out
}

export interface PatternDeps {
  metadata: ClusterMetadata
  readers: StreamReaders
  registry: SchemaRegistryClient
  encodeIds: boolean
}

export async function openPatternStream (deps: PatternDeps, pattern: RegExp, params: StreamParams): Promise<OpenedStream> {
  let view: ClusterView
  try {
    view = await deps.metadata.current()
  } catch {
    throw new ProxyError('clusterUnreachable')
  }
  const topics = matching(view, pattern)
  const reader = await deps.readers.acquire(null)
  try {
    const position: StreamPosition = new Map()
    const resets: Reset[] = []
    // Topics the id names that no longer match (or exist) are left out.
    for (const [topic, partitions] of topics) {
      const start = await resolveStart(reader, topic, partitions, params.from, params.resume)
      position.set(topic, start.position.get(topic) as Map<number, number>)
      resets.push(...start.resets)
    }
    reader.assign(position)
    const tracker = new PositionTracker(position, deps.encodeIds)
    const delivery = new Delivery(new ReaderSource(deps.readers, reader), tracker, { filter: params.filter, render: params.render, registry: deps.registry })
    return { delivery, topic: '-', partitions: [], resets, pattern }
  } catch (err) {
    deps.readers.release(reader, false)
    throw err
  }
}

/**
 * What a pattern stream gains since `known` (topics and partitions newly
 * matching in the metadata cache), each from offset 0: all their records
 * are new to the stream. `known` is updated.
 */
export function gained (view: ClusterView | null, pattern: RegExp, known: Map<string, Set<number>>): StreamPosition {
  const out: StreamPosition = new Map()
  for (const [topic, partitions] of matching(view, pattern)) {
    let seen = known.get(topic)
    if (seen === undefined) known.set(topic, seen = new Set())
    const fresh = partitions.filter((p) => !(seen as Set<number>).has(p))
    for (const p of fresh) seen.add(p)
    if (fresh.length > 0) out.set(topic, new Map(fresh.map((p) => [p, 0])))
  }
  return out
}
