// TLS on the public listener: the PEM files of [server.tls] read into
// node:tls options, and the identity a verified client certificate carries.
// Files are read again on reload (SIGHUP) so a renewed certificate is served
// to new connections while the open ones keep theirs.
import { readFileSync } from 'node:fs'
import type { PeerCertificate, SecureContextOptions, TLSSocket } from 'node:tls'

export type ClientAuth = 'none' | 'optional' | 'required'

export interface TlsFiles {
  certFile: string
  keyFile: string
  /** PEM certificate authorities trusted for client certificates; '' trusts none (no mTLS). */
  caFile: string
  /** File holding the passphrase of an encrypted key; ''. */
  keyPassphraseFile: string
  clientAuth: ClientAuth
}

export interface TlsServerOptions extends SecureContextOptions {
  requestCert: boolean
  rejectUnauthorized: boolean
  ALPNProtocols?: string[]
}

function read (file: string, what: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new Error(`server.tls: cannot read the ${what} ${file} (${code})`)
  }
}

/**
 * The secure-context options of the listener. `requestCert` asks every
 * client for a certificate under optional and required; only required
 * refuses the handshake of a client without a valid one (node:tls
 * rejectUnauthorized), optional leaves it anonymous.
 */
export function tlsOptions (files: TlsFiles): TlsServerOptions {
  const opts: TlsServerOptions = {
    cert: read(files.certFile, 'certificate'),
    key: read(files.keyFile, 'private key'),
    requestCert: files.clientAuth !== 'none',
    rejectUnauthorized: files.clientAuth === 'required',
    // TLS 1.2 is the floor of RFC 9325 (BCP 195); 1.0 and 1.1 are deprecated (RFC 8996).
    minVersion: 'TLSv1.2'
  }
  if (files.caFile !== '') opts.ca = read(files.caFile, 'CA file')
  if (files.keyPassphraseFile !== '') opts.passphrase = read(files.keyPassphraseFile, 'key passphrase file').toString('utf8').trimEnd()
  return opts
}

/** What identity a verified client certificate stands for. */
export type CertificateIdentity = 'cn' | 'san_dns' | 'san_email' | 'san_uri' | 'subject'

/**
 * The identity of the client's certificate on `socket`, or null when the
 * client sent none or it did not verify against the CA (possible under
 * client_auth = "optional"). `subject` is the whole subject as
 * `CN=…,O=…`; the SAN kinds take the first entry of their type
 * (RFC 5280 §4.2.1.6).
 */
export function certificateIdentity (socket: TLSSocket, kind: CertificateIdentity): string | null {
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized !== true) return null
  const cert: PeerCertificate = socket.getPeerCertificate()
  if (cert === null || typeof cert !== 'object' || cert.subject === undefined) return null
  switch (kind) {
    case 'cn': {
      const cn = cert.subject.CN
      return typeof cn === 'string' && cn !== '' ? cn : null
    }
    case 'subject':
      return Object.entries(cert.subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).join(',') || null
    default: {
      const prefix = kind === 'san_dns' ? 'DNS:' : kind === 'san_email' ? 'email:' : 'URI:'
      for (const entry of (cert.subjectaltname ?? '').split(', ')) {
        if (entry.startsWith(prefix)) return entry.slice(prefix.length)
      }
      return null
    }
  }
}
