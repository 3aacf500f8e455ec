import { test } from 'node:test'
import assert from 'node:assert/strict'
import { JsonObjectSplitter } from '../../src/json/object-splitter.js'

/** Feeds `chunks` one by one and collects every object and the first error. */
function split (chunks: Buffer[], max?: number): { objects: string[], error: string | null } {
  const s = new JsonObjectSplitter(max)
  const objects: string[] = []
  for (const c of chunks) {
    const r = s.push(c)
    objects.push(...r.objects.map((o) => o.toString('utf8')))
    if (r.error !== null) return { objects, error: r.error }
  }
  return { objects, error: s.end() }
}

const tricky = [
  { a: 'brace } and { inside', b: 'quote \\" and \\\\ backslash "', c: [1, { d: [] }] },
  { key: { type: 'STRING', data: 'ünïcödé ✓ 😀' }, e: '\\' },
  { value: { type: 'JSON', data: { nested: { deeper: ['}', '{', ']', '['] } } } }
]
const text = ` \n${JSON.stringify(tricky[0])}\r\n\t${JSON.stringify(tricky[1])}${JSON.stringify(tricky[2])}\n`
const bytes = Buffer.from(text, 'utf8')

test('splits concatenated objects with whitespace between them in one chunk', () => {
  const { objects, error } = split([bytes])
  assert.equal(error, null)
  assert.deepEqual(objects.map((o) => JSON.parse(o)), tricky)
})

test('gives the same objects when the input is split at every byte position', () => {
  for (let i = 0; i <= bytes.length; i++) {
    const { objects, error } = split([bytes.subarray(0, i), bytes.subarray(i)])
    assert.equal(error, null, `split at ${i}`)
    assert.deepEqual(objects.map((o) => JSON.parse(o)), tricky, `split at ${i}`)
  }
})

test('gives the same objects when fed one byte at a time (multi-byte characters split)', () => {
  const chunks = Array.from(bytes, (b) => Buffer.from([b]))
  const { objects, error } = split(chunks)
  assert.equal(error, null)
  assert.deepEqual(objects.map((o) => JSON.parse(o)), tricky)
})

test('an object is emitted as soon as its closing brace arrives', () => {
  const s = new JsonObjectSplitter()
  assert.deepEqual(s.push(Buffer.from('{"a":')).objects, [])
  assert.deepEqual(s.push(Buffer.from('1}{"b"')).objects.map(String), ['{"a":1}'])
  assert.deepEqual(s.push(Buffer.from(':2}')).objects.map(String), ['{"b":2}'])
  assert.equal(s.end(), null)
})

test('does not keep a reference to the caller\'s chunk', () => {
  const s = new JsonObjectSplitter()
  const chunk = Buffer.from('{"a":"xy')
  s.push(chunk)
  chunk.fill(0x20)
  assert.deepEqual(s.push(Buffer.from('z"}')).objects.map(String), ['{"a":"xyz"}'])
})

test('whitespace only is no input; anything else is', () => {
  const empty = new JsonObjectSplitter()
  assert.deepEqual(empty.push(Buffer.from(' \r\n\t ')), { objects: [], error: null })
  assert.equal(empty.sawInput, false)
  assert.equal(empty.end(), null)
  const some = new JsonObjectSplitter()
  some.push(Buffer.from('  {'))
  assert.equal(some.sawInput, true)
})

test('a character between objects is an error after the objects before it', () => {
  const { objects, error } = split([Buffer.from('{"a":1} x {"b":2}')])
  assert.deepEqual(objects, ['{"a":1}'])
  assert.match(error ?? '', /Unexpected character 'x'/)
})

test('a top-level array or stray closing brace is an error', () => {
  assert.match(split([Buffer.from('[{"a":1}]')]).error ?? '', /Unexpected character '\['/)
  assert.match(split([Buffer.from('{"a":1}}')]).error ?? '', /Unexpected character '\}'/)
})

test('an object left open at the end of the stream is an error', () => {
  const { objects, error } = split([Buffer.from('{"a":1}{"b":"}')])
  assert.deepEqual(objects, ['{"a":1}'])
  assert.match(error ?? '', /end of input/)
})

test('malformed JSON inside balanced braces passes through for JSON.parse to reject', () => {
  const { objects, error } = split([Buffer.from('{"a":1}{"b":,}{"c":3}')])
  assert.equal(error, null)
  assert.equal(objects.length, 3)
  assert.throws(() => JSON.parse(objects[1] as string), SyntaxError)
})

test('after an error nothing more is split', () => {
  const s = new JsonObjectSplitter()
  assert.notEqual(s.push(Buffer.from('nope')).error, null)
  const r = s.push(Buffer.from('{"a":1}'))
  assert.deepEqual(r.objects, [])
  assert.notEqual(r.error, null)
})

test('an object larger than the limit is an error, whether in one chunk or many', () => {
  assert.match(split([Buffer.from('{"a":"0123456789"}')], 10).error ?? '', /larger than the limit of 10 bytes/)
  assert.match(split([Buffer.from('{"a":'), Buffer.from('"0123'), Buffer.from('456789"}')], 10).error ?? '', /larger than the limit/)
  assert.deepEqual(split([Buffer.from('{"a":1}{"b":2}')], 7), { objects: ['{"a":1}', '{"b":2}'], error: null })
})

test('bytes that are not UTF-8 pass through unchanged, for the caller to judge', () => {
  const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d])
  assert.deepEqual(new JsonObjectSplitter().push(bytes).objects, [bytes])
})

test('strings with runs of backslashes before quotes split correctly at random chunk boundaries', () => {
  // A seeded generator keeps failures reproducible.
  let seed = 42
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const pieces = ['\\', '"', '}', '{', 'x', '\\\\', '\\"', ']']
  for (let round = 0; round < 200; round++) {
    const objects = Array.from({ length: 1 + rand(4) }, () => {
      let s = ''
      for (let k = rand(12); k > 0; k--) s += pieces[rand(pieces.length)] as string
      return { s, t: [s, { u: s }] }
    })
    const input = Buffer.from(objects.map((o) => JSON.stringify(o)).join(' '))
    const chunks: Buffer[] = []
    for (let at = 0; at < input.length;) {
      const len = 1 + rand(8)
      chunks.push(input.subarray(at, at + len))
      at += len
    }
    const { objects: got, error } = split(chunks)
    assert.equal(error, null, `round ${round}`)
    assert.deepEqual(got.map((o) => JSON.parse(o)), objects, `round ${round}`)
  }
})

test('an object split inside a multi-byte character comes out as its exact bytes', () => {
  const bytes = Buffer.from('{"v":"€😀"}')
  for (let i = 1; i < bytes.length; i++) {
    const s = new JsonObjectSplitter()
    const first = s.push(bytes.subarray(0, i)).objects
    const second = s.push(bytes.subarray(i)).objects
    assert.deepEqual([...first, ...second].map((o) => o.toString('hex')), [bytes.toString('hex')], `split at ${i}`)
  }
})
