import { generateKeyPairSync } from 'node:crypto'
import { AuthError, createAuth } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import type { JWK } from 'jose'
import { HttpResponse, http } from 'msw'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { parseKeySet } from '../../src/core/jwks/safe-keys.js'
import { UPSTREAM_SECRET } from '../../src/testing/transport.js'
import {
  advance,
  claimsFor,
  forge,
  nowSeconds,
  rejectsWith,
  strangerKey,
  verifiedToken,
} from '../helpers.js'
import { ecKey, ed448Jwk, rsaKey, secp256k1Key } from '../keys.js'
import { server } from '../msw.js'
import { useTestStack } from '../stack.js'

// The verification cache is off here: these tests are about the key set.
// test/verify/token-cache.test.ts covers how the two bounds combine.
const stack = useTestStack(() => ({ cache: { tokens: false } }), { fakeDate: true })
const authFor = stack.auth

describe('key set caching', () => {
  it('fetches the key set once for many verifications', async () => {
    const auth = authFor()
    for (let i = 0; i < 20; i++)
      await auth.verifyAuth0Token(await stack.issuer.sign({ sub: `auth0|${i}` }))
    expect(stack.jwksFetches).toBe(1)
  })

  it('makes one fetch for concurrent first requests', async () => {
    const auth = authFor()
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => stack.issuer.sign({ sub: `auth0|${i}` })),
    )
    const results = await Promise.all(tokens.map((token) => auth.verifyAuth0Token(token)))
    expect(results.map((verified) => verified.subject)).toEqual(
      Array.from({ length: 100 }, (_, i) => `auth0|${i}`),
    )
    expect(stack.jwksFetches).toBe(1)
  })

  it('refreshes the key set after maxAgeMs', async () => {
    const auth = authFor({ jwks: { maxAgeMs: 60_000 } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    advance(61_000)
    await auth.verifyAuth0Token(await stack.issuer.sign())
    await vi.waitFor(() => expect(stack.jwksFetches).toBe(2))
  })
})

describe('key rotation', () => {
  it('accepts a new kid without a restart, once the cooldown has passed', async () => {
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    await stack.issuer.rotateKey()
    advance(31_000)
    await expect(
      auth.verifyAuth0Token(await stack.issuer.sign({ sub: 'auth0|new-key' })),
    ).resolves.toMatchObject(verifiedToken(stack.issuer, 'auth0|new-key'))
    expect(stack.jwksFetches).toBe(2)
  })

  it('rejects a new kid inside the cooldown without fetching, and accepts it after', async () => {
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    await stack.issuer.rotateKey()
    const token = await stack.issuer.sign()
    await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
    expect(stack.jwksFetches).toBe(1)
    advance(30_000)
    await expect(auth.verifyAuth0Token(token)).resolves.toMatchObject(verifiedToken(stack.issuer))
    expect(stack.jwksFetches).toBe(2)
  })

  it('stops accepting a key removed from the key set once the cache is refreshed', async () => {
    const auth = authFor({ jwks: { maxAgeMs: 60_000 } })
    const old = await stack.issuer.sign()
    await auth.verifyAuth0Token(old)
    await stack.issuer.rotateKey({ keepPrevious: false })
    advance(61_000)
    // The first call after expiry serves the kept copy and refreshes in the background.
    await auth.verifyAuth0Token(old)
    // Until the background refresh has been applied the kept copy serves; then the old key is gone.
    await vi.waitFor(() => rejectsWith(auth.verifyAuth0Token(old), 'token_invalid'))
    expect(stack.jwksFetches).toBe(2)
    await expect(
      auth.verifyAuth0Token(await stack.issuer.sign({ sub: 'auth0|new-key' })),
    ).resolves.toMatchObject(verifiedToken(stack.issuer, 'auth0|new-key'))
  })
})

