import { base64url } from 'jose'
import { AuthError, type DpopChallenge } from '../errors.js'
import type { Emit } from '../events.js'
import type { DpopBinding, VerifiedToken } from '../types.js'
import type { DpopReplayStore, ResolvedDpop } from './config.js'
import { NonceIssuer } from './nonce.js'
import { accessTokenHash, normalisedHtu, ProofChecker } from './proof.js'
import { MemoryReplayStore } from './replay.js'

/** The request a DPoP proof is checked against. */
export interface DpopRequest {
  /** The request method, as the client sent it. */
  readonly method?: string | undefined
  /** The absolute URL the client used (or its path, when `dpop.origin` is configured). */
  readonly url?: string | undefined
}

const TIMED_OUT = Symbol('timed out')

/**
 * Where an instance that accepts DPoP keeps the challenge for DPoP requests, for the guard's own
 * refusals (claim rules, scopes). A symbol from the global registry, so that the ESM and CommonJS
 * copies of the package agree on it.
 */
export const DPOP_CHALLENGE: unique symbol = Symbol.for('canonical-auth.dpop-challenge')

/** An instance with {@link DPOP_CHALLENGE}: undefined when DPoP is disabled. */
export interface HasDpopChallenge {
  readonly [DPOP_CHALLENGE]: DpopChallenge | undefined
}

// How far apart the clocks of replicas sharing a replay store may be.
const REPLICA_SKEW_SECONDS = 60

/**
 * An instance's DPoP checks (RFC 9449): what a request with the `DPoP` scheme must prove, what a
 * Bearer request may not carry, and the challenges of both. Each proof's `jti` is recorded once
 * every other check has passed, so only a holder of a bound token's key can fill the replay store.
 */
export class DpopGate {
  /** Whether Bearer tokens are refused. */
  readonly required: boolean
  /** The challenges answered with: for a request that used each scheme. */
  readonly challenges: { readonly bearer: DpopChallenge; readonly dpop: DpopChallenge }
  readonly #config: ResolvedDpop
  readonly #proofs: ProofChecker
  readonly #nonces: NonceIssuer | undefined
  readonly #store: DpopReplayStore
  readonly #ownStore: MemoryReplayStore | undefined
  // How long a proof's jti is kept: as long as its iat can be within the window.
  readonly #keepMs: number
  readonly #emit: Emit

  constructor(config: ResolvedDpop, maxLength: number, emit: Emit) {
    this.#config = config
    this.required = config.required
    const offered = { algorithms: config.algorithms, bearer: !config.required }
    this.challenges = {
      bearer: Object.freeze({ ...offered, scheme: config.required ? 'DPoP' : 'Bearer' } as const),
      dpop: Object.freeze({ ...offered, scheme: 'DPoP' } as const),
    }
    this.#proofs = new ProofChecker({ ...config, maxLength })
    this.#nonces =
      config.nonce === undefined
        ? undefined
        : new NonceIssuer(config.nonce.secret, config.nonce.ttlSeconds)
    this.#ownStore =
      config.replay.store === undefined ? new MemoryReplayStore(config.replay.max) : undefined
    this.#store = config.replay.store ?? (this.#ownStore as MemoryReplayStore)
    // The whole window a proof may be accepted in, and a minute more: a replica whose clock is
    // behind the one that recorded the proof still finds it recorded.
    this.#keepMs = (config.iatWindowSeconds + config.iatAheadSeconds + REPLICA_SKEW_SECONDS) * 1000
    this.#emit = emit
  }

  /** The refusal of a token presented as Bearer where DPoP is required. */
  bearerRefused(): AuthError {
    return new AuthError(
      'token_invalid',
      'This resource accepts DPoP-bound access tokens only, presented with the DPoP scheme',
      { dpop: this.challenges.dpop },
    )
  }

  /** Refuses a token presented as Bearer that is bound to a DPoP key (no downgrade, §7.2). */
  assertBearer(verified: VerifiedToken): void {
    if (boundKey(verified) !== undefined) {
      throw new AuthError(
        'token_invalid',
        'The access token is bound to a DPoP key: present it with the DPoP scheme and a proof',
        { dpop: this.challenges.dpop },
      )
    }
  }

