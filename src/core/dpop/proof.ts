import {
  base64url,
  type CryptoKey,
  calculateJwkThumbprint,
  compactVerify,
  importJWK,
  type JWK,
} from 'jose'
import { LRUCache } from 'lru-cache'
import { AuthError } from '../errors.js'
import { COMPACT_JWS, hasCanonicalSegments } from '../lib/base64url.js'

/** What a proof is checked against: the request it came with. */
export interface ProofExpectation {
  /** The request method, as sent. */
  readonly method: string
  /** The request URL without query and fragment, normalised (see {@link normalisedHtu}). */
  readonly htu: string
  /** `base64url(SHA-256(access token))`. */
  readonly ath: string
  /** Now, in seconds since the epoch. */
  readonly nowSeconds: number
  /**
   * The thumbprint the access token is bound to (`cnf.jkt`): a proof by any other key is refused
   * before its key is imported or its signature checked.
   */
  readonly jkt: string
}

/** What a proof that passed every check says. */
export interface CheckedProof {
  /** The RFC 7638 SHA-256 thumbprint of the proof's key. */
  readonly thumbprint: string
  readonly jti: string
  /** The `nonce` claim, when the proof carries one as a string. */
  readonly nonce: string | undefined
}

/** How proofs are checked: the policy of one instance. */
export interface ProofPolicy {
  readonly algorithms: readonly string[]
  readonly maxLength: number
  readonly iatWindowSeconds: number
  readonly iatAheadSeconds: number
}

// The members of each key type a thumbprint covers (RFC 7638 §3.2): all a verifier needs.
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
}
// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const MAX_JTI_LENGTH = 256
const KEY_CACHE_SIZE = 1_000

/**
 * Checks DPoP proofs (RFC 9449 §4.3): the shape before anything is decoded, then the header, the
 * signature by the embedded public key, and the claims. Keys are imported once per thumbprint and
 * algorithm. Every defect is `invalid_dpop_proof`, with a description that quotes nothing of the
 * proof.
 */
export class ProofChecker {
  readonly #policy: ProofPolicy
  readonly #keys = new LRUCache<string, CryptoKey>({ max: KEY_CACHE_SIZE })

  constructor(policy: ProofPolicy) {
    this.#policy = policy
  }

  async check(proof: string, expected: ProofExpectation): Promise<CheckedProof> {
    const { alg, jwk } = this.#header(proof)
    const publicJwk = publicMembers(jwk)
    let thumbprint: string
    try {
      thumbprint = await calculateJwkThumbprint(publicJwk as JWK, 'sha256')
    } catch {
      throw invalid('its jwk is not a valid public key')
    }
    // Before any work on the key: a proof by another key costs no import and no signature check.
    if (thumbprint !== expected.jkt) {
      throw invalid('its key is not the key the access token is bound to')
    }
    let payloadBytes: Uint8Array
    try {
      const key = await this.#key(alg, thumbprint, publicJwk)
      payloadBytes = (await compactVerify(proof, key, { algorithms: [alg] })).payload
    } catch {
      // No cause: jose's messages may name what the proof's header holds.
      throw invalid('its signature does not verify with its key')
    }
    const claims = parseObject(payloadBytes)
    return this.#claims(claims, thumbprint, expected)
  }

  /** The shape, then the header: `typ`, an allowed `alg`, a public `jwk`. */
  #header(proof: string): { alg: string; jwk: Record<string, unknown> } {
    if (proof.length > this.#policy.maxLength) throw invalid('it is too long')
    if (!COMPACT_JWS.test(proof)) throw invalid('it is not a compact JWT')
    if (!hasCanonicalSegments(proof)) throw invalid('a segment is not canonical base64url')
    let header: Record<string, unknown>
    try {
      header = parseObject(base64url.decode(proof.slice(0, proof.indexOf('.'))))
    } catch {
      throw invalid('its header is not a JSON object')
    }
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
      throw invalid('its typ is not dpop+jwt')
    }
    const { alg, jwk } = header
    if (typeof alg !== 'string' || !this.#policy.algorithms.includes(alg)) {
      throw invalid('its alg is not one this server accepts')
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      throw invalid('its header has no jwk')
    }
    const members = jwk as Record<string, unknown>
    if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(members, name))) {
      throw invalid('its jwk is not a public key')
    }
    if (typeof members.kty !== 'string' || PUBLIC_MEMBERS[members.kty] === undefined) {
      throw invalid('its jwk is not an EC, OKP or RSA public key')
    }
    // A proof needs no extension (b64, or anything else critical).
    if (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64')) {
      throw invalid('its header has parameters a proof does not use (crit, b64)')
    }
    return { alg, jwk: members }
  }

  async #key(alg: string, thumbprint: string, jwk: Record<string, unknown>): Promise<CryptoKey> {
    const id = `${alg} ${thumbprint}`
    let key = this.#keys.get(id)
    if (key === undefined) {
      const imported = await importJWK(jwk as JWK, alg)
      if (imported instanceof Uint8Array || imported.type !== 'public') {
        throw new TypeError('not a public key')
      }
      key = imported
      this.#keys.set(id, key)
    }
    return key
  }

  #claims(
    claims: Record<string, unknown>,
    thumbprint: string,
    expected: ProofExpectation,
  ): CheckedProof {
    const { jti, htm, htu, iat, ath, nonce } = claims
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
      throw invalid(`its jti is not a string of 1 to ${MAX_JTI_LENGTH} characters`)
    }
    if (htm !== expected.method) throw invalid('its htm is not the request method')
    if (typeof htu !== 'string' || normalisedHtu(htu) !== expected.htu) {
      throw invalid('its htu is not the request URL')
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('its iat is not a number')
    if (expected.nowSeconds - iat > this.#policy.iatWindowSeconds) throw invalid('it is too old')
    if (iat - expected.nowSeconds > this.#policy.iatAheadSeconds) {
      throw invalid('its iat is in the future')
    }
    if (ath !== expected.ath) throw invalid('its ath is not the hash of the access token')
    return { thumbprint, jti, nonce: typeof nonce === 'string' ? nonce : undefined }
  }
}

/**
 * A URL as `htu` compares (RFC 9449 §4.3 step 9): scheme, host and port normalised as URLs
 * normalise them (case, default port, dot segments), the path kept, query and fragment dropped;
 * `undefined` for anything that is not an absolute `http:` or `https:` URL.
 */
export function normalisedHtu(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  return `${url.protocol}//${url.host}${url.pathname}`
}

/** `base64url(SHA-256(token))`: the `ath` a proof for this access token carries. */
export async function accessTokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return base64url.encode(new Uint8Array(digest))
}

/** The members of a JWK a verifier uses, nothing the client added (`key_ops`, `ext`, `use`). */
function publicMembers(jwk: Record<string, unknown>): Record<string, unknown> {
  const members: Record<string, unknown> = {}
  for (const name of PUBLIC_MEMBERS[jwk.kty as string] as readonly string[]) {
    members[name] = jwk[name]
  }
  return members
}

function parseObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw invalid('it is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('it is not a JSON object')
  }
  return value as Record<string, unknown>
}

function invalid(why: string): AuthError {
  return new AuthError('invalid_dpop_proof', `The DPoP proof is invalid: ${why}`)
}
