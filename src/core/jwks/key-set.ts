import {
  base64url,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose'
import type { JwksConfig } from '../config/config.js'
import { AuthError } from '../errors.js'
import { isJoseError } from '../token-check-error.js'
import { callUpstream, statusError } from '../upstream/client.js'
import { isCanonicalBase64url } from '../verify/token-shape.js'

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
    const selection = selectionKey(header)
    if (snapshot === undefined || selection === undefined) return undefined
    const key = snapshot.selected.get(selection)
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

/**
 * The usable keys of a JWKS document: public signing keys that are safe to verify with. Dropped:
 * a symmetric (`oct`) key or one carrying private parts, so a misconfigured key set can never
 * enable HS*; an RSA key under 2048 bits or whose exponent is not an odd value of at least 65537
 * (with `e = 1` the signature is the padded digest itself, which anyone can compute); an EC key on
 * a curve other than P-256, P-384 or P-521, or whose coordinates are not of its curve's size; an
 * OKP key other than Ed25519; any other key type. A token naming a dropped key meets an unknown
 * key (`token_invalid`); a key set with no key left is no key set (`jwks_unavailable`).
 */
export function parseKeySet(document: unknown): JWK[] {
  const keys = (document as Partial<JSONWebKeySet> | null)?.keys
  if (!Array.isArray(keys)) throw new Error('Key set has no keys array')
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      key.d === undefined &&
      (key.use === undefined || key.use === 'sig') &&
      isSafePublicKey(key),
  )
  if (usable.length === 0) throw new Error('Key set has no usable signing keys')
  return usable
}

const RSA_MIN_BITS = 2048
// node:crypto and most WebCrypto implementations refuse larger moduli; verifying with one is slow.
const RSA_MAX_BITS = 16_384
// 65537 (0x010001), the smallest exponent FIPS 186-5 allows; its largest is below 2^256.
const RSA_MIN_EXPONENT = [0x01, 0x00, 0x01]
const RSA_MAX_EXPONENT_BYTES = 32
const EC_COORDINATE_BYTES: ReadonlyMap<unknown, number> = new Map([
  ['P-256', 32],
  ['P-384', 48],
  ['P-521', 66],
])
const ED25519_KEY_BYTES = 32

function isSafePublicKey(key: JWK): boolean {
  switch (key.kty) {
    case 'RSA': {
      const n = unsignedBytes(key.n)
      const e = unsignedBytes(key.e)
      if (n === undefined || e === undefined) return false
      const bits = bitLength(n)
      return (
        bits >= RSA_MIN_BITS &&
        bits <= RSA_MAX_BITS &&
        isOdd(n) &&
        isOdd(e) &&
        e.length <= RSA_MAX_EXPONENT_BYTES &&
        !isLess(e, RSA_MIN_EXPONENT)
      )
    }
    case 'EC': {
      const size = EC_COORDINATE_BYTES.get(key.crv)
      return size !== undefined && octets(key.x)?.length === size && octets(key.y)?.length === size
    }
    case 'OKP':
      return key.crv === 'Ed25519' && octets(key.x)?.length === ED25519_KEY_BYTES
    default:
      return false
  }
}

/** The bytes of a canonical base64url member, else `undefined`. */
function octets(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined
  if (!isCanonicalBase64url(value)) return undefined
  try {
    return base64url.decode(value)
  } catch {
    return undefined
  }
}

/** The big-endian unsigned integer of a base64url member, without leading zero bytes. */
function unsignedBytes(value: unknown): Uint8Array | undefined {
  const bytes = octets(value)
  if (bytes === undefined) return undefined
  const first = bytes.findIndex((byte) => byte !== 0)
  return first === -1 ? undefined : bytes.subarray(first)
}

function bitLength(value: Uint8Array): number {
  return (value.length - 1) * 8 + (32 - Math.clz32(value[0] as number))
}

function isOdd(value: Uint8Array): boolean {
  return ((value[value.length - 1] as number) & 1) === 1
}

/** Whether `a` < `b`, both big-endian without leading zero bytes. */
function isLess(a: Uint8Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return a.length < b.length
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number)
  }
  return false
}

function unavailable(retryAfterMs: number, cause: unknown): AuthError {
  return new AuthError('jwks_unavailable', undefined, {
    cause,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  })
}
