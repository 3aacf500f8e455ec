import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/**
 * Structured JSON logs on stdout, one object per line. Every process tags its
 * lines with its role so interleaved output from cluster workers stays
 * attributable.
 */
export function createLogger (level: LevelWithSilent, role: string): Logger {
  return pino({
    level,
    base: { pid: process.pid, role },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) }
  })
}
