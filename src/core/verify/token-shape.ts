import { AuthError } from '../errors.js'
import { COMPACT_JWS, hasCanonicalSegments } from '../lib/base64url.js'

/**
 * Rejects anything that is not a plausible compact JWS before any of it is decoded: a value that
 * is not a string, longer than `maxLength`, not exactly three base64url segments, or whose
 * segments are not canonically encoded. Throws `token_invalid`.
 */
export function assertCompactJws(token: unknown, maxLength: number): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new AuthError('token_invalid', 'The access token is not a string')
  }
  if (token.length > maxLength) {
    throw new AuthError('token_invalid', 'The access token is too long')
  }
  if (!COMPACT_JWS.test(token)) {
    throw new AuthError(
      'token_invalid',
      token.includes('.')
        ? 'The access token is not a well-formed JWT (three base64url segments)'
        : 'The access token is not a JWT. An opaque token like this one usually means the ' +
            'authorize request named no audience: request the token with your API as audience',
    )
  }
  if (!hasCanonicalSegments(token)) {
    throw new AuthError(
      'token_invalid',
      'The access token is not a well-formed JWT (a segment is not canonical base64url)',
    )
  }
}
