// What the security settings make of the listener: its TLS options, and the
// warnings an operator gets for an exposed listener left open.
import type { Config, ServerTlsConfig } from '../config/schema.js'
import { tlsOptions, type TlsServerOptions } from './tls.js'

/** The listener's TLS options from [server.tls]; null for plain HTTP. Throws naming an unreadable file. */
export function listenerTls (tls: ServerTlsConfig): TlsServerOptions | null {
  if (tls.cert_file === '') return null
  return tlsOptions({
    certFile: tls.cert_file,
    keyFile: tls.key_file,
    caFile: tls.ca_file,
    keyPassphraseFile: tls.key_passphrase_file,
    clientAuth: tls.client_auth
  })
}

/** True for an address only this host can reach. */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
}

/** True when some authentication method is configured ([auth.jwt], [auth.basic], or client certificates). */
export function authConfigured (config: Config): boolean {
  const { auth } = config
  return auth.jwt.jwks_url !== '' || auth.jwt.jwks_file !== '' || auth.basic.users_file !== '' ||
    (config.server.tls.cert_file !== '' && config.server.tls.client_auth !== 'none')
}

/**
 * The development default (plain HTTP, no authentication) is fine on
 * loopback; anywhere else every client that reaches the port may produce,
 * read, delete and reconfigure every topic, which the log should say.
 */
export function securityWarnings (config: Config): string[] {
  const { host, tls } = config.server
  if (isLoopback(host)) return []
  const out: string[] = []
  if (tls.cert_file === '') out.push(`listening on ${host} without TLS: credentials and records cross the network in clear text (set server.tls.cert_file and key_file)`)
  if (!authConfigured(config)) out.push(`listening on ${host} without authentication: every client that reaches the port may produce, read, delete and reconfigure every topic (configure [auth.jwt], [auth.basic] or client certificates)`)
  return out
}
