import { HTTPError, TimeoutError } from 'ky'
import { isAuthError } from '../errors.js'

/**
 * A failure of an upstream call (the user directory, `/userinfo`, the key set, the Management
 * API, WebFinger), safe to log.
 *
 * ky's errors keep the request (URL with an email in it, headers with the service credential or
 * the user's token) and the response. This keeps only what an operator needs: which upstream,
 * what kind of failure, and the status.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError'
  /** Which upstream failed, e.g. `directory`. */
  readonly upstream: string
  /**
   * `timeout` (the call's deadline passed, body included), `network`, `status` (an HTTP status
   * the call does not accept), `redirect` (a 3xx: never followed), `too_large` (a body past the
   * call's byte cap), `invalid_response` or `aborted`.
   */
  readonly kind:
    | 'timeout'
    | 'network'
    | 'status'
    | 'redirect'
    | 'too_large'
    | 'invalid_response'
    | 'aborted'
  /** The HTTP status, for `status` and `redirect`. */
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
  if (error instanceof HTTPError) return statusError(upstream, error.response.status)
  if (error instanceof TimeoutError) return new UpstreamError(upstream, 'timeout', 'timed out')
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TimeoutError') return new UpstreamError(upstream, 'timeout', 'deadline exceeded')
  if (name === 'AbortError') return new UpstreamError(upstream, 'aborted', 'request aborted')
  if (error instanceof SyntaxError)
    return new UpstreamError(upstream, 'invalid_response', 'answered with invalid JSON')
  return new UpstreamError(upstream, 'network', 'could not be reached')
}

/** The failure for an HTTP status a call does not accept. */
export function statusError(upstream: string, status: number): UpstreamError {
  return new UpstreamError(upstream, 'status', `answered HTTP ${status}`, status)
}

/** How one upstream call is bounded. */
export interface UpstreamLimits {
  /** Which upstream, for errors: `directory`, `userinfo`, `jwks`, `management`, `webfinger`. */
  readonly upstream: string
  /** One deadline for the whole call: connecting, retries, headers and the body. */
  readonly timeoutMs: number
  /** The most body bytes read; a longer body fails the call (`too_large`) and is not read on. */
  readonly maxBytes: number
  /** Also ends the call when it aborts: a caller's own deadline, an instance's `close()`. */
  readonly signal?: AbortSignal | undefined
}

/**
 * What `send` must pass to `fetch` or ky: the call's signal, and `redirect: 'manual'` so that no
 * redirect is followed (a 3xx comes back as an answer and fails the call). `'manual'` rather than
 * `'error'`, which Cloudflare's workerd refuses outright.
 */
export interface UpstreamInit {
  readonly signal: AbortSignal
  readonly redirect: 'manual'
}

/** An upstream's answer: its status and headers; its body is read only on request, bounded. */
export interface UpstreamResponse {
  readonly status: number
  readonly ok: boolean
  readonly headers: Headers
  /** The body as text, read within the call's deadline and byte cap. */
  text(): Promise<string>
  /** The body parsed as JSON; a body that is not JSON is an `invalid_response`. */
  json(): Promise<unknown>
}

/**
 * Makes one upstream call under one deadline that covers the body, with a byte cap, following no
 * redirect. `send` starts the request with the given {@link UpstreamInit} (ky's `HTTPError` is
 * taken as the answer it carries, so ky's retries still apply); a redirect fails the call before
 * `read` sees it; `read` decides from the answer and reads the body only through it. Whatever
 * body is left unread is cancelled, and the timer and listeners are released, when the call ends.
 *
 * An {@link UpstreamError} or an `AuthError` thrown by `read` passes through; anything else
 * becomes an {@link UpstreamError} that carries no URL, header or body.
 *
 * @example
 * ```ts
 * const document = await callUpstream(
 *   { upstream: 'jwks', timeoutMs: 5_000, maxBytes: 1_048_576 },
 *   (init) => fetch(jwksUri, { ...init, headers: { accept: 'application/json' } }),
 *   (response) => {
 *     if (!response.ok) throw statusError('jwks', response.status)
 *     return response.json()
 *   },
 * )
 * ```
 */
