// HTTP request metrics: a count and a latency histogram per route template,
// method and status class. Each route gets its slots when the server binds
// its routes; a slot's cells are bound on the route's first answer with that
// method and class, so the hot path is a Map lookup by route object, two
// array reads and three additions, and the output holds only the series
// that occurred.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { RequestObserver } from '../http/listener.js'
import type { BoundRoute } from '../http/route.js'
import { httpDuration, httpRequests, type CounterCell, type HistogramCell } from './registry.js'

/** The route label of requests no route matched (404, 405, OPTIONS, refused before routing). */
export const UNMATCHED = 'unmatched'

const CLIENT_CLOSED = 499

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

function methodIndex (method: string | undefined): number {
  switch (method) {
    case 'GET': return 0
    case 'HEAD': return 1
    case 'POST': return 2
    case 'PUT': return 3
    case 'PATCH': return 4
    case 'DELETE': return 5
    case 'OPTIONS': return 6
    default: return 7
  }
}

interface Slot {
  count: CounterCell
  duration: HistogramCell
}

class RouteSlots {
  private readonly slots: Array<Slot | undefined> = new Array(METHODS.length * CLASSES.length)

  constructor (private readonly label: string) {}

  get (method: number, statusClass: number): Slot {
    const i = method * CLASSES.length + statusClass
    let slot = this.slots[i]
    if (slot === undefined) {
      const labels = [this.label, METHODS[method] as string, CLASSES[statusClass] as string]
      slot = { count: httpRequests.child(...labels), duration: httpDuration.child(...labels) }
      this.slots[i] = slot
    }
    return slot
  }
}

export class RequestMetrics implements RequestObserver {
  private readonly byRoute = new Map<BoundRoute, RouteSlots>()
  private readonly unmatched = new RouteSlots(UNMATCHED)

  constructor (routes: readonly BoundRoute[]) {
    for (const route of routes) this.byRoute.set(route, new RouteSlots(route.spec.path))
  }

  answered (req: IncomingMessage, res: ServerResponse, route: BoundRoute | null, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000
    const slots = route === null ? this.unmatched : this.byRoute.get(route) ?? this.unmatched
    // No head written: the client went away first (nginx logs such a request as 499).
    const status = res.headersSent ? res.statusCode : CLIENT_CLOSED
    const statusClass = Math.min(4, Math.max(0, Math.floor(status / 100) - 1))
    const slot = slots.get(methodIndex(req.method), statusClass)
    slot.count.value++
    slot.duration.observe(seconds)
  }
}

/** Tells each observer in turn. */
export function observers (...list: RequestObserver[]): RequestObserver {
  if (list.length === 1) return list[0] as RequestObserver
  return {
    answered (req, res, route, startedAt) {
      for (const o of list) o.answered(req, res, route, startedAt)
    }
  }
}
