// Kafka-side helpers of the push delivery tests: a producer for many records
// at once (plain librdkafka, independent of the proxy) and DeleteRecords, to
// move a partition's log start as retention would.
import { AdminClient, Producer } from '../../src/kafka/binding.js'
import { bootstrap } from './kafka.js'

export interface Outgoing {
  partition: number
  key?: string | Buffer | null
  value: string | Buffer | null
  headers?: Array<Record<string, Buffer>>
  timestamp?: number
}

function bytes (v: string | Buffer | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

/** Produces every record (in order per partition) and resolves with their offsets once all are acknowledged. */
export async function produceMany (topic: string, records: Outgoing[]): Promise<number[]> {
  const producer = new Producer({ 'bootstrap.servers': bootstrap(), dr_cb: true, 'linger.ms': 5, 'enable.idempotence': true })
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10000 }, (err) => err ? reject(err) : resolve()))
  try {
    const offsets: number[] = new Array(records.length)
    let left = records.length
    let failed: unknown = null
    const done = new Promise<void>((resolve, reject) => {
      if (left === 0) resolve()
      producer.on('delivery-report', (err, report) => {
        if (err) failed ??= err
        else offsets[report.opaque as number] = report.offset
        if (--left === 0) {
          if (failed === null) resolve()
          else reject(failed instanceof Error ? failed : new Error(String((failed as { message?: unknown }).message)))
        }
      })
    })
    producer.setPollInterval(5)
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as Outgoing
      for (;;) {
        try {
          producer.produce(topic, r.partition, bytes(r.value), bytes(r.key), r.timestamp ?? Date.now(), i, r.headers)
          break
        } catch {
          // Queue full: let delivery reports drain it.
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
      }
    }
    await new Promise<void>((resolve, reject) => producer.flush(30000, (err) => err ? reject(err) : resolve()))
    await done
    return offsets
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()))
  }
}

/** Deletes the records of a partition below `offset`, so its log start moves there. */
export async function deleteRecordsBefore (topic: string, partition: number, offset: number): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': bootstrap(), 'client.id': 'test-delete-records' })
  try {
    await new Promise<void>((resolve, reject) => {
      (admin as unknown as { deleteRecords: (r: unknown[], o: unknown, cb: (err: unknown) => void) => void })
        .deleteRecords([{ topic, partition, offset }], { timeout: 10000 }, (err) => err ? reject(err) : resolve())
    })
  } finally {
    admin.disconnect()
  }
}
