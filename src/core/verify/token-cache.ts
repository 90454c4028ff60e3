import { LRUCache } from 'lru-cache'
import type { VerifiedToken } from '../types.js'
import type { TenantVerification } from './config.js'

interface Entry {
  /** The whole token: an entry serves only a token equal to it. */
  readonly token: string
  readonly verified: VerifiedToken
  /** Epoch ms after which the entry must not be used. */
  readonly until: number
}

/**
 * Verification results by the exact token string, so a token presented again skips the
 * signature check. An entry is used only while the token is still valid: never past its `exp`,
 * never past `iat + maxTokenAge`, and never longer than `maxAgeMs` after it was verified (the bound on
 * how long a key removed from the key set keeps vouching for tokens it signed). Failures are not
 * cached. An entry serves only the very token it was made for, never a normalised form.
 *
 * Entries are found by the token's last {@link FINGERPRINT_LENGTH} characters (the end of its
 * signature) and then compared whole: a request's token is a new string each time, and hashing
 * a short tail for the lookup costs a fraction of hashing a whole token of a kilobyte. Two tokens
 * with the same tail share a slot (the later replaces the earlier); neither is ever served for
 * the other.
 */
export class VerifiedTokenCache {
  readonly #entries: LRUCache<string, Entry>
  readonly #maxAgeMs: number

  constructor(options: { readonly max: number; readonly maxAgeMs: number }) {
    this.#entries = new LRUCache({ max: options.max })
    this.#maxAgeMs = options.maxAgeMs
  }

  get(token: string): VerifiedToken | undefined {
    const key = fingerprint(token)
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.token !== token) return undefined
    if (Date.now() >= entry.until) {
      this.#entries.delete(key)
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
    if (until > now) this.#entries.set(fingerprint(token), { token, verified, until })
  }

  clear(): void {
    this.#entries.clear()
  }
}

/** 32 base64url characters: the last 24 bytes of the signature, as unlikely to repeat as the key. */
export const FINGERPRINT_LENGTH = 32

function fingerprint(token: string): string {
  return token.length > FINGERPRINT_LENGTH ? token.slice(-FINGERPRINT_LENGTH) : token
}
