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
}

// RFC 6750 §2.1: "Bearer" 1*SP b64token, the scheme case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
const SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: |$)/

function read(headers: HeadersInput, name: string): string | undefined {
  if (
    typeof (headers as Headers).get === 'function' &&
    typeof (headers as Headers).has === 'function'
  ) {
    return (headers as Headers).get(name) ?? undefined
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>
  let value: unknown = record[name]
  if (value === undefined) {
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name)
    value = key === undefined ? undefined : record[key]
  }
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
 * Finds the access token in the request headers. `Authorization` with another scheme (Basic) is
 * not a bearer token and is ignored. Throws `invalid_request` for a malformed Bearer header or two
 * different tokens, `token_missing` when there is none.
 */
export function extractToken(headers: HeadersInput, sources: TokenSources): string {
  const found: string[] = []
  if (sources.bearer) {
    const authorization = read(headers, 'authorization')
    if (authorization !== undefined && authorization.trim() !== '') {
      const scheme = SCHEME.exec(authorization.trim())?.[1]
      if (scheme === undefined)
        throw new AuthError('invalid_request', 'The Authorization header is malformed')
      if (scheme.toLowerCase() === 'bearer') {
        const match = BEARER.exec(authorization.trim())
        if (match === null)
          throw new AuthError('invalid_request', 'The Bearer credentials are malformed')
        found.push(match[1] as string)
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
  return token
}
