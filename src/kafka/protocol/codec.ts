// Kafka wire-format primitives (https://kafka.apache.org/protocol#protocol_types):
// big-endian fixed-width integers, unsigned/zig-zag varints, classic (int16 /
// int32 length) and compact (unsigned varint length + 1, 0 meaning null)
// strings, bytes and arrays, and the tagged-field sections of flexible
// versions (KIP-482).

/** A tagged field as read: its tag and raw payload. */
export interface TaggedField {
  tag: number
  data: Buffer
}

export class ProtocolDecodeError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ProtocolDecodeError'
  }
}

const UUID_ZERO = Buffer.alloc(16)

/** Appends to a growing buffer; `finish()` returns the bytes written. */
export class Writer {
  private buf: Buffer
  private pos = 0

  constructor (initial = 256) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  private ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  get length (): number {
    return this.pos
  }

  finish (): Buffer {
    return this.buf.subarray(0, this.pos)
  }

  int8 (v: number): this {
    this.ensure(1)
    this.buf.writeInt8(v, this.pos)
    this.pos += 1
    return this
  }

  bool (v: boolean): this {
    return this.int8(v ? 1 : 0)
  }

  int16 (v: number): this {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.pos)
    this.pos += 2
    return this
  }

  int32 (v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  uint32 (v: number): this {
    this.ensure(4)
    this.buf.writeUInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  int64 (v: bigint): this {
    this.ensure(8)
    this.buf.writeBigInt64BE(v, this.pos)
    this.pos += 8
    return this
  }

  /** Unsigned LEB128 of a value in [0, 2^32). */
  uvarint (v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uvarint out of range: ${v}`)
    this.ensure(5)
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80
      v = Math.floor(v / 128)
    }
    this.buf[this.pos++] = v
    return this
  }

  /** Zig-zag signed varint of an int32. */
  varint (v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`varint out of range: ${v}`)
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1)
  }

  raw (b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  uuid (v: Buffer | null): this {
    return this.raw(v ?? UUID_ZERO)
  }

  /** STRING / NULLABLE_STRING: int16 length, -1 for null. */
  string (v: string | null): this {
    if (v === null) return this.int16(-1)
    const b = Buffer.from(v, 'utf8')
    if (b.length > 0x7fff) throw new RangeError('string longer than 32767 bytes')
    return this.int16(b.length).raw(b)
  }

  /** COMPACT_STRING / COMPACT_NULLABLE_STRING. */
  compactString (v: string | null): this {
    if (v === null) return this.uvarint(0)
    const b = Buffer.from(v, 'utf8')
    return this.uvarint(b.length + 1).raw(b)
  }

  /** BYTES / NULLABLE_BYTES: int32 length, -1 for null. */
  bytes (v: Uint8Array | null): this {
    if (v === null) return this.int32(-1)
    return this.int32(v.length).raw(v)
  }

  /** COMPACT_BYTES / COMPACT_NULLABLE_BYTES. */
  compactBytes (v: Uint8Array | null): this {
    if (v === null) return this.uvarint(0)
    return this.uvarint(v.length + 1).raw(v)
  }

  /** ARRAY: int32 count, -1 for null. */
  array<T> (items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int32(-1)
    this.int32(items.length)
    for (const item of items) each(this, item)
    return this
  }

  /** COMPACT_ARRAY: unsigned varint count + 1, 0 for null. */
  compactArray<T> (items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.uvarint(0)
    this.uvarint(items.length + 1)
    for (const item of items) each(this, item)
    return this
  }

  /** A tagged-field section; tags must be written in ascending order. */
  tagged (fields: readonly TaggedField[] = []): this {
    this.uvarint(fields.length)
    let last = -1
    for (const f of fields) {
      if (f.tag <= last) throw new RangeError('tagged fields must be in strictly ascending tag order')
      last = f.tag
      this.uvarint(f.tag).uvarint(f.data.length).raw(f.data)
    }
    return this
  }
}

/** Reads from one response body; every read checks bounds. */
export class Reader {
  private pos: number
  constructor (private readonly buf: Buffer, offset = 0) {
    this.pos = offset
  }

  get offset (): number {
    return this.pos
  }

  get remaining (): number {
    return this.buf.length - this.pos
  }

  private need (n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProtocolDecodeError(`truncated response: need ${n} bytes at offset ${this.pos} of ${this.buf.length}`)
    }
  }

  int8 (): number {
    this.need(1)
    return this.buf.readInt8(this.pos++)
  }

  bool (): boolean {
    return this.int8() !== 0
  }

  int16 (): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  int32 (): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  uint32 (): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  int64 (): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }

  uvarint (): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 5; i++) {
      this.need(1)
      const byte = this.buf[this.pos++] as number
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) break
        return value
      }
      scale *= 128
    }
    throw new ProtocolDecodeError('malformed unsigned varint')
  }

  varint (): number {
    const u = this.uvarint()
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2
  }

  raw (n: number): Buffer {
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  uuid (): Buffer {
    return Buffer.from(this.raw(16))
  }

  string (): string {
    const v = this.nullableString()
    if (v === null) throw new ProtocolDecodeError('null in a non-nullable string')
    return v
  }

  nullableString (): string | null {
    const n = this.int16()
    if (n === -1) return null
    return this.raw(n).toString('utf8')
  }

  compactString (): string {
    const v = this.compactNullableString()
    if (v === null) throw new ProtocolDecodeError('null in a non-nullable compact string')
    return v
  }

  compactNullableString (): string | null {
    const n = this.uvarint()
    if (n === 0) return null
    return this.raw(n - 1).toString('utf8')
  }

  bytes (): Buffer | null {
    const n = this.int32()
    if (n === -1) return null
    return Buffer.from(this.raw(n))
  }

  compactBytes (): Buffer | null {
    const n = this.uvarint()
    if (n === 0) return null
    return Buffer.from(this.raw(n - 1))
  }

  array<T> (each: (r: this) => T): T[] | null {
    const n = this.int32()
    if (n === -1) return null
    return this.items(n, each)
  }

  compactArray<T> (each: (r: this) => T): T[] | null {
    const n = this.uvarint()
    if (n === 0) return null
    return this.items(n - 1, each)
  }

  private items<T> (n: number, each: (r: this) => T): T[] {
    // Every element takes at least one byte: a count beyond what is left is corrupt.
    if (n > this.remaining) throw new ProtocolDecodeError(`array count ${n} exceeds the ${this.remaining} bytes left`)
    const out: T[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = each(this)
    return out
  }

  tagged (): TaggedField[] {
    const n = this.uvarint()
    const out: TaggedField[] = []
    for (let i = 0; i < n; i++) {
      const tag = this.uvarint()
      const size = this.uvarint()
      out.push({ tag, data: Buffer.from(this.raw(size)) })
    }
    return out
  }
}
