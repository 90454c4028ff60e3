import { type AuthConfig, AuthConfigError, createAuth } from 'canonical-auth'
import { describe, expect, it } from 'vitest'

const base = { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' }

function configError(config: unknown): AuthConfigError {
  try {
    createAuth(config as AuthConfig)
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError)
    return error as AuthConfigError
  }
  throw new Error('expected createAuth to throw')
}

describe('createAuth configuration', () => {
  it('accepts the minimal configuration from the design, over https', async () => {
    const auth = createAuth({ auth0: base, directory: { baseUrl: 'https://users.internal:8080' } })
    await auth.close()
  })

  it('refuses a plain-http directory on a host that is not loopback, and says how to allow it', () => {
    const error = configError({ auth0: base, directory: { baseUrl: 'http://users.internal:8080' } })
    expect(error.issues.map((issue) => issue.path)).toEqual(['directory.baseUrl'])
    expect(error.message).toMatch(/loopback/)
    expect(error.message).toMatch(/allowInsecureHttp/)
  })

  it('accepts a plain-http directory on any host with allowInsecureHttp, and on loopback without', async () => {
    for (const directory of [
      { baseUrl: 'http://users.internal:8080', allowInsecureHttp: true },
      { baseUrl: 'http://127.0.0.1:8080' },
      { baseUrl: 'http://localhost:8080' },
      { baseUrl: 'http://[::1]:8080' },
    ]) {
      await createAuth({ auth0: base, directory }).close()
    }
  })

  it.each([
    ['a directory', { directory: { baseUrl: 'http://users.localhost:8080' } }, 'directory.baseUrl'],
    ['an issuer', { auth0: { issuer: 'http://tenant.localhost/', audience: 'a' } }, 'auth0.issuer'],
    [
      'a key set',
      { auth0: { ...base, jwksUri: 'http://keys.localhost/jwks.json' } },
      'auth0.jwksUri',
    ],
  ])('treats a name under .localhost as a network host, not loopback: %s', (_name, extra, path) => {
    const error = configError({ auth0: base, ...extra })
    expect(error.issues.map((issue) => issue.path)).toContain(path)
  })

  it('refuses trusted connections given as a list, and explains that each needs its domains', () => {
    const error = configError({ auth0: base, trust: { trustedConnections: ['acme-waad'] } })
    expect(error.issues.map((issue) => issue.path)).toEqual(['trust.trustedConnections'])
    expect(error.message).toMatch(/email domains it owns/)
    expect(error.message).toContain("{ 'acme-waad': ['acme.com'] }")
  })

  it.each([
    ['no domain', { 'acme-waad': [] }, 'trust.trustedConnections.acme-waad'],
    [
      'a URL as a domain',
      { 'acme-waad': ['https://acme.com'] },
      'trust.trustedConnections.acme-waad.0',
    ],
    [
      'a consumer mail domain',
      { 'acme-waad': ['gmail.com'] },
      'trust.trustedConnections.acme-waad.0',
    ],
    [
      'a look-alike domain',
      { 'acme-waad': ['\u212Acme.com'] },
      'trust.trustedConnections.acme-waad.0',
    ],
    [
      'domains that are not a list',
      { 'acme-waad': 'acme.com' },
      'trust.trustedConnections.acme-waad',
    ],
  ])('refuses a trusted connection with %s', (_name, trustedConnections, path) => {
    const error = configError({ auth0: base, trust: { trustedConnections } })
    expect(error.issues.map((issue) => issue.path)).toContain(path)
  })

  it('accepts trust and claims on each tenant entry, validated like the top-level ones', async () => {
    await createAuth({
      auth0: [
        {
          ...base,
          trust: {
            trustedConnections: { 'acme-waad': ['acme.com', 'Acme.CO.uk'] },
            allow: () => true,
          },
          claims: { canonicalUserId: 'https://example.com/uid' },
        },
        { domain: 'login.example.com', audience: 'a', claims: {} },
      ],
    }).close()
    const error = configError({
      auth0: [
        base,
        { domain: 'login.example.com', audience: 'a', trust: { trustedConnections: ['x'] } },
      ],
    })
    expect(error.issues.map((issue) => issue.path)).toEqual(['auth0.1.trust.trustedConnections'])
    expect(configError({ auth0: { ...base, claims: { email: '' } } }).issues[0]?.path).toBe(
      'auth0.claims.email',
    )
    expect(configError({ auth0: base, trust: { allow: true } }).issues[0]?.path).toBe('trust.allow')
  })

  it.each([
    ['no auth0', {}, 'auth0'],
    [
      'a URL as the domain',
      { auth0: { ...base, domain: 'https://tenant.auth0.com/' } },
      'auth0.domain',
    ],
    ['a domain with a path', { auth0: { ...base, domain: 'tenant.auth0.com/x' } }, 'auth0.domain'],
    ['neither domain nor issuer', { auth0: { audience: 'a' } }, 'auth0.domain'],
    ['an empty audience', { auth0: { ...base, audience: '' } }, 'auth0.audience'],
    ['an empty audience list', { auth0: { ...base, audience: [] } }, 'auth0.audience'],
    ['a numeric audience', { auth0: { ...base, audience: 42 } }, 'auth0.audience'],
    [
      'an http issuer on a public host',
      { auth0: { ...base, issuer: 'http://tenant.auth0.com/' } },
      'auth0.issuer',
    ],
    [
      'an http key set URL on a public host',
      { auth0: { ...base, jwksUri: 'http://evil.example/jwks.json' } },
      'auth0.jwksUri',
    ],
    [
      'a key set URL with credentials',
      { auth0: { ...base, jwksUri: 'https://u:p@tenant.auth0.com/jwks' } },
      'auth0.jwksUri',
    ],
    [
      'a file: key set URL',
      { auth0: { ...base, jwksUri: 'file:///etc/jwks.json' } },
      'auth0.jwksUri',
    ],
    ['HS256', { auth0: { ...base, algorithms: ['HS256'] } }, 'auth0.algorithms.0'],
    [
      'hs512 in lower case',
      { auth0: { ...base, algorithms: ['RS256', 'hs512'] } },
      'auth0.algorithms.1',
    ],
    ['none', { auth0: { ...base, algorithms: ['none'] } }, 'auth0.algorithms.0'],
    ['no algorithms', { auth0: { ...base, algorithms: [] } }, 'auth0.algorithms'],
    [
      'a negative clock tolerance',
      { auth0: { ...base, clockToleranceSeconds: -1 } },
      'auth0.clockToleranceSeconds',
    ],
    ['a misspelt key', { auth0: { ...base, audiance: 'x' } }, 'auth0'],
    ['an unknown top-level key', { auth0: base, testMode: true }, ''],
    ['an empty tenant list', { auth0: [] }, 'auth0'],
    ['a bad second tenant', { auth0: [base, { ...base, domain: 'x' }] }, 'auth0.1.domain'],
    [
      'a directory URL that is not http',
      { auth0: base, directory: { baseUrl: 'ftp://users' } },
      'directory.baseUrl',
    ],
    [
      'a directory URL that is not a URL',
      { auth0: base, directory: { baseUrl: 'users.internal' } },
      'directory.baseUrl',
    ],
    [
      'a directory URL with credentials',
      { auth0: base, directory: { baseUrl: 'https://svc:pw@users.internal' } },
      'directory.baseUrl',
    ],
    [
      'a bad directory mode',
      { auth0: base, directory: { baseUrl: 'http://u', mode: 'create' } },
      'directory.mode',
    ],
    [
      'a circuit breaker that never lets a call through',
      { auth0: base, directory: { baseUrl: 'http://u', circuitBreaker: { failureThreshold: 0 } } },
      'directory.circuitBreaker.failureThreshold',
    ],
    [
      'a circuit breaker reset of zero',
      { auth0: base, directory: { baseUrl: 'http://u', circuitBreaker: { resetTimeoutMs: 0 } } },
      'directory.circuitBreaker.resetTimeoutMs',
    ],
    ['an onEvent that is not a function', { auth0: base, onEvent: 'log' }, 'onEvent'],
    ['a tiny token cap', { auth0: base, maxTokenLength: 10 }, 'maxTokenLength'],
    ['a bad claim name', { auth0: base, claims: { email: '' } }, 'claims.email'],
  ])('rejects %s, naming the field', (_name, config, path) => {
    const error = configError(config)
    expect(error.issues.map((issue) => issue.path)).toContain(path)
    expect(error.message).toContain(path === '' ? '(root)' : `${path}:`)
  })

  it.each([
    ['a tenant key', { auth0: { ...base, audiance: 'x' } }, 'auth0', 'audiance', 'audience'],
    ['a top-level key', { auth0: base, diretory: {} }, '', 'diretory', 'directory'],
    [
      'a directory key',
      { auth0: base, directory: { baseUrl: 'https://u.example', timeutMs: 1 } },
      'directory',
      'timeutMs',
      'timeoutMs',
    ],
    [
      'a key without its unit',
      { auth0: base, cache: { maxAge: 5 } },
      'cache',
      'maxAge',
      'maxAgeMs',
    ],
    [
      'a key of a tenant in a list',
      { auth0: [{ ...base, trust: { trustedConnection: {} } }] },
      'auth0.0.trust',
      'trustedConnection',
      'trustedConnections',
    ],
    [
      'a key in another case',
      { auth0: { ...base, ClockToleranceSeconds: 1 } },
      'auth0',
      'ClockToleranceSeconds',
      'clockToleranceSeconds',
    ],
  ])('suggests the key meant for a misspelt %s', (_name, config, path, key, meant) => {
    const issue = configError(config).issues.find((i) => i.message.includes(`'${key}'`))
    expect(issue).toEqual({ path, message: `unknown key '${key}'; did you mean '${meant}'?` })
  })

  it.each([
    ['jwks.cacheMaxAgeMs', { jwks: { cacheMaxAgeMs: 1 } }, 'jwks', 'cacheMaxAgeMs', 'maxAgeMs'],
    ['cache.ttlMs', { cache: { ttlMs: 1 } }, 'cache', 'ttlMs', 'maxAgeMs'],
    [
      'cache.tokens.ttlMs',
      { cache: { tokens: { ttlMs: 1 } } },
      'cache.tokens',
      'ttlMs',
      'maxAgeMs',
    ],
    [
      'cache.negativeTtlMs',
      { cache: { negativeTtlMs: 1 } },
      'cache',
      'negativeTtlMs',
      'negativeMaxAgeMs',
    ],
    [
      'discovery.cacheTtlMs',
      { discovery: { cacheTtlMs: 1 } },
      'discovery',
      'cacheTtlMs',
      'maxAgeMs',
    ],
    [
      'discovery.staleTtlMs',
      { discovery: { staleTtlMs: 1 } },
      'discovery',
      'staleTtlMs',
      'staleIfErrorMs',
    ],
  ])('names what a renamed key is now: %s', (_name, config, path, key, now) => {
    const issue = configError({ auth0: base, ...config }).issues[0]
    expect(issue).toEqual({ path, message: `unknown key '${key}'; it is now '${now}'` })
  })

  it('says where the discover rate limit went', () => {
    const issue = configError({ auth0: base, discovery: { rateLimit: () => true } }).issues[0]
    expect(issue?.path).toBe('discovery')
    expect(issue?.message).toMatch(
      /^unknown key 'rateLimit'; .*discoverHandler\(auth, \{ rateLimit \}\)/,
    )
  })

  it('suggests nothing for a key that is like none', () => {
    const issue = configError({ auth0: base, testMode: true }).issues[0]
    expect(issue).toEqual({ path: '', message: "unknown key 'testMode'" })
  })

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'tenant.eu.auth0.com'],
    ['a list', [base]],
  ])('shows a minimal configuration when given %s', (_name, config) => {
    const error = configError(config)
    expect(error.issues).toHaveLength(1)
    expect(error.message).toContain("createAuth({ auth0: { domain: 'tenant.eu.auth0.com'")
    expect(error.message).not.toMatch(/Invalid input/)
  })

  it('shows what a tenant looks like when auth0 is missing', () => {
    const error = configError({ directory: { baseUrl: 'https://u.example' } })
    expect(error.issues[0]?.path).toBe('auth0')
    expect(error.message).toContain("{ domain: 'tenant.eu.auth0.com', audience:")
  })

  it('explains why a symmetric algorithm is refused', () => {
    expect(configError({ auth0: { ...base, algorithms: ['HS256'] } }).message).toMatch(
      /symmetric.*never accepted/,
    )
    expect(configError({ auth0: { ...base, algorithms: ['none'] } }).message).toMatch(
      /never accepted/,
    )
  })

  it('refuses the same issuer twice', () => {
    const error = configError({ auth0: [base, { ...base, audience: 'other' }] })
    expect(error.issues[0]?.path).toBe('auth0.1.issuer')
  })

  it.each([
    'http://127.0.0.1:8080/',
    'http://localhost:3000/',
    'http://[::1]:4000/',
    'http://127.10.0.1/',
  ])('accepts http: for the loopback issuer %s', async (issuer) => {
    await createAuth({ auth0: { issuer, audience: 'a' } }).close()
  })

  it('collects every problem at once', () => {
    const error = configError({
      auth0: { domain: 'https://x', audience: '', algorithms: ['HS256'] },
    })
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'auth0.domain',
      'auth0.audience',
      'auth0.algorithms.0',
    ])
  })
})
