import { LRUCache } from 'lru-cache'
import type { ResolvedTenant } from '../config/config.js'
import type { VerifiedToken } from '../types.js'

interface Entry {
  readonly verified: VerifiedToken
  /** Epoch ms after which the entry must not be used. */
  readonly until: number
}

/**
 * Verification results by the exact token string, so a token presented again skips the
 * signature check. An entry is used only while the token is still valid: never past its `exp`,
 * never past `iat + maxTokenAge`, and never longer than `ttlMs` after it was verified (the bound on
 * how long a key removed from the key set keeps vouching for tokens it signed). Failures are not
 * cached. The key is the token itself, never a normalised form.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, Entry>
  readonly #ttlMs: number

  constructor(options: { max: number; ttlMs: number }) {
    this.#entries = new LRUCache({ max: options.max })
    this.#ttlMs = options.ttlMs
  }

  get(token: string): VerifiedToken | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (Date.now() >= entry.until) {
      this.#entries.delete(token)
      return undefined
    }
    return entry.verified
  }

  set(token: string, verified: VerifiedToken, tenant: ResolvedTenant): void {
    const now = Date.now()
    const iat = verified.claims.iat as number
    const until = Math.min(
      verified.expiresAt.getTime(),
      (iat + tenant.maxTokenAgeSeconds) * 1000,
      now + this.#ttlMs,
    )
    if (until > now) this.#entries.set(token, { verified, until })
  }

  clear(): void {
    this.#entries.clear()
  }
}
