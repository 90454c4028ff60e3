import type { LegacyConfig } from './config/config.js'
import { AuthError, isAuthError } from './errors.js'
import { extractToken, type HeadersInput, type TokenSources } from './http/extract.js'
import { canonicalizeEmail } from './lib/email.js'
import { isUuid } from './lib/uuid.js'
import { safeCause } from './token-check-error.js'
import type { AuthContext, CanonicalUser, VerifiedToken } from './types.js'
import type { ReadToken } from './verify/verify.js'

/** What `authenticate` reads from a request. */
export interface AuthenticateRequest {
  /** The request headers: a fetch `Headers`, or a plain object as Node frameworks give them. */
  readonly headers: HeadersInput
}

export interface AuthenticateSteps {
  readonly tokenSources: TokenSources
  readonly maxTokenLength: number
  readonly legacy: LegacyConfig | undefined
  cached(token: string): VerifiedToken | undefined
  /** The token decoded and matched to a configured issuer, or why not (then: legacy). */
  read(token: string): ReadToken | AuthError
  /** Whether a token `read` refused names a configured issuer anywhere, however malformed. */
  claimsIssuer(token: string): boolean
  verify(token: string, read: ReadToken): Promise<VerifiedToken>
  resolve(verified: VerifiedToken): Promise<CanonicalUser>
}

/**
 * Extract → verify → resolve. A token from a configured Auth0 issuer (by its unverified `iss`) is
 * verified and resolved; any other token goes to the legacy hook, or is `token_invalid`. A token
 * that names a configured issuer anywhere, read leniently, never reaches the hook.
 */
export async function authenticateRequest(
  request: AuthenticateRequest,
  steps: AuthenticateSteps,
): Promise<AuthContext> {
  const token = extractToken(request.headers, steps.tokenSources)
  // A token verified moments ago skips decoding and the signature check altogether.
  const cached = steps.cached(token)
  if (cached !== undefined) {
    const user = await steps.resolve(cached)
    return { userId: user.id, user, token: cached }
  }
  if (token.length > steps.maxTokenLength)
    throw new AuthError('token_invalid', 'The access token is too long')
  const read = steps.read(token)
  if (isAuthError(read)) {
    // Without a legacy hook, the answer says why the token is not a configured issuer's JWT.
    if (steps.legacy === undefined) throw read
    if (steps.claimsIssuer(token)) {
      throw new AuthError(
        'token_invalid',
        'The token names a configured issuer but is not a well-formed token of it',
      )
    }
    return authenticateLegacy(token, steps.legacy)
  }
  const verified = await steps.verify(token, read)
  const user = await steps.resolve(verified)
  return { userId: user.id, user, token: verified }
}

async function authenticateLegacy(token: string, legacy: LegacyConfig): Promise<AuthContext> {
  let identity: Awaited<ReturnType<LegacyConfig['verify']>>
  try {
    identity = await legacy.verify(token)
  } catch (error) {
    if (isAuthError(error)) throw error
    throw new AuthError('token_invalid', undefined, { cause: safeCause(error) })
  }
  if (identity === null || identity === undefined) throw new AuthError('token_invalid')
  if (!isUuid(identity.userId)) {
    throw new AuthError('token_invalid', 'The legacy token does not carry a canonical user id')
  }
  const email = canonicalizeEmail(identity.email)?.address
  const user: CanonicalUser = {
    id: identity.userId.toLowerCase(),
    ...(email === undefined ? {} : { email }),
    source: 'legacy',
    created: false,
  }
  return { userId: user.id, user }
}
