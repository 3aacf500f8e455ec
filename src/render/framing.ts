// consumer.strip_schema_framing: Confluent's serializers put 5 bytes in front
// of every key or value they write (magic byte 0, then the 4-byte big-endian
// schema id: src/formats/wire.ts). The schema formats decode those frames
// through the registry; a client that reads such a topic as BINARY, STRING or
// JSON gets the 5 bytes glued to the payload. Gravitee calls removing them
// "Remove Confluent Header".
//
// Nothing in the bytes says they are a frame rather than data that happens to
// start with 0x00, so the option is the operator's claim about the topics
// read, off by default. Exactly the 5 bytes are removed, only when byte 0 is
// 0 and there are at least 5; anything else is delivered as stored. Protobuf
// frames also carry message indexes after the schema id, which nothing
// announces: those stay in the payload.
//
// The renderers take one FramingStrip per process (config is per process) and
// test one boolean per side per record, so the default costs nothing else.
import type { ConsumerConfig } from '../config/schema.js'
import { HEADER_SIZE, MAGIC_BYTE } from '../formats/wire.js'

export type StripFramingMode = ConsumerConfig['strip_schema_framing']

/** Which sides lose a leading frame when they are rendered as BINARY, STRING or JSON. */
export interface FramingStrip {
  readonly key: boolean
  readonly value: boolean
}

export const NO_STRIP: FramingStrip = Object.freeze({ key: false, value: false })

export function framingStrip (mode: StripFramingMode): FramingStrip {
  if (mode === 'none') return NO_STRIP
  return Object.freeze({ key: mode !== 'value', value: mode !== 'key' })
}

/** The bytes after a Confluent frame's magic byte and schema id (a view, not a copy); other bytes as they are. */
export function unframed (bytes: Buffer | null): Buffer | null {
  return bytes !== null && bytes.length >= HEADER_SIZE && bytes[0] === MAGIC_BYTE ? bytes.subarray(HEADER_SIZE) : bytes
}
