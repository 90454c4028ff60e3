import { base64url } from 'jose'
import type { DpopReplayStore } from '../core/dpop/config.js'
import type { CachedUser, UserCacheStore } from '../core/resolve/user-cache.js'

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
    options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' },
  ): Promise<unknown>
  del(key: string): Promise<unknown>
}

/** The part of an ioredis client (`new Redis()` or `new Cluster()`, 5 or later) the store uses. */
export interface IoRedisClientLike {
  readonly status: string
  get(key: string): Promise<unknown>
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>
  set(
    key: string,
    value: string,
    mode: 'PX',
    milliseconds: number,
    condition: 'NX',
  ): Promise<unknown>
  del(key: string): Promise<unknown>
}

/**
 * The store `createRedisStore` returns: the shared user cache (`cache.store`) and the DPoP replay
 * store (`dpop.replay.store`), on one client.
 */
export interface RedisStore extends UserCacheStore, DpopReplayStore {}

export interface RedisStoreOptions {
  /**
   * A node-redis or ioredis client. You own it: create it, connect it, give it an `error`
   * listener, and close it on shutdown. canonical-auth sends `GET`, `SET … PX`, `SET … PX NX`
   * and `DEL` only.
   */
  readonly client: NodeRedisClientLike | IoRedisClientLike
  /**
   * Put in front of every key, to keep services or environments that share one Redis apart
   * (e.g. `'billing:prod:'`). Keys already start with `canonical-auth:user:v1:` (users) or
   * `canonical-auth:dpop:v1:` (DPoP proofs). Default `''`.
   */
  readonly prefix?: string | undefined
  /**
   * Signs every entry (HMAC-SHA256 over the key, the user and the entry's expiry), so that whoever
   * can write to Redis but does not hold the secret cannot map a user to another id, nor keep an
   * entry alive past its expiry: an entry without a valid signature is ignored and deleted, and
   * the directory asked. At least 32 characters (or bytes); the same for every replica. Pass
   * several to rotate: the first signs, any of them verifies.
   */
  readonly secret?: Secret | readonly Secret[] | undefined
}

type Secret = string | Uint8Array

const MIN_SECRET_BYTES = 32
const MAC = /^[A-Za-z0-9_-]{43}$/
// The first element of every signed message. Entries signed by an earlier format (over key, id
// and email, with no expiry) do not verify under it, and are refused like any unsigned entry.
const MAC_VERSION = 'canonical-auth/redis entry v2'

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>

/**
 * A {@link UserCacheStore} on Redis, for replicas of a service that should share the
 * issuer+sub → canonical user cache: a user resolved on one replica is found by the others without
 * another directory call. Pass it as `cache.store`; the in-memory cache stays in front of it.
 *
 * It is also a DPoP replay store (`dpop: { replay: { store } }`): each proof's key is written
 * with `SET … PX … NX`, so a proof accepted by one replica is refused by every other.
 *
 * While the client is not connected, every call fails at once (nothing queues up in the client's
 * offline queue), and canonical-auth answers from its in-memory cache and the directory instead, so
 * Redis being down costs directory calls, never an error or a wrong identity. What Redis returns
 * is checked before use (a UUID id), and an entry that fails the check is deleted.
 *
 * Every entry carries its expiry (`exp`, epoch milliseconds) besides Redis's own TTL, so that an
 * entry copied and written back without a TTL still dies on time: one past its `exp`, or without
 * one, is ignored and deleted. Replicas compare `exp` with their own clock and grant no grace: a
 * replica whose clock runs ahead only drops entries early (a directory call).
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
export function createRedisStore(options: RedisStoreOptions): RedisStore {
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
  const writeNew =
    kind === 'ioredis'
      ? (key: string, ttlMs: number) =>
          (client as IoRedisClientLike).set(key, '1', 'PX', ttlMs, 'NX')
      : (key: string, ttlMs: number) =>
          (client as NodeRedisClientLike).set(key, '1', {
            expiration: { type: 'PX', value: ttlMs },
            condition: 'NX',
          })

  const signer = options.secret === undefined ? undefined : entrySigner(options.secret)

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
      let entry: unknown
      try {
        entry = JSON.parse(text)
      } catch {
        entry = undefined
      }
      if (!isCurrent(entry, Date.now())) entry = undefined
      if (signer !== undefined && !(await signer.verifies(prefix + key, entry))) entry = undefined
      if (entry === undefined) {
        // Not JSON, expired, or not signed with our secret: not an entry canonical-auth may use.
        // Remove it and answer a miss (canonical-auth also drops entries that are not a user with
        // a UUID).
        await client.del(prefix + key)
        return undefined
      }
      const { id, email, exp } = entry as StoredUser
      return (
        email === undefined ? { id, expiresAt: exp } : { id, email, expiresAt: exp }
      ) as CachedUser
    },
    async set(key, value, ttlMs) {
      connected()
      const ttl = Math.max(1, Math.ceil(ttlMs))
      const user: StoredUser = {
        id: value.id,
        ...(value.email === undefined ? {} : { email: value.email }),
        exp: Date.now() + ttl,
      }
      const entry =
        signer === undefined ? user : { ...user, mac: await signer.sign(prefix + key, user) }
      await write(prefix + key, JSON.stringify(entry), ttl)
    },
    async delete(key) {
      connected()
      await client.del(prefix + key)
    },
    async setIfAbsent(key, ttlMs) {
      connected()
      // SET NX answers OK when it set the key and nothing (null) when the key was there.
      const answer = await writeNew(prefix + key, Math.max(1, Math.ceil(ttlMs)))
      if (answer === 'OK') return true
      if (answer === null || answer === undefined) return false
      throw new Error('canonical-auth/redis: SET NX answered neither OK nor nothing')
    },
  }
}

/** A cached user as stored: with its expiry in epoch milliseconds. */
interface StoredUser extends CachedUser {
  readonly exp: number
}

