import type { DpopReplayStore } from './config.js'

/**
 * The default replay store: the keys of accepted proofs in memory, each until it expires, at most
 * `max` of them. Full of keys that have not expired, it fails rather than forget one (a forgotten
 * key is a proof that could be replayed): the instance's `onStoreError` then decides.
 */
export class MemoryReplayStore implements DpopReplayStore {
  readonly #max: number
  // Key → expiry (epoch ms). Every key lives as long, so insertion order is expiry order.
  readonly #keys = new Map<string, number>()

  constructor(max: number) {
    this.#max = max
  }

  setIfAbsent(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    for (const [oldest, expiresAt] of this.#keys) {
      if (expiresAt > now) break
      this.#keys.delete(oldest)
    }
    const expiresAt = this.#keys.get(key)
    if (expiresAt !== undefined && expiresAt > now) return Promise.resolve(false)
    if (this.#keys.size >= this.#max) {
      return Promise.reject(new Error('The in-memory DPoP replay store is full'))
    }
    this.#keys.delete(key)
    this.#keys.set(key, now + ttlMs)
    return Promise.resolve(true)
  }

  clear(): void {
    this.#keys.clear()
  }
}
