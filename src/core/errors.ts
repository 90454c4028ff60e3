/**
 * Every way a request can fail, with the HTTP status an adapter answers with.
 *
 * The list is fixed: callers may switch on `code` exhaustively.
 */
export const AUTH_ERROR_STATUS = {
  token_missing: 401,
  invalid_request: 400,
  token_invalid: 401,
  token_expired: 401,
  insufficient_scope: 403,
  identity_untrusted: 403,
  user_not_provisioned: 401,
  directory_unavailable: 502,
  discovery_unavailable: 502,
  jwks_unavailable: 503,
  rate_limited: 429,
  internal_error: 500,
} as const satisfies Record<string, number>

/** A machine-readable reason for an {@link AuthError}. */
export type AuthErrorCode = keyof typeof AUTH_ERROR_STATUS

/** The HTTP statuses an {@link AuthError} can carry. */
export type AuthErrorStatus = (typeof AUTH_ERROR_STATUS)[AuthErrorCode]

const DEFAULT_MESSAGES: Record<AuthErrorCode, string> = {
  token_missing: 'No access token was presented',
  invalid_request: 'The request is malformed',
  token_invalid: 'The access token is invalid',
  token_expired: 'The access token has expired',
  insufficient_scope: 'The access token lacks the required scope',
  identity_untrusted: 'The identity cannot be linked to a user',
  user_not_provisioned: 'The user is not provisioned',
  directory_unavailable: 'The user directory is unavailable',
  discovery_unavailable: 'The login discovery source is unavailable',
  jwks_unavailable: 'The signing keys are unavailable',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
}

// RFC 6750 section 3.1 error attribute for each code that warrants one, with the status the RFC
// gives it: invalid_token with 401, insufficient_scope with 403. A 403 for an identity that cannot
// be linked is neither, so it gets the bare challenge.
const BEARER_ERROR: Partial<Record<AuthErrorCode, string>> = {
  invalid_request: 'invalid_request',
  token_invalid: 'invalid_token',
  token_expired: 'invalid_token',
  insufficient_scope: 'insufficient_scope',
  user_not_provisioned: 'invalid_token',
}

// A brand that survives two copies of this module (the ESM and the CJS build loaded side by side).
const BRAND = Symbol.for('canonical-auth.AuthError')

/** Options for {@link AuthError}. */
export interface AuthErrorOptions {
  /** The underlying error. Kept for logs and debugging; never shown to a client. */
  cause?: unknown
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number
  /** For `insufficient_scope`: the scopes the route requires (sent as `scope="…"`). */
  requiredScopes?: readonly string[]
  /**
   * The URL of the protected resource metadata (RFC 9728), sent as `resource_metadata="…"` in the
   * challenge of a 401 or 403.
   */
  resourceMetadata?: string
}

/**
 * The one error type canonical-auth throws for a request that cannot be authenticated.
 *
 * `message` is safe to show a client: it never contains a token, an email, an Auth0 sub, a
 * stack or an upstream response body. The underlying failure, if any, is kept in `cause`.
 *
 * @example
 * ```ts
 * try {
 *   await auth.verifyAuth0Token(token)
 * } catch (error) {
 *   if (isAuthError(error)) reply.status(error.status).send({ error: error.code })
 *   else throw error
 * }
 * ```
 */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  /** Why the request failed. */
  readonly code: AuthErrorCode
  /** The HTTP status to answer with. */
  readonly status: AuthErrorStatus
  /** Seconds a client should wait before retrying, when that is known. */
  readonly retryAfterSeconds: number | undefined
  /** For `insufficient_scope`: the scopes the route requires. */
  readonly requiredScopes: readonly string[] | undefined
  /** The protected resource metadata URL a challenge points to (RFC 9728 §5.1), when configured. */
  readonly resourceMetadata: string | undefined

  constructor(code: AuthErrorCode, message?: string, options: AuthErrorOptions = {}) {
    super(
      message ?? DEFAULT_MESSAGES[code],
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.code = code
    this.status = AUTH_ERROR_STATUS[code]
    this.retryAfterSeconds = options.retryAfterSeconds
    this.requiredScopes = options.requiredScopes
    this.resourceMetadata = options.resourceMetadata
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * The RFC 6750 `WWW-Authenticate` challenge for this error, or `undefined` when the status is
   * neither 401 nor 403. A missing token gets a bare `Bearer` challenge, as RFC 6750 §3.1 asks.
   */
  get wwwAuthenticate(): string | undefined {
    if (this.status !== 401 && this.status !== 403) return undefined
    const error = BEARER_ERROR[this.code]
    const parameters: string[] = []
    if (error !== undefined) {
      parameters.push(`error="${error}"`, `error_description="${quote(this.message)}"`)
      if (this.requiredScopes !== undefined && this.requiredScopes.length > 0) {
        parameters.push(`scope="${quote(this.requiredScopes.join(' '))}"`)
      }
    }
    if (this.resourceMetadata !== undefined) {
      parameters.push(`resource_metadata="${quote(this.resourceMetadata)}"`)
    }
    return parameters.length === 0 ? 'Bearer' : `Bearer ${parameters.join(', ')}`
  }

  /** The JSON body an adapter answers with. */
  toJSON(): { error: AuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message }
  }
}

/**
 * `error` with a `resource_metadata` pointer for its challenge: a new error, the given one left as
 * it is. Anything that is not a 401 or 403 `AuthError` (no challenge) is returned as it is.
 */
export function withResourceMetadata(error: unknown, url: string): unknown {
  if (!isAuthError(error) || (error.status !== 401 && error.status !== 403)) return error
  if (error.resourceMetadata === url) return error
  const options: AuthErrorOptions = { resourceMetadata: url }
  if (error.cause !== undefined) options.cause = error.cause
  if (error.retryAfterSeconds !== undefined) options.retryAfterSeconds = error.retryAfterSeconds
  if (error.requiredScopes !== undefined) options.requiredScopes = error.requiredScopes
  return new AuthError(error.code, error.message, options)
}

/**
 * Whether `value` is an {@link AuthError}, including one thrown by another copy of this package
 * (an ESM and a CJS build loaded in the same process), where `instanceof` would say no.
 *
 * @example
 * ```ts
 * if (isAuthError(error) && error.code === 'token_expired') promptLogin()
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  return (
    value instanceof AuthError ||
    (typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true)
  )
}

// Header values must stay on one line and within a quoted-string (RFC 9110 §5.6.4).
function quote(text: string): string {
  return text.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')
}
