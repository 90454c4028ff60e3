import {
  createAuth,
  isAuthError,
  resolveCanonicalUser,
  type VerifiedToken,
  verifyAuth0Token,
} from 'canonical-auth'
import { describe, expect, it, vi } from 'vitest'
import { UPSTREAM_SECRET } from '../../src/testing/transport.js'
import { rejectsWith, resolve, ssoToken, UUID } from '../helpers.js'
import { useTestStack } from '../stack.js'

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_500, retries: 1 },
  trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
}))
const authFor = stack.auth

describe('a first-time SSO user', () => {
  it('is created in the directory on the very first call, and gets its UUID', async () => {
    const created = vi.fn()
    const auth = authFor({ onUserCreated: created })
    const user = await resolve(auth, await ssoToken(stack.issuer))
    expect(user).toMatchObject({ source: 'directory', created: true, email: 'ada@acme.com' })
    expect(user.id).toMatch(UUID)
    expect(user.id).toBe(stack.directory.users.get('ada@acme.com')?.id)
    expect(JSON.parse(stack.directory.requests[0]?.body ?? '')).toEqual({
      email: 'ada@acme.com',
      email_verified: true,
      auth0_sub: 'samlp|acme-waad|ada',
      connection: 'acme-waad',
      auth0_issuer: stack.issuer.issuer,
    })
    expect(created).toHaveBeenCalledTimes(1)
    expect(created).toHaveBeenCalledWith(
      user,
      expect.objectContaining({ subject: 'samlp|acme-waad|ada' }),
    )
  })

  it('is served from the cache on the next call', async () => {
    const auth = authFor()
    const first = await resolve(auth, await ssoToken(stack.issuer))
    const second = await resolve(auth, await ssoToken(stack.issuer))
    expect(second).toEqual({ ...first, source: 'cache', created: false })
    expect(stack.directory.calls.ensure).toBe(1)
  })

  it('makes one directory call for 100 concurrent first calls, and runs the hook once', async () => {
    const created = vi.fn()
    const auth = authFor({ onUserCreated: created })
    const token = await ssoToken(stack.issuer)
    const verified = await auth.verifyAuth0Token(token)
    const users = await Promise.all(
      Array.from({ length: 100 }, () => auth.resolveCanonicalUser(verified)),
    )
    expect(new Set(users.map((user) => user.id)).size).toBe(1)
    expect(stack.directory.calls.ensure).toBe(1)
    expect(created).toHaveBeenCalledTimes(1)
  })

  it('gets the same UUID from a second service (another instance) without being created twice', async () => {
    const platformApi = authFor()
    const agenticBackend = authFor()
    const token = await ssoToken(stack.issuer)
    const first = await resolve(agenticBackend, token)
    const second = await resolve(platformApi, token)
    expect(second.id).toBe(first.id)
    expect(second.created).toBe(false)
    expect(stack.directory.users.size).toBe(1)
  })

  it('existing users are returned, not created', async () => {
    const existing = stack.directory.addUser('ada@acme.com')
    const created = vi.fn()
    const user = await resolve(authFor({ onUserCreated: created }), await ssoToken(stack.issuer))
    expect(user).toMatchObject({ id: existing.id, created: false, source: 'directory' })
    expect(created).not.toHaveBeenCalled()
  })
})

describe('failing closed when the directory fails', () => {
  it.each(['down', '5xx', 'slow', 'garbage'] as const)(
    'directory %s → 502 directory_unavailable, never the sub, nothing cached',
    async (mode) => {
      const auth = authFor()
      stack.directory.fail(mode)
      const token = await ssoToken(stack.issuer)
      const error = await resolve(auth, token).catch((e: unknown) => e)
      expect(isAuthError(error) && error.code).toBe('directory_unavailable')
      expect(isAuthError(error) && error.status).toBe(502)
      const text = `${String(error)} ${JSON.stringify(error)} ${String((error as Error).cause)}`
      expect(text).not.toContain('samlp|acme-waad|ada')
      expect(text).not.toContain(UPSTREAM_SECRET)
      expect(text).not.toContain('hunter2')
      expect(text).not.toContain('ada@acme.com')
      stack.directory.fail(null)
      const user = await resolve(auth, token)
      expect(user.source).toBe('directory')
      expect(user.id).toMatch(UUID)
    },
  )

  it('answers within the deadline when the directory hangs', async () => {
    const auth = authFor()
    stack.directory.fail('slow')
    const started = performance.now()
    await rejectsWith(resolve(auth, await ssoToken(stack.issuer)), 'directory_unavailable')
    expect(performance.now() - started).toBeLessThan(3_000)
  })
})

