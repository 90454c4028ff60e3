import type { Emit } from '../events.js'

/** Options of the directory circuit breaker (`directory.circuitBreaker`). */
export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. Default 5. */
  readonly failureThreshold: number
  /** How long the circuit stays open before one probe call is let through. Default 10 000 ms. */
  readonly resetTimeoutMs: number
}

type State = 'closed' | 'open' | 'half_open'

/**
 * A consecutive-failure circuit breaker. Closed: calls pass; `failureThreshold` failures in a row
 * open it. The caller decides what is a failure: for the directory, only an outage, never an
 * answer about one identity (see `isDirectoryOutage`). Open: calls are refused at once (the
 * caller answers 502 with `Retry-After`) until `resetTimeoutMs` has passed. Half open: one probe
 * call passes, others are refused; the probe's success closes the circuit, its failure opens it
 * again for another `resetTimeoutMs`.
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions
  readonly #emit: Emit
  #state: State = 'closed'
  #failures = 0
  /** Who the failures in a row were for: an outage fails many; a bug in one user's row, one. */
  readonly #failing = new Set<string>()
  #openUntil = 0
  #probing = false

  constructor(options: CircuitBreakerOptions, emit: Emit) {
    this.#options = options
    this.#emit = emit
  }

  get state(): State {
    return this.#state
  }

  /**
   * Whether a call may go out now. `0`: yes (the caller must report it with {@link succeeded} or
   * {@link failed}); otherwise the milliseconds until the next probe may go out.
   */
  admit(now = Date.now()): number {
    if (this.#state === 'closed') return 0
    if (this.#state === 'open') {
      if (now < this.#openUntil) return this.#openUntil - now
      this.#transition('half_open')
    }
    if (this.#probing) return Math.max(1, this.#options.resetTimeoutMs)
    this.#probing = true
    return 0
  }

  succeeded(): void {
    this.#failures = 0
    this.#failing.clear()
    this.#probing = false
    if (this.#state !== 'closed') this.#transition('closed')
  }

  /**
   * Reports a call that found the directory out. `identity` says whom the call was for: failures
   * for one identity alone never open a closed circuit (with a threshold above 1), so a directory
   * that fails for one user's row (a 500 on `o'malley@…`) cannot turn it off for everyone.
   */
  failed(identity?: string, now = Date.now()): void {
    this.#failures += 1
    if (identity !== undefined && this.#failing.size < this.#options.failureThreshold) {
      this.#failing.add(identity)
    }
    const probeFailed = this.#state === 'half_open'
    this.#probing = false
    const many =
      this.#options.failureThreshold === 1 || identity === undefined || this.#failing.size >= 2
    if (probeFailed || (many && this.#failures >= this.#options.failureThreshold)) {
      this.#openUntil = now + this.#options.resetTimeoutMs
      if (this.#state !== 'open') this.#transition('open')
    }
  }

  #transition(state: State): void {
    this.#state = state
    this.#emit({ type: 'circuit.state', circuit: 'directory', state })
  }
}
