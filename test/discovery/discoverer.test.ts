import {
  type Auth,
  type AuthConfig,
  AuthConfigError,
  createAuth,
  type DiscoveryConfig,
  discoverAuthProvider,
  handleDiscoverRequest,
} from 'canonical-auth'
import { HttpResponse, http } from 'msw'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { advance, rejectsWith } from '../helpers.js'
import { server, strayRequests } from '../msw.js'
import { useInstances } from '../stack.js'

const TENANT = 'tenant.canonical-auth.invalid'
const ORIGIN = `https://${TENANT}`

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})
const keep = useInstances()

function authFor(discovery: DiscoveryConfig, extra: Partial<AuthConfig> = {}): Auth {
  return keep(
    createAuth({
      auth0: { domain: TENANT, audience: 'https://api.example' },
      discovery,
      ...extra,
    }),
  )
}

const login = {
  clientId: 'spa-client',
  redirectUri: 'https://app.example.com/callback',
  audience: 'https://api.example.com',
}

describe('the static domain map', () => {
  it('answers SSO with the connection and an exact authorization URL', async () => {
    const auth = authFor({ ...login, domains: { 'Acme.com': { connection: 'acme-waad' } } })
    const discovery = await auth.discoverAuthProvider('Ada+sso@ACME.com')
    expect(discovery).toEqual({
      email: 'ada+sso@acme.com',
      domain: 'acme.com',
      method: 'sso',
      connection: 'acme-waad',
      authorizationUrl:
        'https://tenant.canonical-auth.invalid/authorize?response_type=code&client_id=spa-client' +
        '&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=openid+profile+email' +
        '&audience=https%3A%2F%2Fapi.example.com&connection=acme-waad&login_hint=ada%2Bsso%40acme.com',
    })
  })

  it('passes the organization and custom response type and scope', async () => {
    const auth = authFor({
      clientId: 'spa-client',
      redirectUri: 'https://app.example.com/callback',
      responseType: 'code',
      scope: 'openid email offline_access',
      domains: { 'acme.com': { connection: 'acme-waad', organization: 'org_123' } },
    })
    const url = new URL(
      (await auth.discoverAuthProvider('ada@acme.com')).authorizationUrl as string,
    )
    expect([...url.searchParams.entries()]).toEqual([
      ['response_type', 'code'],
      ['client_id', 'spa-client'],
      ['redirect_uri', 'https://app.example.com/callback'],
      ['scope', 'openid email offline_access'],
      ['connection', 'acme-waad'],
      ['login_hint', 'ada@acme.com'],
      ['organization', 'org_123'],
    ])
  })

  it.each([
    ['no clientId', { redirectUri: 'https://app.example.com/callback' }],
    ['no redirectUri', { clientId: 'spa-client' }],
    ['neither', {}],
  ])('leaves out an authorization URL Auth0 would refuse: %s', async (_name, settings) => {
    const auth = authFor({ ...settings, domains: { 'acme.com': { connection: 'acme-waad' } } })
    expect(await auth.discoverAuthProvider('ada@acme.com')).toEqual({
      email: 'ada@acme.com',
      domain: 'acme.com',
      method: 'sso',
      connection: 'acme-waad',
    })
  })

  it('answers password for unknown domains, naming the database connection when configured', async () => {
    const auth = authFor({
      passwordConnection: 'Username-Password-Authentication',
      domains: { 'acme.com': { connection: 'acme-waad' } },
    })
    expect(await auth.discoverAuthProvider('bob@startup.io')).toEqual({
      email: 'bob@startup.io',
      domain: 'startup.io',
      method: 'password',
      connection: 'Username-Password-Authentication',
    })
  })

  it.each(['ada@evilacme.com', 'ada@acme.com.evil.io', 'ada@sub.acme.com', 'ada@acme.co'])(
    'never matches %s to acme.com',
    async (email) => {
      const auth = authFor({ domains: { 'acme.com': { connection: 'acme-waad' } } })
      expect((await auth.discoverAuthProvider(email)).method).toBe('password')
    },
  )

  it('matches an internationalised domain in either spelling', async () => {
    const auth = authFor({ domains: { 'bücher.example': { connection: 'buecher' } } })
    expect((await auth.discoverAuthProvider('ada@xn--bcher-kva.example')).connection).toBe(
      'buecher',
    )
    expect((await auth.discoverAuthProvider('ada@BÜCHER.example')).connection).toBe('buecher')
  })

  it('answers known and unknown domains with the same keys, and never asks the directory', async () => {
    const auth = authFor(
      { ...login, domains: { 'acme.com': { connection: 'acme-waad' } } },
      { directory: { baseUrl: 'https://users.canonical-auth.invalid' } },
    )
    const known = await auth.discoverAuthProvider('nobody-ever-registered@acme.com')
    const also = await auth.discoverAuthProvider('ada@acme.com')
    expect(Object.keys(known)).toEqual(Object.keys(also))
    expect({ ...known, email: '', authorizationUrl: '' }).toEqual({
      ...also,
      email: '',
      authorizationUrl: '',
    })
    expect(strayRequests).toEqual([])
  })

  it('refuses to map a consumer mail domain', () => {
    expect(() => authFor({ domains: { 'gmail.com': { connection: 'x' } } })).toThrow(
      AuthConfigError,
    )
  })
})

