import { type AuthContext, isAuthError } from 'canonical-auth'
import {
  discoverHandler,
  type FetchGuard,
  metadataHandler,
  requireAuth,
} from 'canonical-auth/fetch'
import {
  discoverHandler as honoDiscover,
  requireAuth as honoRequireAuth,
} from 'canonical-auth/hono'
import { createDpopKeyPair, createDpopProof } from 'canonical-auth/testing'
import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { advance, ssoToken } from './helpers.js'
import { useTestStack } from './stack.js'

// What the fetch and Hono adapters add to what the conformance suite checks of every adapter:
// the platform's waitUntil, the shapes of their results, and their types.

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
  trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
  discovery: { domains: { 'acme.com': { connection: 'acme-waad' } } },
}))

const URL_ = 'https://api.example.com/reports'

/** An execution context as Workers hand one over: `waitUntil` must be called on it. */
function executionContext() {
  const tasks: Promise<unknown>[] = []
  const context = {
    waitUntil(this: unknown, task: Promise<unknown>) {
      if (this !== context) throw new TypeError('Illegal invocation')
      tasks.push(task)
    },
    passThroughOnException() {},
    props: {},
  }
  return { context, tasks }
}

describe('canonical-auth/fetch requireAuth', () => {
  it('resolves to the AuthContext, or to the Response that refuses the request', async () => {
    const guard = requireAuth(stack.auth(), { scopes: ['read:reports'] })
    const token = await ssoToken(stack.issuer, { scope: 'read:reports' })
    const granted = await guard(
      new Request(URL_, { headers: { authorization: `Bearer ${token}` } }),
    )
    expect(granted).toMatchObject({
      userId: expect.any(String),
      token: { subject: expect.any(String) },
    })

    const refused = await guard(new Request(URL_))
    expect(refused).toBeInstanceOf(Response)
    const response = refused as Response
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toEqual({
      error: 'token_missing',
      error_description: expect.any(String),
    })
  })

  it('resolves to undefined for a request without a token on an optional route', async () => {
    const guard = requireAuth(stack.auth(), { optional: true })
    expectTypeOf(guard).toEqualTypeOf<FetchGuard<AuthContext | undefined>>()
    await expect(guard(new Request(URL_))).resolves.toBeUndefined()
    expectTypeOf(requireAuth(stack.auth())).toEqualTypeOf<FetchGuard>()
  })

  it('rejects with the AuthError with delegateErrors', async () => {
    const guard = requireAuth(stack.auth(), { delegateErrors: true })
    const error = await guard(new Request(URL_)).catch((e: unknown) => e)
    expect(isAuthError(error) && error.code).toBe('token_missing')
  })

  it("hands background work to the platform's waitUntil, called on its context", async () => {
    const auth = stack.auth({
      jwks: { maxAgeMs: 1_000 },
      cache: { tokens: false },
    })
    vi.useFakeTimers({ toFake: ['Date'] })
    const guard = requireAuth(auth)
    const request = async () =>
      new Request(URL_, { headers: { authorization: `Bearer ${await ssoToken(stack.issuer)}` } })
    const { context, tasks } = executionContext()
    await guard(await request(), context)
    expect(tasks).toHaveLength(0)
    // Past the key set's max age, the next request is served from the kept copy and starts the
    // refresh in the background, on the platform's waitUntil.
    advance(1_001)
    const calls = stack.issuer.calls.jwks
    await expect(guard(await request(), context)).resolves.toMatchObject({
      userId: expect.any(String),
    })
    expect(tasks).toHaveLength(1)
    await tasks[0]
    expect(stack.issuer.calls.jwks).toBe(calls + 1)
  })

  it('checks a DPoP proof against the request URL and hands the next nonce on the context', async () => {
    const key = await createDpopKeyPair()
    const auth = stack.auth({ dpop: { nonce: { secret: 'n'.repeat(32) } } })
    const guard = requireAuth(auth)
    const token = await stack.issuer.sign(
      { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true },
      { dpop: key.publicJwk },
    )
    const send = async (nonce?: string) =>
      guard(
        new Request(`${URL_}?year=2026`, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await createDpopProof({
              ...key,
              method: 'GET',
              url: URL_,
              accessToken: token,
              ...(nonce === undefined ? {} : { nonce }),
            }),
          },
        }),
      )
    const first = (await send()) as Response
    expect(first.status).toBe(401)
    const nonce = first.headers.get('dpop-nonce') as string
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const granted = (await send(nonce)) as AuthContext
    expect(granted.dpop?.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})

describe('canonical-auth/fetch discoverHandler and metadataHandler', () => {
  it('reads the body of a Request, and refuses one without a body', async () => {
    const discover = discoverHandler(stack.auth())
    const post = (body?: string) =>
      new Request('https://api.example.com/public/auth/discover', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      })
    const found = await discover(post('{"email":"ada@acme.com"}'), { client: '203.0.113.7' })
    expect(found.status).toBe(200)
    expect(await found.json()).toMatchObject({ method: 'sso', connection: 'acme-waad' })
    const empty = await discover(post())
    expect(empty.status).toBe(400)
    expect(await empty.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('gives the rate limit hook the client it is told', async () => {
    const clients: string[] = []
    const discover = discoverHandler(stack.auth(), {
      rateLimit: (client) => {
        clients.push(client)
        return false
      },
    })
    const response = await discover(
      new Request('https://api.example.com/public/auth/discover', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email":"ada@acme.com"}',
      }),
      { client: '203.0.113.7' },
    )
    expect(response.status).toBe(429)
    expect(clients).toEqual(['203.0.113.7'])
  })

  it('serves the metadata document, and refuses an instance without one', async () => {
    const auth = stack.auth({
      protectedResource: { resource: 'https://api.example.com' },
    })
    const response = metadataHandler(auth)()
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ resource: 'https://api.example.com' })
    expect(() => metadataHandler(stack.auth())).toThrow(TypeError)
  })
})

