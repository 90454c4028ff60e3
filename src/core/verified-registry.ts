import type { ResolvedTenant } from './config/config.js'
import type { VerifiedToken } from './types.js'

/** What an instance remembers of a token it verified. */
export interface VerifiedRecord {
  /** The raw token, for `/userinfo`. */
  readonly token: string
  /** The tenant that issued it: its claims and trust policy apply to it, and no other's. */
  readonly tenant: ResolvedTenant
}

/**
 * The tokens one `Auth` instance verified. Resolution accepts only these: a hand-made object, or a
 * result verified by another instance (another configuration, other tenants, another trust
 * policy), is refused.
 */
export class VerifiedRegistry {
  readonly #records = new WeakMap<VerifiedToken, VerifiedRecord>()

  add(verified: VerifiedToken, record: VerifiedRecord): void {
    this.#records.set(verified, record)
  }

  get(verified: VerifiedToken): VerifiedRecord | undefined {
    // A WeakMap refuses primitives as keys by throwing; a caller may pass anything at run time.
    if (typeof verified !== 'object' || verified === null) return undefined
    return this.#records.get(verified)
  }
}
