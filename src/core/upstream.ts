import { HTTPError, TimeoutError } from 'ky'

/**
 * A failure of an upstream call (the user directory, `/userinfo`), safe to log.
 *
 * ky's errors keep the request (URL with an email in it, headers with the service credential or
 * the user's token) and the response. This keeps only what an operator needs: which upstream,
 * what kind of failure, and the status.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  /** Which upstream failed, e.g. `directory`. */
  readonly upstream: string
  /** `timeout`, `network`, `status`, `invalid_response` or `aborted`. */
  readonly kind: 'timeout' | 'network' | 'status' | 'invalid_response' | 'aborted'
  /** The HTTP status, for `status`. */
  readonly status: number | undefined

  constructor(upstream: string, kind: UpstreamError['kind'], detail: string, status?: number) {
    super(`${upstream}: ${detail}`)
    this.upstream = upstream
    this.kind = kind
    this.status = status
  }
}

/** Turns whatever an upstream call threw into an {@link UpstreamError} with no request data. */
export function toUpstreamError(upstream: string, error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error
  if (error instanceof HTTPError) {
    return new UpstreamError(
      upstream,
      'status',
      `answered HTTP ${error.response.status}`,
      error.response.status,
    )
  }
  if (error instanceof TimeoutError) return new UpstreamError(upstream, 'timeout', 'timed out')
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError') return new UpstreamError(upstream, 'timeout', 'deadline exceeded')
  if (name === 'AbortError') return new UpstreamError(upstream, 'aborted', 'request aborted')
  if (error instanceof SyntaxError)
    return new UpstreamError(upstream, 'invalid_response', 'answered with invalid JSON')
  return new UpstreamError(upstream, 'network', 'could not be reached')
}