describe('canonical-auth/hono', () => {
  it('puts the AuthContext on c.get("auth"), typed', async () => {
    const app = new Hono()
    app.get('/reports', honoRequireAuth(stack.auth()), (c) => {
      expectTypeOf(c.get('auth')).toEqualTypeOf<AuthContext | undefined>()
      return c.json({ userId: c.get('auth')?.userId })
    })
    const response = await app.request('/reports', {
      headers: { authorization: `Bearer ${await ssoToken(stack.issuer)}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ userId: expect.any(String) })
  })

  it("hands background work to the execution context's waitUntil, and works without one", async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = stack.auth({ jwks: { maxAgeMs: 1_000 }, cache: { tokens: false } })
    const app = new Hono()
    app.get('/me', honoRequireAuth(auth), (c) => c.json({ userId: c.get('auth')?.userId }))
    const headers = async () => ({ authorization: `Bearer ${await ssoToken(stack.issuer)}` })
    expect((await app.request('/me', { headers: await headers() })).status).toBe(200)
    advance(1_001)
    const { context, tasks } = executionContext()
    const response = await app.fetch(
      new Request('http://localhost/me', { headers: await headers() }),
      {},
      context,
    )
    expect(response.status).toBe(200)
    expect(tasks).toHaveLength(1)
    await tasks[0]
  })

  it('throws refusals to app.onError with delegateErrors', async () => {
    const app = new Hono()
    app.onError((error, c) => c.json({ delegated: isAuthError(error) && error.code }, 418))
    app.get('/me', honoRequireAuth(stack.auth(), { delegateErrors: true }), (c) => c.json({}))
    const response = await app.request('/me')
    expect(response.status).toBe(418)
    expect(await response.json()).toEqual({ delegated: 'token_missing' })
  })

  it('passes the client of its choice to the discover rate limit', async () => {
    const clients: string[] = []
    const app = new Hono()
    app.post(
      '/public/auth/discover',
      honoDiscover(stack.auth(), {
        rateLimit: (client) => {
          clients.push(client)
          return true
        },
        client: (c) => c.req.header('x-test-client'),
      }),
    )
    const response = await app.request('/public/auth/discover', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-client': '198.51.100.9' },
      body: '{"email":"ada@acme.com"}',
    })
    expect(response.status).toBe(200)
    expect(clients).toEqual(['198.51.100.9'])
  })
})
