// The part of autocannon's API the harness uses (the package ships no types).
declare module 'autocannon' {
  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      body?: string
      headers?: Record<string, string>
      onResponse?: (status: number, body: string) => void
    }
    interface Options {
      url: string
      method?: string
      connections?: number
      duration?: number
      amount?: number
      overallRate?: number
      headers?: Record<string, string>
      body?: string
      requests?: Request[]
    }
    interface Histogram {
      average: number
      p50: number
      p90: number
      p97_5: number
      p99: number
      p99_9: number
      max: number
    }
    interface Result {
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      '2xx': number
      latency: Histogram
      requests: Histogram & { total: number }
      throughput: Histogram
    }
  }
  function autocannon (opts: autocannon.Options): Promise<autocannon.Result>
  export default autocannon
}
