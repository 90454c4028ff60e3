/**
 * Why jose refused a token, safe to log: its error code, the claim concerned and the reason, and
 * nothing of the token. The `cause` of an {@link AuthError} for a refused token, in place of
 * jose's own error, whose `payload` carries every claim of the token (email and sub included).
 *
 * @example
 * ```ts
 * if (isAuthError(error) && error.cause instanceof TokenCheckError) {
 *   logger.info({ code: error.cause.code, claim: error.cause.claim }, 'token refused')
 * }
 * ```
 */
export class TokenCheckError extends Error {
  override readonly name = 'TokenCheckError'
  /** jose's error code, e.g. `ERR_JWT_EXPIRED` or `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`. */
  readonly code: string
  /** For a claim check: the claim, e.g. `aud`. */
  readonly claim: string | undefined
  /** For a claim check: jose's reason, e.g. `check_failed` or `missing`. */
  readonly reason: string | undefined

  constructor(code: string, claim?: string, reason?: string) {
    super(claim === undefined ? code : `${code}: "${claim}" ${reason ?? 'invalid'}`)
    this.code = code
    this.claim = claim
    this.reason = reason
  }

  /** The safe parts of one of jose's errors. */
  static from(error: { code: string; claim?: unknown; reason?: unknown }): TokenCheckError {
    const claim = typeof error.claim === 'string' ? error.claim : undefined
    const reason = typeof error.reason === 'string' ? error.reason : undefined
    return new TokenCheckError(error.code, claim, reason)
  }
}

/**
 * A hook's error as it may be kept as a `cause`: one of jose's errors (a legacy verifier or a
 * policy built on jose) becomes a {@link TokenCheckError}, since its `payload` carries a token's
 * claims; anything else is kept as it is.
 */
export function safeCause(error: unknown): unknown {
  return isJoseError(error) ? TokenCheckError.from(error) : error
}

/** Whether `error` is one of jose's (its `code` is `ERR_JWT_…`, `ERR_JWS_…`, `ERR_JOSE_…` …). */
export function isJoseError(
  error: unknown,
): error is { code: string; claim?: unknown; reason?: unknown } {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('ERR_JW') || code.startsWith('ERR_JOSE'))
}
