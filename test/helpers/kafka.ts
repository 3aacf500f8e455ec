// Integration-test access to the real broker the test runner started. Tests
// talk to Kafka with plain librdkafka clients, independent of the proxy code.
import { randomUUID } from 'node:crypto'
import { AdminClient, KafkaConsumer, Producer } from '../../src/kafka/binding.js'

export function bootstrap (): string {
  const value = process.env.TEST_KAFKA_BOOTSTRAP
  if (value === undefined || value === '') {
    throw new Error('TEST_KAFKA_BOOTSTRAP is not set: run integration tests through `npm test`, which starts a broker')
  }
  return value
}

export function uniqueName (prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export interface NativeRecord {
  key: Buffer | null
  value: Buffer | null
  headers?: Array<Record<string, Buffer>>
}

/**
 * Produces to one partition with a plain librdkafka producer, bypassing the
 * proxy's validation (for records the proxy would refuse), one record at a
 * time so the offsets follow the list; resolves with the offsets.
 */
export async function produceNative (topic: string, partition: number, records: NativeRecord[]): Promise<number[]> {
  const producer = new Producer({ 'bootstrap.servers': bootstrap(), dr_cb: true, 'linger.ms': 5, 'message.max.bytes': 10_000_000 })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  try {
    const offsets: number[] = new Array(records.length)
    let left = records.length
    const done = new Promise<void>((resolve, reject) => {
      producer.on('delivery-report', (err, report) => {
        if (err) {
          reject(err)
          return
        }
        offsets[report.opaque as number] = report.offset
        if (--left === 0) resolve()
      })
    })
    producer.setPollInterval(10)
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as NativeRecord
      producer.produce(topic, partition, r.value, r.key, Date.now(), i, r.headers)
      producer.flush(10000, () => {})
    }
    await done
    return offsets
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  }
}

export async function createTopic (name: string, partitions = 1, servers = bootstrap()): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': servers, 'client.id': 'test-admin' })
  try {
    await new Promise<void>((resolve, reject) => {
      admin.createTopic({ topic: name, num_partitions: partitions, replication_factor: 1 }, 15000, (err) => {
        if (err !== null && err !== undefined) reject(err)
        else resolve()
      })
    })
  } finally {
    admin.disconnect()
  }
  await waitForTopic(name, partitions, servers)
}

/** Waits until the cluster's metadata shows every partition of the topic with a leader. */
export async function waitForTopic (name: string, partitions: number, servers = bootstrap()): Promise<void> {
  const producer = new Producer({ 'bootstrap.servers': servers, 'allow.auto.create.topics': false })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => {
    if (err !== null && err !== undefined) reject(err)
    else resolve()
  }))
  try {
    await eventually(() => new Promise<true | undefined>((resolve) => {
      producer.getMetadata({ allTopics: true, timeout: 2000 }, (err, md) => {
        const t = err === null || err === undefined ? md.topics.find((x) => x.name === name) : undefined
        resolve(t !== undefined && t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0) ? true : undefined)
      })
    }), { what: `topic ${name} in metadata` })
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  }
}

export interface ReadRecord {
  partition: number
  offset: number
  key: Buffer | null
  value: Buffer | null
  /** The record's headers in order, as [name, value] (librdkafka gives one object per header). */
  headers: Array<[string, Buffer]>
}

/**
 * Reads every partition of `topic` from the beginning with a plain librdkafka
 * consumer until `count` records arrived or the deadline passed.
 */
export async function readAll (topic: string, partitions: number, count: number, opts: { timeoutMs?: number, servers?: string } = {}): Promise<ReadRecord[]> {
  const consumer = new KafkaConsumer({
    'bootstrap.servers': opts.servers ?? bootstrap(),
    'group.id': uniqueName('test-reader'),
    'enable.auto.commit': false
  }, { 'auto.offset.reset': 'earliest' })
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10000 }, (err) => {
    if (err !== null && err !== undefined) reject(err)
    else resolve()
  }))
  const out: ReadRecord[] = []
  try {
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })))
    consumer.setDefaultConsumeTimeout(200)
    const deadline = Date.now() + (opts.timeoutMs ?? 20000)
    while (out.length < count && Date.now() < deadline) {
      const batch = await new Promise<Array<{ partition: number, offset: number, key?: unknown, value: unknown, headers?: Array<Record<string, unknown>> }>>((resolve, reject) => {
        consumer.consume(1000, (err, messages) => {
          if (err !== null && err !== undefined) reject(err)
          else resolve(messages)
        })
      })
      for (const m of batch) {
        out.push({
          partition: m.partition,
          offset: m.offset,
          key: Buffer.isBuffer(m.key) ? m.key : typeof m.key === 'string' ? Buffer.from(m.key) : null,
          value: Buffer.isBuffer(m.value) ? m.value : null,
          headers: (m.headers ?? []).flatMap((h) => Object.entries(h).map(([k, v]): [string, Buffer] => [k, Buffer.isBuffer(v) ? v : Buffer.from(String(v))]))
        })
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  }
  return out
}

/** Polls `check` until it returns a value other than undefined, or fails at the deadline. */
export async function eventually<T> (check: () => Promise<T | undefined> | T | undefined, opts: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20000)
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) {
      lastError = err
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 100))
  }
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${lastError === undefined ? '' : `: ${String(lastError)}`}`)
}