/** Whether `entry` is an object whose `exp` is an integer still in the future. */
function isCurrent(entry: unknown, now: number): boolean {
  if (typeof entry !== 'object' || entry === null) return false
  const { exp } = entry as { exp?: unknown }
  return typeof exp === 'number' && Number.isSafeInteger(exp) && now < exp
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

/**
 * HMAC-SHA256 over (format version, key, id, email, exp) with WebCrypto: the first secret signs,
 * any verifies.
 */
function entrySigner(secret: Secret | readonly Secret[]) {
  const secrets = (Array.isArray(secret) ? secret : [secret]) as readonly unknown[]
  if (secrets.length === 0) throw new TypeError('createRedisStore: secret must not be empty')
  const bytes = secrets.map((value) => {
    const raw =
      typeof value === 'string'
        ? new TextEncoder().encode(value)
        : value instanceof Uint8Array
          ? value
          : undefined
    if (raw === undefined || raw.byteLength < MIN_SECRET_BYTES) {
      throw new TypeError(
        `createRedisStore: each secret must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`,
      )
    }
    return raw
  })
  let keys: Promise<HmacKey[]> | undefined
  const imported = () =>
    (keys ??= Promise.all(
      bytes.map((raw) =>
        crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
          'sign',
          'verify',
        ]),
      ),
    ))
  const message = (key: string, user: { id?: unknown; email?: unknown; exp?: unknown }) =>
    new TextEncoder().encode(
      JSON.stringify([MAC_VERSION, key, user.id, user.email ?? null, user.exp ?? null]),
    )
  return {
    async sign(key: string, user: StoredUser): Promise<string> {
      const [first] = await imported()
      const mac = await crypto.subtle.sign('HMAC', first as HmacKey, message(key, user))
      return base64url.encode(new Uint8Array(mac))
    },
    async verifies(key: string, entry: unknown): Promise<boolean> {
      if (typeof entry !== 'object' || entry === null) return false
      const { mac, ...user } = entry as {
        mac?: unknown
        id?: unknown
        email?: unknown
        exp?: unknown
      }
      // An HMAC-SHA256 is 32 bytes: 43 base64url characters, no padding.
      const signature = typeof mac === 'string' && MAC.test(mac) ? base64url.decode(mac) : undefined
      if (signature === undefined) return false
      for (const candidate of await imported()) {
        // crypto.subtle.verify compares in constant time.
        if (await crypto.subtle.verify('HMAC', candidate, signature, message(key, user)))
          return true
      }
      return false
    },
  }
}