describe('unknown kid flood', () => {
  it('causes at most one fetch per cooldown however many kids arrive', async () => {
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    const key = await strangerKey()
    const flood = () =>
      Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const token = await forge(
            { alg: 'RS256', kid: `random-${Math.random()}-${i}` },
            claimsFor(stack.issuer, { sub: 'x', exp: nowSeconds() + 60 }),
            key,
          )
          await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
        }),
      )
    await flood()
    expect(stack.jwksFetches).toBe(1)
    advance(31_000)
    await flood()
    expect(stack.jwksFetches).toBe(2)
    await flood()
    expect(stack.jwksFetches).toBe(2)
  })
})

describe('key set outage', () => {
  it('with no good copy: jwks_unavailable (503, Retry-After), then fails fast during backoff', async () => {
    const auth = authFor()
    stack.issuer.fail('down')
    const token = await stack.issuer.sign()
    const error = await auth.verifyAuth0Token(token).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthError)
    expect(error).toMatchObject({ code: 'jwks_unavailable', status: 503 })
    expect((error as AuthError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    // The reset connection, as an UpstreamError that names the key set and nothing of the request.
    expect((error as AuthError).cause).toMatchObject({
      name: 'UpstreamError',
      upstream: 'jwks',
      kind: 'network',
    })
    expect(stack.jwksFetches).toBe(1)
    await rejectsWith(auth.verifyAuth0Token(token), 'jwks_unavailable')
    expect(stack.jwksFetches).toBe(1)
  })

  it('recovers after the outage once the backoff has passed', async () => {
    const auth = authFor()
    stack.issuer.fail('down')
    const token = await stack.issuer.sign()
    await rejectsWith(auth.verifyAuth0Token(token), 'jwks_unavailable')
    stack.issuer.fail(null)
    advance(1_001)
    await expect(auth.verifyAuth0Token(token)).resolves.toMatchObject(verifiedToken(stack.issuer))
    expect(stack.jwksFetches).toBe(2)
  })

  it('backs off exponentially between failed fetches', async () => {
    const auth = authFor()
    stack.issuer.fail('5xx')
    const token = await stack.issuer.sign()
    const retryAfter: number[] = []
    for (let i = 0; i < 4; i++) {
      const error = (await auth.verifyAuth0Token(token).catch((e: unknown) => e)) as AuthError
      retryAfter.push(error.retryAfterSeconds as number)
      advance((error.retryAfterSeconds as number) * 1000)
    }
    expect(retryAfter).toEqual([1, 2, 4, 8])
    expect(stack.jwksFetches).toBe(4)
  })

  it('with a good copy: serves it through the outage for staleIfErrorMs, then 503', async () => {
    const auth = authFor({ jwks: { maxAgeMs: 60_000, staleIfErrorMs: 120_000 } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    stack.issuer.fail('down')
    advance(61_000)
    await expect(auth.verifyAuth0Token(await stack.issuer.sign())).resolves.toMatchObject(
      verifiedToken(stack.issuer),
    )
    await vi.waitFor(() => expect(stack.jwksFetches).toBe(2))
    advance(60_000)
    await expect(auth.verifyAuth0Token(await stack.issuer.sign())).resolves.toMatchObject(
      verifiedToken(stack.issuer),
    )
    advance(61_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
  })

  it('answers a kid missing from the kept copy with jwks_unavailable during an outage', async () => {
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    stack.issuer.fail('down')
    await stack.issuer.rotateKey()
    advance(31_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
  })

  it.each(['5xx', 'garbage'] as const)(
    'treats a %s answer as unavailable and leaks nothing of it',
    async (mode) => {
      const auth = authFor()
      stack.issuer.fail(mode)
      const error = (await auth
        .verifyAuth0Token(await stack.issuer.sign())
        .catch((e: unknown) => e)) as AuthError
      expect(error.code).toBe('jwks_unavailable')
      expect(error.message).not.toContain('upstream')
      expect(error.message).not.toContain(UPSTREAM_SECRET)
      expect(JSON.stringify(error)).not.toContain('hunter2')
    },
  )

  it('times out a slow key set endpoint', async () => {
    vi.useRealTimers()
    const auth = authFor({ jwks: { timeoutMs: 200 } })
    stack.issuer.fail('slow')
    const started = performance.now()
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('does not replace a good copy with an empty or symmetric-only key set', async () => {
    const msIssuer = await createTestIssuer({ listen: false })
    const auth = createAuth({ auth0: msIssuer.auth0, jwks: { maxAgeMs: 60_000 } })
    onTestFinished(() => auth.close())
    server.use(...msIssuer.handlers)
    await auth.verifyAuth0Token(await msIssuer.sign())
    let refreshes = 0
    server.use(
      http.get(msIssuer.jwksUri, () => {
        refreshes += 1
        return HttpResponse.json({
          keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: msIssuer.kid, alg: 'HS256' }],
        })
      }),
    )
    advance(61_000)
    await expect(auth.verifyAuth0Token(await msIssuer.sign())).resolves.toMatchObject(
      verifiedToken(msIssuer),
    )
    await vi.waitFor(() => expect(refreshes).toBe(1))
    // The refresh failed, so the kept copy still serves; the symmetric key was never taken.
    advance(1_000)
    await expect(auth.verifyAuth0Token(await msIssuer.sign())).resolves.toMatchObject(
      verifiedToken(msIssuer),
    )
  })

  it('never fetches a key set with a symmetric key for HS tokens', async () => {
    const msIssuer = await createTestIssuer({ listen: false })
    const auth = createAuth({ auth0: msIssuer.auth0 })
    onTestFinished(() => auth.close())
    const secret = new TextEncoder().encode('shared-secret-shared-secret-1234')
    server.use(
      http.get(msIssuer.jwksUri, () =>
        HttpResponse.json({
          keys: [
            ...msIssuer.jwks.keys,
            { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid: 'hs' },
          ],
        }),
      ),
    )
    const token = await forge(
      { alg: 'HS256', kid: 'hs' },
      claimsFor(msIssuer, { sub: 'x', exp: nowSeconds() + 60 }),
      secret,
    )
    await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
  })
})

describe('several keys matching one header', () => {
  it('tries each, up to eight: a kid-less token verifies under any of the first eight keys', async () => {
    const msIssuer = await createTestIssuer({ listen: false })
    const keys = Array.from({ length: 9 }, () => rsaKey(undefined, 2048))
    server.use(
      http.get(msIssuer.jwksUri, () => HttpResponse.json({ keys: keys.map((key) => key.jwk) })),
    )
    const auth = createAuth({ auth0: msIssuer.auth0, cache: { tokens: false } })
    onTestFinished(() => auth.close())
    const claims = claimsFor(msIssuer, { sub: 'x', exp: nowSeconds() + 60 })
    for (const n of [0, 7]) {
      const sub = `auth0|key-${n}`
      await expect(
        auth.verifyAuth0Token(keys[n]?.sign({ ...claims, sub }) as string),
      ).resolves.toMatchObject(verifiedToken(msIssuer, sub))
    }
    // The ninth is never tried: a header matching many keys costs at most eight checks.
    await rejectsWith(auth.verifyAuth0Token(keys[8]?.sign(claims) as string), 'token_invalid')
  })
})

describe('which keys of a key set are used', () => {
  const rsa = rsaKey('rsa', 2048).jwk
  const n = rsa.n as string
  const bytes = (value: string) => Buffer.from(value, 'base64url')
  const encode = (value: Buffer | number[]) => Buffer.from(value).toString('base64url')
  const p256 = ecKey('p256', 'prime256v1').jwk
  const ed25519 = {
    ...(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as JWK),
    kid: 'ed',
  }
  const used = (key: JWK) => parseKeySet({ keys: [rsa, key] }).includes(key)

  it.each<[string, JWK]>([
    ['RSA 2048, e = 65537', { ...rsa, kid: 'x' }],
    ['RSA 4096', rsaKey('big', 4096).jwk],
    [
      'RSA with e = 2^255 + 1 (32 bytes, odd)',
      { ...rsa, e: encode([0x80, ...Array(30).fill(0), 1]) },
    ],
    ['RSA whose n carries a leading zero byte', { ...rsa, n: encode([0, ...bytes(n)]) }],
    ['EC P-256', p256],
    ['EC P-384', ecKey('p384', 'secp384r1', 'ES384').jwk],
    ['EC P-521', ecKey('p521', 'secp521r1', 'ES512').jwk],
    ['OKP Ed25519', ed25519],
  ])('keeps %s', (_name, key) => {
    expect(used(key)).toBe(true)
  })

  it.each<[string, JWK]>([
    ['RSA with e = 1', { ...rsa, e: 'AQ' }],
    ['RSA with e = 3', { ...rsa, e: 'Aw' }],
    ['RSA with e = 65535', { ...rsa, e: encode([0xff, 0xff]) }],
    ['RSA with an even e (65538)', { ...rsa, e: encode([1, 0, 2]) }],
    ['RSA with e = 2^256 + 1 (33 bytes)', { ...rsa, e: encode([1, ...Array(31).fill(0), 1]) }],
    ['RSA with e = 0', { ...rsa, e: 'AA' }],
    ['RSA 1024', rsaKey('short', 1024).jwk],
    ['RSA 2047 (one bit short)', { ...rsa, n: encode([0x7f, ...bytes(n).subarray(1)]) }],
    ['RSA with an even modulus', { ...rsa, n: encode([...bytes(n).subarray(0, -1), 2]) }],
    ['RSA over 16384 bits', { ...rsa, n: encode([1, ...Array(2048).fill(0xff)]) }],
    ['RSA without n', { ...rsa, n: undefined as unknown as string }],
    ['RSA without e', { ...rsa, e: undefined as unknown as string }],
    ['RSA with a numeric e', { ...rsa, e: 65537 as unknown as string }],
    ['RSA with a padded n', { ...rsa, n: `${n}==` }],
    ['RSA with a standard-base64 n', { ...rsa, n: n.replace(/-/g, '+').replace(/_/g, '/') }],
    ['EC secp256k1', secp256k1Key('k1').jwk],
    ['EC without a curve', { ...p256, crv: undefined as unknown as string }],
    ['EC on a curve named constructor', { ...p256, crv: 'constructor' }],
    ['EC P-256 with a short x', { ...p256, x: encode(bytes(p256.x as string).subarray(1)) }],
    ['EC P-256 claiming P-384', { ...p256, crv: 'P-384' }],
    ['OKP Ed448', ed448Jwk()],
    ['OKP X25519', generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) as JWK],
    ['oct', { kty: 'oct', k: 'c2VjcmV0', kid: 'hs' }],
    ['an unknown kty', { ...rsa, kty: 'RSA2' }],
    ['a private RSA key', rsaPrivate()],
    ['an encryption key', { ...rsa, use: 'enc' }],
  ])('drops %s', (_name, key) => {
    expect(used(key)).toBe(false)
  })

  it('answers jwks_unavailable (503) when every key of the key set is unsafe', async () => {
    const short = rsaKey('short', 1024)
    const msIssuer = await createTestIssuer({ listen: false })
    const claims = claimsFor(msIssuer, { sub: 'x', exp: nowSeconds() + 60 })
    const unsafe = [short.jwk, { ...(msIssuer.jwks.keys[0] as JWK), e: 'AQ' }]
    server.use(http.get(msIssuer.jwksUri, () => HttpResponse.json({ keys: unsafe })))
    const cold = createAuth({ auth0: msIssuer.auth0 })
    onTestFinished(() => cold.close())
    const error = await cold.verifyAuth0Token(short.sign(claims)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'jwks_unavailable', status: 503 })
  })
})

function rsaPrivate(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'private' }
}
