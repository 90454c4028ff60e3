import type { LinkIdentity } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { rejectsWith, resolve } from '../helpers.js'
import { useTestStack } from '../stack.js'

const ACME = { 'acme-waad': ['acme.com', 'acme.co.uk'] }

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_500, retries: 0 },
  trust: { trustedConnections: ACME },
}))

/** A token from acme's IdP through the trusted connection, with no email_verified claim. */
const fromAcmeIdp = (claims: Record<string, unknown>) =>
  stack.issuer.sign({ sub: 'samlp|acme-waad|evil2', ...claims })

describe('a trusted connection vouches only for the domains it owns', () => {
  it("never links another company's email it did not verify", async () => {
    stack.directory.addUser('ceo@ourcorp.com')
    const auth = stack.auth()
    await rejectsWith(
      resolve(auth, await fromAcmeIdp({ email: 'ceo@ourcorp.com' })),
      'identity_untrusted',
    )
    await rejectsWith(
      resolve(auth, await fromAcmeIdp({ email: 'ceo@ourcorp.com', email_verified: false })),
      'identity_untrusted',
    )
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('links an unverified email at each domain the connection owns', async () => {
    const auth = stack.auth()
    for (const [sub, email] of [
      ['samlp|acme-waad|ada', 'ada@acme.com'],
      ['samlp|acme-waad|bob', 'Bob@ACME.co.uk'],
    ] as const) {
      const user = await resolve(auth, await stack.issuer.sign({ sub, email }))
      expect(user.source).toBe('directory')
    }
    expect([...stack.directory.users.keys()].sort()).toEqual(['ada@acme.com', 'bob@acme.co.uk'])
  })

  it('matches domains exactly: a subdomain or a look-alike is not owned', async () => {
    const auth = stack.auth()
    for (const email of ['ada@eu.acme.com', 'ada@acme.com.evil.com', 'ada@notacme.com']) {
      await rejectsWith(resolve(auth, await fromAcmeIdp({ email })), 'identity_untrusted')
    }
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('links any email the connection marks verified, like every other connection', async () => {
    const user = await resolve(
      stack.auth(),
      await fromAcmeIdp({ email: 'partner@globex.com', email_verified: true }),
    )
    expect(user.source).toBe('directory')
  })
})

describe('the connection is read from enterprise subs only', () => {
  it.each([
    'oauth2|acme-waad|x',
    'auth0|acme-waad|x',
    'google-oauth2|acme-waad|x',
    'email|acme-waad|x',
    'acme-waad|acme-waad|x',
  ])('does not take %s for the trusted enterprise connection', async (sub) => {
    const auth = stack.auth()
    const verified = await auth.verifyAuth0Token(
      await stack.issuer.sign({ sub, email: 'ada@acme.com' }),
    )
    expect(verified.connection).toBeUndefined()
    await rejectsWith(auth.resolveCanonicalUser(verified), 'identity_untrusted')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it.each(['samlp', 'waad', 'adfs', 'oidc', 'okta', 'pingfederate', 'ad', 'google-apps'])(
    'reads the connection of a %s sub',
    async (strategy) => {
      const auth = stack.auth()
      const verified = await auth.verifyAuth0Token(
        await stack.issuer.sign({ sub: `${strategy}|acme-waad|ada`, email: 'ada@acme.com' }),
      )
      expect(verified.connection).toBe('acme-waad')
      expect((await auth.resolveCanonicalUser(verified)).source).toBe('directory')
    },
  )

  it('takes the configured connection claim for any sub', async () => {
    const auth = stack.auth({ claims: { connection: 'https://example.com/connection' } })
    const token = await stack.issuer.sign({
      sub: 'oauth2|whatever|ada',
      email: 'ada@acme.com',
      'https://example.com/connection': 'acme-waad',
    })
    expect((await resolve(auth, token)).source).toBe('directory')
    const noClaim = await stack.issuer.sign({ sub: 'samlp|acme-waad|bob', email: 'bob@acme.com' })
    await rejectsWith(resolve(auth, noClaim), 'identity_untrusted')
  })
})

describe('trust and claims are per tenant', () => {
  let other: TestIssuer
  beforeEach(async () => {
    other = await createTestIssuer({ audience: 'https://api.other.test' })
  })
  afterEach(async () => {
    await other.close()
  })

  const CANONICAL = '0b0e4e84-5b0c-4b2a-9b8f-3c2c8a1d2e3f'
  const CLAIM = 'https://example.com/uuid'

  function twoTenants(extra: { a?: object; b?: object; top?: object } = {}) {
    return stack.auth({
      auth0: [
        { ...stack.issuer.auth0, ...extra.a },
        { ...other.auth0, ...extra.b },
      ],
      trust: {},
      ...extra.top,
    })
  }

  it("never lets one tenant's trusted connection vouch for another tenant's users", async () => {
    const auth = twoTenants({ a: { trust: { trustedConnections: ACME } } })
    const fromA = await stack.issuer.sign({ sub: 'samlp|acme-waad|a1', email: 'ada@acme.com' })
    const fromB = await other.sign({ sub: 'samlp|acme-waad|b1', email: 'bob@acme.com' })
    expect((await resolve(auth, fromA)).source).toBe('directory')
    await rejectsWith(resolve(auth, fromB), 'identity_untrusted')
    expect(stack.directory.users.has('bob@acme.com')).toBe(false)
  })

  it('honours a canonical-id claim only from a tenant configured with it', async () => {
    const auth = twoTenants({ a: { claims: { canonicalUserId: CLAIM } } })
    const fromA = await stack.issuer.sign({ sub: 'samlp|acme-waad|a1', [CLAIM]: CANONICAL })
    expect(await resolve(auth, fromA)).toMatchObject({ id: CANONICAL, source: 'claim' })
    const fromB = await other.sign({ sub: 'auth0|b1', [CLAIM]: CANONICAL })
    const verified = await auth.verifyAuth0Token(fromB)
    expect(verified.canonicalUserId).toBeUndefined()
    await rejectsWith(auth.resolveCanonicalUser(verified), 'identity_untrusted')
  })

  it('replaces the top-level claims and trust whole, never field by field', async () => {
    const auth = twoTenants({
      top: {
        claims: { canonicalUserId: CLAIM },
        trust: { trustedConnections: ACME },
      },
      b: { claims: { email: 'https://example.com/email' }, trust: {} },
    })
    // Tenant A has no entries of its own: the top-level ones apply.
    const fromA = await stack.issuer.sign({ sub: 'auth0|a1', [CLAIM]: CANONICAL })
    expect((await resolve(auth, fromA)).source).toBe('claim')
    // Tenant B's own claims name no canonical-id claim, and its own trust no connection.
    const withClaim = await other.sign({ sub: 'auth0|b1', [CLAIM]: CANONICAL })
    await rejectsWith(resolve(auth, withClaim), 'identity_untrusted')
    const unverified = await other.sign({
      sub: 'samlp|acme-waad|b2',
      'https://example.com/email': 'bob@acme.com',
    })
    await rejectsWith(resolve(auth, unverified), 'identity_untrusted')
    expect(stack.directory.requests).toHaveLength(0)
    const verifiedEmail = await other.sign({
      sub: 'samlp|acme-waad|b3',
      'https://example.com/email': 'carol@acme.com',
      email: 'mallory@acme.com',
      email_verified: true,
    })
    // B's email claim is its own; the default `email` claim is not read for B.
    expect((await resolve(auth, verifiedEmail)).email).toBe('carol@acme.com')
    expect([...stack.directory.users.keys()]).toEqual(['carol@acme.com'])
  })
})

describe('a token verified by one instance resolves through that instance only', () => {
  it('refuses a result verified by another instance, even one with the same tenant', async () => {
    const dev = stack.auth({ trust: { trustedConnections: ACME } })
    const prod = stack.auth({ trust: {} })
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: 'ada@acme.com' })
    const verified = await dev.verifyAuth0Token(token)
    await rejectsWith(prod.resolveCanonicalUser(verified), 'token_invalid')
    // From the verification cache too: the cached result belongs to its instance.
    await rejectsWith(prod.resolveCanonicalUser(await dev.verifyAuth0Token(token)), 'token_invalid')
    expect(stack.directory.requests).toHaveLength(0)
    expect((await dev.resolveCanonicalUser(verified)).source).toBe('directory')
  })

  it('refuses anything that is not a verified token', async () => {
    const auth = stack.auth()
    for (const value of [null, undefined, 'samlp|acme-waad|ada', 42, {}]) {
      await rejectsWith(auth.resolveCanonicalUser(value as never), 'token_invalid')
    }
  })

  it('refuses copies of a verified result, however they are made', async () => {
    const auth = stack.auth({ trust: { trustedConnections: ACME } })
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: 'ada@acme.com' })
    const verified = await auth.verifyAuth0Token(token)
    const copies = [
      { ...verified },
      structuredClone({ ...verified, expiresAt: new Date(verified.expiresAt.getTime()) }),
      Object.assign(Object.create(Object.getPrototypeOf(verified)), verified),
      Object.create(verified),
      new Proxy(verified, {}),
    ]
    for (const copy of copies) {
      await rejectsWith(auth.resolveCanonicalUser(copy as never), 'token_invalid')
    }
    expect(stack.directory.requests).toHaveLength(0)
    expect(Object.getPrototypeOf(verified)).toBe(Object.prototype)
    expect((await auth.resolveCanonicalUser(verified)).source).toBe('directory')
  })
})

describe('trust.allow', () => {
  const acmeOnly = vi.fn((identity: LinkIdentity) => identity.domain === 'acme.com')

  it('refuses before the directory is asked, on every retry', async () => {
    const created = vi.fn()
    const auth = stack.auth({
      trust: { trustedConnections: ACME, allow: acmeOnly },
      onUserCreated: created,
    })
    const token = await stack.issuer.sign({
      sub: 'google-oauth2|1',
      email: 'ada@globex.com',
      email_verified: true,
    })
    for (let attempt = 0; attempt < 3; attempt++) {
      await rejectsWith(resolve(auth, token), 'identity_untrusted')
    }
    expect(stack.directory.requests).toHaveLength(0)
    expect(stack.directory.users.size).toBe(0)
    expect(created).not.toHaveBeenCalled()
  })

  it('is asked with the canonical identity and the verified token, and admits with true', async () => {
    const allow = vi.fn(() => true)
    const auth = stack.auth({ trust: { trustedConnections: ACME, allow } })
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: ' Ada@ACME.com' })
    expect((await resolve(auth, token)).source).toBe('directory')
    expect(allow).toHaveBeenCalledTimes(1)
    expect(allow).toHaveBeenCalledWith(
      {
        email: 'ada@acme.com',
        domain: 'acme.com',
        emailVerified: false,
        connection: 'acme-waad',
        trustedConnection: true,
      },
      expect.objectContaining({ subject: 'samlp|acme-waad|ada' }),
    )
  })

  it.each([
    ['false', () => false],
    ['a truthy value that is not true', () => 'yes'],
    ['undefined', () => undefined],
    ['a promise of false', async () => false],
  ])('refuses when it answers %s', async (_name, allow) => {
    const auth = stack.auth({ trust: { trustedConnections: ACME, allow: allow as () => boolean } })
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: 'ada@acme.com' })
    await rejectsWith(resolve(auth, token), 'identity_untrusted')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('answers internal_error when it throws, and passes an AuthError through', async () => {
    const { AuthError } = await import('canonical-auth')
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: 'ada@acme.com' })
    const broken = stack.auth({
      trust: {
        trustedConnections: ACME,
        allow: () => {
          throw new Error('policy service down')
        },
      },
    })
    await rejectsWith(resolve(broken, token), 'internal_error')
    const refusing = stack.auth({
      trust: {
        allow: () => Promise.reject(new AuthError('insufficient_scope', 'Not an employee')),
        trustedConnections: ACME,
      },
    })
    await rejectsWith(resolve(refusing, token), 'insufficient_scope')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('cannot change the identity it is asked about', async () => {
    const auth = stack.auth({
      trust: {
        trustedConnections: ACME,
        allow: (identity) => {
          ;(identity as { email: string }).email = 'ceo@acme.com'
          return true
        },
      },
    })
    const token = await stack.issuer.sign({ sub: 'samlp|acme-waad|ada', email: 'ada@acme.com' })
    await rejectsWith(resolve(auth, token), 'internal_error')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('runs in lookup mode too', async () => {
    stack.directory.addUser('ada@globex.com')
    const auth = stack.auth({
      directory: { baseUrl: stack.directory.baseUrl, mode: 'lookup' },
      trust: { allow: acmeOnly },
    })
    const token = await stack.issuer.sign({
      sub: 'google-oauth2|1',
      email: 'ada@globex.com',
      email_verified: true,
    })
    await rejectsWith(resolve(auth, token), 'identity_untrusted')
    expect(stack.directory.requests).toHaveLength(0)
  })
})
