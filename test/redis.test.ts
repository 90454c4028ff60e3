import type { Auth, AuthEvent } from 'canonical-auth'
import { createRedisStore } from 'canonical-auth/redis'
import { Redis as IoRedis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rejectsWith } from './helpers.js'
import { type RedisServer, redisAvailable, startRedisServer } from './redis-server.js'
import { useTestStack } from './stack.js'

// The Redis store against a real redis-server (scripts/with-redis.sh installs one in CI), with both
// well-kept clients. Replicas are separate createAuth instances with their own client, sharing one
// Redis; outages are a killed (SIGKILL) or frozen (SIGSTOP) server.

const STORE_TIMEOUT_MS = 150

interface Client {
  readonly store: ReturnType<typeof createRedisStore>
  raw(command: string[]): Promise<unknown>
  close(): Promise<void>
}

type ClientKind = 'node-redis' | 'ioredis'

async function connect(kind: ClientKind, url: string, prefix?: string): Promise<Client> {
  if (kind === 'node-redis') {
    const client = createClient({ url, socket: { reconnectStrategy: 50, connectTimeout: 500 } })
    client.on('error', () => {})
    await client.connect()
    return {
      store: createRedisStore({ client, prefix }),
      raw: (command) => client.sendCommand(command),
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
    store: createRedisStore({ client, prefix }),
    raw: ([name, ...args]) => client.call(name as string, ...args),
    close: async () => client.disconnect(),
  }
}

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe.runIf(redisAvailable()).each<ClientKind>(['node-redis', 'ioredis'])(
  'the Redis store with %s',
  (kind) => {
    let server: RedisServer
    const clients: Client[] = []
    const stack = useTestStack((s) => ({
      directory: { baseUrl: s.directory.baseUrl, retries: 0, timeoutMs: 300, deadlineMs: 600 },
    }))

    beforeAll(async () => {
      server = await startRedisServer()
    })
    afterAll(async () => {
      await server?.stop()
    })
    afterEach(async () => {
      server.resume()
      for (const client of clients.splice(0)) await client.close()
    })

    async function replica(options: { prefix?: string; events?: AuthEvent[] } = {}) {
      const client = await connect(kind, server.url, options.prefix)
      clients.push(client)
      const auth = stack.auth({
        cache: { store: client.store, storeTimeoutMs: STORE_TIMEOUT_MS },
        ...(options.events === undefined
          ? {}
          : { onEvent: (event: AuthEvent) => void options.events?.push(event) }),
      })
      return { auth, client }
    }

    const tokenFor = (n: number) =>
      stack.issuer.sign({
        sub: `samlp|acme-waad|${kind}-${n}-${Math.random()}`,
        email: `u${n}@acme.com`,
        email_verified: true,
      })
    const login = (auth: Auth, token: string) =>
      auth.authenticate({ headers: { authorization: `Bearer ${token}` } })

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
      await client.store.set(key, user, 60_000)
      expect(await client.raw(['GET', `svc:test:${key}`])).toBe(JSON.stringify(user))
      const ttl = Number(await client.raw(['PTTL', `svc:test:${key}`]))
      expect(ttl).toBeGreaterThan(55_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
      expect(await client.store.get(key)).toEqual(user)
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

    it.each([
      ['not JSON', 'not json at all'],
      ['a non-UUID id', JSON.stringify({ id: 'samlp|acme-waad|ada' })],
      ['no id', JSON.stringify({ email: 'ada@acme.com' })],
      ['a JSON string', JSON.stringify('5f0c8a9e-2b7d-4c1e-9a3f-6d8e7b1c2a40')],
    ])('ignores and deletes an entry that is %s, and asks the directory', async (_name, value) => {
      const a = await replica()
      const b = await replica()
      const token = await tokenFor(3)
      const first = await login(a.auth, token)
      const keys = (await a.client.raw(['KEYS', 'canonical-auth:user:v1:*'])) as string[]
      const ours = keys.find((candidate) => candidate.endsWith(`\n${first.token?.subject}`))
      expect(ours).toBeDefined()
      await a.client.raw(['SET', ours as string, value])

      const second = await login(b.auth, token)
      expect(second.userId).toBe(first.userId)
      expect(second.user.source).toBe('directory')
      expect(stack.directory.calls.ensure).toBe(2)
      // The bad entry is gone or replaced by the directory's answer, never read again as is.
      await until(async () => (await a.client.raw(['GET', ours as string])) !== value, 'cleanup')
    })

    it('Redis killed: answers from memory and the directory, fast, with the same ids', async () => {
      const events: AuthEvent[] = []
      const a = await replica({ events })
      const b = await replica({ events })
      const known = await tokenFor(4)
      const first = await login(a.auth, known)

      await server.kill()
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
      const answers = (client: Client) =>
        client.store.get('probe').then(
          () => true,
          () => false,
        )
      await until(async () => (await answers(a.client)) && (await answers(b.client)), 'reconnects')
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