describe('email parsing traps', () => {
  it.each([
    'a@acme.com@evil.com',
    '"a"@acme.com',
    'a@[127.0.0.1]',
    'a@acme.com.',
    ' a@acme.com',
    'a@acme.com ',
    'a @acme.com',
    'a@acme.com\u0000',
    'a@acme.com\n',
    'ada@acme.com\u00A0',
    '\u3000ada@acme.com',
    'ada@acme.com\uFEFF',
    'a@\u212Acme.com',
    `${'a'.repeat(250)}@acme.com`,
    '',
    'not-an-email',
  ])('answers %j with invalid_request', async (email) => {
    const auth = authFor({ domains: { 'acme.com': { connection: 'acme-waad' } } })
    await rejectsWith(auth.discoverAuthProvider(email), 'invalid_request')
  })
})

describe('the Management API source', () => {
  const management = { clientId: 'm2m', clientSecret: 'super-secret-value' }

  function managementApi(pages: unknown[][], options: { tokenTtl?: number } = {}) {
    const calls = { token: 0, pages: [] as string[] }
    server.use(
      http.post(`${ORIGIN}/oauth/token`, async ({ request }) => {
        calls.token += 1
        const body = (await request.json()) as Record<string, string>
        if (body.client_secret !== management.clientSecret)
          return HttpResponse.json({ error: 'access_denied' }, { status: 401 })
        expect(body).toMatchObject({
          grant_type: 'client_credentials',
          client_id: 'm2m',
          audience: `${ORIGIN}/api/v2/`,
        })
        return HttpResponse.json({
          access_token: `mgmt-${calls.token}`,
          expires_in: options.tokenTtl ?? 86_400,
          token_type: 'Bearer',
        })
      }),
      http.get(`${ORIGIN}/api/v2/clients/spa-client/connections`, ({ request }) => {
        const url = new URL(request.url)
        calls.pages.push(
          `${url.searchParams.get('from') ?? '-'} ${request.headers.get('authorization')}`,
        )
        const index = Number(url.searchParams.get('from') ?? 0)
        return HttpResponse.json({
          connections: pages[index] ?? [],
          next: index + 1 < pages.length ? String(index + 1) : undefined,
        })
      }),
    )
    return calls
  }

  const conn = (name: string, strategy: string, aliases: string[]) => ({
    name,
    strategy,
    options: { domain_aliases: aliases },
  })

  it('matches domain_aliases of enterprise connections across pages, with one token', async () => {
    const calls = managementApi([
      [
        conn('Username-Password-Authentication', 'auth0', ['acme.com']),
        conn('globex-okta', 'okta', ['globex.com']),
      ],
      [conn('acme-waad', 'waad', ['Acme.com', 'acme.co.uk'])],
    ])
    const auth = authFor({ ...login, management })
    expect((await auth.discoverAuthProvider('ada@acme.com')).connection).toBe('acme-waad')
    expect((await auth.discoverAuthProvider('hank@globex.com')).connection).toBe('globex-okta')
    expect((await auth.discoverAuthProvider('bob@acme.co.uk')).connection).toBe('acme-waad')
    expect((await auth.discoverAuthProvider('eve@initech.com')).method).toBe('password')
    expect(calls.token).toBe(1)
    expect(calls.pages).toEqual(['- Bearer mgmt-1', '1 Bearer mgmt-1'])
  })

  it('reuses the token across many discoveries and cache refreshes until shortly before it expires', async () => {
    const calls = managementApi([[conn('acme-waad', 'samlp', ['acme.com'])]], { tokenTtl: 3600 })
    const auth = authFor({ ...login, management, maxAgeMs: 60_000 })
    for (let i = 0; i < 20; i++) await auth.discoverAuthProvider(`u${i}@acme.com`)
    advance(61_000)
    await auth.discoverAuthProvider('ada@acme.com')
    expect(calls.token).toBe(1)
    expect(calls.pages).toHaveLength(2)
    advance(3_600_000)
    await auth.discoverAuthProvider('ada@acme.com')
    expect(calls.token).toBe(2)
  })

  it('never routes a consumer domain to SSO, whatever the aliases say', async () => {
    managementApi([[conn('oops', 'samlp', ['gmail.com', 'corp.example'])]])
    const auth = authFor({ ...login, management, consumerDomains: ['corp.example'] })
    expect((await auth.discoverAuthProvider('ada@gmail.com')).method).toBe('password')
    expect((await auth.discoverAuthProvider('ada@corp.example')).method).toBe('password')
  })

  it('serves the cached map through an outage, then fails closed with 502', async () => {
    managementApi([[conn('acme-waad', 'samlp', ['acme.com'])]])
    const auth = authFor({ ...login, management, maxAgeMs: 60_000, staleIfErrorMs: 120_000 })
    await auth.discoverAuthProvider('ada@acme.com')
    server.use(
      http.get(`${ORIGIN}/api/v2/clients/spa-client/connections`, () => HttpResponse.error()),
    )
    advance(61_000)
    expect((await auth.discoverAuthProvider('ada@acme.com')).connection).toBe('acme-waad')
    advance(120_000)
    await rejectsWith(auth.discoverAuthProvider('ada@acme.com'), 'discovery_unavailable')
  })

  it('is unavailable (502) with no cache when the API is down, and leaks no secret', async () => {
    server.use(
      http.post(
        `${ORIGIN}/oauth/token`,
        () => new HttpResponse('internal: secret=hunter2', { status: 500 }),
      ),
    )
    const auth = authFor({ ...login, management })
    const error = await auth.discoverAuthProvider('ada@acme.com').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'discovery_unavailable', status: 502 })
    const text = `${JSON.stringify(error)} ${String(error)} ${String((error as Error).cause)}`
    expect(text).not.toContain('super-secret-value')
    expect(text).not.toContain('hunter2')
  })

  it('is unavailable when the credentials are refused', async () => {
    managementApi([])
    const auth = authFor({ ...login, management: { ...management, clientSecret: 'wrong' } })
    await rejectsWith(auth.discoverAuthProvider('ada@acme.com'), 'discovery_unavailable')
  })

  it('needs the login client id, to use only connections enabled for it', () => {
    expect(() => authFor({ management })).toThrow(/discovery\.clientId/)
  })
})

