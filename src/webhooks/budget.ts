// The libuv threads webhook consumers may hold at once in one process.
// Every binding call that runs on libuv's pool (a poll, a connect, a close,
// a committed-offsets or watermark lookup) holds a thread until it returns;
// the HTTP consumers, DNS and file I/O share that pool (ENVIRONMENT.md,
// "Consuming with librdkafka in Node"). The primary adds webhooks.threads to
// the pool it sizes for each worker, and this budget keeps the webhook calls
// within them however many subscriptions there are. Polls never wait on the
// thread (timeout 0), so the calls that hold one long are the rare ones.
export class ThreadBudget {
  private busy = 0
  private readonly waiting: Array<() => void> = []

  constructor (readonly size: number) {}

  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.busy++
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.busy--
    }
  }
}
