import { z } from 'zod'
import { AuthError, isAuthError } from '../errors.js'
import { isUuid } from '../lib/uuid.js'
import { statusError, toUpstreamError, UpstreamError } from '../upstream/client.js'
import { RETRIED_STATUSES, upstreamRequest } from '../upstream/request.js'

/** What the directory is told about a verified identity when it is asked to get-or-create it. */
export interface DirectoryIdentity {
  /** The canonical email. */
  readonly email: string
  /** Whether the identity provider verified the email. */
  readonly emailVerified: boolean
  /** The Auth0 sub, for the directory to record the link; never a user id. */
  readonly auth0Sub: string
  /** The Auth0 connection, when known. */
  readonly connection: string | undefined
  /** The token issuer the sub belongs to. */
  readonly issuer: string
}

/** A canonical user as the directory answers it. */
export interface DirectoryUser {
  /** The canonical user UUID. */
  readonly id: string
  readonly email?: string
  /** True when this call created the user. */
  readonly created?: boolean
}

/** Passed to every directory call: abort when the deadline passes. */
export interface DirectoryCallOptions {
  readonly signal: AbortSignal
}

/**
 * The user directory: the only source of canonical user UUIDs. The default implementation speaks
 * the HTTP wire contract; any object with these two methods can replace it
 * (`directory: { client }`). Answers are validated: an id that is not a UUID fails closed.
 *
 * What a client returns or throws decides the answer:
 * - a user: resolved; `null` from `lookup`: `user_not_provisioned` (401);
 * - an `AuthError`, e.g. `new AuthError('identity_untrusted')` for a user the directory refuses
 *   (deactivated, conflicting): passed through as it is, and not counted against the circuit
 *   breaker, so refusing one user never turns the directory off for everyone;
 * - anything else thrown, or no answer by the deadline (`options.signal` aborts then):
 *   `directory_unavailable` (502), counted as an outage by the circuit breaker.
 *
 * @example
 * ```ts
 * const client: UserDirectory = {
 *   async ensure(identity) {
 *     const user = await db.getOrCreateUser(identity.email)
 *     if (user.disabled) throw new AuthError('identity_untrusted', 'The account is disabled')
 *     return user
 *   },
 *   async lookup(email) { return db.findUser(email) ?? null },
 * }
 * createAuth({ auth0, directory: { client } })
 * ```
 */
export interface UserDirectory {
  /** Get-or-create the user for a verified identity (idempotent). */
  ensure(identity: DirectoryIdentity, options: DirectoryCallOptions): Promise<DirectoryUser>
  /** Find the user with this canonical email, or `null`. Never creates. */
  lookup(email: string, options: DirectoryCallOptions): Promise<DirectoryUser | null>
}

/** Headers for directory calls, or a function returning them (e.g. a rotating service token). */
export type DirectoryHeaders =
  | Readonly<Record<string, string>>
  | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>)

export interface HttpDirectoryOptions {
  readonly baseUrl: string
  readonly headers: DirectoryHeaders | undefined
  readonly timeoutMs: number
  readonly retries: number
  readonly deadlineMs: number
  readonly paths: { readonly ensure: string; readonly lookup: string }
}

const answerSchema = z.object({
  id: z.string().refine(isUuid),
  email: z.string().optional(),
  created: z.boolean().optional(),
})

// A directory answer is one small JSON object.
const MAX_ANSWER_BYTES = 16_384

// Statuses by which the directory refuses one identity (`identity_untrusted`): 403 Forbidden,
// 409 Conflict (e.g. the email is linked to another identity), 410 Gone (a removed user), 422
// (it will not accept this identity's data).
const REFUSALS = new Set([403, 409, 410, 422])

/**
 * The default {@link UserDirectory}: the HTTP wire contract, with per-attempt timeouts and the
 * upstream retry policy (network errors, 408, 429, 5xx), under one deadline that covers the body, a 16 KiB
 * answer cap, and no redirect followed.
 *
 * Statuses other than the contract's answers:
 * - 403, 409, 410, 422: the directory refuses this identity → `identity_untrusted` (403);
 * - 404 from `lookup`: no such user → `null` (`user_not_provisioned`);
 * - 401: the directory refuses canonical-auth's own service credential (the user's token is
 *   never sent to it): a misconfiguration of this service, not the user's fault →
 *   `directory_unavailable` (502);
 * - any other 4xx (a 404 from `ensure` is a wrong path), a 3xx, or a 2xx without a valid user →
 *   `directory_unavailable` (502).
 *
 * None of these is retried, and none counts against the circuit breaker (see
 * {@link isDirectoryOutage}): an answer is not an outage.
 */
