import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', '.cache/**', '.data/**', 'bench/results/**', 'node_modules/**'] })
]
