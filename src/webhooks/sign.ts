// Standard Webhooks signatures (https://www.standardwebhooks.com, spec
// "Signature scheme"): the secret is `whsec_` + base64 of 24 to 64 random
// bytes; a delivery carries `webhook-id` (the same on every attempt),
// `webhook-timestamp` (Unix seconds of this attempt) and
// `webhook-signature: v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">`
// keyed with the secret's bytes. A receiver recomputes it, compares in
// constant time and refuses timestamps far from its clock (replays).
import { createHmac } from 'node:crypto'

export const SECRET_PREFIX = 'whsec_'
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** The key bytes of a secret, or a reason it is not one. */
export function secretKey (secret: string): Buffer | string {
  if (!secret.startsWith(SECRET_PREFIX)) return `secret must be ${SECRET_PREFIX} followed by base64 of ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes (Standard Webhooks)`
  const b64 = secret.slice(SECRET_PREFIX.length)
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return `secret after ${SECRET_PREFIX} must be padded standard base64`
  const key = Buffer.from(b64, 'base64')
  if (key.toString('base64') !== b64) return `secret after ${SECRET_PREFIX} must be canonical base64`
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) return `secret must hold ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes (got ${key.length})`
  return key
}

/** The `webhook-signature` value of one attempt. */
export function sign (key: Buffer, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', key)
  mac.update(`${id}.${timestamp}.`)
  mac.update(body)
  return `v1,${mac.digest('base64')}`
}