export function createHttpDirectory(options: HttpDirectoryOptions): UserDirectory {
  const base = options.baseUrl.replace(/\/+$/, '')
  // The service credential (a function may rotate it per call) and the retry policy.
  const attempts = {
    headers: options.headers,
    retries: options.retries,
    attemptTimeoutMs: options.timeoutMs,
  }
  const limits = (signal: AbortSignal) => ({
    upstream: 'directory',
    timeoutMs: options.deadlineMs,
    maxBytes: MAX_ANSWER_BYTES,
    signal,
  })

  return {
    ensure(identity, { signal }) {
      return upstreamRequest(
        limits(signal),
        {
          ...attempts,
          method: 'post',
          url: `${base}${options.paths.ensure}`,
          json: {
            email: identity.email,
            email_verified: identity.emailVerified,
            auth0_sub: identity.auth0Sub,
            connection: identity.connection ?? null,
            auth0_issuer: identity.issuer,
          },
        },
        async (response) => {
          if (response.status !== 200 && response.status !== 201) throw refusal(response.status)
          const answer = parseAnswer(await response.json())
          return { ...answer, created: answer.created ?? response.status === 201 }
        },
      )
    },
    lookup(email, { signal }) {
      const path = options.paths.lookup.replace('{email}', encodeURIComponent(email))
      return upstreamRequest(
        limits(signal),
        { ...attempts, url: `${base}${path}` },
        async (response) => {
          if (response.status === 404) return null
          if (response.status !== 200) throw refusal(response.status)
          return parseAnswer(await response.json())
        },
      )
    },
  }
}

function refusal(status: number): Error {
  const cause = statusError('directory', status)
  if (!REFUSALS.has(status)) return cause
  return new AuthError('identity_untrusted', 'The user directory refused this identity', { cause })
}

function parseAnswer(body: unknown): DirectoryUser {
  const parsed = answerSchema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError('directory', 'invalid_response', 'answered without a valid user UUID')
  }
  const { id, email, created } = parsed.data
  return {
    id: id.toLowerCase(),
    ...(email === undefined ? {} : { email }),
    ...(created === undefined ? {} : { created }),
  }
}

/**
 * Calls the directory under a deadline and turns every failure into `directory_unavailable`,
 * so no caller ever proceeds with a guessed identity. An `AuthError` (a refusal) passes through.
 * Validates answers from custom clients too.
 */
export async function callDirectory<T extends DirectoryUser | null>(
  deadlineMs: number,
  call: (options: DirectoryCallOptions) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const { signal } = controller
  let timer: ReturnType<typeof setTimeout> | undefined
  let result: T
  try {
    // A custom client may ignore the signal; the race still ends the wait at the deadline.
    result = await Promise.race([
      call({ signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // The reason AbortSignal.timeout gives, which clients may already check for.
          const reason = new DOMException('The directory deadline passed', 'TimeoutError')
          controller.abort(reason)
          reject(reason)
        }, deadlineMs)
      }),
    ])
  } catch (error) {
    if (isAuthError(error)) throw error
    throw new AuthError('directory_unavailable', undefined, {
      cause: toUpstreamError('directory', error),
    })
  } finally {
    clearTimeout(timer)
  }
  if (result !== null && (typeof result !== 'object' || !isUuid(result.id))) {
    throw new AuthError('directory_unavailable', undefined, {
      cause: new UpstreamError(
        'directory',
        'invalid_response',
        'answered without a valid user UUID',
      ),
    })
  }
  return result
}

/**
 * Whether a failed directory call is an outage, which the circuit breaker counts: no answer (a
 * network failure, the deadline), or an answer that says the directory is struggling (5xx, 408,
 * 429). An answer about one identity never counts, whatever it is: a refusal (`identity_untrusted`
 * or any other `AuthError` but `directory_unavailable`), another 4xx, a redirect, or a body that is
 * too large or not a valid user. Each of those still fails closed, but counting them would let one
 * user's answer (`fired@acme.com` logging in five times) open the circuit for everyone.
 */
export function isDirectoryOutage(error: unknown): boolean {
  if (!isAuthError(error) || error.code !== 'directory_unavailable') return false
  const cause = error.cause
  if (!(cause instanceof UpstreamError)) return true
  if (cause.kind === 'status') {
    const status = cause.status ?? 500
    return status >= 500 || (RETRIED_STATUSES as readonly number[]).includes(status)
  }
  return cause.kind === 'timeout' || cause.kind === 'network' || cause.kind === 'aborted'
}
