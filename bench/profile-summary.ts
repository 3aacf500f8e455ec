// Summarises V8 CPU profiles (from `npm run bench -- --profile <dir>`): the
// share of samples per function (self time) and per category, across the
// proxy's worker processes. Run: node --import tsx bench/profile-summary.ts <dir> [top]
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: ProfileNode[], samples: number[] }

const [dir = '.', topArg = '25'] = process.argv.slice(2)
// Samples where a thread waits (the event loop idle, a pool thread parked in
// Atomics.wait) are not work; shares are of busy samples only.
const WAITING = /^(\(idle\)|atomicsWaitLoop) /

const self = new Map<string, number>()
let total = 0
process.stdout.write('busy share per profile (one per process or thread):\n')
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  let busy = 0
  for (const id of profile.samples) {
    const n = byId.get(id)
    if (n === undefined) continue
    if (WAITING.test(`${n.callFrame.functionName} `)) continue
    busy++
    const url = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|src|workers|dist)\//, '$1/')
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}${url === '' ? '' : `:${n.callFrame.lineNumber + 1}`}`
    self.set(key, (self.get(key) ?? 0) + 1)
    total++
  }
  process.stdout.write(`  ${(busy / Math.max(1, profile.samples.length) * 100).toFixed(1).padStart(5)}%  ${file}\n`)
}

const CATEGORIES: Array<[string, RegExp]> = [
  ['garbage collection', /^\(garbage collector\)/],
  ['kafka client (binding + librdkafka calls)', /kafka-javascript/],
  ['http (node:http, net, streams)', /node:(_http|http|net|stream|internal\/streams|internal\/http)/],
  ['json parse / base64 / serializers', /JSON|parse|base64|fast-json-stringify|stringify|decodeBase64/i],
  ['proxy code', /^(\S+ )(src|workers|dist)\//],
  ['other', /./]
]
const categories = new Map<string, number>()
for (const [key, n] of self) {
  const cat = CATEGORIES.find(([, re]) => re.test(key))?.[0] ?? 'other'
  categories.set(cat, (categories.get(cat) ?? 0) + n)
}
const pct = (n: number): string => `${(n / total * 100).toFixed(1)}%`
process.stdout.write(`\n${total} busy samples\n\nby category:\n`)
for (const [cat, n] of [...categories].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${pct(n).padStart(6)}  ${cat}\n`)
process.stdout.write('\ntop functions (self time):\n')
for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) process.stdout.write(`  ${pct(n).padStart(6)}  ${key}\n`)
