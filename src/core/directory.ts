import ky, { HTTPError } from 'ky'
import { z } from 'zod'
import { AuthError, isAuthError } from './errors.js'
import { toUpstreamError, UpstreamError } from './upstream.js'
import { isUuid } from './uuid.js'

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
 * @example
 * ```ts
 * const client: UserDirectory = {
 *   async ensure(identity) { return db.getOrCreateUser(identity.email) },
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

/** The default {@link UserDirectory}: the HTTP wire contract, with ky's timeouts and retries. */
export function createHttpDirectory(options: HttpDirectoryOptions): UserDirectory {
  const base = options.baseUrl.replace(/\/+$/, '')
  const client = ky.create({
    timeout: options.timeoutMs,
    throwHttpErrors: true,
    retry: {
      limit: options.retries,
      // ensure is idempotent (get-or-create), so both calls may be retried.
      methods: ['get', 'post'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
      maxRetryAfter: options.deadlineMs,
      retryOnTimeout: true,
      delay: (attempt) => 100 * 2 ** (attempt - 1),
      backoffLimit: 1_000,
      jitter: true,
    },
  })
  const headers = async (): Promise<Record<string, string>> => {
    const value = typeof options.headers === 'function' ? await options.headers() : options.headers
    return { accept: 'application/json', ...value }
  }

  return {
    async ensure(identity, { signal }) {
      const response = await client.post(`${base}${options.paths.ensure}`, {
        signal,
        headers: await headers(),
        json: {
          email: identity.email,
          email_verified: identity.emailVerified,
          auth0_sub: identity.auth0Sub,
          connection: identity.connection ?? null,
          auth0_issuer: identity.issuer,
        },
      })
      if (response.status !== 200 && response.status !== 201) {
        throw new UpstreamError(
          'directory',
          'status',
          `answered HTTP ${response.status}`,
          response.status,
        )
      }
      const answer = parseAnswer(await response.text())
      return { ...answer, created: answer.created ?? response.status === 201 }
    },
    async lookup(email, { signal }) {
      const path = options.paths.lookup.replace('{email}', encodeURIComponent(email))
      try {
        const response = await client.get(`${base}${path}`, { signal, headers: await headers() })
        if (response.status !== 200) {
          throw new UpstreamError(
            'directory',
            'status',
            `answered HTTP ${response.status}`,
            response.status,
          )
        }
        return parseAnswer(await response.text())
      } catch (error) {
        if (error instanceof HTTPError && error.response.status === 404) return null
        throw error
      }
    },
  }
}

function parseAnswer(text: string): DirectoryUser {
  const parsed = answerSchema.safeParse(JSON.parse(text))
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
 * so no caller ever proceeds with a guessed identity. Validates answers from custom clients too.
 */
export async function callDirectory<T extends DirectoryUser | null>(
  deadlineMs: number,
  call: (options: DirectoryCallOptions) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(deadlineMs)
  let result: T
  try {
    // A custom client may ignore the signal; the race still ends the wait at the deadline.
    result = await Promise.race([
      call({ signal }),
      new Promise<never>((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
    ])
  } catch (error) {
    if (isAuthError(error)) throw error
    throw new AuthError('directory_unavailable', undefined, {
      cause: toUpstreamError('directory', error),
    })
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
