import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseProperties } from '../../src/config/java-properties.js'

function entries (text: string): Array<[string, string]> {
  const parsed = parseProperties(text)
  assert.deepEqual(parsed.errors, [])
  return parsed.entries.map(e => [e.key, e.value])
}

test('key=value, key:value and key value are the three separators, with blanks around them dropped', () => {
  assert.deepEqual(entries('a=1\nb:2\nc 3\nd = 4\ne\t:\t5\nf   6\n'), [
    ['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6']
  ])
})

test('only the first separator splits: the value keeps later = and : characters and its trailing blanks', () => {
  assert.deepEqual(entries('url=http://host:8081/x?a=b  \nk = = v\n'), [['url', 'http://host:8081/x?a=b  '], ['k', '= v']])
})

test('lines whose first non-blank character is # or ! are comments, and blank lines are skipped', () => {
  assert.deepEqual(entries('# a comment\n   ! another\n\n   \t\nkey=value # not a comment\n'), [['key', 'value # not a comment']])
})

test('a key alone has an empty value', () => {
  assert.deepEqual(entries('lonely\nalso=\n'), [['lonely', ''], ['also', '']])
})

test('a line ending in an odd number of backslashes continues on the next, whose leading blanks are dropped', () => {
  assert.deepEqual(entries('list=a,\\\n    b,\\\n\tc\nkeep=ends\\\\\nnext=1\n'), [['list', 'a,b,c'], ['keep', 'ends\\'], ['next', '1']])
})

test('a continued line takes the next line as it is, even one that looks like a comment', () => {
  assert.deepEqual(entries('k=v\\\n  # still the value\n'), [['k', 'v# still the value']])
})

test('a comment ending in a backslash does not continue onto the next line', () => {
  assert.deepEqual(entries('# comment \\\nreal=1\n'), [['real', '1']])
})

test('a continuation into nothing, at the end of the file or before a blank line, ends the entry', () => {
  assert.deepEqual(entries('a=1\\'), [['a', '1']])
  assert.deepEqual(entries('a=1\\\n\nb=2'), [['a', '1'], ['b', '2']])
  assert.deepEqual(entries('\\\n   \n'), [])
})

test('escapes apply in keys and values: \\t \\n \\r \\f, \\uXXXX, and any other character stands for itself', () => {
  assert.deepEqual(entries('tab\\tkey=a\\tb\\nc\\rd\\fe\n\\u0041\\u00e9=\\u20ac\\u0020\nx=\\q\\\\\\#\n'), [
    ['tab\tkey', 'a\tb\nc\rd\fe'], ['Aé', '€ '], ['x', 'q\\#']
  ])
})

test('escaped separators and blanks belong to the key', () => {
  assert.deepEqual(entries('a\\=b=c\nd\\:e:f\ng\\ h i\n'), [['a=b', 'c'], ['d:e', 'f'], ['g h', 'i']])
})

test('\\r\\n, \\r and \\n all end lines, and line numbers count natural lines', () => {
  const parsed = parseProperties('a=1\r\nb=2\rc=\\\r\n 3\nd=4')
  assert.deepEqual(parsed.entries, [
    { key: 'a', value: '1', line: 1 },
    { key: 'b', value: '2', line: 2 },
    { key: 'c', value: '3', line: 3 },
    { key: 'd', value: '4', line: 5 }
  ])
})

test('a later entry for a key comes after the earlier one, so a reader keeping the last one gets Java\'s answer', () => {
  const map = new Map(entries('k=first\nk=second\n'))
  assert.equal(map.get('k'), 'second')
})

test('a malformed \\uXXXX escape is an error naming its line, and the other entries still parse', () => {
  const parsed = parseProperties('good=1\nbad=\\u12g4\nshort=\\u12\nafter=2\n')
  assert.deepEqual(parsed.entries.map(e => e.key), ['good', 'after'])
  assert.deepEqual(parsed.errors.map(e => e.line), [2, 3])
  assert.match(parsed.errors[0]?.message ?? '', /malformed \\uXXXX escape/)
})
