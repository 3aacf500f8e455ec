import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import {
  plainToken, saslAuthenticate, scramClientFinal, scramClientFirst, scramName, scramVerifyServerFinal, SaslError
} from '../../src/kafka/protocol/sasl.js'

// RFC 7677 §3: SCRAM-SHA-256 exchange for user "user", password "pencil".
const RFC7677 = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='
}

test('SCRAM-SHA-256 reproduces the RFC 7677 test vector', async () => {
  const first = scramClientFirst('user', RFC7677.nonce)
  assert.equal(first.message, RFC7677.clientFirst)
  assert.equal(first.bare, 'n=user,r=rOprNGfwEbeRWgbNEkqO')
  const final = await scramClientFinal('SCRAM-SHA-256', 'pencil', first, RFC7677.serverFirst)
  assert.equal(final.message, RFC7677.clientFinal)
  assert.equal(final.serverSignature.toString('base64'), RFC7677.serverFinal.slice(2))
  scramVerifyServerFinal(RFC7677.serverFinal, final.serverSignature)
})

test('SCRAM rejects a forged server signature, a server error and a nonce the client did not start', async () => {
  const first = scramClientFirst('user', RFC7677.nonce)
  const final = await scramClientFinal('SCRAM-SHA-256', 'pencil', first, RFC7677.serverFirst)
  assert.throws(() => scramVerifyServerFinal('v=' + Buffer.alloc(32).toString('base64'), final.serverSignature), SaslError)
  assert.throws(() => scramVerifyServerFinal('e=invalid-proof', final.serverSignature), /invalid-proof/)
  await assert.rejects(scramClientFinal('SCRAM-SHA-256', 'pencil', first, 'r=otherNonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'), SaslError)
  await assert.rejects(scramClientFinal('SCRAM-SHA-256', 'pencil', first, `r=${RFC7677.nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`), SaslError)
  await assert.rejects(scramClientFinal('SCRAM-SHA-256', 'pencil', first, 'r=rOprNGfwEbeRWgbNEkqOx,i=4096'), /malformed/)
})

test('SCRAM escapes "," and "=" in the user name (RFC 5802 §5.1)', () => {
  assert.equal(scramName('a,b=c'), 'a=2Cb=3Dc')
  assert.equal(scramClientFirst('a=b', 'N').message, 'n,,n=a=3Db,r=N')
})

test('PLAIN sends an empty authzid, the user and the password separated by NUL', () => {
  assert.deepEqual(plainToken('alice', 'sécret'), Buffer.from('\u0000alice\u0000sécret', 'utf8'))
})

/** A SCRAM server (RFC 5802 §3) that checks the client's proof. */
function scramServer (hash: 'sha256' | 'sha512', size: number, user: string, password: string): (token: Buffer) => Promise<Buffer> {
  const salt = randomBytes(16)
  const iterations = 4096
  const salted = pbkdf2Sync(password, salt, iterations, size, hash)
  const hmac = (key: Buffer, s: string): Buffer => createHmac(hash, key).update(s).digest()
  const storedKey = createHash(hash).update(hmac(salted, 'Client Key')).digest()
  let clientFirstBare = ''
  let serverFirst = ''
  let step = 0
  return async (token) => {
    const msg = token.toString('utf8')
    if (step++ === 0) {
      assert.ok(msg.startsWith('n,,'))
      clientFirstBare = msg.slice(3)
      const [n, r] = clientFirstBare.split(',')
      assert.equal(n, `n=${user}`)
      serverFirst = `${r as string}srv${randomBytes(8).toString('hex')},s=${salt.toString('base64')},i=${iterations}`
      return Buffer.from(serverFirst)
    }
    const withoutProof = msg.slice(0, msg.lastIndexOf(',p='))
    const proof = Buffer.from(msg.slice(msg.lastIndexOf(',p=') + 3), 'base64')
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
    const signature = hmac(storedKey, authMessage)
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (signature[i] as number)))
    if (!createHash(hash).update(clientKey).digest().equals(storedKey)) return Buffer.from('e=invalid-proof')
    return Buffer.from('v=' + hmac(hmac(salted, 'Server Key'), authMessage).toString('base64'))
  }
}

test('SCRAM-SHA-256 and SCRAM-SHA-512 authenticate against a verifying server and fail with a wrong password', async () => {
  for (const [mechanism, hash, size] of [['SCRAM-SHA-256', 'sha256', 32], ['SCRAM-SHA-512', 'sha512', 64]] as const) {
    await saslAuthenticate({ mechanism, username: 'bob', password: 'pw' }, scramServer(hash, size, 'bob', 'pw'))
    await assert.rejects(saslAuthenticate({ mechanism, username: 'bob', password: 'wrong' }, scramServer(hash, size, 'bob', 'pw')), /invalid-proof/)
  }
})

test('PLAIN authentication is a single round trip', async () => {
  const tokens: Buffer[] = []
  await saslAuthenticate({ mechanism: 'PLAIN', username: 'u', password: 'p' }, async (t) => {
    tokens.push(t)
    return Buffer.alloc(0)
  })
  assert.deepEqual(tokens, [Buffer.from('\u0000u\u0000p')])
})
