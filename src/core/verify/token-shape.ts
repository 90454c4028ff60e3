import { AuthError } from '../errors.js'
import { isCanonicalBase64url } from '../lib/base64url.js'

// Three non-empty base64url segments, nothing else: no padding, no whitespace, no fourth or fifth
// segment (JWE), no empty signature (alg none).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

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
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  if (
    !isCanonicalBase64url(token, 0, firstDot) ||
    !isCanonicalBase64url(token, firstDot + 1, secondDot) ||
    !isCanonicalBase64url(token, secondDot + 1, token.length)
  ) {
    throw new AuthError(
      'token_invalid',
      'The access token is not a well-formed JWT (a segment is not canonical base64url)',
    )
  }
}
