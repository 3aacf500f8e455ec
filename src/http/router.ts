// A router compiled once at boot into a tree of path segments. Matching walks
// the tree with the request path's segments: static children first, then the
// single parameter child. No regular expressions or closures per request.

export type Params = Record<string, string>

interface Node<H> {
  statics: Map<string, Node<H>>
  param: { name: string, node: Node<H> } | null
  handlers: Map<string, H>
  /** What answers HEAD: the GET handler unless its route refused that. */
  head: H | undefined
  /** The `Allow` header of this path, built when a route is added. */
  allow: string
}

function newNode<H> (): Node<H> {
  return { statics: new Map(), param: null, handlers: new Map(), head: undefined, allow: '' }
}

// RFC 9110 §15.5.6: a 405 carries `Allow`; OPTIONS (§9.3.7) answers it too.
// HEAD is served wherever GET is (§9.3.2) unless the GET is not safe to
// repeat without its body, and OPTIONS wherever a route is.
function allowOf (methods: Iterable<string>, head: boolean): string {
  const set = new Set(methods)
  if (head) set.add('HEAD')
  set.add('OPTIONS')
  return [...set].join(', ')
}

export interface RouteOptions {
  /**
   * false: HEAD is not answered with this GET handler (405 instead). For
   * reads with effects, such as a consumer read, which moves the consumer's
   * position: a HEAD would drop the records it read.
   */
  head?: boolean
}

export type RouteMatch<H> =
  | { kind: 'found', handler: H, params: Params }
  /** A path with routes, but none for this method; `allow` is the `Allow` header. */
  | { kind: 'method-not-allowed', allow: string }
  /** OPTIONS on a path with routes: answered by the server with `Allow`. */
  | { kind: 'options', allow: string }
  | { kind: 'not-found' }

export interface RouteEntry<H> {
  method: string
  pattern: string
  handler: H
}

export class Router<H> {
  private readonly root: Node<H> = newNode()
  private readonly added: Array<RouteEntry<H>> = []

  /** `pattern` like `/topics/{topic}/partitions/{partition}`. */
  add (method: string, pattern: string, handler: H, opts: RouteOptions = {}): this {
    let node = this.root
    for (const segment of splitPath(pattern)) {
      if (segment.startsWith('{') && segment.endsWith('}')) {
        const name = segment.slice(1, -1)
        if (node.param === null) node.param = { name, node: newNode() }
        else if (node.param.name !== name) {
          throw new Error(`route ${pattern}: parameter {${name}} conflicts with {${node.param.name}}`)
        }
        node = node.param.node
      } else {
        let next = node.statics.get(segment)
        if (next === undefined) {
          next = newNode()
          node.statics.set(segment, next)
        }
        node = next
      }
    }
    if (node.handlers.has(method)) throw new Error(`route ${method} ${pattern} defined twice`)
    node.handlers.set(method, handler)
    if (method === 'GET' && opts.head !== false) node.head = handler
    node.allow = allowOf(node.handlers.keys(), node.head !== undefined || node.handlers.has('HEAD'))
    this.added.push({ method, pattern, handler })
    return this
  }

  /** Every route added, in order (for checks at boot and in tests; never per request). */
  entries (): ReadonlyArray<RouteEntry<H>> {
    return this.added
  }

  match (method: string, path: string): RouteMatch<H> {
    const params: Params = {}
    let node: Node<H> | undefined = this.root
    for (const raw of splitPath(path)) {
      const next: Node<H> | undefined = node.statics.get(raw)
      if (next !== undefined) {
        node = next
        continue
      }
      if (node.param === null) return { kind: 'not-found' }
      const value = decodeSegment(raw)
      if (value === null) return { kind: 'not-found' }
      params[node.param.name] = value
      node = node.param.node
    }
    const handler = node.handlers.get(method) ?? (method === 'HEAD' ? node.head : undefined)
    if (handler !== undefined) return { kind: 'found', handler, params }
    if (node.handlers.size === 0) return { kind: 'not-found' }
    if (method === 'OPTIONS') return { kind: 'options', allow: node.allow }
    return { kind: 'method-not-allowed', allow: node.allow }
  }
}

function splitPath (path: string): string[] {
  // Empty segments (leading, trailing or doubled slashes) carry no meaning.
  return path.split('/').filter((s) => s !== '')
}

/** A path segment percent-decoded, or null when it is not valid UTF-8 percent-encoding. */
export function decodeSegment (raw: string): string | null {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}
