// What the security guard adds to a produce request: the listener's hook
// (authentication from a cached credential, then the route's access checks
// against 20 rules, decisions cached) for Basic and for JWT, against the
// same request with no guard, which costs one null check. The produce
// request itself costs about 28 µs on this machine (35k req/s of bare
// node:http for a 14 KB POST, docs of the machine), so the column "% of a
// produce" is the guard's share of the hot path; the issue's bound is 3 %.
// Run: node --import tsx bench/micro/guard.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { defaultConfig, type AuthorizationRule } from '../../src/config/schema.js'
import type { Ctx } from '../../src/http/handler.js'
import { createLogger } from '../../src/logger.js'
import { SecurityGuard } from '../../src/security/guard.js'
import { hashPassword } from '../../src/security/passwords.js'
import { PRODUCE_ROUTES } from '../../src/api/v2/produce.js'
import type { BoundRoute } from '../../src/http/route.js'

const PRODUCE_US = 1e6 / 35_000

async function perCall (fn: () => Promise<void> | void, n = 200_000): Promise<number> {
  // Awaited only when a promise comes back, as the listener does.
  const call = async (): Promise<void> => {
    const r = fn()
    if (r instanceof Promise) await r
  }
  for (let i = 0; i < 5000; i++) await call()
  const runs: number[] = []
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n / 5; i++) {
      const r = fn()
      if (r instanceof Promise) await r
    }
    runs.push(Number(process.hrtime.bigint() - start) / (n / 5) / 1000)
  }
  return runs.sort((a, b) => a - b)[2] as number
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-guard-'))
try {
  const users = path.join(dir, 'users')
  writeFileSync(users, `alice:${await hashPassword('pw')}\n`)
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwks = path.join(dir, 'jwks.json')
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] }))
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setSubject('alice').setExpirationTime('1h').sign(privateKey)
  // 19 rules for other principals ahead of alice's, so the first decision walks them all.
  const rules: AuthorizationRule[] = Array.from({ length: 20 }, (_, i) => ({
    effect: 'allow', principals: [i === 19 ? 'alice' : `team-${i}`], roles: [], claims: [], operations: ['produce', 'describe'], topics: [`team-${i}-*`, i === 19 ? 'orders' : `x-${i}`], groups: [], routes: [], cluster: false
  }))
  const base = defaultConfig()
  const guard = new SecurityGuard({
    auth: { ...base.auth, basic: { users_file: users, roles_file: '' }, jwt: { ...base.auth.jwt, jwks_file: jwks, algorithms: ['ES256'] } },
    authorization: { rules, cache_entries: 100_000 },
    mtls: false,
    log: createLogger('silent', 'bench')
  })
  const spec = PRODUCE_ROUTES.v2ProduceToTopic
  const route: BoundRoute = { operationId: 'v2ProduceToTopic', spec, handler: () => ({ status: 200, body: null }), writes: true, streams: false }
  const request = (authorization: string): { req: IncomingMessage, ctx: Ctx } => {
    const req = { method: 'POST', headers: { authorization }, socket: {} } as unknown as IncomingMessage
    return { req, ctx: { req, res: null as never, params: { topic: 'orders' }, path: '/topics/orders', query: '' } }
  }
  const basic = request(`Basic ${Buffer.from('alice:pw').toString('base64')}`)
  const bearer = request(`Bearer ${token}`)
  // What an unconfigured listener does instead (http/listener.ts): one null check.
  const off = { guard: null as (() => void) | null }
  const rows = [
    { case: 'no guard (null check)', us: await perCall(() => { if (off.guard !== null) off.guard() }) },
    { case: 'Basic (cached) + 20 rules', us: await perCall(() => guard.guard(basic.req, route, basic.ctx, false)) },
    { case: 'JWT ES256 (cached) + 20 rules', us: await perCall(() => guard.guard(bearer.req, route, bearer.ctx, false)) }
  ]
  for (const r of rows) process.stdout.write(`${r.case.padEnd(32)} ${r.us.toFixed(3)} µs/request   ${(100 * r.us / PRODUCE_US).toFixed(2)} % of a produce\n`)
  guard.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
