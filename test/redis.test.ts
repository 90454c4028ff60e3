import { createHmac } from 'node:crypto'
import type { Auth, AuthEvent } from 'canonical-auth'
import { createRedisStore } from 'canonical-auth/redis'
import { createDpopKeyPair, createDpopProof, type DpopKeyPair } from 'canonical-auth/testing'
import { Redis as IoRedis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { authFailure, bearer, rejectsWith, ssoToken } from './helpers.js'
import { type RedisServer, redisAvailable, startRedisServer } from './redis-server.js'
import { useInstances, useTestStack } from './stack.js'

// The Redis store against a real redis-server (scripts/with-redis.sh installs one in CI), with both
// well-kept clients. Replicas are separate createAuth instances with their own client, sharing one
// Redis; outages are a killed (SIGKILL) or frozen (SIGSTOP) server.

const STORE_TIMEOUT_MS = 150

interface Client {
  readonly store: ReturnType<typeof createRedisStore>
  raw(command: string[]): Promise<unknown>
  /** Whether the client believes it is connected. */
  ready(): boolean
  close(): Promise<void>
}

type ClientKind = 'node-redis' | 'ioredis'

type StoreOptions = Omit<Parameters<typeof createRedisStore>[0], 'client'>

async function connect(kind: ClientKind, url: string, options: StoreOptions = {}): Promise<Client> {
  if (kind === 'node-redis') {
    const client = createClient({ url, socket: { reconnectStrategy: 50, connectTimeout: 500 } })
    client.on('error', () => {})
    await client.connect()
    return {
      store: createRedisStore({ client, ...options }),
      raw: (command) => client.sendCommand(command),
      ready: () => client.isReady,
      close: async () => client.destroy(),
    }
  }
  const client = new IoRedis(url, {
    retryStrategy: () => 50,
    maxRetriesPerRequest: 1,
    connectTimeout: 500,
  })
  client.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve)
    client.once('end', () => reject(new Error('ioredis did not connect')))
  })
  return {
    store: createRedisStore({ client, ...options }),
    raw: ([name, ...args]) => client.call(name as string, ...args),
    ready: () => client.status === 'ready',
    close: async () => client.disconnect(),
  }
}

// How long to wait for a client to notice a server change, or for a deletion to land.
const SETTLES = { timeout: 5_000, interval: 25 }