describe('the WebFinger source', () => {
  function webfinger(federated: string[]) {
    const asked: string[] = []
    server.use(
      http.get(`${ORIGIN}/.well-known/webfinger`, ({ request }) => {
        const resource = new URL(request.url).searchParams.get('resource') ?? ''
        asked.push(resource)
        const domain = resource.replace('urn:auth0:discovery:domain:', '')
        return federated.includes(domain)
          ? HttpResponse.json({ subject: resource, links: [] })
          : HttpResponse.json({ error: 'not_found' }, { status: 404 })
      }),
    )
    return asked
  }

  it('answers SSO for a federated domain (connection left to Auth0) and password on 404', async () => {
    const asked = webfinger(['acme.com'])
    const auth = authFor({ ...login, webfinger: true })
    const sso = await auth.discoverAuthProvider('ada@acme.com')
    expect(sso.method).toBe('sso')
    expect(sso).not.toHaveProperty('connection')
    expect(new URL(sso.authorizationUrl as string).searchParams.get('login_hint')).toBe(
      'ada@acme.com',
    )
    expect((await auth.discoverAuthProvider('bob@startup.io')).method).toBe('password')
    expect(asked).toEqual([
      'urn:auth0:discovery:domain:acme.com',
      'urn:auth0:discovery:domain:startup.io',
    ])
  })

  it('caches answers per domain, including "not federated"', async () => {
    const asked = webfinger([])
    const auth = authFor({ webfinger: true })
    await auth.discoverAuthProvider('a@startup.io')
    await auth.discoverAuthProvider('b@startup.io')
    expect(asked).toHaveLength(1)
  })

  it('is unavailable (502) on any failure other than 404 when nothing is cached', async () => {
    server.use(
      http.get(`${ORIGIN}/.well-known/webfinger`, () => new HttpResponse(null, { status: 503 })),
    )
    await rejectsWith(
      authFor({ webfinger: true }).discoverAuthProvider('ada@acme.com'),
      'discovery_unavailable',
    )
  })

  it('never asks about consumer domains', async () => {
    const asked = webfinger(['gmail.com'])
    expect((await authFor({ webfinger: true }).discoverAuthProvider('ada@gmail.com')).method).toBe(
      'password',
    )
    expect(asked).toEqual([])
  })
})

