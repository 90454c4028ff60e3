import type { VerifiedToken } from './types.js'

/**
 * The tokens one `Auth` instance verified, each with the raw token (for `/userinfo`). Resolution
 * accepts only these: a hand-made object, or a result verified by another instance (another
 * configuration, other tenants, another trust policy), is refused. Verification adds to it and
 * resolution reads it; neither step imports the other.
 */
export class VerifiedRegistry {
  /** Registers a result before it is frozen (not every runtime adds fields to a frozen object). */
  add(verified: VerifiedToken, token: string): void {
    new Registration(verified, this, token)
  }

  /** The raw token of a result this instance verified, or undefined for anything else. */
  tokenOf(verified: VerifiedToken): string | undefined {
    return Registration.tokenOf(verified, this)
  }
}

/**
 * Private fields written onto the result itself rather than an entry in a WeakMap: as unforgeable
 * (only this class can read or write them, and copying the object copies none of them), without
 * the map's insertion and its collection cost on every verification. The constructor returns the
 * object it is given, so the fields land on that object and its prototype stays as it was.
 */
class Stamp {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point of the class
    return target
  }
}

class Registration extends Stamp {
  readonly #registry: VerifiedRegistry
  readonly #token: string

  constructor(target: VerifiedToken, registry: VerifiedRegistry, token: string) {
    super(target)
    this.#registry = registry
    this.#token = token
  }

  static tokenOf(value: unknown, registry: VerifiedRegistry): string | undefined {
    if (typeof value !== 'object' || value === null || !(#token in value)) return undefined
    const registered = value as Registration
    return registered.#registry === registry ? registered.#token : undefined
  }
}
