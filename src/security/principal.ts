// Who a request acts for, once authenticated. Every method (JWT, Basic, a
// client certificate, anonymous) produces the same shape, which is all that
// authorization, quotas, ownership and identity injection see.

export type AuthMethod = 'jwt' | 'basic' | 'mtls' | 'anonymous'

export interface Principal {
  /** The identity: the JWT identity claim, the Basic user, the certificate's CN/SAN, or "anonymous". */
  readonly name: string
  readonly method: AuthMethod
  readonly roles: readonly string[]
  /** The token's claims (JWT only; otherwise empty). */
  readonly claims: Readonly<Record<string, unknown>>
  /** When the credentials stop being valid (a JWT's exp), in ms since the epoch; null: never. */
  readonly expiresAt: number | null
  /** A key identifying the principal and what rules may see of it, for decision caches. */
  readonly key: string
}

export const ANONYMOUS_NAME = 'anonymous'

export function principal (name: string, method: AuthMethod, roles: readonly string[] = [], claims: Record<string, unknown> = {}, expiresAt: number | null = null): Principal {
  const claimKey = Object.keys(claims).length === 0 ? '' : JSON.stringify(claims)
  return Object.freeze({ name, method, roles: Object.freeze([...roles]), claims: Object.freeze(claims), expiresAt, key: `${method}\u0000${name}\u0000${roles.join(',')}\u0000${claimKey}` })
}

export const ANONYMOUS: Principal = principal(ANONYMOUS_NAME, 'anonymous')
