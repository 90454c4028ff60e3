// The checks canonical-auth makes beyond jose's: on the header before any key is looked up, and on
// the claims' types after the signature and jose's claim checks passed.
import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { AuthError } from '../errors.js'
import type { TenantVerification } from './config.js'

// Header parameters that would let a token choose its own verification key. The key set comes from
// configuration only, so a token carrying any of them is refused outright.
export const KEY_CHOOSING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'] as const

/** The header names an accepted algorithm and no key of its own choosing. */
export function assertHeader(header: ProtectedHeaderParameters, tenant: TenantVerification): void {
  if (
    typeof header.alg !== 'string' ||
    !(tenant.algorithms as readonly string[]).includes(header.alg)
  ) {
    throw new AuthError('token_invalid', 'The token signature algorithm is not accepted')
  }
  for (const name of KEY_CHOOSING_HEADERS) {
    if (name in header) {
      throw new AuthError('token_invalid', `The token header must not carry "${name}"`)
    }
  }
}

// The last second a Date can hold and a NumericDate can sensibly name: 9999-12-31T23:59:59Z.
const LATEST_NUMERIC_DATE = 253_402_300_799
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

// jose accepts an `exp` of 1e400 (Infinity after JSON.parse) or 1e300 (an Invalid Date), and a
// non-string `sub`.
export function assertClaimTypes(payload: JWTPayload): void {
  for (const name of ['exp', 'iat', 'nbf'] as const) {
    const value = payload[name]
    if (value !== undefined && !(value >= 0 && value <= LATEST_NUMERIC_DATE)) {
      throw new AuthError('token_invalid', `The token's "${name}" claim is not a valid date`)
    }
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
    throw new AuthError('token_invalid', `The token's "sub" claim is not a non-empty string`)
  }
  if (CONTROL.test(payload.sub)) {
    throw new AuthError('token_invalid', `The token's "sub" claim contains control characters`)
  }
}
