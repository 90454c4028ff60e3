import { AuthError, isAuthError } from '../errors.js'
import { codeOf, type Emit } from '../events.js'
import type { WaitUntil } from '../lib/flights.js'
import { safeCause } from '../token-check-error.js'
import type { CanonicalUser, VerifiedToken } from '../types.js'
import type { VerifiedRegistry } from '../verified-registry.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import {
  callDirectory,
  type DirectoryCallOptions,
  type DirectoryUser,
  isDirectoryOutage,
  type UserDirectory,
} from './directory.js'
import { type LinkIdentity, linkableIdentity, type ResolvedTrust } from './trust.js'
import type { UserCache } from './user-cache.js'
import type { UserinfoClient } from './userinfo.js'

/**
 * Called when the directory reports that it created the user on this request. It cannot refuse a
 * user: the directory already has them, and a retry sees `created: false`. Refuse with
 * `trust.allow`, which runs before the directory is asked.
 */
export type UserCreatedHook = (user: CanonicalUser, token: VerifiedToken) => void | Promise<void>

/** What resolution needs of the tenant that issued a token. */
export interface TenantPolicy {
  /** Whom the tenant's tokens may be linked to by email. */
  readonly trust: ResolvedTrust
  /** The leeway past `exp` that verification allowed. */
  readonly clockToleranceSeconds: number
}

/** What resolution needs, prepared once per instance. */
export interface ResolverContext {
  /** The user directory and how to ask it; undefined when none is configured. */
  readonly directory:
    | {
        readonly client: UserDirectory
        readonly mode: 'ensure' | 'lookup'
        /** Overall deadline of one resolution's directory call, retries included. */
        readonly deadlineMs: number
      }
    | undefined
  /**
   * The tokens this instance verified, each with the policy of the tenant that vouched for it: its
   * trust applies to its tokens, and no other's.
   */
  readonly registry: VerifiedRegistry<TenantPolicy>
  readonly cache: UserCache
  readonly userinfo: UserinfoClient | undefined
  readonly onUserCreated: UserCreatedHook | undefined
  /**
   * How long one resolution shared by concurrent requests for a user may take: `/userinfo`, the
   * directory and the store write, each within its own deadline. Nobody waits for it longer.
   */
  readonly flightMs: number
  /** Refuses directory calls while the directory keeps failing; undefined when turned off. */
  readonly breaker: CircuitBreaker | undefined
  /** Reports each resolution where it ends, and each directory call. */
  readonly emit: Emit
}

/**
 * Resolves a verified token to its canonical user:
 * the canonical-id claim when it holds a UUID; else the cache; else the trust policy of the
 * token's tenant (verified email, or a trusted connection for a domain it owns, then `allow`) and
 * the directory (`ensure` get-or-create, or read-only `lookup`). Only tokens this instance verified
 * are resolved. Machine-to-machine tokens identify no user. Every failure is an
 * {@link AuthError}; no path ever returns the Auth0 sub as an id.
 */
export function resolveUser(
  verified: VerifiedToken,
  context: ResolverContext,
  waitUntil?: WaitUntil,
): Promise<CanonicalUser> {
  try {
    return Promise.resolve(resolveUserNow(verified, context, waitUntil))
  } catch (error) {
    return Promise.reject(error)
  }
}

/**
 * {@link resolveUser}, but a user found at once (the claim, or memory) is returned as it is, with
 * no promise: the request's hot path awaits nothing that is already there. Throws a refusal
 * decided at once. Work left to do after the answer (deleting a bad shared-cache entry) is handed
 * to `waitUntil` when there is one.
 */
export function resolveUserNow(
  verified: VerifiedToken,
  context: ResolverContext,
  waitUntil?: WaitUntil,
): CanonicalUser | Promise<CanonicalUser> {
  let found: CanonicalUser | Promise<CanonicalUser>
  try {
    found = findUser(verified, context, waitUntil)
  } catch (error) {
    throw unresolved(error, context)
  }
  if (!(found instanceof Promise)) return resolved(found, context)
  return found.then(
    (user) => resolved(user, context),
    (error: unknown) => {
      throw unresolved(error, context)
    },
  )
}

function resolved(user: CanonicalUser, context: ResolverContext): CanonicalUser {
  context.emit({
    type: 'user.resolved',
    userId: user.id,
    source: user.source,
    created: user.created,
  })
  return user
}

function unresolved(error: unknown, context: ResolverContext): unknown {
  context.emit({ type: 'user.unresolved', code: codeOf(error) })
  return error
}

/** The user from the claim or memory at once; otherwise the store, then the directory. */
function findUser(
  verified: VerifiedToken,
  context: ResolverContext,
  waitUntil: WaitUntil | undefined,
): CanonicalUser | Promise<CanonicalUser> {
  const { registry } = context
  const token = registry.tokenOf(verified)
  // Verified here, so the tenant that vouched for it and its cache key were recorded with it.
  const tenant = token === undefined ? undefined : registry.tenantOf(verified)
  const key = token === undefined ? undefined : registry.cacheKeyOf(verified)
  if (token === undefined || tenant === undefined || key === undefined) {
    throw new AuthError(
      'token_invalid',
      'The token was not verified by this canonical-auth instance',
    )
  }
  // A result kept past its expiry (a handler that holds on to it) no longer vouches for anyone.
  if (verified.expiresAt.getTime() + tenant.clockToleranceSeconds * 1000 <= Date.now()) {
    throw new AuthError('token_expired')
  }
  if (isMachineToken(verified)) {
    throw new AuthError('identity_untrusted', 'A machine-to-machine token does not identify a user')
  }
  if (verified.canonicalUserId !== undefined) {
    return {
      id: verified.canonicalUserId,
      ...(verified.email === undefined ? {} : { email: verified.email }),
      source: 'claim',
      created: false,
    }
  }
  return context.cache.local(key) ?? findUncached(verified, token, tenant, key, context, waitUntil)
}

