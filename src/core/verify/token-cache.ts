import { LRUCache } from 'lru-cache'
import type { VerifiedToken } from '../types.js'
import type { TenantVerification } from './config.js'

interface Entry {
  readonly verified: VerifiedToken
  /** Epoch ms after which the entry must not be used. */
  readonly until: number
}

/**
 * Verification results by the exact token string, so a token presented again skips the
 * signature check. An entry is used only while the token is still valid: never past its `exp`,
 * never past `iat + maxTokenAge`, and never longer than `maxAgeMs` after it was verified (the bound on
 * how long a key removed from the key set keeps vouching for tokens it signed). Failures are not
 * cached. The key is the token itself, never a normalised form.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, Entry>
  readonly #maxAgeMs: number

  constructor(options: { readonly max: number; readonly maxAgeMs: number }) {
    this.#entries = new LRUCache({ max: options.max })
    this.#maxAgeMs = options.maxAgeMs
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

  set(token: string, verified: VerifiedToken, tenant: TenantVerification): void {
    const now = Date.now()
    const iat = verified.claims.iat as number
    const until = Math.min(
      verified.expiresAt.getTime(),
      (iat + tenant.maxTokenAgeSeconds) * 1000,
      now + this.#maxAgeMs,
    )
    if (until > now) this.#entries.set(token, { verified, until })
  }

  clear(): void {
    this.#entries.clear()
  }
}
