import { AuthError, type AuthErrorCode, isAuthError } from '../errors.js'

/** A framework-neutral HTTP answer: what every adapter writes out as it is. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
}

/** A 200 JSON answer that no cache keeps. */
export function jsonAnswer(body: unknown): HttpAnswer {
  return { status: 200, headers: JSON_HEADERS, body }
}

/**
 * The answer for a failure: the {@link AuthError}'s status, `{ error, error_description }`, the
 * RFC 6750 (and RFC 9449) `WWW-Authenticate` challenge for 401/403, `Retry-After` when known and
 * `DPoP-Nonce` when the client must use a new nonce. Anything that is
 * not an `AuthError` becomes a 500 `internal_error` whose body says nothing of it.
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorAnswer(error)
 * return new Response(JSON.stringify(body), { status, headers })
 * ```
 */
export function errorAnswer(error: unknown): HttpAnswer {
  const authError = isAuthError(error)
    ? error
    : new AuthError('internal_error', undefined, { cause: error })
  const headers: Record<string, string> = { ...JSON_HEADERS }
  const challenge = authError.wwwAuthenticate
  if (challenge !== undefined) headers['www-authenticate'] = challenge
  if (authError.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(authError.retryAfterSeconds)
  if (authError.dpop?.nonce !== undefined) headers['dpop-nonce'] = authError.dpop.nonce
  const body: { error: AuthErrorCode; error_description: string } = authError.toJSON()
  return { status: authError.status, headers, body }
}
