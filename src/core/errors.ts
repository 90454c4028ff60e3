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
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  replay_store_unavailable: 503,
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
  invalid_dpop_proof: 'The DPoP proof is invalid',
  use_dpop_nonce: 'The DPoP proof must carry the nonce this server provides',
  replay_store_unavailable: 'DPoP proofs cannot be checked for replay now',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
}

// RFC 6750 section 3.1 error attribute for each code that warrants one, with the status the RFC
// gives it: invalid_token with 401, insufficient_scope with 403; RFC 9449 §7.1 and §9 add the DPoP
// scheme's two. A 403 for an identity that cannot be linked is neither, so it gets the bare
// challenge.
const CHALLENGE_ERROR: Partial<Record<AuthErrorCode, string>> = {
  invalid_request: 'invalid_request',
  token_invalid: 'invalid_token',
  token_expired: 'invalid_token',
  insufficient_scope: 'insufficient_scope',
  user_not_provisioned: 'invalid_token',
  invalid_dpop_proof: 'invalid_dpop_proof',
  use_dpop_nonce: 'use_dpop_nonce',
}

/** The DPoP side of a challenge (RFC 9449 §7.1): what an instance that accepts DPoP offers. */
export interface DpopChallenge {
  /** The algorithms a proof may use, sent as `algs="…"`. */
  readonly algorithms: readonly string[]
  /** Whether the Bearer scheme is offered too (DPoP allowed, not required). */
  readonly bearer: boolean
  /** The scheme whose challenge carries the error: the one the request used. */
  readonly scheme: 'Bearer' | 'DPoP'
  /** A nonce for the client's next proof, sent as `DPoP-Nonce`. */
  readonly nonce?: string | undefined
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
  /** The DPoP challenge offered beside (or instead of) the Bearer one. */
  dpop?: DpopChallenge
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
  /** The DPoP challenge of the answer, when the instance accepts DPoP and the request called for it. */
  readonly dpop: DpopChallenge | undefined

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
    this.dpop = options.dpop
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * The `WWW-Authenticate` challenge for this error (RFC 6750, and RFC 9449 §7.1 when DPoP is
   * offered: one challenge per scheme, the error in the one the request used), or `undefined` when
   * the status is neither 401 nor 403. A missing token gets a bare `Bearer` challenge, as RFC 6750
   * §3.1 asks.
   */
  get wwwAuthenticate(): string | undefined {
    if (this.status !== 401 && this.status !== 403) return undefined
    const error = CHALLENGE_ERROR[this.code]
    const parameters: string[] = []
    if (error !== undefined) {
      parameters.push(`error="${error}"`, `error_description="${quote(this.message)}"`)
      if (this.requiredScopes !== undefined && this.requiredScopes.length > 0) {
        parameters.push(`scope="${quote(this.requiredScopes.join(' '))}"`)
      }
    }
    const pointer =
      this.resourceMetadata === undefined
        ? []
        : [`resource_metadata="${quote(this.resourceMetadata)}"`]
    const { dpop } = this
    if (dpop === undefined) return challenge('Bearer', [...parameters, ...pointer])
    const dpopChallenge = challenge('DPoP', [
      ...(dpop.scheme === 'DPoP' ? parameters : []),
      `algs="${quote(dpop.algorithms.join(' '))}"`,
      ...pointer,
    ])
    if (!dpop.bearer) return dpopChallenge
    const bearer = challenge('Bearer', [
      ...(dpop.scheme === 'Bearer' ? parameters : []),
      ...pointer,
    ])
    return `${bearer}, ${dpopChallenge}`
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
  return rebuilt(error, { resourceMetadata: url })
}

/**
 * `error` with the DPoP challenge of the instance and request: a new error, the given one left as
 * it is. An error that is not an `AuthError`, or that carries one already, is returned as it is.
 */
export function withDpopChallenge(error: unknown, dpop: DpopChallenge): unknown {
  if (!isAuthError(error) || error.dpop !== undefined) return error
  return rebuilt(error, { dpop })
}

/** A copy of `error` with some of its options replaced. */
function rebuilt(error: AuthError, changes: AuthErrorOptions): AuthError {
  const options: AuthErrorOptions = {}
  if (error.cause !== undefined) options.cause = error.cause
  if (error.retryAfterSeconds !== undefined) options.retryAfterSeconds = error.retryAfterSeconds
  if (error.requiredScopes !== undefined) options.requiredScopes = error.requiredScopes
  if (error.resourceMetadata !== undefined) options.resourceMetadata = error.resourceMetadata
  if (error.dpop !== undefined) options.dpop = error.dpop
  return new AuthError(error.code, error.message, { ...options, ...changes })
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

/** `Scheme a="…", b="…"`, or the bare scheme. */
function challenge(scheme: string, parameters: readonly string[]): string {
  return parameters.length === 0 ? scheme : `${scheme} ${parameters.join(', ')}`
}

// Header values must stay on one line and within a quoted-string (RFC 9110 §5.6.4).
function quote(text: string): string {
  return text.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')
}
