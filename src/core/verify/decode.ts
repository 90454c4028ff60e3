import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { AuthError } from '../errors.js'
import { decodeSegment, decodeStrictSegment } from './fast-signature.js'

/** A token's header and payload, decoded and not yet trusted. */
export interface UnverifiedParts {
  readonly header: ProtectedHeaderParameters
  readonly payload: JWTPayload
  /**
   * Whether the payload's bytes are UTF-8, so that `payload` is exactly what jose reads from them.
   * When they are not, `payload` (with replacement characters) may only name the issuer, and jose
   * makes every decision on the token.
   */
  readonly exact: boolean
}

/**
 * Decodes header and payload of a token `assertCompactJws` accepted, without trusting them; each
 * must be a JSON object. Throws `token_invalid`.
 */
export function decodeUnverified(token: string): UnverifiedParts {
  const firstDot = token.indexOf('.')
  const secondDot = token.indexOf('.', firstDot + 1)
  let header: unknown
  let payload: unknown
  let exact = true
  try {
    header = parseHeader(token, firstDot)
    const segment = token.slice(firstDot + 1, secondDot)
    let text: string
    try {
      text = decodeStrictSegment(segment)
    } catch {
      exact = false
      text = decodeSegment(segment)
    }
    payload = JSON.parse(text)
  } catch {
    // No cause: a JSON.parse error quotes the text it failed on, which is the token's content.
    throw notJson()
  }
  if (!isJsonObject(header) || !isJsonObject(payload)) throw notJson()
  return { header: header as ProtectedHeaderParameters, payload: payload as JWTPayload, exact }
}

// A tenant's tokens share a handful of header segments (alg, kid, typ), so their parse is kept:
// by the exact encoded segment, frozen, at most HEADER_CACHE_SIZE, emptied when full so that a
// flood of odd headers cannot keep the real ones out for long.
// The last header found is compared first, in place, so that a run of one tenant's tokens neither
// copies nor hashes the segment.
const HEADER_CACHE_SIZE = 64
const headers = new Map<string, unknown>()
let lastSegment = ''
let lastHeader: unknown

function parseHeader(token: string, firstDot: number): unknown {
  if (firstDot === lastSegment.length && token.startsWith(lastSegment)) return lastHeader
  const segment = token.slice(0, firstDot)
  let header = headers.get(segment)
  if (header === undefined) {
    header = Object.freeze(JSON.parse(decodeStrictSegment(segment)))
    if (headers.size >= HEADER_CACHE_SIZE) headers.clear()
    headers.set(segment, header)
  }
  lastSegment = segment
  lastHeader = header
  return header
}

function notJson(): AuthError {
  return new AuthError(
    'token_invalid',
    'The access token is not a well-formed JWT: its header or payload is not a JSON object',
  )
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