describe('a custom resolver', () => {
  it('is asked after the static map, cached per domain, and its rules validated', async () => {
    const resolver = vi.fn(async (domain: string) =>
      domain === 'initech.com' ? { connection: 'initech-adfs', organization: 'org_9' } : null,
    )
    const auth = authFor({ domains: { 'acme.com': { connection: 'acme-waad' } }, resolver })
    expect((await auth.discoverAuthProvider('ada@acme.com')).connection).toBe('acme-waad')
    expect(await auth.discoverAuthProvider('peter@initech.com')).toMatchObject({
      connection: 'initech-adfs',
      organization: 'org_9',
    })
    await auth.discoverAuthProvider('milton@initech.com')
    expect(resolver.mock.calls.map((call) => call[0])).toEqual(['initech.com'])
  })

  it('answers 502 when it throws or answers nonsense', async () => {
    await rejectsWith(
      authFor({ resolver: async () => Promise.reject(new Error('db down')) }).discoverAuthProvider(
        'a@x.io',
      ),
      'discovery_unavailable',
    )
    await rejectsWith(
      authFor({ resolver: async () => ({ connection: '' }) }).discoverAuthProvider('a@x.io'),
      'discovery_unavailable',
    )
  })

  it('follows the configured order', async () => {
    const resolver = vi.fn(async () => ({ connection: 'from-resolver' }))
    const auth = authFor({
      order: ['resolver', 'static'],
      domains: { 'acme.com': { connection: 'from-map' } },
      resolver,
    })
    expect((await auth.discoverAuthProvider('ada@acme.com')).connection).toBe('from-resolver')
  })

  it('refuses an order naming an unconfigured source', () => {
    expect(() => authFor({ order: ['webfinger'] })).toThrow(/source 'webfinger' is not configured/)
  })
})

