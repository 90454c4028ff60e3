// Everything outside both base64 alphabets, which lenient decoders skip.
const NOT_BASE64 = /[^A-Za-z0-9+/_-]+/g
// More segments than any token a legacy verifier would read: such a token is refused outright.
const MAX_SEGMENTS = 16
// How many times a decoded text is decoded again (a token inside a claim, or encoded twice).
const MAX_DEPTH = 2
const UNICODE_ESCAPE = /\\u([0-9a-fA-F]{4})/g
const PERCENT_ESCAPE = /%([0-9a-fA-F]{2})/g

// Bytes that no text holds: a segment decoding to them is binary (or misaligned), not a token.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const BINARY = /[\u0000-\u0008\u000e-\u001f]/

/**
 * Whether a token that the strict checks did not accept as a configured issuer's JWT still names
 * one of `issuers`, read as leniently as any JWT library might read it: percent-decoded or not,
 * every dot-separated segment decoded as base64 or base64url at each of the four alignments
 * (stray characters, padding and whitespace skipped), JSON escapes undone, and what decodes
 * searched again, twice over (a token inside a claim, a token encoded twice). It answers yes when
 * an issuer's host (with its port) appears anywhere, in any case, or when the token has more than
 * sixteen segments. Such a token goes to no legacy hook, whose lenient decoder might otherwise take
 * it for the issuer's. Every pass is linear in the token's length. The issuers' pattern is built
 * once, here; the returned check runs per token.
 */
export function issuerSniffer(issuers: readonly string[]): (token: string) => boolean {
  // No issuer is configured in advance (a tenant resolver): none can be named. An empty pattern
  // would match every token.
  if (issuers.length === 0) return () => false
  const hosts = new RegExp(issuers.map((issuer) => escapeRegExp(hostOf(issuer))).join('|'), 'i')
  const mentions = (text: string) =>
    hosts.test(text) ||
    (text.includes('\\') && hosts.test(unescapeJson(text))) ||
    (text.includes('%') && hosts.test(percentDecode(text)))
  const search = (text: string, depth: number): boolean => {
    if (mentions(text)) return true
    const segments = text.split('.')
    if (depth === 0 && segments.length > MAX_SEGMENTS) return true
    if (depth >= MAX_DEPTH) return false
    for (const segment of segments.slice(0, MAX_SEGMENTS)) {
      for (let shift = 0; shift < 4; shift++) {
        // Each byte as one character: what is searched for is ASCII, and so is whatever a lenient
        // decoder could read as base64 or as a JSON escape.
        const text = decodeLeniently(segment, shift)
        // Bytes that are not text (a misaligned or binary segment) are searched but hide no
        // encoded token to open; text is searched, escapes undone, and opened once more.
        if (BINARY.test(text) ? mentions(text) : search(unescapeJson(text), depth + 1)) return true
      }
    }
    return false
  }
  return (token) => search(token, 0) || (token.includes('%') && search(percentDecode(token), 0))
}

/** `https://Tenant.eu.auth0.com/` → `tenant.eu.auth0.com`; with its port when it has one. */
function hostOf(issuer: string): string {
  try {
    return new URL(issuer).host.toLowerCase()
  } catch {
    return issuer.replace(/\/+$/, '').toLowerCase()
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Undoes the JSON escapes that could hide an issuer's host: `\/` and `\uXXXX`. */
function unescapeJson(text: string): string {
  const slashes = text.replaceAll('\\/', '/')
  return slashes.includes('\\u')
    ? slashes.replace(UNICODE_ESCAPE, (_match, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      )
    : slashes
}

function percentDecode(text: string): string {
  return text.replace(PERCENT_ESCAPE, (_match, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  )
}

/**
 * base64 or base64url to bytes, one character per byte (a latin1 string), skipping every
 * character outside both alphabets and the first `shift` characters inside them (so a stray
 * leading character does not misalign the rest). `atob` does the decoding: it is native wherever
 * `fetch` runs.
 */
function decodeLeniently(segment: string, shift: number): string {
  const clean = segment.replace(NOT_BASE64, '').replace(/-/g, '+').replace(/_/g, '/')
  const usable = clean.length - shift - ((clean.length - shift) % 4)
  return usable > 0 ? atob(clean.slice(shift, shift + usable)) : ''
}