describe('lookup mode (read-only)', () => {
  const lookupAuth = (negativeMaxAgeMs?: number) =>
    authFor({
      directory: { baseUrl: stack.directory.baseUrl, mode: 'lookup', timeoutMs: 300, retries: 0 },
      ...(negativeMaxAgeMs === undefined ? {} : { cache: { negativeMaxAgeMs } }),
    })

  it('finds a known user without creating anyone', async () => {
    const existing = stack.directory.addUser('ada@acme.com')
    const user = await resolve(
      lookupAuth(),
      await ssoToken(stack.issuer, { email: 'Ada@ACME.com' }),
    )
    expect(user).toMatchObject({ id: existing.id, source: 'directory', created: false })
    expect(stack.directory.calls.ensure).toBe(0)
    expect(stack.directory.requests[0]?.path).toBe('/admin/user/ada%40acme.com')
  })

  it('answers user_not_provisioned (401) for an unknown user, and remembers the miss briefly', async () => {
    const auth = lookupAuth(60_000)
    const token = await ssoToken(stack.issuer)
    await rejectsWith(resolve(auth, token), 'user_not_provisioned')
    await rejectsWith(resolve(auth, token), 'user_not_provisioned')
    expect(stack.directory.calls.lookup).toBe(1)
    expect(stack.directory.users.size).toBe(0)
  })

  it('asks again once the negative cache entry has expired', async () => {
    const auth = lookupAuth(50)
    const token = await ssoToken(stack.issuer)
    await rejectsWith(resolve(auth, token), 'user_not_provisioned')
    stack.directory.addUser('ada@acme.com')
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect((await resolve(auth, token)).source).toBe('directory')
  })

  it('never caches an error as a miss', async () => {
    const auth = lookupAuth(60_000)
    stack.directory.addUser('ada@acme.com')
    stack.directory.fail('5xx')
    await rejectsWith(resolve(auth, await ssoToken(stack.issuer)), 'directory_unavailable')
    stack.directory.fail(null)
    expect((await resolve(auth, await ssoToken(stack.issuer))).source).toBe('directory')
  })
})

