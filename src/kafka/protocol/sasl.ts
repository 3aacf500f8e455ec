// SASL client mechanisms carried by SaslAuthenticate (KIP-152): PLAIN
// (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677; KIP-84).
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type SaslMechanism = typeof SASL_MECHANISMS[number]

export interface SaslCredentials {
  mechanism: SaslMechanism
  username: string
  password: string
}

/** Sends one SASL token to the broker and resolves with the broker's answer. */
export type SaslRoundTrip = (token: Buffer) => Promise<Buffer>

export class SaslError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'SaslError'
  }
}

/** RFC 4616: authzid NUL authcid NUL passwd, with an empty authzid. */
export function plainToken (username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8')
}

type ScramHash = 'sha256' | 'sha512'

function scramHash (mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): { hash: ScramHash, size: number } {
  return mechanism === 'SCRAM-SHA-256' ? { hash: 'sha256', size: 32 } : { hash: 'sha512', size: 64 }
}

/** RFC 5802 §5.1: ',' and '=' in a username are escaped as =2C and =3D. */
export function scramName (username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

function attributes (message: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq === 1) out.set(part.slice(0, 1), part.slice(2))
  }
  return out
}

export interface ScramClientFirst {
  /** client-first-message-bare, part of the AuthMessage. */
  bare: string
  /** The whole client-first-message, with the GS2 header "n,,": no channel binding. */
  message: string
  nonce: string
}

export function scramClientFirst (username: string, nonce = randomBytes(24).toString('base64')): ScramClientFirst {
  const bare = `n=${scramName(username)},r=${nonce}`
  return { bare, message: `n,,${bare}`, nonce }
}

export interface ScramClientFinal {
  message: string
  /** The ServerSignature the server-final-message must carry. */
  serverSignature: Buffer
}

/** RFC 5802 §3: ClientProof and ServerSignature from the server-first-message. */
export async function scramClientFinal (
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password: string, first: ScramClientFirst, serverFirst: string
): Promise<ScramClientFinal> {
  const attrs = attributes(serverFirst)
  const error = attrs.get('e')
  if (error !== undefined) throw new SaslError(`SCRAM server error: ${error}`)
  const nonce = attrs.get('r')
  const salt = attrs.get('s')
  const iterations = Number(attrs.get('i'))
  if (nonce === undefined || salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
    throw new SaslError('malformed SCRAM server-first-message')
  }
  if (!nonce.startsWith(first.nonce) || nonce.length === first.nonce.length) {
    throw new SaslError('SCRAM server nonce does not extend the client nonce')
  }
  const { hash, size } = scramHash(mechanism)
  const hmac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data, 'utf8').digest()
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), Buffer.from(salt, 'base64'), iterations, size, hash)
  const clientKey = hmac(salted, 'Client Key')
  const storedKey = createHash(hash).update(clientKey).digest()
  // c=biws is base64("n,,"), the GS2 header echoed back.
  const withoutProof = `c=biws,r=${nonce}`
  const authMessage = `${first.bare},${serverFirst},${withoutProof}`
  const clientSignature = hmac(storedKey, authMessage)
  const proof = Buffer.alloc(clientKey.length)
  for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (clientSignature[i] as number)
  const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage)
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature }
}

/** Checks the server-final-message: the server proves it knows the password too. */
export function scramVerifyServerFinal (serverFinal: string, expected: Buffer): void {
  const attrs = attributes(serverFinal)
  const error = attrs.get('e')
  if (error !== undefined) throw new SaslError(`SCRAM server error: ${error}`)
  const v = attrs.get('v')
  if (v === undefined) throw new SaslError('malformed SCRAM server-final-message')
  const got = Buffer.from(v, 'base64')
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    throw new SaslError('SCRAM server signature mismatch')
  }
}

/** Runs the client side of a mechanism over SaslAuthenticate round trips. */
export async function saslAuthenticate (creds: SaslCredentials, roundTrip: SaslRoundTrip): Promise<void> {
  if (creds.mechanism === 'PLAIN') {
    await roundTrip(plainToken(creds.username, creds.password))
    return
  }
  const first = scramClientFirst(creds.username)
  const serverFirst = (await roundTrip(Buffer.from(first.message, 'utf8'))).toString('utf8')
  const final = await scramClientFinal(creds.mechanism, creds.password, first, serverFirst)
  const serverFinal = (await roundTrip(Buffer.from(final.message, 'utf8'))).toString('utf8')
  scramVerifyServerFinal(serverFinal, final.serverSignature)
}
