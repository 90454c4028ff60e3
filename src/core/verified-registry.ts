import type { VerifiedToken } from './types.js'

/**
 * The tokens one `Auth` instance verified, each with the raw token (for `/userinfo`). Resolution
 * accepts only these: a hand-made object, or a result verified by another instance (another
 * configuration, other tenants, another trust policy), is refused. Verification adds to it and
 * resolution reads it; neither step imports the other.
 */
export class VerifiedRegistry {
  readonly #tokens = new WeakMap<VerifiedToken, string>()

  add(verified: VerifiedToken, token: string): void {
    this.#tokens.set(verified, token)
  }

  /** The raw token of a result this instance verified, or undefined for anything else. */
  tokenOf(verified: VerifiedToken): string | undefined {
    // A WeakMap refuses primitives as keys by throwing; a caller may pass anything at run time.
    if (typeof verified !== 'object' || verified === null) return undefined
    return this.#tokens.get(verified)
  }
}
