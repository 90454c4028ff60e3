import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWSHeaderParameters } from 'jose'
import type { JwksConfig } from './config.js'
import { AuthError } from './errors.js'
import { callUpstream, statusError } from './upstream.js'

// A key set larger than this is not a key set.
const MAX_JWKS_BYTES = 1_048_576
const FIRST_BACKOFF_MS = 1_000
// Bounds the remembered selections per copy: (alg, kid) pairs are few in a real key set, and
// headers naming no kid or an unknown one never reach here without a key.
const MAX_SELECTED_KEYS = 64

type KeyResolver = ReturnType<typeof createLocalJWKSet>

/** Told the outcome and duration (ms) of each key set fetch. */
export type FetchObserver = (outcome: 'ok' | 'error', durationMs: number) => void

interface Snapshot {
  readonly resolve: KeyResolver
  readonly kids: ReadonlySet<string>
  readonly fetchedAt: number
  /** Keys jose already selected and imported from this copy, by `alg` and `kid`. */
  readonly selected: Map<string, unknown>
}

const selectionKey = (header: JWSHeaderParameters) => `${header.alg}\u0000${header.kid ?? ''}`

/**
 * A remote JSON Web Key Set with the policy jose's `createRemoteJWKSet` lacks:
 *
 * - the last good key set is served for `staleIfErrorMs` past its `cacheMaxAgeMs` while refreshes
 *   fail, and refreshed in the background meanwhile;
 * - a failed fetch starts an exponential backoff (1 s doubling up to `cooldownMs`) during which
 *   requests that need keys fail fast with `jwks_unavailable` instead of queueing on the network;
 * - a `kid` missing from the kept copy triggers at most one fetch per `cooldownMs`, however many
 *   tokens with unknown kids arrive, and concurrent callers share one fetch.
 *
 * Key selection and import stay with jose (`createLocalJWKSet`).
 */
export class RemoteKeySet {
  readonly #uri: string
  readonly #options: Required<JwksConfig>
  readonly #abort = new AbortController()
  #snapshot: Snapshot | undefined
  #inflight: Promise<Snapshot> | undefined
  #lastFetchAt = Number.NEGATIVE_INFINITY
  #failures = 0
  #retryAt = 0
  readonly #observers = new Set<FetchObserver>()

  constructor(uri: string, options: Required<JwksConfig>) {
    this.#uri = uri
    this.#options = options
  }

  /** The jose key resolver for `jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters): ReturnType<KeyResolver> => {
    const snapshot = this.#snapshot
    if (snapshot === undefined) return select(await this.#refresh(), header)

    const now = Date.now()
    const known = header.kid === undefined || snapshot.kids.has(header.kid)
    if (known) {
      if (this.#usable(snapshot, now)) return select(snapshot, header)
      return select(await this.#refresh(), header)
    }
    if (this.#inflight === undefined && now - this.#lastFetchAt < this.#options.cooldownMs) {
      throw new AuthError('token_invalid', 'The token was signed with an unknown key')
    }
    return select(await this.#refresh(), header)
  }

  /**
   * The key {@link getKey} would return for this header, without waiting: only a key jose has
   * already selected and imported from the current copy, while that copy may still be served
   * (the same freshness rules, background refresh included). `undefined`: ask {@link getKey}.
   */
  selectedKey(header: JWSHeaderParameters): unknown {
    const snapshot = this.#snapshot
    if (snapshot === undefined) return undefined
    const key = snapshot.selected.get(selectionKey(header))
    return key !== undefined && this.#usable(snapshot, Date.now()) ? key : undefined
  }

  /** Whether a copy may be served now; past its max age it also starts a background refresh. */
  #usable(snapshot: Snapshot, now: number): boolean {
    const age = now - snapshot.fetchedAt
    if (age < this.#options.cacheMaxAgeMs) return true
    if (age < this.#options.cacheMaxAgeMs + this.#options.staleIfErrorMs) {
      this.#refreshInBackground()
      return true
    }
    return false
  }

