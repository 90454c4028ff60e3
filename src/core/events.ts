import { type AuthErrorCode, isAuthError } from './errors.js'
import type { CanonicalUser } from './types.js'

/**
 * What canonical-auth reports to an `onEvent` hook. No event ever carries a token, an email or
 * any other claim in clear: issuers, key set URLs, canonical user ids (UUIDs), error codes,
 * outcomes and durations only.
 */
export type AuthEvent =
  /** A token passed verification; `cached` when the verification cache answered. */
  | { readonly type: 'token.verified'; readonly issuer: string; readonly cached: boolean }
  /**
   * No verified token: `verifyAuth0Token` or `authenticate` refused the token (or found none),
   * with the error code answered.
   */
  | { readonly type: 'token.rejected'; readonly code: AuthErrorCode }
  /** A verified token was resolved to the canonical user; `source` says where the id came from. */
  | {
      readonly type: 'user.resolved'
      readonly userId: string
      readonly source: CanonicalUser['source']
      readonly created: boolean
    }
  /** A verified token could not be resolved to a user, with the error code answered. */
  | { readonly type: 'user.unresolved'; readonly code: AuthErrorCode }
  /**
   * One call to the user directory. `outcome`: `ok` (a user), `not_found` (`lookup` found none),
   * `refused` (the directory refused this identity, e.g. HTTP 403, or a custom client threw an
   * `AuthError` such as `identity_untrusted`), `error` (down, slow past the deadline, 5xx, a
   * malformed answer) or `rejected` (not made: the circuit is open).
   */
  | {
      readonly type: 'directory.call'
      readonly operation: 'ensure' | 'lookup'
      readonly outcome: 'ok' | 'not_found' | 'refused' | 'error' | 'rejected'
      readonly durationMs: number
    }
  /** One fetch of a key set. */
  | {
      readonly type: 'jwks.fetch'
      readonly jwksUri: string
      readonly outcome: 'ok' | 'error'
      readonly durationMs: number
    }
  /**
   * One call to the shared cache store (`cache.store`), made only when the in-memory cache missed.
   * `outcome`: `hit`/`miss` for `get`, `ok` for `set` and `delete`; `error` (it threw, e.g. Redis
   * is down) and `timeout` (slower than `cache.storeTimeoutMs`) count as misses.
   */
  | {
      readonly type: 'cache.store'
      readonly operation: 'get' | 'set' | 'delete'
      readonly outcome: 'hit' | 'miss' | 'ok' | 'error' | 'timeout'
      readonly durationMs: number
    }
  /**
   * The DPoP replay store (`dpop.replay.store`, or the in-memory one when full) failed or was slower
   * than `dpop.replay.timeoutMs`; `decision` is what `dpop.replay.onStoreError` made of it.
   */
  | {
      readonly type: 'dpop.replay_store'
      readonly outcome: 'error' | 'timeout'
      readonly decision: 'rejected' | 'allowed'
    }
  /** The directory circuit breaker changed state. */
  | {
      readonly type: 'circuit.state'
      readonly circuit: 'directory'
      readonly state: 'open' | 'half_open' | 'closed'
    }

/** The `onEvent` hook: called synchronously; what it throws or rejects with is ignored. */
export type AuthEventHook = (event: AuthEvent) => void | Promise<void>

/** An emitter that never lets the hook break a request. */
export type Emit = (event: AuthEvent) => void

const ignore: Emit = () => {}

/** The emitter for a hook: a no-op without one, so every step reports without asking. */
export function emitterFor(hook: AuthEventHook | undefined): Emit {
  if (hook === undefined) return ignore
  return (event) => {
    try {
      const result = hook(event)
      if (result instanceof Promise) result.catch(() => {})
    } catch {
      // A broken logger must not turn into a failed login.
    }
  }
}

/** The code an error is answered with. */
export function codeOf(error: unknown): AuthErrorCode {
  return isAuthError(error) ? error.code : 'internal_error'
}
