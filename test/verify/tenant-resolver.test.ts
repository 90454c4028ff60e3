import {
  type Auth0TenantConfig,
  type AuthConfig,
  AuthConfigError,
  createAuth,
  type TenantResolver,
} from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { advance, rejectsWith, ssoToken, UUID } from '../helpers.js'
import { useInstances, useTestStack } from '../stack.js'

// `auth0` as a function: tenants chosen by issuer at run time.
const stack = useTestStack(({ directory }) => ({ directory: { baseUrl: directory.baseUrl } }), {
  fakeDate: true,
})
const keep = useInstances()

/** A resolver that knows the stack's issuer (and `others`), counting its calls by issuer. */
function resolverFor(others: TestIssuer[] = [], extra: Partial<Auth0TenantConfig> = {}) {
  const asked: string[] = []
  const resolve = vi.fn(async (issuer: string) => {
    asked.push(issuer)
    const known = [stack.issuer, ...others].find((candidate) => candidate.issuer === issuer)
    return known === undefined ? undefined : { ...known.auth0, ...extra }
  })
  return { resolve: resolve as TenantResolver, asked }
}

function authWith(resolve: TenantResolver, extra: Partial<AuthConfig> = {}) {
  return keep(
    createAuth({
      auth0: resolve,
      directory: { baseUrl: stack.directory.baseUrl },
      cache: { tokens: false },
      ...extra,
    }),
  )
}

describe('a tenant chosen at run time', () => {
  it('verifies and resolves its tokens end to end, a first-time user included', async () => {
    const { resolve } = resolverFor()
    const auth = authWith(resolve)
    const context = await auth.authenticate({
      headers: { authorization: `Bearer ${await ssoToken(stack.issuer, 'ada')}` },
    })
    expect(context.userId).toMatch(UUID)
    expect(context.userId).toBe(stack.directory.users.get('ada@acme.com')?.id)
    expect(context.token?.issuer).toBe(stack.issuer.issuer)
  })

  it('serves many issuers, each with its own keys: one tenant never verifies another', async () => {
    const other = await createTestIssuer()
    onTestFinished(() => other.close())
    const { resolve } = resolverFor([other])
    const auth = authWith(resolve)
    expect((await auth.verifyAuth0Token(await other.sign())).issuer).toBe(other.issuer)
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    // Signed by the other tenant's key, naming this one.
    await rejectsWith(
      auth.verifyAuth0Token(await other.sign({ iss: stack.issuer.issuer })),
      'token_invalid',
    )
  })

  it('applies the trust policy the resolver gives each tenant, and no other', async () => {
    const { resolve } = resolverFor([], { trust: { trustedConnections: {} } })
    const auth = authWith(resolve)
    const unverified = await stack.issuer.sign({
      sub: 'samlp|acme-waad|bob',
      email: 'bob@acme.com',
      email_verified: false,
    })
    await rejectsWith(
      auth.authenticate({ headers: { authorization: `Bearer ${unverified}` } }),
      'identity_untrusted',
    )
    const trusting = authWith(
      resolverFor([], { trust: { trustedConnections: { 'acme-waad': ['acme.com'] } } }).resolve,
    )
    const context = await trusting.authenticate({
      headers: { authorization: `Bearer ${unverified}` },
    })
    expect(context.userId).toMatch(UUID)
  })

  it('finds the key set of a tenant given by its issuer alone through its metadata', async () => {
    const resolve: TenantResolver = async (issuer) =>
      issuer === stack.issuer.issuer ? { issuer, audience: stack.issuer.audience } : undefined
    const auth = authWith(resolve)
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    expect(stack.issuer.calls.openidConfiguration).toBe(1)
  })

  it('resolves a verified result after the tenant has left the cache', async () => {
    const { resolve } = resolverFor()
    const auth = authWith(resolve, {
      cache: { tokens: false, tenants: { maxAgeMs: 1_000 } },
    })
    const verified = await auth.verifyAuth0Token(await ssoToken(stack.issuer, 'ada'))
    advance(2_000)
    expect((await auth.resolveCanonicalUser(verified)).id).toMatch(UUID)
  })
})

