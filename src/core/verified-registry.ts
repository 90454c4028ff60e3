import type { VerifiedToken } from './types.js'

/**
 * The tokens one `Auth` instance verified, each with the raw token (for `/userinfo`) and the
 * tenant that vouched for it (whose policy resolution applies). Resolution accepts only these: a
 * hand-made object, or a result verified by another instance (another configuration, other
 * tenants, another trust policy), is refused. Verification adds to it and resolution reads it;
 * neither step imports the other.
 */
export class VerifiedRegistry<Tenant extends object = object> {
  readonly #cacheKeyOf: (verified: VerifiedToken) => string

  /**
   * @param cacheKeyOf The key a result is cached under by the step that reads it, made once, as
   *   it is registered, and kept with it: a result the verification cache holds is read again and
   *   again, and a key kept with it costs no map entry of its own.
   */
  constructor(cacheKeyOf: (verified: VerifiedToken) => string) {
    this.#cacheKeyOf = cacheKeyOf
  }

  /**
   * Registers a result before it is frozen (not every runtime adds fields to a frozen object), once
   * the fields its cache key is made of are set.
   */
  add(verified: VerifiedToken, token: string, tenant: Tenant): void {
    new Registration(verified, this, token, tenant, this.#cacheKeyOf(verified))
  }

  /** The raw token of a result this instance verified, or undefined for anything else. */
  tokenOf(verified: VerifiedToken): string | undefined {
    return Registration.tokenOf(verified, this)
  }

  /** The tenant that vouched for a result this instance verified, or undefined for anything else. */
  tenantOf(verified: VerifiedToken): Tenant | undefined {
    return Registration.tenantOf(verified, this) as Tenant | undefined
  }

  /** The cache key of a result this instance verified, or undefined for anything else. */
  cacheKeyOf(verified: VerifiedToken): string | undefined {
    return Registration.cacheKeyOf(verified, this)
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
  readonly #tenant: object
  readonly #cacheKey: string

  constructor(
    target: VerifiedToken,
    registry: VerifiedRegistry,
    token: string,
    tenant: object,
    cacheKey: string,
  ) {
    super(target)
    this.#registry = registry
    this.#token = token
    this.#tenant = tenant
    this.#cacheKey = cacheKey
  }

  static tokenOf(value: unknown, registry: VerifiedRegistry): string | undefined {
    return Registration.#mine(value, registry) ? value.#token : undefined
  }

  static tenantOf(value: unknown, registry: VerifiedRegistry): object | undefined {
    return Registration.#mine(value, registry) ? value.#tenant : undefined
  }

  static cacheKeyOf(value: unknown, registry: VerifiedRegistry): string | undefined {
    return Registration.#mine(value, registry) ? value.#cacheKey : undefined
  }

  static #mine(value: unknown, registry: VerifiedRegistry): value is Registration {
    return (
      typeof value === 'object' &&
      value !== null &&
      #registry in value &&
      (value as Registration).#registry === registry
    )
  }
}
