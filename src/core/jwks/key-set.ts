import { createLocalJWKSet, type JWSHeaderParameters } from 'jose'
import { AuthError } from '../errors.js'
import { Flights, handOff, type WaitUntil } from '../lib/flights.js'
import { isJoseError } from '../token-check-error.js'
import { statusError } from '../upstream/client.js'
import { upstreamRequest } from '../upstream/request.js'
import type { ResolvedJwks } from './config.js'
import type { IssuerMetadata } from './issuer-metadata.js'
import { parseKeySet } from './safe-keys.js'

// A key set larger than this is not a key set.
export const MAX_JWKS_BYTES = 1_048_576
const FIRST_BACKOFF_MS = 1_000
// Bounds the remembered selections per copy: (alg, kid) pairs are few in a real key set, and
// headers naming no kid or an unknown one never reach here without a key.
const MAX_SELECTED_KEYS = 64

type KeyResolver = ReturnType<typeof createLocalJWKSet>

/**
 * Told the outcome and duration (ms) of each key set fetch, and the URL it was for: the key set's,
 * or the issuer's metadata while that did not name one.
 */
export type FetchObserver = (outcome: 'ok' | 'error', durationMs: number, url: string) => void

/** Where a key set is: its URL, or the issuer whose metadata names it. */
export type KeySetLocation = string | IssuerMetadata

interface Snapshot {
  readonly resolve: KeyResolver
  readonly kids: ReadonlySet<string>
  readonly fetchedAt: number
  /** Keys jose already selected and imported from this copy, by `alg` and `kid`. */
  readonly selected: Map<string, unknown>
}

/**
 * What jose's key selection depends on, as a map key: `alg`, and `kid` when the header has one.
 * An absent `kid` and `kid: ""` select differently, and a `kid` that is not a string selects no key
 * at all (`undefined`: nothing is remembered or looked up for it, so jose decides every time).
 */
function selectionKey(header: JWSHeaderParameters): string | undefined {
  const { alg, kid } = header as { alg?: unknown; kid?: unknown }
  if (typeof alg !== 'string') return undefined
  if (kid === undefined) return alg
  return typeof kid === 'string' ? `${alg}\u0000${kid}` : undefined
}

// The selection keys of the headers the fast path asks about. A tenant's tokens share a few
// header objects (the decoder keeps each distinct header's parse, frozen), so the key string is
// made once per header rather than once per token, and its hash is computed once with it.
const selectionKeys = new WeakMap<object, string | undefined>()

/** {@link selectionKey}, kept for a header object that cannot change. */
function keptSelectionKey(header: JWSHeaderParameters): string | undefined {
  if (!Object.isFrozen(header)) return selectionKey(header)
  let selection = selectionKeys.get(header)
  if (selection === undefined && !selectionKeys.has(header)) {
    selection = selectionKey(header)
    selectionKeys.set(header, selection)
  }
  return selection
}

/**
 * A remote JSON Web Key Set with the policy jose's `createRemoteJWKSet` lacks:
 *
 * - the last good key set is served for `staleIfErrorMs` past its `maxAgeMs` while refreshes
 *   fail, and refreshed in the background meanwhile;
 * - a failed fetch starts an exponential backoff (1 s doubling up to `cooldownMs`) during which
 *   requests that need keys fail fast with `jwks_unavailable` instead of queueing on the network;
 * - a `kid` missing from the kept copy triggers at most one fetch per `cooldownMs`, however many
 *   tokens with unknown kids arrive, and concurrent callers share one fetch.
 *
 * Key selection and import stay with jose (`createLocalJWKSet`).
 */
export class RemoteKeySet {
  readonly #location: KeySetLocation
  /** The URL the last fetch went to (or would have). */
  #uri: string
  readonly #options: ResolvedJwks
  readonly #abort = new AbortController()
  #snapshot: Snapshot | undefined
  // One fetch at a time: the key is always the same.
  readonly #fetches = new Flights<0, Snapshot>()
  #lastFetchAt = Number.NEGATIVE_INFINITY
  #failures = 0
  #retryAt = 0
  readonly #observers = new Set<FetchObserver>()

  constructor(location: KeySetLocation, options: ResolvedJwks) {
    this.#location = location
    this.#uri = typeof location === 'string' ? location : location.metadataUrl
    this.#options = options
  }

  /** The jose key resolver for `jwtVerify`. */
  readonly getKey = (header: JWSHeaderParameters): ReturnType<KeyResolver> =>
    this.keyFor(header, undefined)