  /**
   * Checks a request that presented `token` (verified) with the DPoP scheme and `proof`: the
   * token is bound, the proof passes every check of RFC 9449 §4.3 for this request and is signed
   * by the bound key, its nonce is current (when nonces are on), and it was not accepted before.
   */
  async check(
    proof: string,
    request: DpopRequest,
    token: string,
    verified: VerifiedToken,
  ): Promise<DpopBinding> {
    const jkt = boundKey(verified)
    if (typeof jkt !== 'string') {
      throw new AuthError(
        'token_invalid',
        'The access token is not bound to a DPoP key: present it with the Bearer scheme',
      )
    }
    const { method, url } = request
    if (typeof method !== 'string' || typeof url !== 'string') {
      throw new AuthError(
        'internal_error',
        'authenticate was not given the request method and URL a DPoP proof is checked against',
      )
    }
    const htu = this.#htu(url)
    if (htu === undefined) {
      throw new AuthError('invalid_request', 'The request URL is not an absolute http URL')
    }
    const nowMs = Date.now()
    const checked = await this.#proofs.check(proof, {
      method,
      htu,
      ath: await accessTokenHash(token),
      nowSeconds: nowMs / 1000,
      jkt,
    })
    const nonces = this.#nonces
    if (nonces !== undefined) {
      if (checked.nonce === undefined || !(await nonces.accepts(checked.nonce, nowMs))) {
        throw new AuthError('use_dpop_nonce', undefined, {
          dpop: { ...this.challenges.dpop, nonce: await nonces.current(nowMs) },
        })
      }
    }
    await this.#record(checked.thumbprint, checked.jti)
    if (nonces === undefined) return { thumbprint: jkt }
    return { thumbprint: jkt, nonce: await nonces.current(nowMs) }
  }

  close(): void {
    this.#ownStore?.clear()
  }

  /** The `htu` a proof for this request must carry, normalised; undefined for an unusable URL. */
  #htu(url: string): string | undefined {
    const origin = this.#config.origin
    if (origin === undefined) return normalisedHtu(url)
    if (url.startsWith('/')) return normalisedHtu(origin + url)
    let path: string
    try {
      path = new URL(url).pathname
    } catch {
      return undefined
    }
    return normalisedHtu(origin + path)
  }

  /** Records the proof's jti (per key); a replay is refused, a failing store decided by policy. */
  async #record(thumbprint: string, jti: string): Promise<void> {
    const digest = await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(`${thumbprint}.${jti}`),
    )
    const key = `canonical-auth:dpop:v1:${base64url.encode(new Uint8Array(digest))}`
    const outcome = await this.#setIfAbsent(key)
    if (outcome === true) return
    if (outcome === false) {
      throw new AuthError('invalid_dpop_proof', 'The DPoP proof is invalid: it was used before')
    }
    const allowed = this.#config.replay.onStoreError === 'allow'
    this.#emit({
      type: 'dpop.replay_store',
      outcome: outcome === TIMED_OUT ? 'timeout' : 'error',
      decision: allowed ? 'allowed' : 'rejected',
    })
    if (!allowed) throw new AuthError('replay_store_unavailable')
  }

  /** One store call, bounded by the timeout: its answer, `TIMED_OUT`, or `undefined` (it failed). */
  async #setIfAbsent(key: string): Promise<boolean | typeof TIMED_OUT | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.#config.replay.timeoutMs, TIMED_OUT)
    })
    try {
      const call = Promise.resolve().then(() => this.#store.setIfAbsent(key, this.#keepMs))
      const answer = await Promise.race([call, timeout])
      // Anything but a boolean is a store that does not keep its contract: a failure.
      return answer === TIMED_OUT || typeof answer === 'boolean' ? answer : undefined
    } catch {
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The token's `cnf.jkt` when its `cnf` names one (any value), else undefined. */
function boundKey(verified: VerifiedToken): unknown {
  const { cnf } = verified.claims
  if (typeof cnf !== 'object' || cnf === null || !Object.hasOwn(cnf, 'jkt')) return undefined
  // A bound token whose jkt is not a string still may not pass as Bearer.
  return (cnf as { jkt: unknown }).jkt ?? null
}
