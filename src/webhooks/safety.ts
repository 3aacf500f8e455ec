// Where a callback may point. A subscription makes the proxy send requests
// from inside the network it runs in, so a callback URL is checked as a
// request to reach a host: its host must be one the operator listed
// (webhooks.allowed_hosts) or resolve only to addresses outside
// webhooks.denied_networks (by default this host, link-local, private and
// reserved ranges). The check runs when a subscription is made or changed and
// again on every connection, against the address the connection is made to
// (a name that resolved to a public address at creation may resolve to an
// internal one later: DNS rebinding). Only http and https, no credentials in
// the URL; redirects are never followed (./sender.ts), so a callback cannot
// send the proxy elsewhere.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { isIP } from 'node:net'

export interface Network {
  readonly family: 4 | 6
  /** The network address as 32 or 128 bits. */
  readonly bits: bigint
  readonly prefix: number
  readonly text: string
}

export interface HostRules {
  readonly allowedHosts: readonly string[]
  readonly onlyAllowedHosts: boolean
  readonly deniedNetworks: readonly Network[]
}

export interface HostRuleOptions {
  allowedHosts: readonly string[]
  onlyAllowedHosts: boolean
  deniedNetworks: readonly string[]
}

/** Longest callback URL taken. */
export const MAX_URL_LENGTH = 2048

function ipv4Bits (text: string): bigint {
  let out = 0n
  for (const part of text.split('.')) out = (out << 8n) | BigInt(Number(part))
  return out
}

function ipv6Bits (text: string): bigint {
  let head = text
  let tail4: bigint | null = null
  // An embedded IPv4 tail (::ffff:10.0.0.1) is the last 32 bits.
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = ipv4Bits(text.slice(lastColon + 1))
    head = `${text.slice(0, lastColon + 1)}0:0`
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, null]
  const l = left === '' ? [] : left.split(':')
  const r = right === null || right === '' ? [] : right.split(':')
  const groups = right === null ? l : [...l, ...new Array<string>(8 - l.length - r.length).fill('0'), ...r]
  let out = 0n
  for (const g of groups) out = (out << 16n) | BigInt(parseInt(g, 16))
  if (tail4 !== null) out = (out & ~0xffffffffn) | tail4
  return out
}

/** An address as its family and bits; null when `text` is not an IP address. */
export function addressBits (text: string): { family: 4 | 6, bits: bigint } | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  const zone = bare.indexOf('%')
  const address = zone === -1 ? bare : bare.slice(0, zone)
  const family = isIP(address)
  if (family === 4) return { family: 4, bits: ipv4Bits(address) }
  if (family === 6) return { family: 6, bits: ipv6Bits(address) }
  return null
}

/** `10.0.0.0/8`, `fe80::/10`, or a single address; throws with a reason otherwise. */
export function parseNetwork (text: string): Network {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const parsed = addressBits(address)
  if (parsed === null) throw new Error(`${JSON.stringify(text)} is not a network (an IPv4 or IPv6 address with an optional /prefix)`)
  const width = parsed.family === 4 ? 32 : 128
  const prefixText = slash === -1 ? String(width) : text.slice(slash + 1)
  const prefix = Number(prefixText)
  if (!/^\d{1,3}$/.test(prefixText) || prefix > width) throw new Error(`${JSON.stringify(text)}: the prefix must be 0 to ${width}`)
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix)
  return { family: parsed.family, bits: parsed.bits & mask, prefix, text }
}

function inNetwork (family: 4 | 6, bits: bigint, n: Network): boolean {
  if (family !== n.family) return false
  const width = family === 4 ? 32 : 128
  const shift = BigInt(width - n.prefix)
  return (bits >> shift) === (n.bits >> shift)
}

const HOST_NAME = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/

/** Why an allowed_hosts entry is unusable, or null. */
export function allowedHostProblem (entry: string): string | null {
  if (addressBits(entry) !== null) return null
  if (!HOST_NAME.test(entry.toLowerCase())) return `${JSON.stringify(entry)} is not a host name, an IP address or *.domain`
  return null
}

export function hostRules (opts: HostRuleOptions): HostRules {
  return {
    allowedHosts: opts.allowedHosts.map((h) => canonicalHost(h)),
    onlyAllowedHosts: opts.onlyAllowedHosts,
    deniedNetworks: opts.deniedNetworks.map(parseNetwork)
  }
}

/** Lower case, no trailing dot, IPv6 without brackets, an address in its canonical form. */
function canonicalHost (host: string): string {
  let h = host.toLowerCase()
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1)
  if (h.endsWith('.')) h = h.slice(0, -1)
  const parsed = addressBits(h)
  return parsed === null ? h : formatBits(parsed.family, parsed.bits)
}

function formatBits (family: 4 | 6, bits: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 0xffn)).join('.')
  const groups: string[] = []
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((bits >> s) & 0xffffn).toString(16))
  return groups.join(':')
}

/** Whether the operator listed `host` (a name, `*.` suffix, or an address). */
export function isAllowedHost (rules: HostRules, host: string): boolean {
  const h = canonicalHost(host)
  for (const entry of rules.allowedHosts) {
    if (entry === h) return true
    if (entry.startsWith('*.') && h.endsWith(entry.slice(1)) && h.length > entry.length - 1) return true
  }
  return false
}