  /**
   * {@link getKey}, handing a refresh that starts in the background (the kept copy is past its
   * max age but may still be served) to `waitUntil` when there is one.
   */
  async keyFor(
    header: JWSHeaderParameters,
    waitUntil: WaitUntil | undefined,
  ): ReturnType<KeyResolver> {
    const snapshot = this.#snapshot
    if (snapshot === undefined) return select(await this.#refresh(), header)

    const now = Date.now()
    const known = header.kid === undefined || snapshot.kids.has(header.kid)
    if (known) {
      if (this.#usable(snapshot, now, waitUntil)) return select(snapshot, header)
      return select(await this.#refresh(), header)
    }
    if (!this.#fetches.has(0, now) && now - this.#lastFetchAt < this.#options.cooldownMs) {
      throw new AuthError('token_invalid', 'The token was signed with an unknown key')
    }
    return select(await this.#refresh(), header)
  }

  /**
   * The key {@link getKey} would return for this header, without waiting: only a key jose has
   * already selected and imported from the current copy, while that copy may still be served
   * (the same freshness rules, background refresh included). `undefined`: ask {@link getKey}.
   */
  selectedKey(header: JWSHeaderParameters, waitUntil?: WaitUntil): unknown {
    const snapshot = this.#snapshot
    const selection = keptSelectionKey(header)
    if (snapshot === undefined || selection === undefined) return undefined
    const key = snapshot.selected.get(selection)
    return key !== undefined && this.#usable(snapshot, Date.now(), waitUntil) ? key : undefined
  }

  /** Whether a copy may be served now; past its max age it also starts a background refresh. */
  #usable(snapshot: Snapshot, now: number, waitUntil: WaitUntil | undefined): boolean {
    const age = now - snapshot.fetchedAt
    if (age < this.#options.maxAgeMs) return true
    if (age < this.#options.maxAgeMs + this.#options.staleIfErrorMs) {
      this.#refreshInBackground(now, waitUntil)
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

  #refreshInBackground(now: number, waitUntil: WaitUntil | undefined): void {
    if (this.#fetches.has(0, now) || now < this.#retryAt) return
    // The failure is recorded by #refresh; a background caller has nobody to report it to.
    handOff(
      this.#refresh().catch(() => {}),
      waitUntil,
    )
  }

  /**
   * A fresh copy: the fetch going on (joined), or a new one. A fetch older than it may take (a
   * platform dropped it with the request that started it) is abandoned: its outcome, should it
   * ever come, changes nothing.
   */
  #refresh(): Promise<Snapshot> {
    const now = Date.now()
    const running = this.#fetches.join(0, () => this.#refresh(), now)
    if (running !== undefined) return running
    if (now < this.#retryAt) {
      return Promise.reject(unavailable(this.#retryAt - now, undefined))
    }
    const refresh: Promise<Snapshot> = this.#fetches.start(
      0,
      () =>
        this.#fetch().then(
          (snapshot) => {
            if (!this.#fetches.isCurrent(0, refresh)) return snapshot
            this.#notify('ok', now)
            this.#snapshot = snapshot
            this.#lastFetchAt = snapshot.fetchedAt
            this.#failures = 0
            this.#retryAt = 0
            return snapshot
          },
          (error: unknown) => {
            if (!this.#fetches.isCurrent(0, refresh)) throw unavailable(FIRST_BACKOFF_MS, error)
            this.#notify('error', now)
            this.#failures += 1
            const backoff = Math.min(
              FIRST_BACKOFF_MS * 2 ** (this.#failures - 1),
              Math.max(FIRST_BACKOFF_MS, this.#options.cooldownMs),
            )
            this.#retryAt = Date.now() + backoff
            throw unavailable(backoff, error)
          },
        ),
      // Each read within the timeout: the key set, after the issuer's metadata when the key set's
      // URL comes from it (at most two reads: OpenID's well-known name, then RFC 8414's).
      this.#options.timeoutMs * (typeof this.#location === 'string' ? 1 : 3),
    )
    return refresh
  }

  #notify(outcome: 'ok' | 'error', started: number): void {
    for (const observer of this.#observers) observer(outcome, Date.now() - started, this.#uri)
  }

  async #fetch(): Promise<Snapshot> {
    if (typeof this.#location !== 'string') {
      // Reported as the metadata's URL when the document names no key set this time.
      this.#uri = this.#location.metadataUrl
      this.#uri = await this.#location.jwksUri(this.#abort.signal)
    }
    const document = await upstreamRequest(
      {
        upstream: 'jwks',
        timeoutMs: this.#options.timeoutMs,
        maxBytes: MAX_JWKS_BYTES,
        signal: this.#abort.signal,
      },
      // No retry here: a failed fetch starts this key set's own backoff.
      { url: this.#uri, retries: 0 },
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

/**
 * jose's selection from one copy, remembered for {@link RemoteKeySet.selectedKey}. A key jose
 * selects but cannot import (WebCrypto refuses its parameters) is the token's problem, not the
 * service's: `token_invalid`. jose's own errors (no key, several keys) pass through.
 */
async function select(snapshot: Snapshot, header: JWSHeaderParameters): ReturnType<KeyResolver> {
  let key: Awaited<ReturnType<KeyResolver>>
  try {
    key = await snapshot.resolve(header)
  } catch (error) {
    if (isJoseError(error)) throw error
    throw new AuthError('token_invalid', 'The token was signed with a key that cannot be used', {
      cause: error,
    })
  }
  const selection = selectionKey(header)
  if (selection !== undefined && snapshot.selected.size < MAX_SELECTED_KEYS) {
    snapshot.selected.set(selection, key)
  }
  return key
}

function unavailable(retryAfterMs: number, cause: unknown): AuthError {
  return new AuthError('jwks_unavailable', undefined, {
    cause,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  })
}
