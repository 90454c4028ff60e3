import { LRUCache } from 'lru-cache'
import { AuthError, isAuthError } from '../errors.js'

export interface SourceTiming {
  readonly maxAgeMs: number
  readonly staleIfErrorMs: number
  readonly timeoutMs: number
}

/** An answer and when it was fetched. */
interface Fetched<T> {
  readonly value: T
  readonly fetchedAt: number
}

/**
 * Runs `load` for a key at most once at a time, reuses its answer for `maxAgeMs`, and when a
 * reload fails serves the last answer for `staleIfErrorMs` more; past that the failure is
 * `discovery_unavailable`.
 */
export class StaleIfErrorCache<T> {
  readonly #timing: SourceTiming
  readonly #entries: LRUCache<string, Fetched<T>>
  readonly #inflight = new Map<string, Promise<T>>()

  constructor(timing: SourceTiming) {
    this.#timing = timing
    this.#entries = new LRUCache({ max: 10_000 })
  }

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const entry = this.#entries.get(key)
    if (entry !== undefined && Date.now() - entry.fetchedAt < this.#timing.maxAgeMs)
      return entry.value
    let inflight = this.#inflight.get(key)
    if (inflight === undefined) {
      inflight = load().then((value) => {
        this.#entries.set(key, { value, fetchedAt: Date.now() })
        return value
      })
      inflight.then(
        () => this.#inflight.delete(key),
        () => this.#inflight.delete(key),
      )
      this.#inflight.set(key, inflight)
    }
    try {
      return await inflight
    } catch (error) {
      if (
        entry !== undefined &&
        Date.now() - entry.fetchedAt < this.#timing.maxAgeMs + this.#timing.staleIfErrorMs
      ) {
        return entry.value
      }
      throw isAuthError(error)
        ? error
        : new AuthError('discovery_unavailable', undefined, { cause: error })
    }
  }
}
