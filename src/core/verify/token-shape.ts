import { AuthError } from '../errors.js'

// Three non-empty base64url segments, nothing else: no padding, no whitespace, no fourth or fifth
// segment (JWE), no empty signature (alg none).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

const BASE64URL_VALUES = new Int8Array(128).fill(-1)
for (const [index, char] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
].entries()) {
  BASE64URL_VALUES[char.charCodeAt(0)] = index
}

/**
 * Whether `segment` (already known to hold only base64url characters) is the canonical encoding
 * of its bytes: its length is possible, and the bits its last character carries past the final
 * byte are zero. A segment with stray trailing bits decodes like the canonical one but does not
 * re-encode to itself, so it is a second spelling of the same signature; reject it.
 */
export function isCanonicalBase64url(segment: string, start = 0, end = segment.length): boolean {
  const remainder = (end - start) % 4
  if (remainder === 0) return end > start
  if (remainder === 1) return false
  const last = BASE64URL_VALUES[segment.charCodeAt(end - 1)] ?? -1
  // Two trailing characters encode one byte (4 spare bits), three encode two (2 spare bits).
  const spare = remainder === 2 ? 0b1111 : 0b11
  return last >= 0 && (last & spare) === 0
}

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
