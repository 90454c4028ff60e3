import type { LRUCache } from 'lru-cache'
import type { Emit } from '../events.js'
import { expiringCache } from '../lib/expiring-cache.js'
import { Flights, handOff, type WaitUntil } from '../lib/flights.js'
import { isUuid } from '../lib/uuid.js'
import type { CanonicalUser } from '../types.js'

/** What the cache keeps for a (issuer, sub) pair. */
export interface CachedUser {
  readonly id: string
  readonly email?: string
  /**
   * When a shared store's entry stops being valid, in epoch milliseconds, if the store knows. A
   * store may return it from `get`: the in-memory copy then lives no longer than the entry, so a
   * user read near the end of its TTL is not kept for a whole `cache.maxAgeMs` more.
   */
  readonly expiresAt?: number
}

/**
 * A shared cache that replicas of a service can use together (e.g. Redis). Every method may fail
 * or be slow: a failure or an answer slower than `cache.storeTimeoutMs` counts as a miss, and the
 * directory is asked instead, so the store can never cause a wrong identity or an error. Values
 * read back are validated (the id must be a UUID).
 *
 * @example
 * ```ts
 * const store: UserCacheStore = {
 *   async get(key) { const v = await redis.get(key); return v ? JSON.parse(v) : undefined },
 *   async set(key, value, ttlMs) { await redis.set(key, JSON.stringify(value), 'PX', ttlMs) },
 *   async delete(key) { await redis.del(key) },
 * }
 * createAuth({ auth0, directory, cache: { store } })
 * ```
 */
export interface UserCacheStore {
  get(key: string): Promise<CachedUser | undefined>
  set(key: string, value: CachedUser, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
}

export interface UserCacheOptions {
  readonly max: number
  readonly maxAgeMs: number
  readonly negativeMaxAgeMs: number
  readonly store: UserCacheStore | undefined
  readonly storeTimeoutMs: number
}

type StoreOperation = 'get' | 'set' | 'delete'
const TIMED_OUT: unique symbol = Symbol('timed out')
const FAILED: unique symbol = Symbol('failed')

const KEY_PREFIX = 'canonical-auth:user:v1:'

/**
 * The issuer+sub → canonical user cache: a bounded local LRU with TTL in front of an optional
 * shared store, a short local negative cache for read-only lookup misses, and single flight so
 * concurrent misses for one key share one directory call.
 */
export class UserCache {
  readonly #options: UserCacheOptions
  readonly #emit: Emit
  /** Frozen, ready to hand out: a cache hit allocates nothing. */
  readonly #local: LRUCache<string, CanonicalUser>
  readonly #missing: LRUCache<string, true>
  readonly #inflight = new Flights<string, CanonicalUser>()

  constructor(options: UserCacheOptions, emit: Emit) {
    this.#options = options
    this.#emit = emit
    this.#local = expiringCache(options.max, options.maxAgeMs)
    this.#missing = expiringCache(options.max, Math.max(1, options.negativeMaxAgeMs))
  }

  static key(issuer: string, subject: string): string {
    return `${KEY_PREFIX}${issuer}\n${subject}`
  }

  /** The user in memory, as a frozen `CanonicalUser` with `source: 'cache'`. */
  local(key: string): CanonicalUser | undefined {
    return this.#local.get(key)
  }

  /**
   * The cached user, from memory or the shared store. A bad entry the store returned is deleted in
   * the background (handed to `waitUntil` when there is one).
   */
  async get(key: string, waitUntil?: WaitUntil): Promise<CanonicalUser | undefined> {
    const local = this.#local.get(key)
    if (local !== undefined || this.#options.store === undefined) return local
    const shared = await this.#withStore('get', (store) => store.get(key))
    if (shared === undefined) return undefined
    if (!isCachedUser(shared)) {
      // Not a user with a UUID: never trusted, and removed so other replicas stop reading it.
      handOff(
        this.#withStore('delete', (store) => store.delete(key)),
        waitUntil,
      )
      return undefined
    }
    const user = fromCache({
      id: shared.id.toLowerCase(),
      ...(typeof shared.email === 'string' ? { email: shared.email } : {}),
    })
    // Never kept in memory past the shared entry's own expiry, nor longer than maxAgeMs.
    const remainingMs =
      typeof shared.expiresAt === 'number' ? shared.expiresAt - Date.now() : this.#options.maxAgeMs
    if (!(remainingMs > 0)) return undefined
    this.#local.set(key, user, { ttl: Math.min(this.#options.maxAgeMs, Math.ceil(remainingMs)) })
    return user
  }

  async set(key: string, user: CachedUser): Promise<void> {
    this.#local.set(key, fromCache(user))
    this.#missing.delete(key)
    await this.#withStore('set', (store) => store.set(key, user, this.#options.maxAgeMs))
  }

  /** Whether a recent read-only lookup found no user for this key. */
  isKnownMissing(key: string): boolean {
    return this.#options.negativeMaxAgeMs > 0 && this.#missing.has(key)
  }

  markMissing(key: string): void {
    if (this.#options.negativeMaxAgeMs > 0) this.#missing.set(key, true)
  }

  /**
   * Runs `work` once for concurrent callers with the same key, none of whom waits past `maxMs`
   * from its start (then the next caller runs it afresh): see {@link Flights}.
   */
  singleFlight(
    key: string,
    work: () => Promise<CanonicalUser>,
    maxMs: number,
  ): Promise<CanonicalUser> {
    return this.#inflight.run(key, work, maxMs)
  }

  clear(): void {
    this.#local.clear()
    this.#missing.clear()
  }

  /**
   * Runs one store call, bounded by `storeTimeoutMs`. A failure or a timeout is `undefined`: the
   * shared store is an optimisation, and the directory answers instead.
   */
  async #withStore<T>(
    operation: StoreOperation,
    use: (store: UserCacheStore) => Promise<T>,
  ): Promise<T | undefined> {
    const store = this.#options.store
    if (store === undefined) return undefined
    const started = Date.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    let result: T | typeof TIMED_OUT | typeof FAILED
    try {
      result = await Promise.race([
        use(store),
        new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(resolve, this.#options.storeTimeoutMs, TIMED_OUT)
        }),
      ])
    } catch {
      result = FAILED
    } finally {
      clearTimeout(timer)
    }
    const answer = result === TIMED_OUT || result === FAILED || result === null ? undefined : result
    this.#emit({
      type: 'cache.store',
      operation,
      outcome: storeOutcome(operation, result, answer),
      durationMs: Date.now() - started,
    })
    return answer
  }
}

function storeOutcome(
  operation: StoreOperation,
  result: unknown,
  answer: unknown,
): 'hit' | 'miss' | 'ok' | 'error' | 'timeout' {
  if (result === TIMED_OUT) return 'timeout'
  if (result === FAILED) return 'error'
  if (operation !== 'get') return 'ok'
  return answer === undefined ? 'miss' : 'hit'
}

/** What a later request gets for a cached user: frozen, since every such request shares it. */
function fromCache(user: CachedUser): CanonicalUser {
  return Object.freeze({
    id: user.id,
    ...(user.email === undefined ? {} : { email: user.email }),
    source: 'cache',
    created: false,
  })
}

function isCachedUser(value: unknown): value is CachedUser {
  return (
    typeof value === 'object' &&
    value !== null &&
    isUuid((value as { id?: unknown }).id) &&
    ((value as { email?: unknown }).email === undefined ||
      typeof (value as { email?: unknown }).email === 'string')
  )
}
