// An independent implementation of the Java client's murmur2 (Kafka's
// Utils.murmur2 with seed 0x9747b28c), used to check where the proxy's
// producer places keyed records. Math.imul keeps the 32-bit wrap-around
// semantics of Java int arithmetic.
const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = SEED ^ length
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length & 3
  if (tail === 3) h ^= (data[whole + 2] as number) << 16
  if (tail >= 2) h ^= (data[whole + 1] as number) << 8
  if (tail >= 1) {
    h ^= data[whole] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition Java's default partitioner picks for a keyed record. */
export function javaPartition (key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions
}
