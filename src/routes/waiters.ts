// Requests waiting, per key, for something to change (a view's entry, a
// reply's arrival) or for their time to run out: `Prefer: wait=N`.

export class KeyedWaiters {
  private readonly byKey = new Map<string, Set<() => void>>()

  /** Resolves at wake(key) or wakeAll(), or after `ms`. */
  wait (key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.byKey.get(key)
      if (set === undefined) {
        set = new Set()
        this.byKey.set(key, set)
      }
      const done = (): void => {
        clearTimeout(timer)
        const s = this.byKey.get(key)
        s?.delete(done)
        if (s?.size === 0) this.byKey.delete(key)
        resolve()
      }
      const timer = setTimeout(done, ms)
      set.add(done)
    })
  }

  wake (key: string): void {
    const set = this.byKey.get(key)
    if (set !== undefined) for (const w of [...set]) w()
  }

  wakeAll (): void {
    for (const set of [...this.byKey.values()]) for (const w of [...set]) w()
  }
}