export async function callUpstream<T>(
  limits: UpstreamLimits,
  send: (init: UpstreamInit) => Promise<Response>,
  read: (response: UpstreamResponse) => T | Promise<T>,
): Promise<T> {
  const { upstream, signal: outer } = limits
  const controller = new AbortController()
  const signal = controller.signal
  const timer = setTimeout(
    () => controller.abort(new UpstreamError(upstream, 'timeout', 'deadline exceeded')),
    limits.timeoutMs,
  )
  const onOuterAbort = () => controller.abort(toUpstreamError(upstream, outer?.reason))
  if (outer?.aborted) onOuterAbort()
  else outer?.addEventListener('abort', onOuterAbort, { once: true })
  let response: Response | undefined
  let sent: Promise<Response> | undefined
  try {
    sent = answerOf(send({ signal, redirect: 'manual' }))
    response = await untilAborted(sent, signal)
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      throw new UpstreamError(
        upstream,
        'redirect',
        `answered HTTP ${response.status}, a redirect; not followed`,
        response.status,
      )
    }
    const body = boundedBody(response, limits, signal)
    return await read({
      status: response.status,
      ok: response.ok,
      headers: response.headers,
      text: body,
      async json() {
        const text = await body()
        try {
          return JSON.parse(text) as unknown
        } catch {
          throw new UpstreamError(upstream, 'invalid_response', 'answered with invalid JSON')
        }
      },
    })
  } catch (error) {
    if (error instanceof UpstreamError || isAuthError(error)) throw error
    if (signal.aborted) throw signal.reason
    throw toUpstreamError(upstream, error)
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onOuterAbort)
    // Ends whatever the request still holds (a connection with a body left unread); after a body
    // read to its end it changes nothing.
    controller.abort(new UpstreamError(upstream, 'aborted', 'call ended'))
    if (response === undefined) {
      // The deadline passed first; an answer that still arrives is not read.
      sent?.then(
        (late) => late.body && cancel(late.body),
        () => {},
      )
    } else if (response.body && !response.bodyUsed) cancel(response.body)
  }
}

/** The response of `send`; ky's HTTPError is an answer like any other here. */
async function answerOf(sent: Promise<Response>): Promise<Response> {
  try {
    return await sent
  } catch (error) {
    if (error instanceof HTTPError) return error.response
    throw error
  }
}

/** Reads the body once, stopping (and cancelling the stream) at the cap or the deadline. */
function boundedBody(
  response: Response,
  limits: UpstreamLimits,
  signal: AbortSignal,
): () => Promise<string> {
  let text: Promise<string> | undefined
  const tooLarge = () =>
    new UpstreamError(limits.upstream, 'too_large', `answered more than ${limits.maxBytes} bytes`)
  const readAll = async (): Promise<string> => {
    // The declared length is a fast path only; the count below is what holds.
    const declared = Number(response.headers.get('content-length') ?? 0)
    if (declared > limits.maxBytes) throw tooLarge()
    const stream = response.body
    if (stream === null) return ''
    const reader = stream.getReader()
    const decoder = new TextDecoder()
    let received = 0
    let result = ''
    let finished = false
    try {
      for (;;) {
        const { done, value } = await untilAborted(reader.read(), signal)
        if (done) break
        received += value.byteLength
        if (received > limits.maxBytes) throw tooLarge()
        result += decoder.decode(value, { stream: true })
      }
      finished = true
      return result + decoder.decode()
    } finally {
      // Not awaited: a tee'd stream's cancel settles only when every branch is cancelled.
      if (!finished) void reader.cancel().catch(() => {})
      try {
        reader.releaseLock()
      } catch {
        // A read still pending (the deadline passed first) keeps the lock on older runtimes.
      }
    }
  }
  return () => {
    text ??= readAll()
    return text
  }
}

/** `promise`, or the signal's reason as soon as it aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function cancel(body: ReadableStream<Uint8Array>): void {
  if (body.locked) return
  void body.cancel().catch(() => {})
}
