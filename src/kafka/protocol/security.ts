// Reads the connection security of the protocol client from the operator's
// librdkafka properties (CONFIGURATION.md names), so one [kafka.admin] table
// configures both admin clients.
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { ERR, protocolError } from './error-codes.js'
import { SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from './sasl.js'

export interface Security {
  /** null: plaintext. `servername` is set per broker. */
  tls: TlsOptions | null
  sasl: SaslCredentials | null
}

type Properties = Readonly<Record<string, string | number | boolean>>

function prop (props: Properties, name: string): string | undefined {
  const v = props[name]
  return v === undefined ? undefined : String(v)
}

function flag (props: Properties, name: string, fallback: boolean): boolean {
  const v = prop(props, name)
  if (v === undefined) return fallback
  return v.toLowerCase() === 'true' || v === '1'
}

function file (props: Properties, name: string): Buffer | undefined {
  const path = prop(props, name)
  if (path === undefined || path === '') return undefined
  try {
    return readFileSync(path)
  } catch (err) {
    throw new Error(`cannot read ${name} ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Throws for settings the client cannot honour: an unknown
 * security.protocol, unreadable TLS files, or a SASL mechanism other than
 * PLAIN/SCRAM (a KafkaProtocolError UNSUPPORTED_SASL_MECHANISM).
 */
export function parseSecurity (props: Properties): Security {
  const protocol = (prop(props, 'security.protocol') ?? 'plaintext').toLowerCase()
  if (!['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'].includes(protocol)) {
    throw new Error(`unsupported security.protocol ${protocol}`)
  }
  let tls: TlsOptions | null = null
  if (protocol === 'ssl' || protocol === 'sasl_ssl') {
    tls = {}
    // librdkafka's "probe" means the system CA store, Node's default too.
    const caLocation = prop(props, 'ssl.ca.location')
    if (caLocation !== 'probe') {
      const ca = file(props, 'ssl.ca.location')
      if (ca !== undefined) tls.ca = ca
    }
    const cert = file(props, 'ssl.certificate.location')
    if (cert !== undefined) tls.cert = cert
    const key = file(props, 'ssl.key.location')
    if (key !== undefined) tls.key = key
    const passphrase = prop(props, 'ssl.key.password')
    if (passphrase !== undefined) tls.passphrase = passphrase
    tls.rejectUnauthorized = flag(props, 'enable.ssl.certificate.verification', true)
    // librdkafka >= 1.9 verifies the broker hostname by default ("https").
    const identification = (prop(props, 'ssl.endpoint.identification.algorithm') ?? 'https').toLowerCase()
    if (identification === 'none') tls.checkServerIdentity = () => undefined
  }
  let sasl: SaslCredentials | null = null
  if (protocol === 'sasl_plaintext' || protocol === 'sasl_ssl') {
    // librdkafka's default mechanism is GSSAPI.
    const mechanism = (prop(props, 'sasl.mechanisms') ?? prop(props, 'sasl.mechanism') ?? 'GSSAPI').toUpperCase()
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw protocolError(ERR.UNSUPPORTED_SASL_MECHANISM,
        `SASL mechanism ${mechanism} is not supported by the admin API client: it needs PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`)
    }
    sasl = {
      mechanism: mechanism as SaslMechanism,
      username: prop(props, 'sasl.username') ?? '',
      password: prop(props, 'sasl.password') ?? ''
    }
  }
  return { tls, sasl }
}

/** TLS options for one broker: SNI only for host names (RFC 6066 §3). */
export function tlsFor (tls: TlsOptions, host: string): TlsOptions {
  return isIP(host) === 0 ? { ...tls, servername: host } : { ...tls }
}

export interface Address {
  host: string
  port: number
}

/** Parses "host:port,[v6]:port" lists as bootstrap.servers does; the port defaults to 9092. */
export function parseServers (list: string): Address[] {
  const out: Address[] = []
  for (const raw of list.split(',')) {
    let entry = raw.trim()
    if (entry === '') continue
    const scheme = entry.indexOf('://')
    if (scheme !== -1) entry = entry.slice(scheme + 3)
    let host = entry
    let port = 9092
    const bracket = entry.match(/^\[([^\]]+)\](?::(\d+))?$/)
    if (bracket !== null) {
      host = bracket[1] as string
      if (bracket[2] !== undefined) port = Number(bracket[2])
    } else {
      const colon = entry.lastIndexOf(':')
      if (colon !== -1 && entry.indexOf(':') === colon) {
        host = entry.slice(0, colon)
        port = Number(entry.slice(colon + 1))
      }
    }
    if (host !== '' && Number.isInteger(port) && port > 0 && port < 65536) out.push({ host, port })
  }
  return out
}
