import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

// The project's own rule, run on a throwaway tree: `npm run lint` (part of
// `npm test`) fails on the same rule for src/ and workers/.
async function lintTree (t: import('node:test').TestContext, files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lint-cycles-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  // ESLint runs in a plain node child: it is ESM that tsx's loader does not take.
  const script = `
    import { ESLint } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'node_modules/eslint/lib/api.js')).href)}
    import { noCycles } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)}
    const eslint = new ESLint({ cwd: process.cwd(), overrideConfigFile: true, overrideConfig: [noCycles], errorOnUnmatchedPattern: false })
    const results = await eslint.lintFiles(['src/**/*.ts', 'workers/**/*.ts'])
    process.stdout.write(JSON.stringify(results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath, rule: m.ruleId, message: m.message })))))
  `
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: dir }, (err, out, stderr) => {
      if (err !== null) reject(new Error(`eslint child failed: ${stderr || err.message}`))
      else resolve(out)
    })
  })
  const messages = JSON.parse(stdout) as Array<{ file: string, rule: string | null }>
  return messages.map((m) => `${path.relative(dir, m.file)}: ${m.rule ?? 'parse'}`)
}

test('the lint config reports an import cycle between two modules', async (t) => {
  const problems = await lintTree(t, {
    'src/render/a.ts': "import { b } from '../json/b.js'\nexport const a = (): number => b() + 1\n",
    'src/json/b.ts': "import { a } from '../render/a.js'\nexport const b = (): number => a() + 1\n"
  })
  assert.deepEqual(problems.sort(), ['src/json/b.ts: import-x/no-cycle', 'src/render/a.ts: import-x/no-cycle'])
})

test('the lint config accepts the same modules without the cycle, and type-only imports back', async (t) => {
  const problems = await lintTree(t, {
    'src/render/a.ts': "import { b } from '../json/b.js'\nexport type A = number\nexport const a = (): number => b() + 1\n",
    'src/json/b.ts': "import type { A } from '../render/a.js'\nexport const b = (): A => 1\n"
  })
  assert.deepEqual(problems, [])
})

test('the lint config refuses any import of workers/ from src/, types included; workers/ may import src/', async (t) => {
  const problems = await lintTree(t, {
    'src/pool/a.ts': "import type { Task } from '../../workers/task.js'\nexport const a = (t: Task): number => t.n\n",
    'workers/task.ts': "import { b } from '../src/json/b.js'\nexport interface Task { n: number }\nexport default (): number => b()\n",
    'src/json/b.ts': 'export const b = (): number => 1\n'
  })
  assert.deepEqual(problems, ['src/pool/a.ts: import-x/no-restricted-paths'])
})
