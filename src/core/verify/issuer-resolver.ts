import { LRUCache } from 'lru-cache'
import { AuthError, isAuthError } from '../errors.js'
import { urlProblem } from '../lib/schema-rules.js'

/** How a tenant resolver's answers are kept. */
export interface IssuerResolverOptions {
  /** Most issuers kept, answers and refusals together. */
  readonly max: number
  /** How long a tenant is kept. */
  readonly maxAgeMs: number
  /** How long a refusal (or a tenant that could not be used) is kept. */
  readonly negativeMaxAgeMs: number
}

type Kept<Entry> = { readonly expiresAt: number } & (
  | { readonly entry: Entry }
  | { readonly refused: true }
  | { readonly error: AuthError }
)

// An issuer longer than this is no issuer anyone configures; the resolver is not asked about it.
const MAX_ISSUER_LENGTH = 2_048

/**
 * The tenants of a resolver (`auth0` as a function), asked by issuer and kept: a bounded LRU of
 * answers and refusals with their own max ages, one call at a time per issuer, and at most `max`
 * calls in flight. The resolver is asked only about an issuer that is an `https:` URL (`http:` on
 * a loopback host); anything else is refused without asking. Each kept tenant's entry (with its
 * key set) goes when the LRU drops it, so key sets are bounded by `max` too.
 */
export class IssuerResolver<Tenant, Entry extends object> {
  readonly #resolve: (issuer: string) => Promise<Tenant | undefined>
  readonly #build: (tenant: Tenant) => Entry
  readonly #options: IssuerResolverOptions
  readonly #kept: LRUCache<string, Kept<Entry>>
  readonly #inflight = new Map<string, Promise<Entry | undefined>>()

  constructor(
    resolve: (issuer: string) => Promise<Tenant | undefined>,
    build: (tenant: Tenant) => Entry,
    options: IssuerResolverOptions,
  ) {
    this.#resolve = resolve
    this.#build = build
    this.#options = options
    // Expiry by the wall clock, read on each check, like every other cache here.
    this.#kept = new LRUCache({ max: options.max })
  }

  /**
   * What is known of `issuer` now: its entry, `null` when it is refused, `undefined` when the
   * resolver must be asked ({@link lookup}). Throws the error a failed answer is kept with.
   */
  known(issuer: string): Entry | null | undefined {
    if (!askable(issuer)) return null
    const kept = this.#kept.get(issuer)
    if (kept === undefined) return undefined
    if (kept.expiresAt <= Date.now()) {
      this.#kept.delete(issuer)
      return undefined
    }
    if ('entry' in kept) return kept.entry
    if ('error' in kept) throw kept.error
    return null
  }

  /** Asks the resolver about `issuer` (one call shared by concurrent tokens), and keeps the answer. */
  lookup(issuer: string): Promise<Entry | undefined> {
    const known = this.known(issuer)
    if (known !== undefined) return Promise.resolve(known ?? undefined)
    let call = this.#inflight.get(issuer)
    if (call !== undefined) return call
    if (this.#inflight.size >= this.#options.max) {
      // A flood of new issuers: no more calls than issuers that may be kept.
      return Promise.reject(
        new AuthError('jwks_unavailable', 'Too many issuers are being looked up at once', {
          retryAfterSeconds: 1,
        }),
      )
    }
    call = this.#ask(issuer)
    this.#inflight.set(issuer, call)
    const done = () => this.#inflight.delete(issuer)
    call.then(done, done)
    return call
  }

  /** Every entry kept now (to close their key sets with the instance). */
  entries(): Entry[] {
    const entries: Entry[] = []
    for (const kept of this.#kept.values()) if ('entry' in kept) entries.push(kept.entry)
    return entries
  }

  async #ask(issuer: string): Promise<Entry | undefined> {
    let tenant: Tenant | undefined
    try {
      tenant = await this.#resolve(issuer)
    } catch (error) {
      if (isAuthError(error)) throw error
      if ((error as { name?: unknown } | null)?.name === 'AuthConfigError') {
        // The resolver answered with a tenant that is not a valid configuration: a bug to fix,
        // kept like a refusal so that it is not asked again on every token.
        const failure = new AuthError(
          'internal_error',
          'The tenant resolver answered with an invalid tenant',
          { cause: error },
        )
        this.#keep(issuer, { error: failure }, this.#options.negativeMaxAgeMs)
        throw failure
      }
      // Not kept: the next token asks again (one call at a time).
      throw new AuthError('jwks_unavailable', "The issuer's configuration is unavailable", {
        cause: error,
        retryAfterSeconds: 1,
      })
    }
    if (tenant === undefined) {
      this.#keep(issuer, { refused: true }, this.#options.negativeMaxAgeMs)
      return undefined
    }
    const entry = this.#build(tenant)
    this.#keep(issuer, { entry }, this.#options.maxAgeMs)
    return entry
  }

  #keep(
    issuer: string,
    kept: { entry: Entry } | { refused: true } | { error: AuthError },
    maxAgeMs: number,
  ): void {
    this.#kept.set(issuer, { ...kept, expiresAt: Date.now() + maxAgeMs })
  }
}

function askable(issuer: string): boolean {
  return issuer.length <= MAX_ISSUER_LENGTH && urlProblem(issuer) === undefined
}