describe('how often the resolver is asked', () => {
  it('once per issuer for concurrent tokens, again only past the max age', async () => {
    const { resolve, asked } = resolverFor()
    const auth = authWith(resolve, { cache: { tokens: false, tenants: { maxAgeMs: 60_000 } } })
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stack.issuer.sign({ sub: `auth0|${i}` })),
    )
    await Promise.all(tokens.map((token) => auth.verifyAuth0Token(token)))
    expect(asked).toEqual([stack.issuer.issuer])
    advance(30_000)
    await auth.verifyAuth0Token(tokens[0] as string)
    expect(asked).toHaveLength(1)
    advance(31_000)
    await auth.verifyAuth0Token(await stack.issuer.sign())
    expect(asked).toHaveLength(2)
  })

  it('keeps a refusal for negativeMaxAgeMs, and a refused issuer fetches nothing', async () => {
    const asked: string[] = []
    const auth = authWith(
      async (issuer) => {
        asked.push(issuer)
        return undefined
      },
      { cache: { tokens: false, tenants: { negativeMaxAgeMs: 10_000 } } },
    )
    for (let i = 0; i < 5; i++) {
      await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'token_invalid')
    }
    expect(asked).toHaveLength(1)
    advance(11_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'token_invalid')
    expect(asked).toHaveLength(2)
    expect(stack.issuer.calls.jwks).toBe(0)
    expect(stack.issuer.calls.openidConfiguration).toBe(0)
  })

  it('under a flood of random issuers: once per issuer, the memory bounded, nothing fetched', async () => {
    const asked = new Set<string>()
    let calls = 0
    const auth = authWith(
      async (issuer) => {
        calls += 1
        asked.add(issuer)
        return undefined
      },
      { cache: { tokens: false, tenants: { max: 100 } } },
    )
    const issuers = Array.from({ length: 500 }, (_, i) => `https://tenant-${i}.example.com/`)
    const tokens = await Promise.all(
      issuers.flatMap((iss) => [stack.issuer.sign({ iss }), stack.issuer.sign({ iss })]),
    )
    // In batches below the in-flight bound.
    for (let start = 0; start < tokens.length; start += 50) {
      await Promise.all(
        tokens
          .slice(start, start + 50)
          .map((token) => rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')),
      )
    }
    expect(asked.size).toBe(500)
    expect(calls).toBe(500)
    // Only the last 100 are kept: the first issuer is asked again, the last is not.
    await rejectsWith(
      auth.verifyAuth0Token(await stack.issuer.sign({ iss: issuers.at(-1) })),
      'token_invalid',
    )
    expect(calls).toBe(500)
    await rejectsWith(
      auth.verifyAuth0Token(await stack.issuer.sign({ iss: issuers[0] })),
      'token_invalid',
    )
    expect(calls).toBe(501)
    expect(stack.issuer.calls.jwks).toBe(0)
  })

  it('has at most max calls in flight; more new issuers at once are 503 without a call', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let calls = 0
    const auth = authWith(
      async () => {
        calls += 1
        await gate
        return undefined
      },
      { cache: { tokens: false, tenants: { max: 10 } } },
    )
    const tokens = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        stack.issuer.sign({ iss: `https://flood-${i}.example.com/` }),
      ),
    )
    const answers = tokens.map((token) =>
      auth.verifyAuth0Token(token).catch((error: { code: string }) => error.code),
    )
    await vi.waitFor(() => expect(calls).toBe(10))
    release()
    const codes = await Promise.all(answers)
    expect(codes.filter((code) => code === 'token_invalid')).toHaveLength(10)
    expect(codes.filter((code) => code === 'jwks_unavailable')).toHaveLength(5)
    expect(calls).toBe(10)
  })

  it('never asks about an issuer that is not an https URL', async () => {
    const resolve = vi.fn(async () => undefined)
    const auth = authWith(resolve)
    for (const iss of [
      'acme',
      'http://tenant.example.com/',
      'javascript:alert(1)',
      `https://tenant.example.com/${'x'.repeat(3000)}`,
      // Other spellings of https://tenant.example.com/: one issuer, one spelling.
      'https://TENANT.example.com/',
      'https://tenant.example.com:443/',
      'https://tenant.example.com/./',
      ' https://tenant.example.com/',
      'https://tenant.example.com/\n',
      'https://tenant.example.com/?x=1',
    ]) {
      await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign({ iss })), 'token_invalid')
    }
    expect(resolve).not.toHaveBeenCalled()
  })
})

