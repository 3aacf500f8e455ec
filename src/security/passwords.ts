// The users file of HTTP Basic authentication: `name:<hash>` lines, hashes
// in scrypt (node:crypto, written by `npm run user`) or bcrypt ($2a$/$2b$/$2y$,
// verified with bcryptjs). Never plain text: a line whose hash is neither is
// a start-up error naming the line.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { readFileSync } from 'node:fs'
import bcrypt from 'bcryptjs'

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => err === null ? resolve(key) : reject(err)))

// $scrypt$N=<cost>,r=<block size>,p=<parallelism>$<salt, base64>$<key, base64>
const SCRYPT = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/

/** Parameters of new hashes: N=2^15 (OWASP's minimum for scrypt is 2^17 with r=8, p=1 at 64 MiB; 2^15 keeps 32 MiB). */
export const SCRYPT_DEFAULTS = { N: 32768, r: 8, p: 1 }

export async function hashPassword (password: string, params = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, 32, { ...params, maxmem: 256 * params.N * params.r })
  return `$scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

export function isPasswordHash (hash: string): boolean {
  return SCRYPT.test(hash) || BCRYPT.test(hash)
}

export async function verifyPassword (password: string, hash: string): Promise<boolean> {
  const m = SCRYPT.exec(hash)
  if (m !== null) {
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
    const expected = Buffer.from(m[5] as string, 'base64')
    const key = await scrypt(password, Buffer.from(m[4] as string, 'base64'), expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 })
    return timingSafeEqual(key, expected)
  }
  if (BCRYPT.test(hash)) return await bcrypt.compare(password, hash)
  return false
}

/** name -> hash. Throws naming the file and line of anything that is not `name:<scrypt or bcrypt hash>`. */
export function readUsersFile (file: string): Map<string, string> {
  const users = new Map<string, string>()
  const lines = readFileSync(file, 'utf8').split('\n')
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const colon = line.indexOf(':')
    const name = colon === -1 ? '' : line.slice(0, colon)
    const hash = colon === -1 ? '' : line.slice(colon + 1)
    if (name === '' || !isPasswordHash(hash)) throw new Error(`${file}:${i + 1}: expected name:<scrypt or bcrypt hash> (create entries with npm run user -- add NAME)`)
    users.set(name, hash)
  })
  return users
}

/** name -> roles, from lines of `name:role1,role2`. */
export function readRolesFile (file: string): Map<string, string[]> {
  const roles = new Map<string, string[]>()
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    roles.set(line.slice(0, colon), line.slice(colon + 1).split(',').map((r) => r.trim()).filter((r) => r !== ''))
  }
  return roles
}
