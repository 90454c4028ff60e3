import { AuthError } from '../errors.js'

/** Request headers as frameworks hand them over: a fetch `Headers`, or a plain object. */
export type HeadersInput =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>

/** Where tokens are read from. */
export interface TokenSources {
  /** Read `Authorization: Bearer <token>`. */
  readonly bearer: boolean
  /** Other headers that carry a bare token (lower-case names), e.g. `x-user-token`. */
  readonly headers: readonly string[]
  /** Read `Authorization: DPoP <token>` (RFC 9449 §7.1). */
  readonly dpop?: boolean
}

/** A request's access token, and whether it came with the DPoP scheme. */
export interface Credentials {
  readonly token: string
  readonly dpop: boolean
}

// RFC 6750 §2.1: "Bearer" 1*SP b64token, the scheme case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
// RFC 9449 §7.1: "DPoP" 1*SP token68, the scheme case-insensitive.
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i
const SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: |$)/

/** A header's value as the headers hold it, unchecked. */
function lookup(headers: HeadersInput, name: string): unknown {
  if (
    typeof (headers as Headers).get === 'function' &&
    typeof (headers as Headers).has === 'function'
  ) {
    return (headers as Headers).get(name) ?? undefined
  }
  const record = headers as Readonly<Record<string, unknown>>
  const value = record[name]
  if (value !== undefined) return value
  // Node frameworks lower-case header names; a hand-built record may not.
  for (const key in record) {
    if (key.length === name.length && key.toLowerCase() === name) return record[key]
  }
  return undefined
}

function read(headers: HeadersInput, name: string): string | undefined {
  let value = lookup(headers, name)
  if (Array.isArray(value)) {
    if (value.length > 1) throw new AuthError('invalid_request', `The ${name} header is repeated`)
    value = value[0]
  }
  if (value === undefined || value === null) return undefined
  // Node frameworks hand over strings; anything else came from code that built the headers wrongly.
  if (typeof value !== 'string')
    throw new AuthError('invalid_request', `The ${name} header is malformed`)
  return value
}

/**
 * The token of a request in the plain case, without checking its syntax: `Bearer <token>` (no
 * other white space) or a bare token header, or both carrying the same token, each a single
 * string. `undefined` for anything else, which {@link extractToken} then reads in full; it never
 * throws. Only a canonical compact JWS may be taken from here as it is (one the verification
 * cache holds, or one that passed the token's shape check): {@link extractToken} finds exactly
 * that token in the same headers.
 */
export function plainToken(headers: HeadersInput, sources: TokenSources): string | undefined {
  let token: string | undefined
  if (sources.bearer || sources.dpop === true) {
    const authorization = lookup(headers, 'authorization')
    if (authorization !== undefined) {
      if (typeof authorization !== 'string' || !sources.bearer || !isBearer(authorization)) {
        return undefined
      }
      token = authorization.slice(7)
      if (!isTight(token)) return undefined
    }
  }
  for (const name of sources.headers) {
    const value = lookup(headers, name)
    if (value === undefined) continue
    if (typeof value !== 'string') return undefined
    if (token === undefined) {
      if (!isTight(value)) return undefined
      token = value
    } else if (value !== token) return undefined
  }
  return token
}

/** `Bearer ` in any case, then something. */
function isBearer(value: string): boolean {
  return (
    value.length > 7 &&
    value.charCodeAt(6) === 32 &&
    (value.charCodeAt(0) | 0x20) === 98 && // b
    (value.charCodeAt(1) | 0x20) === 101 && // e
    (value.charCodeAt(2) | 0x20) === 97 && // a
    (value.charCodeAt(3) | 0x20) === 114 && // r
    (value.charCodeAt(4) | 0x20) === 101 && // e
    (value.charCodeAt(5) | 0x20) === 114 // r
  )
}

/** Non-empty, with no white space or control character at either end. */
function isTight(value: string): boolean {
  return value.length > 0 && value.charCodeAt(0) > 32 && value.charCodeAt(value.length - 1) > 32
}

/**
 * Finds the access token in the request headers. `Authorization` with another scheme (Basic) is
 * not a bearer token and is ignored. Throws `invalid_request` for a malformed Bearer header or two
 * different tokens, `token_missing` when there is none.
 */
export function extractToken(headers: HeadersInput, sources: TokenSources): string {
  return extractCredentials(headers, sources).token
}

/**
 * {@link extractToken}, and whether the token came with the `DPoP` scheme (read only when
 * `sources.dpop`; otherwise that scheme is ignored like any other).
 */
export function extractCredentials(headers: HeadersInput, sources: TokenSources): Credentials {
  const found: string[] = []
  let dpop = false
  if (sources.bearer || sources.dpop === true) {
    const authorization = read(headers, 'authorization')
    if (authorization !== undefined && authorization.trim() !== '') {
      const scheme = SCHEME.exec(authorization.trim())?.[1]?.toLowerCase()
      if (scheme === undefined)
        throw new AuthError('invalid_request', 'The Authorization header is malformed')
      if (scheme === 'bearer' && sources.bearer) {
        const match = BEARER.exec(authorization.trim())
        if (match === null)
          throw new AuthError('invalid_request', 'The Bearer credentials are malformed')
        found.push(match[1] as string)
      } else if (scheme === 'dpop' && sources.dpop === true) {
        const match = DPOP.exec(authorization.trim())
        if (match === null)
          throw new AuthError('invalid_request', 'The DPoP credentials are malformed')
        found.push(match[1] as string)
        dpop = true
      }
    }
  }
  for (const name of sources.headers) {
    const value = read(headers, name)?.trim()
    if (value === undefined || value === '') continue
    if (/\s/.test(value)) throw new AuthError('invalid_request', `The ${name} header is malformed`)
    found.push(value)
  }
  if (found.length === 0) throw new AuthError('token_missing')
  const [token, ...others] = found as [string, ...string[]]
  if (others.some((other) => other !== token)) {
    throw new AuthError('invalid_request', 'The request carries two different tokens')
  }
  return { token, dpop }
}

/**
 * The request's DPoP proof (RFC 9449 §4.1): the one `DPoP` header. Throws `invalid_request` for
 * two of them (joined with a comma, as HTTP joins repeated fields, or given as a list), and
 * `invalid_dpop_proof` when there is none.
 */
export function extractProof(headers: HeadersInput): string {
  let value = lookup(headers, 'dpop')
  if (Array.isArray(value)) {
    if (value.length > 1) throw new AuthError('invalid_request', 'The DPoP header is repeated')
    value = value[0]
  }
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    throw new AuthError('invalid_dpop_proof', 'The request has no DPoP proof')
  }
  if (typeof value !== 'string')
    throw new AuthError('invalid_request', 'The DPoP header is malformed')
  // A compact JWT has no comma: one here is two fields joined, as HTTP joins repeated ones.
  if (value.includes(',')) throw new AuthError('invalid_request', 'The DPoP header is repeated')
  return value.trim()
}
