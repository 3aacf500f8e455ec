import neostandard from 'neostandard'
import importX from 'eslint-plugin-import-x'
import tsParser from '@typescript-eslint/parser'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'

/**
 * No import cycles between the modules of src/ and workers/: a cycle makes
 * the load order decide which bindings are still undefined, and it hides
 * which module owns what. import-x follows the `.js` specifiers to their
 * `.ts` files through TypeScript's resolver; type-only imports are erased at
 * run time and the rule does not count them. test/unit/lint-cycles.test.ts
 * shows the rule failing on a cycle. And src/ imports nothing from workers/
 * (type imports included), so the two cannot form a cycle of types either.
 */
export const noCycles = {
  files: ['src/**/*.ts', 'workers/**/*.ts'],
  languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
  plugins: { 'import-x': importX },
  settings: {
    'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    'import-x/extensions': ['.ts', '.js', '.mjs'],
    'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: false })]
  },
  rules: {
    'import-x/no-cycle': ['error', { ignoreExternal: true }],
    // Pool tasks depend on src/, never the reverse: a task's types belong to the code that runs it.
    'import-x/no-restricted-paths': ['error', { zones: [{ target: './src', from: './workers' }] }]
  }
}

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', '.cache/**', '.data/**', 'bench/results/**', 'node_modules/**'] }),
  noCycles
]
