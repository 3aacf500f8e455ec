// Certificates for TLS tests, made with Debian's openssl: a CA, server
// certificates for localhost and 127.0.0.1 signed by it, client certificates,
// and a second CA the server does not trust. Everything lives in a temp dir
// removed when the test ends.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'

export interface KeyPair {
  cert: string
  key: string
}

export interface TestPki {
  dir: string
  /** The CA's certificate and key (PEM files). */
  ca: KeyPair
  /** Issues a server certificate for localhost and 127.0.0.1; `name` picks the file names and CN. */
  server (name?: string): KeyPair
  /** Issues a client certificate with the subject CN (and an email SAN) given. */
  client (cn: string, email?: string): KeyPair
  /**
   * Issues a client certificate whose subject is only CN=`cn`, so a Kafka
   * broker's default SSL principal for it is exactly `User:CN=<cn>`.
   */
  kafkaClient (cn: string): KeyPair
  /** A PKCS#12 store of a key pair, with its password. */
  pkcs12 (pair: KeyPair, name: string, password: string): string
  /** A client certificate from a CA the server does not know. */
  stranger (cn: string): KeyPair
  read (file: string): Buffer
}

function openssl (args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function selfSigned (dir: string, name: string, cn: string): KeyPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) }
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', pair.cert,
    '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  return pair
}

function issue (dir: string, ca: KeyPair, name: string, subject: string, extensions: string): KeyPair {
  const pair = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) }
  const csr = path.join(dir, `${name}.csr`)
  const ext = path.join(dir, `${name}.ext`)
  writeFileSync(ext, extensions)
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', subject])
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', pair.cert, '-days', '2', '-extfile', ext])
  return pair
}

export function makePki (t: TestContext): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-pki-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const ca = selfSigned(dir, 'ca', 'Proxy Test CA')
  const other = selfSigned(dir, 'other-ca', 'Unknown CA')
  return {
    dir,
    ca,
    server: (name = 'server') => issue(dir, ca, name, `/CN=${name}`,
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
    client: (cn, email) => issue(dir, ca, `client-${cn}`, `/CN=${cn}/O=Proxy Tests`,
      `extendedKeyUsage=clientAuth\n${email === undefined ? '' : `subjectAltName=email:${email}\n`}`),
    kafkaClient: (cn) => issue(dir, ca, `kafka-client-${cn}`, `/CN=${cn}`, 'extendedKeyUsage=clientAuth\n'),
    pkcs12: (pair, name, password) => {
      const file = path.join(dir, `${name}.p12`)
      openssl(['pkcs12', '-export', '-in', pair.cert, '-inkey', pair.key, '-out', file, '-passout', `pass:${password}`, '-name', name])
      return file
    },
    stranger: (cn) => issue(dir, other, `stranger-${cn}`, `/CN=${cn}`, 'extendedKeyUsage=clientAuth\n'),
    read: (file) => readFileSync(file)
  }
}
