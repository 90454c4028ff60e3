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
 * Three non-empty base64url segments, nothing else: no padding, no whitespace, no fourth or fifth
 * segment (JWE), no empty signature (alg none).
 */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Whether each of the three segments of `jws` (already matching `COMPACT_JWS`) is canonical. */
export function hasCanonicalSegments(jws: string): boolean {
  const firstDot = jws.indexOf('.')
  const secondDot = jws.indexOf('.', firstDot + 1)
  return (
    isCanonicalBase64url(jws, 0, firstDot) &&
    isCanonicalBase64url(jws, firstDot + 1, secondDot) &&
    isCanonicalBase64url(jws, secondDot + 1, jws.length)
  )
}
