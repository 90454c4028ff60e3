import { AuthError, isAuthError } from '../errors.js'
import { isJoseError, TokenCheckError } from '../token-check-error.js'

const JOSE_MESSAGES: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'The token signature is invalid',
  ERR_JOSE_ALG_NOT_ALLOWED: 'The token signature algorithm is not accepted',
  ERR_JWKS_NO_MATCHING_KEY: 'The token was signed with an unknown key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'The token does not name its signing key',
  ERR_JOSE_NOT_SUPPORTED: 'The token uses an unsupported feature',
}

/**
 * Maps a failure of `jwtVerify` to an {@link AuthError} whose message carries no token content.
 * jose's own error is not kept: its enumerable `payload` holds the token's claims (email, sub), and
 * whatever logs the cause would print them. A {@link TokenCheckError} with jose's code, the claim
 * and the reason takes its place.
 */
export function toAuthError(error: unknown): AuthError {
  if (isAuthError(error)) return error
  if (!isJoseError(error)) return new AuthError('internal_error', undefined, { cause: error })
  return refusalFor(TokenCheckError.from(error))
}

/**
 * The {@link AuthError} for a check that failed, told by jose's error code: an expiry is
 * `token_expired`, anything else `token_invalid`, each with a message that names at most the claim.
 */
export function refusalFor(cause: TokenCheckError): AuthError {
  const { code } = cause
  if (code === 'ERR_JWT_EXPIRED') return new AuthError('token_expired', undefined, { cause })
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    return new AuthError('token_invalid', `The token's "${cause.claim}" claim is invalid`, {
      cause,
    })
  }
  const message = JOSE_MESSAGES[code] ?? 'The access token is malformed'
  return new AuthError('token_invalid', message, { cause })
}