describe('handleDiscoverRequest (what the adapters mount)', () => {
  const auth = () => authFor({ domains: { 'acme.com': { connection: 'acme-waad' } } })

  it('answers 200 JSON for a parsed or a raw body', async () => {
    for (const body of [
      { email: 'ada@acme.com' },
      '{"email":"ada@acme.com"}',
      new TextEncoder().encode('{"email":"ada@acme.com"}'),
    ]) {
      const answer = await handleDiscoverRequest(auth(), { body })
      expect(answer.status).toBe(200)
      expect(answer.headers['content-type']).toMatch(/application\/json/)
      expect(answer.headers['cache-control']).toBe('no-store')
      expect(answer.body).toMatchObject({ method: 'sso', connection: 'acme-waad' })
    }
  })

  it.each<[string, unknown]>([
    ['no body', undefined],
    ['an empty object', {}],
    ['a numeric email', { email: 42 }],
    ['an array', [{ email: 'ada@acme.com' }]],
    ['invalid JSON', '{"email":'],
    ['a huge body', JSON.stringify({ email: 'ada@acme.com', pad: 'x'.repeat(5000) })],
    ['a bad email', { email: 'a@acme.com@evil.com' }],
  ])('answers 400 invalid_request for %s', async (_name, body) => {
    const answer = await handleDiscoverRequest(auth(), { body })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ error: 'invalid_request' })
  })

  /** A request body stream that records how much of it was read. */
  function streamOf(chunks: readonly string[], then: 'end' | 'stall' = 'end') {
    const read = { chunks: 0 }
    const stream: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const chunk = chunks[read.chunks]
          read.chunks += 1
          if (chunk !== undefined)
            return Promise.resolve({ done: false, value: new TextEncoder().encode(chunk) })
          return then === 'end'
            ? Promise.resolve({ done: true, value: undefined })
            : new Promise<IteratorResult<Uint8Array>>(() => {})
        },
      }),
    }
    return { stream, read }
  }

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
  ])('reads a body labelled %s from the request stream', async (contentType) => {
    const { stream } = streamOf(['{"email":', '"ada@acme.com"}'])
    const answer = await handleDiscoverRequest(auth(), { stream, contentType })
    expect(answer).toMatchObject({ status: 200, body: { method: 'sso', connection: 'acme-waad' } })
    expect(answer.headers.connection).toBeUndefined()
  })

  it.each<[string, string | undefined]>([
    ['no content type', undefined],
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['JSON in another charset', 'application/json; charset=iso-8859-1'],
    ['a JSON look-alike', 'application/jsonp'],
    ['a JSON suffix type', 'application/vnd.acme+json'],
  ])('refuses a stream body with %s unread, and closes the connection', async (_name, type) => {
    const { stream, read } = streamOf(['{"email":"ada@acme.com"}'])
    const answer = await handleDiscoverRequest(auth(), { stream, contentType: type })
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(answer.headers.connection).toBe('close')
    expect(read.chunks).toBe(0)
  })

  it('uses a body a body parser produced, whatever the content type', async () => {
    const { stream, read } = streamOf([])
    const answer = await handleDiscoverRequest(auth(), {
      body: { email: 'ada@acme.com' },
      stream,
      contentType: 'application/x-www-form-urlencoded',
    })
    expect(answer.status).toBe(200)
    expect(read.chunks).toBe(0)
  })

  it('stops reading a stream body past 4 KiB, answers 400 and closes the connection', async () => {
    const { stream, read } = streamOf(
      Array.from({ length: 100 }, () => 'x'.repeat(1_024)),
      'stall',
    )
    const answer = await handleDiscoverRequest(auth(), { stream, contentType: 'application/json' })
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(answer.headers.connection).toBe('close')
    expect(read.chunks).toBe(5)
  })

  it('answers a stream body that has not arrived after 5 seconds with 400, and closes the connection', async () => {
    vi.useFakeTimers()
    const { stream } = streamOf(['{"email":"ada@'], 'stall')
    let answered = false
    const answering = handleDiscoverRequest(auth(), { stream, contentType: 'application/json' })
    void answering.then(() => {
      answered = true
    })
    await vi.advanceTimersByTimeAsync(4_900)
    expect(answered).toBe(false)
    await vi.advanceTimersByTimeAsync(100)
    const answer = await answering
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(answer.headers.connection).toBe('close')
  })

  it('answers 400 when the stream fails mid-way, and closes the connection', async () => {
    const stream: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('aborted')) }),
    }
    const answer = await handleDiscoverRequest(auth(), { stream, contentType: 'application/json' })
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(answer.headers.connection).toBe('close')
  })

  it('answers 429 with Retry-After when the rate limit hook refuses', async () => {
    const rateLimit = vi.fn(async (client: string) =>
      client === '10.0.0.9' ? { allowed: false, retryAfterSeconds: 30 } : true,
    )
    const limited = authFor({ domains: {} })
    const refused = await handleDiscoverRequest(
      limited,
      { body: { email: 'a@b.co' }, client: '10.0.0.9' },
      { rateLimit },
    )
    expect(refused).toMatchObject({ status: 429, body: { error: 'rate_limited' } })
    expect(refused.headers['retry-after']).toBe('30')
    const allowed = await handleDiscoverRequest(
      limited,
      { body: { email: 'a@b.co' }, client: '10.0.0.1' },
      { rateLimit },
    )
    expect(allowed.status).toBe(200)
    expect(rateLimit.mock.calls).toEqual([['10.0.0.9'], ['10.0.0.1']])
  })

  it('asks no rate limit hook unless the handler is given one', async () => {
    const answer = await handleDiscoverRequest(authFor({ domains: {} }), {
      body: { email: 'a@b.co' },
      client: '10.0.0.9',
    })
    expect(answer.status).toBe(200)
  })

  it('answers 502 without upstream details when a source is down', async () => {
    const broken = authFor({
      resolver: async () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:5432')),
    })
    const answer = await handleDiscoverRequest(broken, { body: { email: 'a@x.io' } })
    expect(answer.status).toBe(502)
    expect(JSON.stringify(answer)).not.toContain('10.1.2.3')
  })
})

describe('top-level discoverAuthProvider', () => {
  it('works with a config given on the call', async () => {
    const config = {
      auth0: { domain: TENANT, audience: 'a' },
      discovery: { domains: { 'acme.com': { connection: 'acme-waad' } } },
    }
    expect((await discoverAuthProvider('ada@acme.com', config)).connection).toBe('acme-waad')
  })
})
