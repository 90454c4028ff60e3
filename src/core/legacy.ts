import { z } from 'zod'
import { AuthError, isAuthError } from './errors.js'
import { canonicalizeEmail } from './lib/email.js'
import { hook } from './lib/schema-rules.js'
import { isUuid } from './lib/uuid.js'
import { safeCause } from './token-check-error.js'
import type { AuthContext, CanonicalUser } from './types.js'

/** What a legacy verifier answers for a token it accepts. */
export interface LegacyIdentity {
  /** The canonical user UUID the legacy token carries. */
  userId: string
  email?: string | undefined
}

/** Verification of tokens issued before Auth0 (they already carry a canonical UUID). */
export interface LegacyConfig {
  /**
   * Verifies a token that no configured Auth0 tenant issued. Returns the identity, or `null` to
   * refuse it (`token_invalid`). Throwing an {@link AuthError} answers with it; any other throw
   * is `token_invalid`.
   */
  verify(token: string): LegacyIdentity | null | Promise<LegacyIdentity | null>
}

export const legacySchema = z.strictObject({
  verify: hook<LegacyConfig['verify']>('a function verify(token)'),
})

/** A token no configured tenant issued, verified by the legacy hook. */
export async function authenticateLegacy(
  token: string,
  legacy: LegacyConfig,
): Promise<AuthContext> {
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
