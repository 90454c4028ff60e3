import {
  type Auth,
  type AuthConfig,
  type AuthErrorCode,
  type CachedUser,
  createAuth,
  type UserCacheStore,
  type UserDirectory,
} from 'canonical-auth'
import { createTestDirectory, createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { HttpResponse, http } from 'msw'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { rejectsWith, ssoToken } from '../helpers.js'
import { server } from '../msw.js'
import { useInstances } from '../stack.js'

const ID = '9b2f3a1e-7c4d-4e5f-8a6b-1c2d3e4f5a6b'
const BASE = 'https://users.canonical-auth.invalid'
const ENSURE = `${BASE}/api/v1/users/ensure`

let issuer: TestIssuer
const keep = useInstances()

function authFor(
  directory: NonNullable<AuthConfig['directory']>,
  extra: Partial<AuthConfig> = {},
): Auth {
  return keep(createAuth({ auth0: issuer.auth0, directory, ...extra }))
}

beforeEach(async () => {
  issuer = await createTestIssuer({ listen: false })
  server.use(...issuer.handlers)
})

async function resolve(auth: Auth, claims: Record<string, unknown> = {}) {
  return auth.resolveCanonicalUser(await auth.verifyAuth0Token(await ssoToken(issuer, claims)))
}

/** Answers the ensure endpoint with each reply in turn, counting calls. */
function ensureAnswers(...replies: (() => Response)[]) {
  const seen: Request[] = []
  server.use(
    http.post(ENSURE, ({ request }) => {
      seen.push(request.clone())
      const reply = replies[Math.min(seen.length - 1, replies.length - 1)] as () => Response
      return reply()
    }),
  )
  return seen
}

const ok = () => HttpResponse.json({ id: ID, email: 'ada@acme.com', created: false })

describe('HTTP directory client: the wire contract', () => {
  it('sends the service credential from static headers', async () => {
    const seen = ensureAnswers(ok)
    await resolve(
      authFor({ baseUrl: BASE, headers: { authorization: 'Bearer service-credential' } }),
    )
    expect(seen[0]?.headers.get('authorization')).toBe('Bearer service-credential')
    expect(seen[0]?.headers.get('content-type')).toMatch(/application\/json/)
  })

  it('asks an async header function on every call, so credentials can rotate', async () => {
    const seen = ensureAnswers(ok)
    let n = 0
    const auth = authFor(
      { baseUrl: BASE, headers: async () => ({ authorization: `Bearer svc-${++n}` }) },
      { cache: { max: 1 } },
    )
    await resolve(auth, { sub: 'samlp|acme-waad|a' })
    await resolve(auth, { sub: 'samlp|acme-waad|b' })
    expect(seen.map((request) => request.headers.get('authorization'))).toEqual([
      'Bearer svc-1',
      'Bearer svc-2',
    ])
  })

  it('fails closed when the header function throws', async () => {
    ensureAnswers(ok)
    const auth = authFor({
      baseUrl: BASE,
      headers: () => {
        throw new Error('vault sealed')
      },
    })
    await rejectsWith(resolve(auth), 'directory_unavailable')
  })

  it('fails closed (502) when the directory refuses the credential', async () => {
    const directory = await createTestDirectory({
      listen: false,
      requireHeaders: { authorization: 'Bearer right' },
    })
    server.use(...directory.handlers)
    await rejectsWith(
      resolve(authFor({ baseUrl: directory.baseUrl, headers: { authorization: 'Bearer wrong' } })),
      'directory_unavailable',
    )
    expect(directory.calls.ensure).toBe(1)
    const user = await resolve(
      authFor({ baseUrl: directory.baseUrl, headers: { authorization: 'Bearer right' } }),
    )
    expect(user.id).toBe(directory.users.get('ada@acme.com')?.id)
  })

  it('sends connection null when the token names none', async () => {
    const seen = ensureAnswers(ok)
    await resolve(authFor({ baseUrl: BASE }), { sub: 'google-oauth2|1' })
    expect(await seen[0]?.json()).toEqual({
      email: 'ada@acme.com',
      email_verified: true,
      auth0_sub: 'google-oauth2|1',
      connection: null,
      auth0_issuer: issuer.issuer,
    })
  })

  it('honours path overrides and a base URL with a path', async () => {
    const seen: string[] = []
    server.use(
      http.post(`${BASE}/v2/ensure-user`, ({ request }) => {
        seen.push(request.url)
        return ok()
      }),
      http.get(`${BASE}/v2/users/by-email/:email`, ({ request }) => {
        seen.push(request.url)
        return HttpResponse.json({ id: ID })
      }),
    )
    const paths = { ensure: '/ensure-user', lookup: '/users/by-email/{email}' }
    await resolve(authFor({ baseUrl: `${BASE}/v2/`, paths }))
    await resolve(authFor({ baseUrl: `${BASE}/v2`, paths, mode: 'lookup' }), {
      email: 'a+b@acme.com',
    })
    expect(seen).toEqual([`${BASE}/v2/ensure-user`, `${BASE}/v2/users/by-email/a%2Bb%40acme.com`])
  })

  it('takes created from the status when the body omits it, and lower-cases the id', async () => {
    ensureAnswers(() => HttpResponse.json({ id: ID.toUpperCase() }, { status: 201 }))
    const user = await resolve(authFor({ baseUrl: BASE }))
    expect(user).toMatchObject({ id: ID, created: true })
  })

  it.each<[string, () => Response]>([
    ['a non-JSON body', () => new HttpResponse('<html>oops</html>', { status: 200 })],
    ['an id that is not a UUID', () => HttpResponse.json({ id: 'samlp|acme-waad|ada' })],
    ['no id', () => HttpResponse.json({ email: 'ada@acme.com' })],
    ['a nil UUID', () => HttpResponse.json({ id: '00000000-0000-0000-0000-000000000000' })],
    ['204 No Content', () => new HttpResponse(null, { status: 204 })],
    ['a JSON array', () => HttpResponse.json([{ id: ID }])],
  ])('answers 502 for %s', async (_name, reply) => {
    ensureAnswers(reply)
    await rejectsWith(resolve(authFor({ baseUrl: BASE })), 'directory_unavailable')
  })
})

describe('HTTP directory client: retries and deadlines', () => {
  it('retries a 503 and succeeds', async () => {
    const seen = ensureAnswers(() => new HttpResponse('busy', { status: 503 }), ok)
    expect((await resolve(authFor({ baseUrl: BASE, retries: 2 }))).id).toBe(ID)
    expect(seen).toHaveLength(2)
  })

  it('retries a network error and succeeds', async () => {
    const seen = ensureAnswers(() => HttpResponse.error(), ok)
    expect((await resolve(authFor({ baseUrl: BASE, retries: 1 }))).id).toBe(ID)
    expect(seen).toHaveLength(2)
  })

  it('honours Retry-After on 429', async () => {
    const seen = ensureAnswers(
      () => new HttpResponse(null, { status: 429, headers: { 'retry-after': '1' } }),
      ok,
    )
    const started = performance.now()
    expect((await resolve(authFor({ baseUrl: BASE, retries: 1 }))).id).toBe(ID)
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
    expect(seen).toHaveLength(2)
  })

  it('gives up after the configured retries with 502', async () => {
    const seen = ensureAnswers(() => new HttpResponse('down', { status: 500 }))
    await rejectsWith(resolve(authFor({ baseUrl: BASE, retries: 2 })), 'directory_unavailable')
    expect(seen).toHaveLength(3)
  })

  it.each<[number, AuthErrorCode]>([
    [400, 'directory_unavailable'],
    [401, 'directory_unavailable'],
    [403, 'identity_untrusted'],
    [404, 'directory_unavailable'],
    [409, 'identity_untrusted'],
    [410, 'identity_untrusted'],
    [422, 'identity_untrusted'],
  ])('does not retry a %i (%s)', async (status, code) => {
    const seen = ensureAnswers(() => HttpResponse.json({ error: 'x' }, { status }))
    await rejectsWith(resolve(authFor({ baseUrl: BASE, retries: 3 })), code)
    expect(seen).toHaveLength(1)
  })

  it('stops at the overall deadline even while retries remain', async () => {
    ensureAnswers(() => new HttpResponse(null, { status: 503, headers: { 'retry-after': '30' } }))
    const started = performance.now()
    await rejectsWith(
      resolve(authFor({ baseUrl: BASE, retries: 5, deadlineMs: 500 })),
      'directory_unavailable',
    )
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('a custom UserDirectory', () => {
  const identityOf = vi.fn()
  const client = (ensure: UserDirectory['ensure']): UserDirectory => ({
    ensure,
    lookup: async () => null,
  })

  it('is called with the canonical identity and an abort signal', async () => {
    const auth = authFor({
      client: client(async (identity, { signal }) => {
        identityOf(identity, signal)
        return { id: ID, created: true }
      }),
    })
    const user = await resolve(auth, { email: 'ADA@acme.com' })
    expect(user).toMatchObject({
      id: ID,
      created: true,
      email: 'ada@acme.com',
      source: 'directory',
    })
    expect(identityOf.mock.calls[0]?.[0]).toEqual({
      email: 'ada@acme.com',
      emailVerified: true,
      auth0Sub: 'samlp|acme-waad|ada',
      connection: 'acme-waad',
      issuer: issuer.issuer,
    })
    expect(identityOf.mock.calls[0]?.[1]).toBeInstanceOf(AbortSignal)
  })

  it.each<[string, UserDirectory['ensure']]>([
    ['a non-UUID id', async () => ({ id: 'auth0|x' })],
    ['no answer', async () => undefined as never],
    ['a throw', async () => Promise.reject(new Error('pool exhausted'))],
  ])('answers 502 for %s', async (_name, ensure) => {
    await rejectsWith(resolve(authFor({ client: client(ensure) })), 'directory_unavailable')
  })

  it('is cut off at the deadline even if it ignores the signal', async () => {
    const auth = authFor({ client: client(() => new Promise(() => {})), deadlineMs: 200 })
    const started = performance.now()
    await rejectsWith(resolve(auth), 'directory_unavailable')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('can be read-only', async () => {
    const auth = authFor({
      client: { ensure: async () => ({ id: ID }), lookup: async () => null },
      mode: 'lookup',
    })
    await rejectsWith(resolve(auth), 'user_not_provisioned')
  })
})

describe('the user cache', () => {
  it('expires entries after maxAgeMs', async () => {
    const seen = ensureAnswers(ok)
    const auth = authFor({ baseUrl: BASE }, { cache: { maxAgeMs: 50 } })
    await resolve(auth)
    expect((await resolve(auth)).source).toBe('cache')
    await new Promise((done) => setTimeout(done, 80))
    expect((await resolve(auth)).source).toBe('directory')
    expect(seen).toHaveLength(2)
  })

  it('keys by issuer and sub, so two subs with one email are looked up separately', async () => {
    const seen = ensureAnswers(ok)
    const auth = authFor({ baseUrl: BASE })
    await resolve(auth, { sub: 'samlp|acme-waad|ada' })
    await resolve(auth, { sub: 'google-oauth2|ada' })
    expect(seen).toHaveLength(2)
  })

  it('stays within max entries', async () => {
    const seen = ensureAnswers(ok)
    const auth = authFor({ baseUrl: BASE }, { cache: { max: 2 } })
    for (const sub of ['samlp|a|1', 'samlp|a|2', 'samlp|a|3', 'samlp|a|1'])
      await resolve(auth, { sub })
    expect(seen).toHaveLength(4)
  })
})

describe('a shared cache store', () => {
  function memoryStore(): UserCacheStore & { data: Map<string, CachedUser> } {
    const data = new Map<string, CachedUser>()
    return {
      data,
      get: async (key) => data.get(key),
      set: async (key, value) => {
        data.set(key, value)
      },
      delete: async (key) => {
        data.delete(key)
      },
    }
  }

  it('lets a second replica reuse a user resolved by the first', async () => {
    const seen = ensureAnswers(ok)
    const store = memoryStore()
    await resolve(authFor({ baseUrl: BASE }, { cache: { store } }))
    const replica = authFor({ baseUrl: BASE }, { cache: { store } })
    expect(await resolve(replica)).toMatchObject({ id: ID, source: 'cache' })
    expect(seen).toHaveLength(1)
    expect([...store.data.keys()][0]).toContain('samlp|acme-waad|ada')
  })

  it.each<[string, Partial<UserCacheStore>]>([
    [
      'throws',
      {
        get: async () => Promise.reject(new Error('ECONNREFUSED')),
        set: async () => Promise.reject(new Error('x')),
      },
    ],
    ['hangs', { get: () => new Promise(() => {}), set: () => new Promise(() => {}) }],
    ['answers garbage', { get: async () => ({ id: 'samlp|acme-waad|ada' }) as CachedUser }],
  ])('falls back to the directory when the store %s', async (_name, behaviour) => {
    const seen = ensureAnswers(ok)
    const store = { ...memoryStore(), ...behaviour }
    const auth = authFor({ baseUrl: BASE }, { cache: { store, storeTimeoutMs: 50 } })
    const user = await resolve(auth)
    expect(user).toMatchObject({ id: ID, source: 'directory' })
    expect(seen).toHaveLength(1)
  })

  describe('an entry whose expiry the store reports', () => {
    /** A store holding Ada's entry with `expiresAt`, counting reads. */
    function storeExpiringAt(expiresAt: () => number) {
      const store = memoryStore()
      const counted = {
        ...store,
        reads: 0,
        get: async (key: string) => {
          counted.reads += 1
          const entry = store.data.get(key)
          return entry === undefined ? undefined : { ...entry, expiresAt: expiresAt() }
        },
      }
      return counted
    }

    it('is not kept in memory past that expiry', async () => {
      const seen = ensureAnswers(ok)
      const store = storeExpiringAt(() => Date.now() + 50)
      await resolve(authFor({ baseUrl: BASE }, { cache: { store } }))
      const replica = authFor({ baseUrl: BASE }, { cache: { store } })
      expect(await resolve(replica)).toMatchObject({ id: ID, source: 'cache' })
      expect(store.reads).toBe(2)
      // Well past the entry's 50 ms: the replica's memory copy is gone, so it reads again.
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await resolve(replica)).toMatchObject({ id: ID, source: 'cache' })
      expect(store.reads).toBe(3)
      expect(seen).toHaveLength(1)
    })

    it('is kept in memory for cache.maxAgeMs when it expires later', async () => {
      ensureAnswers(ok)
      const store = storeExpiringAt(() => Date.now() + 3_600_000)
      await resolve(authFor({ baseUrl: BASE }, { cache: { store } }))
      const replica = authFor({ baseUrl: BASE }, { cache: { store } })
      await resolve(replica)
      await resolve(replica)
      expect(store.reads).toBe(2)
    })

    it('is a miss once that expiry has passed', async () => {
      const seen = ensureAnswers(ok)
      const store = storeExpiringAt(() => Date.now() - 1)
      await resolve(authFor({ baseUrl: BASE }, { cache: { store } }))
      const replica = authFor({ baseUrl: BASE }, { cache: { store } })
      expect(await resolve(replica)).toMatchObject({ id: ID, source: 'directory' })
      expect(seen).toHaveLength(2)
    })
  })
})
