const DECODE = new Int8Array(128).fill(-1)
for (const [index, char] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
].entries()) {
  DECODE[char.charCodeAt(0)] = index
}
// The base64url alphabet decodes like the standard one.
DECODE['-'.charCodeAt(0)] = 62
DECODE['_'.charCodeAt(0)] = 63

// A JSON string literal, escapes included.
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g
const MAX_SEGMENTS = 16

const decoder = new TextDecoder()

/**
 * Whether a token that the strict checks did not accept as a configured issuer's JWT still claims
 * one of `issuers`, read as leniently as any JWT library might read it: every dot-separated
 * segment decoded as base64 or base64url, padding, whitespace and stray characters ignored, then
 * searched for the issuer as text and as any JSON string value (escaped, duplicated keys, nested
 * or malformed JSON included). Such a token goes to no legacy hook, whose lenient decoder might
 * otherwise take it for the issuer's. Issuers are compared without their trailing slash and case.
 */
export function claimsIssuer(token: string, issuers: readonly string[]): boolean {
  const wanted = issuers.map((issuer) => issuer.replace(/\/+$/, '').toLowerCase())
  const mentions = (text: string) => {
    const lower = text.toLowerCase()
    return wanted.some((issuer) => lower.includes(issuer))
  }
  if (mentions(token)) return true
  for (const segment of token.split('.', MAX_SEGMENTS)) {
    const text = decoder.decode(decodeLeniently(segment))
    if (mentions(text)) return true
    for (const literal of text.match(JSON_STRING) ?? []) {
      let value: unknown
      try {
        value = JSON.parse(literal)
      } catch {
        continue
      }
      if (typeof value === 'string' && mentions(value)) return true
    }
  }
  return false
}

/** base64 or base64url to bytes, skipping every character outside both alphabets. */
function decodeLeniently(segment: string): Uint8Array {
  const bytes = new Uint8Array(Math.ceil((segment.length * 3) / 4))
  let length = 0
  let buffer = 0
  let bits = 0
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i)
    const value = code < 128 ? (DECODE[code] as number) : -1
    if (value < 0) continue
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[length++] = (buffer >> bits) & 0xff
    }
  }
  return bytes.subarray(0, length)
}