describe('through outages and floods', () => {
  it('a resolver that does not answer in time is 503, and the next token asks again', async () => {
    let hang = true
    const resolve = vi.fn((issuer: string) =>
      hang
        ? new Promise<undefined>(() => {})
        : Promise.resolve(issuer === stack.issuer.issuer ? stack.issuer.auth0 : undefined),
    )
    const auth = authWith(resolve, { cache: { tokens: false, tenants: { timeoutMs: 50 } } })
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
    hang = false
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    expect(resolve).toHaveBeenCalledTimes(2)
  })

  it('serves a kept tenant through a resolver outage for jwks.staleIfErrorMs, keys and all', async () => {
    let failing = false
    const auth = authWith(
      async (issuer) => {
        if (failing) throw new Error('down')
        return issuer === stack.issuer.issuer ? stack.issuer.auth0 : undefined
      },
      {
        jwks: { maxAgeMs: 600_000, staleIfErrorMs: 120_000 },
        cache: { tokens: false, tenants: { maxAgeMs: 60_000 } },
      },
    )
    await auth.verifyAuth0Token(await stack.issuer.sign())
    failing = true
    advance(90_000)
    expect((await auth.verifyAuth0Token(await stack.issuer.sign())).issuer).toBe(
      stack.issuer.issuer,
    )
    // The tenant's key set outlived its answer: no second fetch.
    expect(stack.issuer.calls.jwks).toBe(1)
    advance(100_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
  })

  it('keeps the key set of a tenant asked again, with one fetch event per fetch', async () => {
    const events: string[] = []
    const { resolve, asked } = resolverFor()
    const auth = authWith(resolve, {
      cache: { tokens: false, tenants: { maxAgeMs: 1_000 } },
      onEvent: (event) => {
        if (event.type === 'jwks.fetch') events.push(event.outcome)
      },
    })
    for (let round = 0; round < 5; round++) {
      await auth.verifyAuth0Token(await stack.issuer.sign())
      advance(2_000)
    }
    expect(asked).toHaveLength(5)
    expect(stack.issuer.calls.jwks).toBe(1)
    expect(events).toEqual(['ok'])
  })

  it('a flood of refused issuers never pushes a kept tenant out', async () => {
    const { resolve, asked } = resolverFor()
    const auth = authWith(resolve, { cache: { tokens: false, tenants: { max: 10 } } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    for (let i = 0; i < 50; i++) {
      const token = await stack.issuer.sign({ iss: `https://flood-${i}.example.com/` })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
    }
    await auth.verifyAuth0Token(await stack.issuer.sign())
    expect(asked.filter((issuer) => issuer === stack.issuer.issuer)).toHaveLength(1)
  })

  it('a malformed token naming a tenant the resolver chose never reaches the legacy hook', async () => {
    const legacy = vi.fn(async () => ({ userId: '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d' }))
    const { resolve } = resolverFor()
    const auth = authWith(resolve, { legacy: { verify: legacy } })
    await auth.verifyAuth0Token(await stack.issuer.sign())
    const token = await stack.issuer.sign()
    for (const malformed of [`${token}.extra`, `${token}=`]) {
      await rejectsWith(
        auth.authenticate({ headers: { authorization: `Bearer ${malformed}` } }),
        'token_invalid',
      )
    }
    expect(legacy).not.toHaveBeenCalled()
  })
})

describe('what the resolver answers', () => {
  it('a tenant for another issuer is a refusal', async () => {
    const other = await createTestIssuer()
    onTestFinished(() => other.close())
    const auth = authWith(async () => other.auth0)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'token_invalid')
    expect(other.calls.jwks).toBe(0)
    expect(stack.issuer.calls.jwks).toBe(0)
  })

  it('a resolver that fails is 503 jwks_unavailable, not kept, never the legacy hook', async () => {
    let failing = true
    const legacy = vi.fn(async () => ({ userId: '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d' }))
    const auth = authWith(
      async (issuer) => {
        if (failing) throw new Error('tenant database down')
        return issuer === stack.issuer.issuer ? stack.issuer.auth0 : undefined
      },
      { legacy: { verify: legacy } },
    )
    const token = await ssoToken(stack.issuer, 'ada')
    const refusal = await auth
      .authenticate({ headers: { authorization: `Bearer ${token}` } })
      .catch((error: unknown) => error)
    expect(refusal).toMatchObject({ code: 'jwks_unavailable', status: 503 })
    expect(String((refusal as Error).message)).not.toContain('database')
    expect(legacy).not.toHaveBeenCalled()
    failing = false
    const context = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })
    expect(context.userId).toMatch(UUID)
  })

  it('an invalid tenant is 500 internal_error, kept like a refusal', async () => {
    const resolve = vi.fn(async () => ({ domain: 'not a host', audience: 'x' }) as never)
    const auth = authWith(resolve)
    const token = await stack.issuer.sign()
    await rejectsWith(auth.verifyAuth0Token(token), 'internal_error')
    await rejectsWith(auth.verifyAuth0Token(token), 'internal_error')
    expect(resolve).toHaveBeenCalledTimes(1)
  })

  it('a token for an issuer the resolver refused goes to the legacy hook', async () => {
    const legacy = vi.fn(async () => ({ userId: '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d' }))
    const auth = authWith(async () => undefined, { legacy: { verify: legacy } })
    const context = await auth.authenticate({
      headers: { authorization: `Bearer ${await stack.issuer.sign()}` },
    })
    expect(context.user.source).toBe('legacy')
    expect(legacy).toHaveBeenCalledTimes(1)
  })
})

describe('configuration with a resolver', () => {
  const configError = (config: Partial<AuthConfig>) => {
    try {
      createAuth({ auth0: async () => undefined, ...config })
    } catch (error) {
      if (error instanceof AuthConfigError) return error.message
      throw error
    }
    return 'accepted'
  }

  it('needs what would otherwise come from the first tenant', () => {
    expect(configError({ protectedResource: { resource: 'https://api.example.com' } })).toMatch(
      /protectedResource.authorizationServers: required when auth0 is a function/,
    )
    expect(configError({ discovery: { webfinger: true } })).toMatch(/discovery.webfinger/)
    expect(
      configError({ discovery: { clientId: 'spa', redirectUri: 'https://app.example.com/cb' } }),
    ).toMatch(/discovery.clientId/)
    expect(
      configError({
        protectedResource: {
          resource: 'https://api.example.com',
          authorizationServers: ['https://login.example.com/'],
        },
        cache: { tenants: { max: 10, maxAgeMs: 1_000, negativeMaxAgeMs: 1_000 } },
      }),
    ).toBe('accepted')
  })

  it('refuses bad cache bounds', () => {
    expect(configError({ cache: { tenants: { max: 0 } } })).toMatch(/cache.tenants.max/)
  })
})