/** The denied network `address` is in, or null (IPv4-mapped IPv6 addresses count as their IPv4 address). */
export function deniedNetwork (rules: HostRules, address: string): Network | null {
  const parsed = addressBits(address)
  if (parsed === null) return null
  let { family, bits } = parsed
  if (family === 6 && (bits >> 32n) === 0xffffn) {
    family = 4
    bits &= 0xffffffffn
  }
  return rules.deniedNetworks.find((n) => inNetwork(family, bits, n)) ?? null
}

/** A callback the rules refuse; `code` says which rule, for the refusal's message. */
export class CallbackRefused extends Error {
  constructor (message: string, readonly code: 'url' | 'host' | 'address' | 'resolve') {
    super(message)
    this.name = 'CallbackRefused'
  }
}

/** A parsed callback URL, or CallbackRefused('url') naming what is wrong with it. */
export function parseCallbackUrl (raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new CallbackRefused(`callback_url is longer than ${MAX_URL_LENGTH} characters`, 'url')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new CallbackRefused(`callback_url ${JSON.stringify(raw.slice(0, 100))} is not an absolute URL`, 'url')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallbackRefused('callback_url must be an http or https URL', 'url')
  if (url.username !== '' || url.password !== '') throw new CallbackRefused('callback_url must not carry credentials (user:password@); sign deliveries with a secret instead', 'url')
  if (url.hash !== '') throw new CallbackRefused('callback_url must not have a fragment (#…)', 'url')
  if (url.hostname === '') throw new CallbackRefused('callback_url has no host', 'url')
  return url
}

export type Resolver = (host: string) => Promise<string[]>

export const resolveAll: Resolver = (host) => new Promise((resolve, reject) => {
  dnsLookup(host, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
    if (err !== null) reject(err)
    else resolve(addresses.map((a) => a.address))
  })
})

/**
 * Checks a callback URL when a subscription is made or changed: the URL's
 * form, then its host against the rules, resolving a name and checking every
 * address it has. Throws CallbackRefused.
 */
export async function checkCallback (rules: HostRules, raw: string, resolve: Resolver = resolveAll): Promise<URL> {
  const url = parseCallbackUrl(raw)
  const host = url.hostname
  if (isAllowedHost(rules, host)) return url
  if (rules.onlyAllowedHosts) throw new CallbackRefused(`callback host ${host} is not in webhooks.allowed_hosts`, 'host')
  const literal = addressBits(host)
  let addresses: string[]
  if (literal !== null) addresses = [host.startsWith('[') ? host.slice(1, -1) : host]
  else {
    try {
      addresses = await resolve(host)
    } catch (err) {
      throw new CallbackRefused(`callback host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'resolve')
    }
  }
  for (const a of addresses) {
    const n = deniedNetwork(rules, a)
    if (n !== null) throw new CallbackRefused(`callback host ${host} is ${a === host ? 'an address' : `${a}, an address`} in a denied network (${n.text}; see webhooks.denied_networks and webhooks.allowed_hosts)`, 'address')
  }
  return url
}

/** The error a connection gets when its address is refused. */
export function refusedAddress (host: string, address: string, n: Network): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`callback host ${host} resolved to ${address}, in the denied network ${n.text}`)
  err.code = 'EWEBHOOKDENIED'
  return err
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for net.connect/tls.connect that refuses names resolving into a
 * denied network (every address is checked, whichever the connection tries).
 * Listed hosts resolve unchecked.
 */
export function checkedLookup (rules: HostRules): (host: string, options: { all?: boolean, family?: number | string }, cb: LookupCallback) => void {
  return (host, options, cb) => {
    dnsLookup(host, { ...options, all: true, verbatim: true } as { all: true }, (err, addresses: LookupAddress[]) => {
      if (err !== null) {
        cb(err, options.all === true ? [] : '', 0)
        return
      }
      if (!isAllowedHost(rules, host)) {
        for (const a of addresses) {
          const n = deniedNetwork(rules, a.address)
          if (n !== null) {
            cb(refusedAddress(host, a.address, n), options.all === true ? [] : '', 0)
            return
          }
        }
      }
      if (options.all === true) cb(null, addresses)
      else {
        const first = addresses[0]
        if (first === undefined) {
          const e: NodeJS.ErrnoException = new Error(`callback host ${host} has no address`)
          e.code = 'ENOTFOUND'
          cb(e, '', 0)
        } else cb(null, first.address, first.family)
      }
    })
  }
}

/**
 * Whether a connection to `host` at `address` (what the socket is connected
 * to) is allowed: the last check, for addresses no lookup saw (a URL with an
 * IP address as its host).
 */
export function connectionProblem (rules: HostRules, host: string, address: string | undefined): NodeJS.ErrnoException | null {
  if (address === undefined || isAllowedHost(rules, host)) return null
  const n = deniedNetwork(rules, address)
  return n === null ? null : refusedAddress(host, address, n)
}