describe('the trust policy', () => {
  it('refuses an unverified email on an untrusted connection (403) without asking the directory', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign({
      sub: 'google-oauth2|123',
      email: 'ceo@acme.com',
      email_verified: false,
    })
    await rejectsWith(resolve(auth, token), 'identity_untrusted')
    const missing = await stack.issuer.sign({ sub: 'auth0|123', email: 'ceo@acme.com' })
    await rejectsWith(resolve(auth, missing), 'identity_untrusted')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('links an unverified email from a trusted enterprise connection', async () => {
    const auth = authFor()
    const user = await resolve(auth, await ssoToken(stack.issuer, { email_verified: undefined }))
    expect(user.id).toMatch(UUID)
    expect(JSON.parse(stack.directory.requests[0]?.body ?? '').email_verified).toBe(false)
  })

  it('refuses a token with no email at all', async () => {
    await rejectsWith(
      resolve(authFor(), await ssoToken(stack.issuer, { email: undefined })),
      'identity_untrusted',
    )
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('refuses machine-to-machine tokens', async () => {
    const auth = authFor()
    await rejectsWith(
      resolve(auth, await stack.issuer.sign({ sub: 'svc@clients', email_verified: true })),
      'identity_untrusted',
    )
    await rejectsWith(
      resolve(auth, await stack.issuer.sign({ gty: 'client-credentials' })),
      'identity_untrusted',
    )
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('canonicalises mixed-case and Unicode domains before asking', async () => {
    const auth = authFor()
    await resolve(
      auth,
      await ssoToken(stack.issuer, {
        sub: 'samlp|acme-waad|1',
        email: '  Ada.Lovelace+SSO@Bücher.Example ',
      }),
    )
    expect(JSON.parse(stack.directory.requests[0]?.body ?? '').email).toBe(
      'ada.lovelace+sso@xn--bcher-kva.example',
    )
    const again = await resolve(
      auth,
      await ssoToken(stack.issuer, {
        sub: 'samlp|acme-waad|2',
        email: 'ADA.LOVELACE+sso@bücher.example',
      }),
    )
    expect(stack.directory.users.size).toBe(1)
    expect(again.id).toBe(stack.directory.users.get('ada.lovelace+sso@xn--bcher-kva.example')?.id)
  })

  it.each([
    ['the Kelvin sign in the domain', 'ada@\u212Acme.com'],
    ['the Kelvin sign in the local part', '\u212Aate@acme.com'],
    ['fullwidth letters', 'ada@ａｃｍｅ.com'],
    ['a quoted local part', '"ada"@acme.com'],
    ['two addresses', 'ada@acme.com@evil.com'],
    ['an IP literal', 'ada@[10.0.0.1]'],
    ['a trailing dot', 'ada@acme.com.'],
    ['a NUL byte', 'ada@acme.com\u0000.evil.com'],
    ['a dotless domain', 'ada@localhost'],
    ['a trailing no-break space', 'ada@acme.com\u00A0'],
    ['a leading ideographic space', '\u3000ada@acme.com'],
    ['a trailing byte-order mark', 'ada@acme.com\uFEFF'],
    ['a no-break space behind ASCII spaces', ' ada@acme.com\u00A0 '],
    ['a trailing line separator', 'ada@acme.com\u2028'],
    ['a trailing form feed', 'ada@acme.com\f'],
  ])('refuses %s, without asking the directory', async (_name, email) => {
    await rejectsWith(
      resolve(authFor(), await ssoToken(stack.issuer, { email })),
      'identity_untrusted',
    )
    expect(stack.directory.requests).toHaveLength(0)
  })
})

describe('the canonical-id claim', () => {
  it('is used first, with no directory call', async () => {
    const auth = authFor({ claims: { canonicalUserId: 'https://example.com/uuid' } })
    const id = '0b0e4e84-5b0c-4b2a-9b8f-3c2c8a1d2e3f'
    const user = await resolve(
      auth,
      await ssoToken(stack.issuer, { 'https://example.com/uuid': id }),
    )
    expect(user).toEqual({ id, email: 'ada@acme.com', source: 'claim', created: false })
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('falls back to the directory when the claim is not a UUID', async () => {
    const auth = authFor({ claims: { canonicalUserId: 'https://example.com/uuid' } })
    const user = await resolve(
      auth,
      await ssoToken(stack.issuer, { 'https://example.com/uuid': 'samlp|acme-waad|ada' }),
    )
    expect(user.source).toBe('directory')
    expect(user.id).not.toBe('samlp|acme-waad|ada')
  })
})

describe('the onUserCreated hook', () => {
  it('fails the request when it throws, and the user is not cached', async () => {
    const hook = vi.fn().mockRejectedValueOnce(new Error('membership table down'))
    const auth = authFor({ onUserCreated: hook })
    const token = await ssoToken(stack.issuer)
    const error = await resolve(auth, token).catch((e: unknown) => e)
    expect(isAuthError(error) && error.code).toBe('internal_error')
    expect((error as Error).message).not.toContain('membership')
    const retry = await resolve(auth, token)
    expect(retry.source).toBe('directory')
    expect(stack.directory.calls.ensure).toBe(2)
  })

  it('passes an AuthError it throws through unchanged', async () => {
    const { AuthError } = await import('canonical-auth')
    const auth = authFor({
      onUserCreated: () => {
        throw new AuthError('identity_untrusted', 'Not a member of any organisation')
      },
    })
    const error = await resolve(auth, await ssoToken(stack.issuer)).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'identity_untrusted',
      message: 'Not a member of any organisation',
    })
  })
})

describe('userinfo fallback', () => {
  /** Ada's /userinfo profile has her verified email; an instance that reads it, in lookup mode. */
  function adaWithUserinfo() {
    stack.issuer.profiles.set('samlp|acme-waad|ada', {
      email: 'ada@acme.com',
      email_verified: true,
    })
    return authFor({
      userinfo: true,
      cache: { negativeMaxAgeMs: 0 },
      directory: { baseUrl: stack.directory.baseUrl, mode: 'lookup' },
    })
  }

  it('reads the email from /userinfo when the access token has none, cached per sub', async () => {
    const auth = adaWithUserinfo()
    stack.directory.addUser('ada@acme.com')
    const token = await ssoToken(stack.issuer, { email: undefined, email_verified: undefined })
    expect((await resolve(auth, token)).email).toBe('ada@acme.com')
    stack.directory.users.clear()
    await rejectsWith(
      resolve(
        authFor({ userinfo: true }),
        await ssoToken(stack.issuer, { email: undefined, sub: 'auth0|nobody' }),
      ),
      'identity_untrusted',
    )
    expect(stack.issuer.calls.userinfo).toBe(2)
  })

  it('does not call /userinfo again for the same sub', async () => {
    const auth = adaWithUserinfo()
    const token = await ssoToken(stack.issuer, { email: undefined, email_verified: undefined })
    await rejectsWith(resolve(auth, token), 'user_not_provisioned')
    await rejectsWith(resolve(auth, token), 'user_not_provisioned')
    expect(stack.issuer.calls.userinfo).toBe(1)
    expect(stack.directory.calls.lookup).toBe(2)
  })

  it('fails closed (502) when /userinfo is down, and never sends the token anywhere else', async () => {
    const auth = authFor({ userinfo: { timeoutMs: 300 } })
    const token = await ssoToken(stack.issuer, { email: undefined })
    const verified = await auth.verifyAuth0Token(token)
    stack.issuer.fail('5xx')
    const error = await auth.resolveCanonicalUser(verified).catch((e: unknown) => e)
    expect(isAuthError(error) && error.status).toBe(502)
    expect(JSON.stringify(error) + String((error as Error).cause)).not.toContain(
      token.split('.')[2],
    )
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('is off unless enabled', async () => {
    stack.issuer.profiles.set('samlp|acme-waad|ada', {
      email: 'ada@acme.com',
      email_verified: true,
    })
    await rejectsWith(
      resolve(authFor(), await ssoToken(stack.issuer, { email: undefined })),
      'identity_untrusted',
    )
    expect(stack.issuer.calls.userinfo).toBe(0)
  })
})

describe('misuse', () => {
  it('refuses a hand-made VerifiedToken', async () => {
    const fake = {
      subject: 'samlp|acme-waad|ada',
      issuer: stack.issuer.issuer,
      audience: [stack.issuer.audience],
      expiresAt: new Date(Date.now() + 60_000),
      email: 'ada@acme.com',
      emailVerified: true,
      canonicalUserId: '0b0e4e84-5b0c-4b2a-9b8f-3c2c8a1d2e3f',
      scopes: [],
      permissions: [],
      claims: {},
    } satisfies VerifiedToken
    await rejectsWith(authFor().resolveCanonicalUser(fake), 'token_invalid')
  })

  it('refuses a verified token kept past its expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = authFor()
    const verified = await auth.verifyAuth0Token(await ssoToken(stack.issuer))
    vi.setSystemTime(verified.expiresAt.getTime() + 10_000)
    await rejectsWith(auth.resolveCanonicalUser(verified), 'token_expired')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('needs a directory to resolve without a canonical claim', async () => {
    const auth = createAuth({ auth0: stack.issuer.auth0 })
    try {
      await rejectsWith(resolve(auth, await ssoToken(stack.issuer)), 'internal_error')
    } finally {
      await auth.close()
    }
  })
})

describe('top-level resolveCanonicalUser', () => {
  it('shares one user cache across calls with equal configs', async () => {
    const config = () => ({
      auth0: stack.issuer.auth0,
      directory: { baseUrl: stack.directory.baseUrl },
    })
    const token = await ssoToken(stack.issuer)
    const first = await resolveCanonicalUser(await verifyAuth0Token(token, config()), config())
    const second = await resolveCanonicalUser(await verifyAuth0Token(token, config()), config())
    expect(second).toEqual({ ...first, source: 'cache', created: false })
    expect(stack.directory.calls.ensure).toBe(1)
  })
})
