import { describe, expect, it, vi } from 'vitest'
import type { TenantVerification } from '../../src/core/verify/config.js'
import { FINGERPRINT_LENGTH, VerifiedTokenCache } from '../../src/core/verify/token-cache.js'
import { advance, nowSeconds, rejectsWith, verifiedToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

const stack = useTestStack(
  ({ directory }) => ({ directory: { baseUrl: directory.baseUrl }, signatureCheck: 'jose' }),
  { fakeDate: true },
)
const authFor = stack.auth

// Signature checks are counted on WebCrypto, where jose makes them, so these cache tests run with
// the jose engine; the node:crypto fast path sits behind the same cache.
/** Counts RSA signature checks, whoever makes them. */
function signatureChecks() {
  return vi.spyOn(globalThis.crypto.subtle, 'verify')
}

describe('the verification cache', () => {
  it('checks the signature of a token once, however often it is presented', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign()
    const checks = signatureChecks()
    const first = await auth.verifyAuth0Token(token)
    for (let i = 0; i < 10; i++) expect(await auth.verifyAuth0Token(token)).toBe(first)
    expect(checks).toHaveBeenCalledTimes(1)
  })

  it('serves authenticate() too, without decoding the token again', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign({ email: 'ada@acme.com', email_verified: true })
    const checks = signatureChecks()
    const first = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })
    const second = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })
    expect(second.userId).toBe(first.userId)
    expect(second.user.source).toBe('cache')
    expect(checks).toHaveBeenCalledTimes(1)
  })

  it('rejects an expired token even though its verification was cached', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign({ exp: nowSeconds() + 2 })
    await auth.verifyAuth0Token(token)
    advance(2_000 + 5_000 + 1_000) // past exp and the 5 s clock tolerance
    await rejectsWith(auth.verifyAuth0Token(token), 'token_expired')
  })

  it('rejects a token older than maxTokenAge even though its verification was cached', async () => {
    const auth = authFor({ auth0: { ...stack.issuer.auth0, maxTokenAgeSeconds: 60 } })
    const token = await stack.issuer.sign({ iat: nowSeconds() - 58, exp: nowSeconds() + 3600 })
    await auth.verifyAuth0Token(token)
    advance(2_000 + 5_000 + 1_000)
    await rejectsWith(auth.verifyAuth0Token(token), 'token_expired')
  })

  it('keeps a rotated-out key vouching for its tokens at most maxAgeMs after they were verified', async () => {
    const auth = authFor({ jwks: { maxAgeMs: 10_000 }, cache: { tokens: { maxAgeMs: 30_000 } } })
    const old = await stack.issuer.sign()
    const uncached = await stack.issuer.sign({ sub: 'auth0|other' })
    const first = await auth.verifyAuth0Token(old)
    await stack.issuer.rotateKey({ keepPrevious: false })
    advance(11_000)
    // A token that needs the keys finds the key set stale and starts a refresh in the background.
    await auth.verifyAuth0Token(uncached)
    // A token under the new key joins that refresh, so once it verifies the new key set is in use.
    await auth.verifyAuth0Token(await stack.issuer.sign({ sub: 'auth0|new-key' }))
    expect(stack.issuer.calls.jwks).toBe(2)
    // The refreshed key set no longer has the old key, but the cached result for `old` stands.
    await expect(auth.verifyAuth0Token(old)).resolves.toBe(first)
    advance(20_000) // 31 s after verification: the cache entry is gone, the key is gone
    await rejectsWith(auth.verifyAuth0Token(old), 'token_invalid')
  })

  it('is keyed by the exact token: a variant is never served from it', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign()
    await auth.verifyAuth0Token(token)
    const [h, p, s] = token.split('.') as [string, string, string]
    for (const variant of [
      `${token} `,
      ` ${token}`,
      `${h}.${p}.${s}=`,
      `${h}.${p}.${s.slice(0, -1)}${s.at(-1) === 'A' ? 'B' : 'A'}`,
    ]) {
      await rejectsWith(auth.verifyAuth0Token(variant), 'token_invalid')
    }
  })

  it('never serves a cached result for another token that ends the same way', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign({ sub: 'auth0|ada' })
    const first = await auth.verifyAuth0Token(token)
    const [h, , s] = token.split('.') as [string, string, string]
    // The same signature (so the same tail) over another payload: another user's claims.
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'auth0|eve' })).toString('base64url')}.${s}`
    const checks = signatureChecks()
    await rejectsWith(auth.verifyAuth0Token(tampered), 'token_invalid')
    expect(checks).toHaveBeenCalledTimes(1)
    // The refusal neither replaced nor dropped the real token's entry.
    await expect(auth.verifyAuth0Token(token)).resolves.toBe(first)
    expect(checks).toHaveBeenCalledTimes(1)
  })

  it('never caches a failure', async () => {
    const auth = authFor()
    stack.issuer.fail('down')
    const token = await stack.issuer.sign()
    await rejectsWith(auth.verifyAuth0Token(token), 'jwks_unavailable')
    stack.issuer.fail(null)
    advance(1_100)
    await expect(auth.verifyAuth0Token(token)).resolves.toMatchObject(verifiedToken(stack.issuer))
    expect(stack.issuer.calls.jwks).toBe(2)
  })

  it('stays within max entries', async () => {
    const auth = authFor({ cache: { tokens: { max: 2 } } })
    const tokens = await Promise.all([1, 2, 3].map((n) => stack.issuer.sign({ sub: `auth0|${n}` })))
    for (const token of tokens) await auth.verifyAuth0Token(token)
    const checks = signatureChecks()
    await auth.verifyAuth0Token(tokens[0] as string) // evicted: checked again
    await auth.verifyAuth0Token(tokens[2] as string) // kept
    expect(checks).toHaveBeenCalledTimes(1)
  })

  it('hands out a result no handler can change for the next request with the same token', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign({
      scope: 'read:a',
      permissions: ['p:1'],
      'https://x/org': { roles: ['member'] },
    })
    const first = await auth.verifyAuth0Token(token)
    expect(() => (first.scopes as string[]).push('admin')).toThrow(TypeError)
    expect(() => (first.permissions as string[]).push('admin')).toThrow(TypeError)
    expect(() => (first.audience as string[]).push('x')).toThrow(TypeError)
    expect(() => {
      ;(first as { subject: string }).subject = 'someone-else'
    }).toThrow(TypeError)
    expect(() => (first.claims.permissions as string[]).push('admin')).toThrow(TypeError)
    expect(() =>
      ((first.claims['https://x/org'] as { roles: string[] }).roles as string[]).push('owner'),
    ).toThrow(TypeError)
    const expiresAt = first.expiresAt.getTime()
    expect(() => first.expiresAt.setTime(0)).toThrow(TypeError)
    expect(() => first.expiresAt.setFullYear(2100)).toThrow(TypeError)
    expect(() => first.expiresAt.setUTCHours(0)).toThrow(TypeError)
    const second = await auth.verifyAuth0Token(token)
    expect(second.expiresAt.getTime()).toBe(expiresAt)
    expect(second.expiresAt).toBeInstanceOf(Date)
    expect(second.expiresAt.toISOString()).toBe(new Date(expiresAt).toISOString())
    expect(second.scopes).toEqual(['read:a'])
    expect(second.permissions).toEqual(['p:1'])
    expect(second.subject).toBe('auth0|test-user')
  })

  it('can be turned off', async () => {
    const auth = authFor({ cache: { tokens: false } })
    const token = await stack.issuer.sign()
    const checks = signatureChecks()
    for (let i = 0; i < 3; i++) await auth.verifyAuth0Token(token)
    expect(checks).toHaveBeenCalledTimes(3)
  })
})

describe('VerifiedTokenCache slots', () => {
  const tenant = { maxTokenAgeSeconds: 86_400 } as TenantVerification
  const result = (sub: string) =>
    ({
      subject: sub,
      expiresAt: new Date(Date.now() + 60_000),
      claims: { iat: nowSeconds() },
    }) as never

  it('shares a slot between tokens with the same tail but serves each only its own result', () => {
    const cache = new VerifiedTokenCache({ max: 10, maxAgeMs: 60_000 })
    const tail = 'x'.repeat(FINGERPRINT_LENGTH)
    const [one, two] = [`a.b.1${tail}`, `a.b.2${tail}`]
    const first = result('one')
    cache.set(one, first, tenant)
    expect(cache.get(one)).toBe(first)
    expect(cache.get(two)).toBeUndefined()
    const second = result('two')
    cache.set(two, second, tenant)
    expect(cache.get(two)).toBe(second)
    expect(cache.get(one)).toBeUndefined()
  })

  it('keeps tokens apart that differ anywhere in their tail', () => {
    const cache = new VerifiedTokenCache({ max: 10, maxAgeMs: 60_000 })
    const base = `h.p.${'s'.repeat(FINGERPRINT_LENGTH)}`
    const variant = `${base.slice(0, -1)}t`
    const first = result('one')
    const second = result('two')
    cache.set(base, first, tenant)
    cache.set(variant, second, tenant)
    expect(cache.get(base)).toBe(first)
    expect(cache.get(variant)).toBe(second)
  })
})