describe.runIf(redisAvailable()).each<ClientKind>(['node-redis', 'ioredis'])(
  'the Redis store with %s',
  (kind) => {
    let server: RedisServer
    const stack = useTestStack((s) => ({
      directory: { baseUrl: s.directory.baseUrl, retries: 0, timeoutMs: 300, deadlineMs: 600 },
    }))
    // The replicas' clients, closed after the server is resumed (hooks run last-registered first).
    const keep = useInstances()

    beforeAll(async () => {
      server = await startRedisServer()
    })
    afterAll(async () => {
      await server?.stop()
    })
    afterEach(() => {
      server.resume()
    })

    async function replica(
      options: StoreOptions & { events?: AuthEvent[]; maxAgeMs?: number } = {},
    ) {
      const { events, maxAgeMs, ...store } = options
      const client = keep(await connect(kind, server.url, store))
      const auth = stack.auth({
        cache: {
          store: client.store,
          storeTimeoutMs: STORE_TIMEOUT_MS,
          ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
        },
        ...(events === undefined ? {} : { onEvent: (event: AuthEvent) => void events.push(event) }),
      })
      return { auth, client }
    }

    // User `n` (u<n>@acme.com) with a sub of its own on every call: the Redis server is shared.
    const tokenFor = (n: number) =>
      ssoToken(stack.issuer, `u${n}`, { sub: `samlp|acme-waad|${kind}-${n}-${Math.random()}` })
    const login = (auth: Auth, token: string) => auth.authenticate({ headers: bearer(token) })

    it('shares a resolved user between replicas: one directory call for both', async () => {
      const a = await replica()
      const b = await replica()
      const token = await tokenFor(1)
      const first = await login(a.auth, token)
      expect(first.user.source).toBe('directory')
      const second = await login(b.auth, token)
      expect(second.user).toMatchObject({ id: first.userId, source: 'cache', created: false })
      expect(stack.directory.calls.ensure).toBe(1)
    })

    it('stores entries under its key scheme with the cache TTL, and deletes them', async () => {
      const { client } = await replica({ prefix: 'svc:test:' })
      const key = 'canonical-auth:user:v1:https://tenant.example/\nsamlp|acme|x'
      const user = { id: '5f0c8a9e-2b7d-4c1e-9a3f-6d8e7b1c2a40', email: 'x@acme.com' }
      const before = Date.now()
      await client.store.set(key, user, 60_000)
      const stored = JSON.parse((await client.raw(['GET', `svc:test:${key}`])) as string)
      // The entry carries its own expiry too (epoch ms), for an entry re-planted without a TTL.
      expect(stored).toEqual({ ...user, exp: expect.any(Number) })
      expect(stored.exp).toBeGreaterThanOrEqual(before + 60_000)
      expect(stored.exp).toBeLessThanOrEqual(Date.now() + 60_000)
      const ttl = Number(await client.raw(['PTTL', `svc:test:${key}`]))
      expect(ttl).toBeGreaterThan(55_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
      // get reports the entry's expiry, so no replica keeps it in memory past that.
      expect(await client.store.get(key)).toEqual({ ...user, expiresAt: stored.exp })
      await client.store.delete(key)
      expect(await client.raw(['EXISTS', `svc:test:${key}`])).toBe(0)
      expect(await client.store.get(key)).toBeUndefined()
    })

    it('keeps services with different prefixes apart', async () => {
      const billing = await replica({ prefix: 'billing:' })
      const search = await replica({ prefix: 'search:' })
      const token = await tokenFor(2)
      await login(billing.auth, token)
      await login(search.auth, token)
      expect(stack.directory.calls.ensure).toBe(2)
    })

    const INTRUDER = '0f5e1c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b'
    it.each([
      ['not JSON', 'not json at all'],
      ['a non-UUID id', JSON.stringify({ id: 'samlp|acme-waad|ada' })],
      ['no id', JSON.stringify({ email: 'ada@acme.com' })],
      ['a JSON string', JSON.stringify('5f0c8a9e-2b7d-4c1e-9a3f-6d8e7b1c2a40')],
      ['without an expiry', JSON.stringify({ id: INTRUDER, email: 'u3@acme.com' })],
      [
        'past its expiry',
        JSON.stringify({ id: INTRUDER, email: 'u3@acme.com', exp: Date.now() - 1 }),
      ],
      ['with a string expiry', JSON.stringify({ id: INTRUDER, exp: String(Date.now() + 60_000) })],
    ])('ignores and deletes an entry that is %s, and asks the directory', async (_name, value) => {
      const a = await replica()
      const b = await replica()
      const token = await tokenFor(3)
      const first = await login(a.auth, token)
      const keys = (await a.client.raw(['KEYS', 'canonical-auth:user:v1:*'])) as string[]
      const ours = keys.find((candidate) => candidate.endsWith(`\n${first.token?.subject}`))
      // This user's entry, under the store's key scheme: the issuer and the sub.
      expect(ours).toBe(`canonical-auth:user:v1:${stack.issuer.issuer}\n${first.token?.subject}`)
      await a.client.raw(['SET', ours as string, value])

      const second = await login(b.auth, token)
      expect(second.userId).toBe(first.userId)
      expect(second.user.source).toBe('directory')
      expect(stack.directory.calls.ensure).toBe(2)
      // The bad entry is gone or replaced by the directory's answer, never read again as is.
      await vi.waitFor(
        async () => expect(await a.client.raw(['GET', ours as string])).not.toBe(value),
        SETTLES,
      )
    })

    /**
     * Resolves a user on one replica, captures the entry it stored, lets it expire in Redis, has
     * the directory link the user to a new id, and plants the captured entry again with a plain
     * `SET` (no TTL). Returns what a replica with a cold in-memory cache then resolves.
     */
    async function replantAfterExpiry(options: StoreOptions, n: number) {
      // A short TTL, so that Redis expires the entry within the test.
      const writer = await replica({ ...options, maxAgeMs: 300 })
      const token = await tokenFor(n)
      const first = await login(writer.auth, token)
      const keys = (await writer.client.raw(['KEYS', 'canonical-auth:user:v1:*'])) as string[]
      const key = keys.find((candidate) => candidate.endsWith(`\n${first.token?.subject}`))
      const captured = (await writer.client.raw(['GET', key as string])) as string
      await vi.waitFor(
        async () => expect(await writer.client.raw(['EXISTS', key as string])).toBe(0),
        SETTLES,
      )
      const relinked = stack.directory.addUser(`u${n}@acme.com`)
      await writer.client.raw(['SET', key as string, captured])
      expect(Number(await writer.client.raw(['PTTL', key as string]))).toBe(-1)
      const reader = await replica(options)
      return { first, relinked, answer: await login(reader.auth, token) }
    }

    it('refuses an expired entry planted again without a TTL: the directory answers', async () => {
      const { first, relinked, answer } = await replantAfterExpiry({}, 15)
      expect(answer.userId).toBe(relinked.id)
      expect(answer.userId).not.toBe(first.userId)
      expect(answer.user.source).toBe('directory')
    })

    describe('with a secret (signed entries)', () => {
      const SECRET = 'a-secret-of-at-least-32-characters!!'
      const OLD = 'the-previous-secret-of-32-characters'
      const ours = async (client: Client, subject: string) => {
        const keys = (await client.raw(['KEYS', 'canonical-auth:user:v1:*'])) as string[]
        return keys.find((key) => key.endsWith(`\n${subject}`)) as string
      }

      it('shares signed entries between replicas holding the secret', async () => {
        const a = await replica({ secret: SECRET })
        const b = await replica({ secret: [SECRET, OLD] })
        const token = await tokenFor(10)
        const first = await login(a.auth, token)
        const stored = JSON.parse(
          (await a.client.raw(['GET', await ours(a.client, first.token?.subject ?? '')])) as string,
        )
        expect(stored).toEqual({
          id: first.userId,
          email: 'u10@acme.com',
          exp: expect.any(Number),
          mac: expect.any(String),
        })
        expect((await login(b.auth, token)).user).toMatchObject({
          id: first.userId,
          source: 'cache',
        })
        expect(stack.directory.calls.ensure).toBe(1)
      })

      it('refuses an entry written without the secret: the directory decides, never Redis', async () => {
        const a = await replica({ secret: SECRET })
        const token = await tokenFor(11)
        const first = await login(a.auth, token)
        const key = await ours(a.client, first.token?.subject ?? '')
        const intruder = '0f5e1c2a-7b3d-4e8f-9a6b-1c2d3e4f5a6b'
        for (const forged of [
          { id: intruder, email: 'u11@acme.com' },
          { id: intruder, email: 'u11@acme.com', mac: 'A'.repeat(43) },
        ]) {
          await a.client.raw(['SET', key, JSON.stringify(forged)])
          const reader = await replica({ secret: SECRET }) // its in-memory cache is cold
          const answer = await login(reader.auth, token)
          expect(answer.userId).toBe(first.userId)
          expect(answer.userId).not.toBe(intruder)
          expect(answer.user.source).toBe('directory')
        }
      })

      it("refuses a valid entry moved to another user's key", async () => {
        const a = await replica({ secret: SECRET })
        const b = await replica({ secret: SECRET })
        const victim = await tokenFor(12)
        const attacker = await tokenFor(13)
        const victimContext = await login(a.auth, victim)
        const attackerContext = await login(a.auth, attacker)
        const victimKey = await ours(a.client, victimContext.token?.subject ?? '')
        const attackerKey = await ours(a.client, attackerContext.token?.subject ?? '')
        // The attacker's own signed entry, copied under the victim's key.
        await a.client.raw(['SET', victimKey, (await a.client.raw(['GET', attackerKey])) as string])
        const answer = await login(b.auth, victim)
        expect(answer.userId).toBe(victimContext.userId)
        expect(answer.user.source).toBe('directory')
      })

      it('refuses a signed entry planted again without a TTL once its expiry passed', async () => {
        const { first, relinked, answer } = await replantAfterExpiry({ secret: SECRET }, 16)
        expect(answer.userId).toBe(relinked.id)
        expect(answer.userId).not.toBe(first.userId)
        expect(answer.user.source).toBe('directory')
      })

      it('refuses a signed entry whose expiry was changed, or removed', async () => {
        const a = await replica({ secret: SECRET })
        const token = await tokenFor(17)
        const first = await login(a.auth, token)
        const key = await ours(a.client, first.token?.subject ?? '')
        const signed = JSON.parse((await a.client.raw(['GET', key])) as string)
        const { exp: _exp, ...withoutExp } = signed
        for (const edited of [{ ...signed, exp: signed.exp + 3_600_000 }, withoutExp]) {
          await a.client.raw(['SET', key, JSON.stringify(edited)])
          const reader = await replica({ secret: SECRET })
          const answer = await login(reader.auth, token)
          expect(answer.userId).toBe(first.userId)
          expect(answer.user.source).toBe('directory')
        }
      })

      it('refuses an entry signed over the user alone, without an expiry', async () => {
        // What a release that signed (key, id, email) wrote: a valid MAC over the old message.
        const a = await replica({ secret: SECRET })
        const token = await tokenFor(18)
        const first = await login(a.auth, token)
        const key = await ours(a.client, first.token?.subject ?? '')
        const user = { id: INTRUDER, email: 'u18@acme.com' }
        const mac = createHmac('sha256', SECRET)
          .update(JSON.stringify([key, user.id, user.email]))
          .digest('base64url')
        await a.client.raw(['SET', key, JSON.stringify({ ...user, mac })])
        const reader = await replica({ secret: SECRET })
        const answer = await login(reader.auth, token)
        expect(answer.userId).toBe(first.userId)
        expect(answer.user.source).toBe('directory')
      })

      it('keeps accepting entries signed with a previous secret during a rotation', async () => {
        const old = await replica({ secret: OLD })
        const rotated = await replica({ secret: [SECRET, OLD] })
        const token = await tokenFor(14)
        const first = await login(old.auth, token)
        expect((await login(rotated.auth, token)).user).toMatchObject({
          id: first.userId,
          source: 'cache',
        })
      })
    })

    describe('as the DPoP replay store', () => {
      let key: DpopKeyPair
      beforeAll(async () => {
        key = await createDpopKeyPair()
      })

      async function dpopReplica(events?: AuthEvent[]) {
        const client = keep(await connect(kind, server.url))
        const auth = stack.auth({
          dpop: { replay: { store: client.store, timeoutMs: STORE_TIMEOUT_MS } },
          ...(events === undefined
            ? {}
            : { onEvent: (event: AuthEvent) => void events.push(event) }),
        })
        return { auth, client }
      }

      async function dpopLogin(n: number) {
        const url = 'https://api.example.com/me'
        const token = await stack.issuer.sign(
          {
            sub: `samlp|acme-waad|${kind}-dpop-${n}`,
            email: `u${n}@acme.com`,
            email_verified: true,
          },
          { dpop: key.publicJwk },
        )
        const proof = await createDpopProof({ ...key, method: 'GET', url, accessToken: token })
        return { headers: { authorization: `DPoP ${token}`, dpop: proof }, method: 'GET', url }
      }

      it('refuses on one replica a proof another replica accepted', async () => {
        const a = await dpopReplica()
        const b = await dpopReplica()
        const request = await dpopLogin(1)
        await expect(a.auth.authenticate(request)).resolves.toMatchObject({ dpop: {} })
        const replayed = await authFailure(b.auth.authenticate(request))
        expect(replayed).toMatchObject({ code: 'invalid_dpop_proof', message: /used before/ })
        await rejectsWith(a.auth.authenticate(request), 'invalid_dpop_proof')
      })

      it('writes each proof once, with SET NX and the proof window as TTL', async () => {
        const { client } = await dpopReplica()
        const stored = 'canonical-auth:dpop:v1:test-key'
        await expect(client.store.setIfAbsent(stored, 331_000)).resolves.toBe(true)
        await expect(client.store.setIfAbsent(stored, 331_000)).resolves.toBe(false)
        const ttl = Number(await client.raw(['PTTL', stored]))
        expect(ttl).toBeGreaterThan(320_000)
        expect(ttl).toBeLessThanOrEqual(331_000)
      })

      it('answers 503 replay_store_unavailable while Redis is down, and reports it', async () => {
        const events: AuthEvent[] = []
        const { auth } = await dpopReplica(events)
        await server.kill()
        try {
          await rejectsWith(auth.authenticate(await dpopLogin(2)), 'replay_store_unavailable')
          expect(events).toContainEqual({
            type: 'dpop.replay_store',
            outcome: 'error',
            decision: 'rejected',
          })
        } finally {
          await server.restart()
        }
      })
    })

    it('Redis killed: answers from memory and the directory, fast, with the same ids', async () => {
      const events: AuthEvent[] = []
      const a = await replica({ events })
      const b = await replica({ events })
      const known = await tokenFor(4)
      const first = await login(a.auth, known)

      await server.kill()
      // Once the clients have seen the connection drop (a crash is noticed within milliseconds):
      await vi.waitFor(
        () => expect([a.client.ready(), b.client.ready()]).toEqual([false, false]),
        SETTLES,
      )
      // A cold replica with Redis down: the directory answers, nothing fails.
      const fresh = await login(b.auth, known)
      expect(fresh.userId).toBe(first.userId)
      expect(fresh.user.source).toBe('directory')
      // The warm replica still answers from memory without any call.
      const calls = stack.directory.calls.ensure
      expect((await login(a.auth, known)).user.source).toBe('cache')
      expect(stack.directory.calls.ensure).toBe(calls)
      // New users still resolve.
      expect((await login(a.auth, await tokenFor(5))).user.source).toBe('directory')

      const store = events.filter((event) => event.type === 'cache.store')
      expect(store.some((event) => event.outcome === 'error')).toBe(true)
      // The client was not ready: calls failed at once instead of queueing until a timeout.
      expect(store.some((event) => event.outcome === 'timeout')).toBe(false)

      await server.restart()
      // Reconnected once the store answers on both (it throws while a client is not ready).
      await vi.waitFor(async () => {
        await a.client.store.get('probe')
        await b.client.store.get('probe')
      }, SETTLES)
      // Back: the next new user is shared again.
      const later = await tokenFor(6)
      await login(a.auth, later)
      const before = stack.directory.calls.ensure
      expect((await login(b.auth, later)).user.source).toBe('cache')
      expect(stack.directory.calls.ensure).toBe(before)
    })

    it('Redis frozen: each store call gives up after storeTimeoutMs, logins still succeed', async () => {
      const events: AuthEvent[] = []
      const a = await replica({ events })
      const token = await tokenFor(7)
      server.pause()
      const context = await login(a.auth, token)
      expect(context.user.source).toBe('directory')
      const store = events.filter((event) => event.type === 'cache.store')
      expect(store.map((event) => `${event.operation}:${event.outcome}`)).toEqual([
        'get:timeout',
        'set:timeout',
      ])
      for (const event of store)
        expect(event.durationMs).toBeGreaterThanOrEqual(STORE_TIMEOUT_MS - 5)
      server.resume()
    })

    it('Redis and the directory both down: 502, never a guessed or stale identity', async () => {
      const a = await replica()
      await server.kill()
      stack.directory.fail('down')
      await rejectsWith(login(a.auth, await tokenFor(8)), 'directory_unavailable')
      await server.restart()
    })
  },
)

describe('createRedisStore', () => {
  const client = { isReady: true, get: async () => null, set: async () => 'OK', del: async () => 0 }

  it.each([
    ['a short string', 'too-short'],
    ['a short key', new Uint8Array(16)],
    ['an empty list', []],
    ['a number', 42],
    ['a list with one bad secret', ['a-secret-of-at-least-32-characters!!', 'short']],
  ])('refuses %s as a secret', (_name, secret) => {
    expect(() => createRedisStore({ client, secret: secret as never })).toThrow(
      /secret must (not be empty|be a string or Uint8Array of at least 32 bytes)/,
    )
  })

  it.each([
    ['nothing', undefined],
    ['a plain object', {}],
    ['an object without commands', { isReady: true }],
    ['commands without a readiness flag', { get() {}, set() {}, del() {} }],
  ])('refuses %s as a client', (_name, client) => {
    expect(() => createRedisStore({ client: client as never })).toThrow(
      /node-redis \(createClient\) or ioredis \(new Redis\)/,
    )
  })

  it('fails at once, without sending, while the client is not ready', async () => {
    const sent: string[] = []
    const client = {
      isReady: false,
      get: async (key: string) => sent.push(key),
      set: async (key: string) => sent.push(key),
      del: async (key: string) => sent.push(key),
    }
    const store = createRedisStore({ client })
    await expect(store.get('k')).rejects.toThrow(/not ready/)
    await expect(
      store.set('k', { id: '5f0c8a9e-2b7d-4c1e-9a3f-6d8e7b1c2a40' }, 1000),
    ).rejects.toThrow(/not ready/)
    expect(sent).toEqual([])
  })
})
