// Reads a /metrics scrape in the Prometheus text exposition format (0.0.4):
// `# TYPE` lines and samples `name{label="value",…} value [timestamp]`, label
// values with the format's three escapes. Written here from the format's
// description rather than taken from the proxy, so the test does not read
// the proxy's output with the proxy's own code. (The npm parser
// parse-prometheus-text-format merges every series of a labelled histogram
// into one, so it cannot check per-route latency counts.)

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Scrape {
  /** Family name -> its `# TYPE` (counter, gauge, histogram, …). */
  types: Map<string, string>
  samples: Sample[]
  /** The sum of the samples named `name` whose labels include `labels`; undefined when none matches. */
  value (name: string, labels?: Record<string, string>): number | undefined
  /** A histogram's `_count`, summed over the series whose labels include `labels`. */
  histogramCount (name: string, labels?: Record<string, string>): number | undefined
  /** The upper bounds of a histogram's buckets. */
  bucketBounds (name: string): number[]
  /** The label sets of the samples named `name`. */
  labelSets (name: string): Array<Record<string, string>>
}

function parseValue (raw: string): number {
  if (raw === '+Inf') return Infinity
  if (raw === '-Inf') return -Infinity
  const n = Number(raw)
  if (raw === '' || (Number.isNaN(n) && raw !== 'NaN')) throw new Error(`not a sample value: ${raw}`)
  return n
}

/** One sample line; throws on anything the format does not allow. */
export function parseSample (line: string): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0]
  if (name === undefined) throw new Error(`no metric name: ${line}`)
  let i = name.length
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    while (line[i] !== '}') {
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0]
      if (label === undefined || line[i + label.length] !== '=' || line[i + label.length + 1] !== '"') throw new Error(`bad label at ${i}: ${line}`)
      i += label.length + 2
      let value = ''
      for (;;) {
        const c = line[i++]
        if (c === undefined) throw new Error(`unterminated label value: ${line}`)
        if (c === '"') break
        if (c === '\\') {
          const e = line[i++]
          value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`
        } else {
          value += c
        }
      }
      if (label in labels) throw new Error(`label ${label} twice: ${line}`)
      labels[label] = value
      if (line[i] === ',') i++
      else if (line[i] !== '}') throw new Error(`expected , or } at ${i}: ${line}`)
    }
    i++
  }
  const rest = line.slice(i).trim().split(/\s+/)
  if (rest.length < 1 || rest.length > 2) throw new Error(`bad sample: ${line}`)
  return { name, labels, value: parseValue(rest[0] as string) }
}

function matches (have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v)
}

export function readScrape (text: string): Scrape {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    if (line.startsWith('#')) {
      const m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
      if (m !== null) types.set(m[1] as string, m[2] as string)
      continue
    }
    samples.push(parseSample(line))
  }
  const sum = (name: string, labels: Record<string, string>): number | undefined => {
    let found = false
    let total = 0
    for (const s of samples) {
      if (s.name !== name || !matches(s.labels, labels)) continue
      found = true
      total += s.value
    }
    return found ? total : undefined
  }
  return {
    types,
    samples,
    value: (name, labels = {}) => sum(name, labels),
    histogramCount: (name, labels = {}) => sum(`${name}_count`, labels),
    bucketBounds: (name) => [...new Set(samples.filter((s) => s.name === `${name}_bucket`).map((s) => parseValue(s.labels.le ?? '')))].sort((a, b) => a - b),
    labelSets: (name) => samples.filter((s) => s.name === name).map((s) => s.labels)
  }
}

export async function scrape (url: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`)
  return readScrape(await res.text())
}
