import type { CachedUser, UserCacheStore } from '../core/user-cache.js'

/**
 * The part of a node-redis client (`redis` 5 or later, `createClient()` or `createCluster()`)
 * the store uses.
 */
export interface NodeRedisClientLike {
  readonly isReady: boolean
  get(key: string): Promise<unknown>
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX'; value: number } },
  ): Promise<unknown>
  del(key: string): Promise<unknown>
}

/** The part of an ioredis client (`new Redis()` or `new Cluster()`, 5 or later) the store uses. */
export interface IoRedisClientLike {
  readonly status: string
  get(key: string): Promise<unknown>
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>
  del(key: string): Promise<unknown>
}

export interface RedisStoreOptions {
  /**
   * A node-redis or ioredis client. You own it: create it, connect it, give it an `error`
   * listener, and close it on shutdown. canonical-auth sends `GET`, `SET … PX` and `DEL` only.
   */
  readonly client: NodeRedisClientLike | IoRedisClientLike
  /**
   * Put in front of every key, to keep services or environments that share one Redis apart
   * (e.g. `'billing:prod:'`). Keys already start with `canonical-auth:user:v1:`. Default `''`.
   */
  readonly prefix?: string | undefined
}

/**
 * A {@link UserCacheStore} on Redis, for replicas of a service that should share the
 * issuer+sub → canonical user cache: a user resolved on one replica is found by the others without
 * another directory call. Pass it as `cache.store`; the in-memory cache stays in front of it.
 *
 * While the client is not connected, every call fails at once (nothing queues up in the client's
 * offline queue), and canonical-auth answers from its in-memory cache and the directory instead, so
 * Redis being down costs directory calls, never an error or a wrong identity. What Redis returns
 * is checked before use (a UUID id), and an entry that fails the check is deleted.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createAuth } from 'canonical-auth'
 * import { createRedisStore } from 'canonical-auth/redis'
 *
 * const redis = createClient({ url: process.env.REDIS_URL })
 * redis.on('error', (error) => logger.warn({ err: error.message }, 'redis'))
 * await redis.connect()
 * const auth = createAuth({ auth0, directory, cache: { store: createRedisStore({ client: redis }) } })
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): UserCacheStore {
  const { client } = options
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string') throw new TypeError('createRedisStore: prefix must be a string')
  const kind = clientKind(client)

  const ready =
    kind === 'ioredis'
      ? () => (client as IoRedisClientLike).status === 'ready'
      : () => (client as NodeRedisClientLike).isReady
  const write =
    kind === 'ioredis'
      ? (key: string, value: string, ttlMs: number) =>
          (client as IoRedisClientLike).set(key, value, 'PX', ttlMs)
      : (key: string, value: string, ttlMs: number) =>
          (client as NodeRedisClientLike).set(key, value, {
            expiration: { type: 'PX', value: ttlMs },
          })

  const connected = () => {
    // Failing at once instead of queueing keeps a Redis outage from growing memory or latency.
    if (!ready()) throw new Error('canonical-auth/redis: the Redis client is not ready')
  }

  return {
    async get(key) {
      connected()
      const raw = await client.get(prefix + key)
      if (raw === null || raw === undefined) return undefined
      const text = typeof raw === 'string' ? raw : String(raw)
      try {
        return JSON.parse(text) as CachedUser
      } catch {
        // Not JSON: canonical-auth did not write it. Remove it and answer a miss.
        await client.del(prefix + key)
        return undefined
      }
    },
    async set(key, value, ttlMs) {
      connected()
      const entry: CachedUser =
        value.email === undefined ? { id: value.id } : { id: value.id, email: value.email }
      await write(prefix + key, JSON.stringify(entry), Math.max(1, Math.ceil(ttlMs)))
    },
    async delete(key) {
      connected()
      await client.del(prefix + key)
    },
  }
}

function clientKind(client: unknown): 'node-redis' | 'ioredis' {
  if (typeof client === 'object' && client !== null) {
    const candidate = client as Record<string, unknown>
    const commands = ['get', 'set', 'del'].every((name) => typeof candidate[name] === 'function')
    if (commands && typeof candidate.status === 'string') return 'ioredis'
    if (commands && typeof candidate.isReady === 'boolean') return 'node-redis'
  }
  throw new TypeError(
    'createRedisStore: client must be a node-redis (createClient) or ioredis (new Redis) client',
  )
}