  /** Calls `observer` after each fetch with its outcome and duration; returns the unsubscribe. */
  observe(observer: FetchObserver): () => void {
    this.#observers.add(observer)
    return () => this.#observers.delete(observer)
  }

  /** Stops in-flight fetches and forgets the keys. */
  close(): void {
    this.#abort.abort()
    this.#snapshot = undefined
  }

  #refreshInBackground(): void {
    if (this.#inflight !== undefined || Date.now() < this.#retryAt) return
    // The failure is recorded by #refresh; a background caller has nobody to report it to.
    this.#refresh().catch(() => {})
  }

  #refresh(): Promise<Snapshot> {
    if (this.#inflight !== undefined) return this.#inflight
    const now = Date.now()
    if (now < this.#retryAt) {
      return Promise.reject(unavailable(this.#retryAt - now, undefined))
    }
    const started = Date.now()
    const inflight = this.#fetch().then(
      (snapshot) => {
        this.#notify('ok', started)
        this.#snapshot = snapshot
        this.#lastFetchAt = snapshot.fetchedAt
        this.#failures = 0
        this.#retryAt = 0
        return snapshot
      },
      (error: unknown) => {
        this.#notify('error', started)
        this.#failures += 1
        const backoff = Math.min(
          FIRST_BACKOFF_MS * 2 ** (this.#failures - 1),
          Math.max(FIRST_BACKOFF_MS, this.#options.cooldownMs),
        )
        this.#retryAt = Date.now() + backoff
        throw unavailable(backoff, error)
      },
    )
    this.#inflight = inflight
    const clear = () => {
      if (this.#inflight === inflight) this.#inflight = undefined
    }
    inflight.then(clear, clear)
    return inflight
  }

  #notify(outcome: 'ok' | 'error', started: number): void {
    for (const observer of this.#observers) observer(outcome, Date.now() - started)
  }

  async #fetch(): Promise<Snapshot> {
    const document = await callUpstream(
      {
        upstream: 'jwks',
        timeoutMs: this.#options.timeoutMs,
        maxBytes: MAX_JWKS_BYTES,
        signal: this.#abort.signal,
      },
      (init) => fetch(this.#uri, { ...init, headers: { accept: 'application/json' } }),
      (response) => {
        if (!response.ok) throw statusError('jwks', response.status)
        return response.json()
      },
    )
    const keys = parseKeySet(document)
    return {
      resolve: createLocalJWKSet({ keys }),
      kids: new Set(keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : []))),
      fetchedAt: Date.now(),
      selected: new Map(),
    }
  }
}

/** jose's selection from one copy, remembered for {@link RemoteKeySet.selectedKey}. */
async function select(snapshot: Snapshot, header: JWSHeaderParameters): ReturnType<KeyResolver> {
  const key = await snapshot.resolve(header)
  if (typeof header.alg === 'string' && snapshot.selected.size < MAX_SELECTED_KEYS) {
    snapshot.selected.set(selectionKey(header), key)
  }
  return key
}

/**
 * The usable keys of a JWKS document: public asymmetric keys only. A symmetric (`oct`) key or a
 * key carrying private parts is dropped, so a misconfigured key set can never enable HS*.
 */
function parseKeySet(document: unknown): JWK[] {
  const keys = (document as Partial<JSONWebKeySet> | null)?.keys
  if (!Array.isArray(keys)) throw new Error('Key set has no keys array')
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      typeof key.kty === 'string' &&
      key.kty !== 'oct' &&
      key.d === undefined &&
      (key.use === undefined || key.use === 'sig'),
  )
  if (usable.length === 0) throw new Error('Key set has no usable signing keys')
  return usable
}

function unavailable(retryAfterMs: number, cause: unknown): AuthError {
  return new AuthError('jwks_unavailable', undefined, {
    cause,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  })
}
