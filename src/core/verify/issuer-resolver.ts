import { LRUCache } from 'lru-cache'
import { AuthError, isAuthError } from '../errors.js'
import { Flights } from '../lib/flights.js'
import { urlProblem } from '../lib/schema-rules.js'

/** How a tenant resolver's answers are kept. */
export interface IssuerResolverOptions {
  /** Most issuers kept, of the tenants answered and (apart) of the refusals. */
  readonly max: number
  /** How long a tenant is kept before the resolver is asked again. */
  readonly maxAgeMs: number
  /** How long a refusal (or a tenant that could not be used) is kept. */
  readonly negativeMaxAgeMs: number
  /** How long past `maxAgeMs` a tenant is still served while the resolver fails. */
  readonly staleIfErrorMs: number
  /** How long one resolver call may take. */
  readonly timeoutMs: number
}

interface Answer<Entry> {
  readonly entry: Entry
  readonly fetchedAt: number
}

interface Refusal {
  /** The refusal to answer with: `undefined` for an issuer the resolver does not know. */
  readonly error: AuthError | undefined
  readonly expiresAt: number
}

// An issuer longer than this is no issuer anyone configures; the resolver is not asked about it.
const MAX_ISSUER_LENGTH = 2_048

/**
 * The tenants of a resolver (`auth0` as a function), asked by issuer and kept: tenants and
 * refusals in two bounded LRUs (a flood of refused issuers never pushes out a tenant), each with
 * its max age; one call at a time per issuer, each within `timeoutMs`, and at most `max` in
 * flight. A tenant is served past its max age while the resolver fails, for `staleIfErrorMs`. The
 * resolver is asked only about an issuer in the normal form of an `https:` URL (`http:` on a
 * loopback host): one spelling per issuer, so that no spelling can cost another key set.
 */
export class IssuerResolver<Tenant, Entry extends object> {
  readonly #resolve: (issuer: string) => Promise<Tenant | undefined>
  readonly #build: (tenant: Tenant) => Entry
  readonly #options: IssuerResolverOptions
  readonly #answers: LRUCache<string, Answer<Entry>>
  readonly #refusals: LRUCache<string, Refusal>
  readonly #inflight = new Flights<string, Entry | undefined>()
  #version = 0

  constructor(
    resolve: (issuer: string) => Promise<Tenant | undefined>,
    build: (tenant: Tenant) => Entry,
    options: IssuerResolverOptions,
  ) {
    this.#resolve = resolve
    this.#build = build
    this.#options = options
    this.#answers = new LRUCache({ max: options.max, dispose: () => this.#version++ })
    this.#refusals = new LRUCache({ max: options.max })
  }

  /**
   * What is known of `issuer` now: its entry, `null` when it is refused, `undefined` when the
   * resolver must be asked ({@link lookup}). Throws the error a failed answer is kept with.
   */
  known(issuer: string): Entry | null | undefined {
    if (!askable(issuer)) return null
    const now = Date.now()
    const answer = this.#answers.get(issuer)
    if (answer !== undefined && now - answer.fetchedAt < this.#options.maxAgeMs) return answer.entry
    const refusal = this.#refusals.get(issuer)
    if (refusal === undefined || refusal.expiresAt <= now) return undefined
    if (refusal.error !== undefined) throw refusal.error
    return null
  }

  /** Asks the resolver about `issuer` (one call shared by concurrent tokens), and keeps the answer. */
  lookup(issuer: string): Promise<Entry | undefined> {
    let known: Entry | null | undefined
    try {
      known = this.known(issuer)
    } catch (error) {
      return Promise.reject(error)
    }
    if (known !== undefined) return Promise.resolve(known ?? undefined)
    const running = this.#inflight.join(issuer, () => this.lookup(issuer))
    if (running !== undefined) return running
    if (this.#inflight.size >= this.#options.max && this.#inflight.live() >= this.#options.max) {
      // A flood of new issuers: no more calls than issuers that may be kept.
      return Promise.reject(
        new AuthError('jwks_unavailable', 'Too many issuers are being looked up at once', {
          retryAfterSeconds: 1,
        }),
      )
    }
    // A call dropped with the request that made it is abandoned once past its deadline.
    return this.#inflight.start(issuer, () => this.#ask(issuer), this.#options.timeoutMs)
  }

  /** The issuers of the tenants kept now, and a number that changes whenever they do. */
  issuers(): { readonly version: number; readonly issuers: readonly string[] } {
    return { version: this.#version, issuers: [...this.#answers.keys()] }
  }

  async #ask(issuer: string): Promise<Entry | undefined> {
    let tenant: Tenant | undefined
    try {
      tenant = await withDeadline(this.#resolve(issuer), this.#options.timeoutMs)
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'AuthConfigError') {
        // The resolver answered with a tenant that is not a valid configuration: a bug to fix,
        // kept like a refusal so that it is not asked again on every token.
        const failure = new AuthError(
          'internal_error',
          'The tenant resolver answered with an invalid tenant',
          { cause: error },
        )
        this.#refuse(issuer, failure)
        throw failure
      }
      // The last answer while it may still be served; otherwise a refusal that is not kept (the
      // next token asks again, one call at a time).
      const stale = this.#answers.get(issuer)
      if (
        stale !== undefined &&
        Date.now() - stale.fetchedAt < this.#options.maxAgeMs + this.#options.staleIfErrorMs
      ) {
        return stale.entry
      }
      if (isAuthError(error)) throw error
      throw new AuthError('jwks_unavailable', "The issuer's configuration is unavailable", {
        cause: error,
        retryAfterSeconds: 1,
      })
    }
    if (tenant === undefined) {
      this.#answers.delete(issuer)
      this.#refuse(issuer, undefined)
      return undefined
    }
    const entry = this.#build(tenant)
    this.#refusals.delete(issuer)
    this.#answers.set(issuer, { entry, fetchedAt: Date.now() })
    this.#version++
    return entry
  }

  #refuse(issuer: string, error: AuthError | undefined): void {
    this.#refusals.set(issuer, { error, expiresAt: Date.now() + this.#options.negativeMaxAgeMs })
  }
}

/**
 * Whether the resolver may be asked about `issuer`: an `https:` URL (`http:` on a loopback host)
 * written in its normal form (as `new URL` writes it, or without the slash of a bare origin), with
 * no query, fragment, white space or escapes to read twice.
 */
function askable(issuer: string): boolean {
  if (issuer.length > MAX_ISSUER_LENGTH || urlProblem(issuer) !== undefined) return false
  if (issuer.includes('?') || issuer.includes('#')) return false
  const { href, pathname } = new URL(issuer)
  return href === issuer || (pathname === '/' && href === `${issuer}/`)
}

/** `promise`, or a `jwks_unavailable` refusal once `ms` have passed; the timer is released. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new AuthError('jwks_unavailable', 'The tenant resolver did not answer in time', {
            retryAfterSeconds: 1,
          }),
        ),
      ms,
    )
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
