// Renders bench/results/<file>.json as an SVG bar chart of proxy/baseline
// ratios with each scenario's target marked, for BENCHMARKS.md.
// Run: node --import tsx bench/chart.ts [results.json] [out.svg]
import { readFileSync, writeFileSync } from 'node:fs'

interface Scenario { name: string, ratio: number, target: string, met: boolean | null }
const [input = 'bench/results/latest.json', output = 'bench/chart.svg'] = process.argv.slice(2)
const { scenarios, environment } = JSON.parse(readFileSync(input, 'utf8')) as { scenarios: Scenario[], environment: { date: string, cpu: string, cores: number } }
const bars = scenarios.filter((s) => s.name !== 'latency-at-half-max' && Number.isFinite(s.ratio))

const W = 760
const rowH = 34
const left = 210
const top = 50
const scaleMax = Math.max(1.2, ...bars.map((b) => b.ratio)) * 1.05
const x = (v: number): number => left + (W - left - 40) * v / scaleMax
const H = top + bars.length * rowH + 50
const targetOf = (s: Scenario): number | null => {
  const m = /([\d.]+)x/.exec(s.target)
  return m === null ? null : Number(m[1])
}
const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;')

const parts: string[] = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
  `<rect width="${W}" height="${H}" fill="#fff"/>`,
  `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">Proxy throughput as a multiple of its baseline (same run, same broker)</text>`,
  `<text x="${W / 2}" y="36" text-anchor="middle" fill="#555">${esc(environment.cpu)}, ${environment.cores} cores, ${esc(environment.date.slice(0, 10))}; marks: target</text>`
]
for (const v of [0, 0.25, 0.5, 0.75, 1, 1.25].filter((t) => t <= scaleMax)) {
  parts.push(`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${H - 40}" stroke="#ddd"/>`, `<text x="${x(v)}" y="${H - 26}" text-anchor="middle" fill="#555">${v.toFixed(2)}x</text>`)
}
bars.forEach((s, i) => {
  const y = top + i * rowH
  const color = s.met === false ? '#d9534f' : s.met === true ? '#5cb85c' : '#5b9bd5'
  parts.push(
    `<text x="${left - 8}" y="${y + 19}" text-anchor="end">${esc(s.name)}</text>`,
    `<rect x="${left}" y="${y + 6}" width="${Math.max(1, x(s.ratio) - left)}" height="${rowH - 12}" fill="${color}"/>`,
    `<text x="${x(s.ratio) + 5}" y="${y + 19}">${s.ratio.toFixed(2)}x</text>`
  )
  const t = targetOf(s)
  if (t !== null) parts.push(`<line x1="${x(t)}" y1="${y + 2}" x2="${x(t)}" y2="${y + rowH - 2}" stroke="#000" stroke-width="2"/>`)
})
parts.push(`<text x="${left}" y="${H - 8}" fill="#555">green: target met, red: not met, blue: reported without a target</text>`, '</svg>')
writeFileSync(output, parts.join('\n') + '\n')
process.stdout.write(`wrote ${output}\n`)

// The proxy's RSS over the whole run, one point a second, scenario boundaries marked.
const rss = (JSON.parse(readFileSync(input, 'utf8')) as { rss?: { samples: Array<{ t: number, mib: number, scenario: string }> } }).rss?.samples ?? []
if (rss.length > 1) {
  const out = output.replace(/\.svg$/, '') + '-rss.svg'
  const w = 760
  const h = 300
  const l = 60
  const tMax = rss[rss.length - 1]?.t ?? 1
  const mMax = Math.max(...rss.map((r) => r.mib)) * 1.1
  const px = (t: number): number => l + (w - l - 20) * t / tMax
  const py = (m: number): number => h - 40 - (h - 80) * m / mMax
  const g: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${w / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">Proxy RSS (primary + workers) during the benchmark run</text>`
  ]
  for (let m = 0; m <= mMax; m += 100) g.push(`<line x1="${l}" y1="${py(m)}" x2="${w - 20}" y2="${py(m)}" stroke="#eee"/>`, `<text x="${l - 6}" y="${py(m) + 4}" text-anchor="end" fill="#555">${m} MiB</text>`)
  let last = ''
  for (const r of rss) {
    if (r.scenario === last) continue
    last = r.scenario
    g.push(`<line x1="${px(r.t)}" y1="30" x2="${px(r.t)}" y2="${h - 40}" stroke="#ccc" stroke-dasharray="3,3"/>`, `<text x="${px(r.t) + 3}" y="${h - 28}" fill="#555" transform="rotate(-30 ${px(r.t) + 3} ${h - 28})">${esc(r.scenario)}</text>`)
  }
  g.push(`<polyline fill="none" stroke="#5b9bd5" stroke-width="2" points="${rss.map((r) => `${px(r.t).toFixed(1)},${py(r.mib).toFixed(1)}`).join(' ')}"/>`)
  g.push(`<text x="${w - 20}" y="${h - 6}" text-anchor="end" fill="#555">seconds since the proxy started (${tMax} s)</text>`, '</svg>')
  writeFileSync(out, g.join('\n') + '\n')
  process.stdout.write(`wrote ${out}\n`)
}