async function findUncached(
  verified: VerifiedToken,
  token: string,
  tenant: TenantPolicy,
  key: string,
  context: ResolverContext,
  waitUntil: WaitUntil | undefined,
): Promise<CanonicalUser> {
  const { cache } = context
  const cached = await cache.get(key, waitUntil)
  if (cached !== undefined) return cached
  if (cache.isKnownMissing(key)) throw notProvisioned()

  return cache.singleFlight(
    key,
    async () => {
      const identity = await linkableIdentity(
        await emailClaim(verified, token, context),
        verified,
        tenant.trust,
      )
      const user = await askDirectory(identity, verified, context)
      if (user === null) {
        cache.markMissing(key)
        throw notProvisioned()
      }
      const resolved: CanonicalUser = {
        id: user.id.toLowerCase(),
        email: user.email ?? identity.email,
        source: 'directory',
        created: user.created === true,
      }
      if (resolved.created && context.onUserCreated !== undefined) {
        // A failing hook fails the request, and the user is not cached, so nothing is half-done
        // silently. The directory already has the user: the hook must tolerate a retry that sees
        // created: false.
        try {
          await context.onUserCreated(resolved, verified)
        } catch (error) {
          if (isAuthError(error)) throw error
          throw new AuthError('internal_error', 'The user-created hook failed', {
            cause: safeCause(error),
          })
        }
      }
      await cache.set(key, {
        id: resolved.id,
        ...(resolved.email === undefined ? {} : { email: resolved.email }),
      })
      return resolved
    },
    context.flightMs,
  )
}

/** `sub` of the form `<client-id>@clients`, or Auth0's `gty: client-credentials`. */
export function isMachineToken(verified: VerifiedToken): boolean {
  return verified.subject.endsWith('@clients') || verified.claims.gty === 'client-credentials'
}

/** The token's email claim, or `/userinfo`'s when the token carries none and it is configured. */
async function emailClaim(verified: VerifiedToken, token: string, context: ResolverContext) {
  if (verified.email !== undefined || context.userinfo === undefined) {
    return { email: verified.email, emailVerified: verified.emailVerified }
  }
  return context.userinfo.profile(verified.issuer, verified.subject, token)
}

function askDirectory(
  identity: LinkIdentity,
  verified: VerifiedToken,
  context: ResolverContext,
): Promise<DirectoryUser | null> {
  const { directory } = context
  if (directory === undefined) {
    throw new AuthError('internal_error', 'No user directory is configured (directory option)')
  }
  const { client, deadlineMs } = directory
  // The directory's row is per email: failures for one email alone are not an outage.
  const key = identity.email
  if (directory.mode === 'lookup') {
    return guardedCall(context, deadlineMs, 'lookup', key, (options) =>
      client.lookup(identity.email, options),
    )
  }
  return guardedCall(context, deadlineMs, 'ensure', key, (options) =>
    client.ensure(
      {
        email: identity.email,
        emailVerified: identity.emailVerified,
        auth0Sub: verified.subject,
        connection: identity.connection,
        issuer: verified.issuer,
      },
      options,
    ),
  )
}

/**
 * One directory call through the circuit breaker, reported to the event hook. Only an outage
 * ({@link isDirectoryOutage}) counts as a failure; an answer (a user, none, or a refusal of this
 * identity) counts as a success: the directory is there and answering.
 */
async function guardedCall(
  context: ResolverContext,
  deadlineMs: number,
  operation: 'ensure' | 'lookup',
  identity: string,
  call: (options: DirectoryCallOptions) => Promise<DirectoryUser | null>,
): Promise<DirectoryUser | null> {
  const { breaker, emit } = context
  const started = Date.now()
  const waitMs = breaker?.admit(started) ?? 0
  if (waitMs > 0) {
    emit({ type: 'directory.call', operation, outcome: 'rejected', durationMs: 0 })
    throw new AuthError('directory_unavailable', 'The user directory is failing; not asking it', {
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    })
  }
  try {
    const user = await callDirectory(deadlineMs, call)
    breaker?.succeeded()
    const outcome = user === null ? 'not_found' : 'ok'
    emit({ type: 'directory.call', operation, outcome, durationMs: Date.now() - started })
    return user
  } catch (error) {
    if (isDirectoryOutage(error)) breaker?.failed(identity)
    else breaker?.succeeded()
    const refused = isAuthError(error) && error.code !== 'directory_unavailable'
    emit({
      type: 'directory.call',
      operation,
      outcome: refused ? 'refused' : 'error',
      durationMs: Date.now() - started,
    })
    throw error
  }
}

function notProvisioned(): AuthError {
  return new AuthError('user_not_provisioned')
}
