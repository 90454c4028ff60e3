import { type CryptoKey, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose'
import { AuthError } from '../errors.js'

// A token whose header matches several keys (two keys under one kid, or no kid and several keys
// for its algorithm) is tried against at most this many of them: a real key set holds a few keys,
// and a flood of such tokens must not cost a signature check per key of a large set.
const MAX_CANDIDATES = 8

type Candidates = AsyncIterable<unknown>

/**
 * Whether `error` is jose's "several keys match this header" (`ERR_JWKS_MULTIPLE_MATCHING_KEYS`)
 * carrying the matching keys to try, as `createLocalJWKSet` throws it.
 */
export function hasCandidates(error: unknown): error is Candidates {
  return (
    (error as { code?: unknown } | null)?.code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS' &&
    typeof (error as Partial<Candidates>)[Symbol.asyncIterator] === 'function'
  )
}

/**
 * Verifies a token against each key that matches its header, in key set order, the way jose's
 * documentation does it: the first key under which the signature verifies decides, claims
 * included; a signature that verifies under none is invalid. Safe because every candidate is a key
 * of the configured key set. Rejects with jose's errors or {@link AuthError} `token_invalid`.
 */
export async function verifyWithCandidates(
  token: string,
  candidates: Candidates,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  let tried = 0
  for await (const key of candidates) {
    if (++tried > MAX_CANDIDATES) break
    try {
      return (await jwtVerify(token, key as CryptoKey, options)).payload
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
        throw error
      }
    }
  }
  throw new AuthError('token_invalid', 'The token signature is invalid')
}
