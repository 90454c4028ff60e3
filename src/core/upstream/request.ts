import ky from 'ky'
import { callUpstream, type UpstreamLimits, type UpstreamResponse } from './client.js'

/**
 * Statuses that say an upstream is struggling rather than answering: retried (with `Retry-After`
 * honoured within the deadline), and for the directory counted as an outage.
 */
export const RETRIED_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504]

/** One request to an upstream: what to send, and how often to try. */
export interface UpstreamRequest {
  readonly method?: 'get' | 'post'
  readonly url: string | URL
  /** Headers, or a function returning them, asked once per call within its deadline. */
  readonly headers?:
    | Readonly<Record<string, string>>
    | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>)
    | undefined
  /** A JSON body (`post`). */
  readonly json?: unknown
  /**
   * Tries after the first, for a network error, an attempt that timed out, or one of
   * {@link RETRIED_STATUSES}; each waits 100 ms doubling to 1 s, jittered, or what `Retry-After`
   * asks. Every request the core makes may be repeated (the directory's `ensure` is
   * get-or-create), so `post` is retried too. Default 1.
   */
  readonly retries?: number | undefined
  /** Deadline of one attempt, in milliseconds. Default: the whole call's `timeoutMs`. */
  readonly attemptTimeoutMs?: number | undefined
}

/**
 * The one way the core calls an upstream (the key set, the user directory, `/userinfo`, the
 * Management API, WebFinger): {@link callUpstream}'s deadline over the body, byte cap and refusal
 * of redirects, with one retry policy. `read` decides from the answer, as for `callUpstream`.
 *
 * @example
 * ```ts
 * const profile = await upstreamRequest(
 *   { upstream: 'userinfo', timeoutMs: 3_000, maxBytes: 16_384 },
 *   { url: `${issuer}userinfo`, headers: { authorization: `Bearer ${token}` } },
 *   (response) => response.json(),
 * )
 * ```
 */
export function upstreamRequest<T>(
  limits: UpstreamLimits,
  request: UpstreamRequest,
  read: (response: UpstreamResponse) => T | Promise<T>,
): Promise<T> {
  const method = request.method ?? 'get'
  return callUpstream(
    limits,
    async (init) =>
      ky(request.url, {
        ...init,
        method,
        headers: {
          accept: 'application/json',
          ...(typeof request.headers === 'function' ? await request.headers() : request.headers),
        },
        ...(request.json === undefined ? {} : { json: request.json }),
        timeout: request.attemptTimeoutMs ?? limits.timeoutMs,
        throwHttpErrors: true,
        retry: {
          limit: request.retries ?? 1,
          methods: [method],
          statusCodes: [...RETRIED_STATUSES],
          afterStatusCodes: [429, 503],
          maxRetryAfter: limits.timeoutMs,
          retryOnTimeout: true,
          delay: (attempt) => 100 * 2 ** (attempt - 1),
          backoffLimit: 1_000,
          jitter: true,
        },
      }),
    read,
  )
}
