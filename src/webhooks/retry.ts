// When the next attempt of a failed delivery goes out: exponential backoff
// from webhooks.backoff_initial_ms, doubling per failed attempt, with equal
// jitter (a random 50-100 % of the step, so callers that failed together do
// not retry together and the delay still grows), at least what the
// callback's Retry-After asked for, never more than webhooks.backoff_max_ms.

export interface BackoffOptions {
  initialMs: number
  maxMs: number
}

/** The delay after `failed` failed attempts (1 for the first). */
export function retryDelay (failed: number, opts: BackoffOptions, retryAfterMs: number | null, random: () => number = Math.random): number {
  const step = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(failed - 1, 40))
  const jittered = step * (0.5 + random() / 2)
  const wanted = retryAfterMs === null ? jittered : Math.max(jittered, retryAfterMs)
  return Math.round(Math.min(opts.maxMs, wanted))
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep (ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise<boolean>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', done)
      resolve(true)
    }, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
