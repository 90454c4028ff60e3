import type { Auth } from '../auth.js'
import type { Discovery } from '../discovery/discoverer.js'
import { AuthError, isAuthError } from '../errors.js'
import { errorAnswer, type HttpAnswer, jsonAnswer } from './answer.js'
import { type BodyRead, readBody } from './request-body.js'

/** What the discover endpoint reads from a request. */
export interface DiscoverRequest {
  /**
   * The body a body parser produced (usually the parsed JSON), or the raw body as a string or
   * bytes. Leave it undefined to have the body read from `stream`.
   */
  readonly body?: unknown
  /**
   * The request body as a stream (a Node `IncomingMessage` is one), read when `body` is
   * undefined: only with `Content-Type: application/json`, at most 4 KiB, and within 5 seconds.
   * An answer given before this stream was read to its end carries `connection: close`, so the
   * rest of the body is never waited for.
   */
  readonly stream?: AsyncIterable<Uint8Array | string> | undefined
  /** The request's `Content-Type` header, checked when the body is read from `stream`. */
  readonly contentType?: string | undefined
  /** Who is asking, for the rate limit hook (usually the client IP). */
  readonly client?: string
}

/** Decides whether a client may call discovery now. `client` is what the adapter passes (the IP). */
export type RateLimitHook = (
  client: string,
) => RateLimitDecision | boolean | Promise<RateLimitDecision | boolean>

/** A rate limit hook's answer. */
export interface RateLimitDecision {
  allowed: boolean
  /** Sent as `Retry-After` when refused, in seconds. */
  retryAfterSeconds?: number
}

/** Options of the discover endpoint, in every adapter. */
export interface DiscoverHandlerOptions {
  /**
   * Per-client rate limit: called with the client's address before each lookup; `false` (or
   * `{ allowed: false, retryAfterSeconds }`) answers 429 `rate_limited`. Default none.
   */
  rateLimit?: RateLimitHook
}

export interface DiscoverSteps {
  readonly rateLimit: RateLimitHook | undefined
  discover(email: unknown): Promise<Discovery>
}

const MAX_BODY_BYTES = 4_096
// A `{ "email": "…" }` body arrives in milliseconds; one that takes longer is holding the
// connection open on purpose.
const BODY_DEADLINE_MS = 5_000
// RFC 8259 JSON, in UTF-8: `application/json`, with at most a `charset=utf-8` parameter.
const JSON_CONTENT_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i

/**
 * `POST /public/auth/discover` with `{ "email": "…" }`, written once for every adapter: 200 with
 * the {@link Discovery}, 400 `invalid_request` for a bad body or email (a body read from the
 * stream must be `application/json`, at most 4 KiB, and arrive within 5 seconds), 429 when the rate
 * limit hook refuses, 502 when a source is down. It never asks the user directory, so its answer
 * does not depend on whether the user exists.
 */
export async function answerDiscover(
  request: DiscoverRequest,
  steps: DiscoverSteps,
): Promise<HttpAnswer> {
  let body = request.body
  if (body === undefined && request.stream !== undefined) {
    try {
      body = await readJsonBody(request.stream, request.contentType)
    } catch (error) {
      // The rest of the body may still be on its way: answer, then close the connection.
      return closing(errorAnswer(error))
    }
  }
  try {
    if (steps.rateLimit !== undefined) await enforceRateLimit(steps.rateLimit, request.client ?? '')
    const email = readEmail(body)
    return jsonAnswer(await steps.discover(email))
  } catch (error) {
    return errorAnswer(error)
  }
}

/**
 * The answer to a discover request whose `Content-Type` is not JSON, for an adapter whose
 * framework refuses a malformed `Content-Type` before the core sees the request. The body is
 * not read, so the connection closes after the answer.
 */
export function notJsonAnswer(): HttpAnswer {
  return closing(errorAnswer(notJson()))
}

function notJson(): AuthError {
  return new AuthError('invalid_request', 'Expected a JSON body (Content-Type: application/json)')
}

async function readJsonBody(
  stream: AsyncIterable<Uint8Array | string>,
  contentType: string | undefined,
): Promise<Uint8Array> {
  if (contentType === undefined || !JSON_CONTENT_TYPE.test(contentType)) throw notJson()
  let read: BodyRead
  try {
    read = await readBody(stream, { limit: MAX_BODY_BYTES, deadlineMs: BODY_DEADLINE_MS })
  } catch (error) {
    if (isAuthError(error)) throw error
    // The client went away or its body is broken mid-way.
    throw new AuthError('invalid_request', 'The request body could not be read', { cause: error })
  }
  if (!read.ended) throw new AuthError('invalid_request', 'The request body is too large')
  return read.bytes
}

function closing(answer: HttpAnswer): HttpAnswer {
  return { ...answer, headers: { ...answer.headers, connection: 'close' } }
}

async function enforceRateLimit(hook: RateLimitHook, client: string): Promise<void> {
  const decision: RateLimitDecision | boolean = await hook(client)
  const allowed = typeof decision === 'boolean' ? decision : decision.allowed
  if (allowed) return
  const retryAfterSeconds = typeof decision === 'boolean' ? undefined : decision.retryAfterSeconds
  throw new AuthError(
    'rate_limited',
    undefined,
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  )
}

function readEmail(body: unknown): unknown {
  let value = body
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const size = typeof value === 'string' ? value.length : value.byteLength
    if (size > MAX_BODY_BYTES)
      throw new AuthError('invalid_request', 'The request body is too large')
    const text =
      typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: false }).decode(value)
    try {
      value = JSON.parse(text)
    } catch {
      throw new AuthError('invalid_request', 'The request body is not JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError('invalid_request', 'Expected a JSON object { "email": "…" }')
  }
  const email = (value as { email?: unknown }).email
  if (typeof email !== 'string')
    throw new AuthError('invalid_request', 'Expected a JSON object { "email": "…" }')
  return email
}

/**
 * Answers `POST /public/auth/discover` for any HTTP framework: pass the body (parsed or raw), or
 * the request stream and its `Content-Type`, and the client's address; write out the
 * {@link HttpAnswer} as it is, headers included. The Express, Fastify and Koa adapters'
 * `discoverHandler` is this function.
 *
 * @example
 * ```ts
 * // a Node http server with no body parser
 * const answer = await handleDiscoverRequest(
 *   auth,
 *   { stream: req, contentType: req.headers['content-type'], client: req.socket.remoteAddress ?? '' },
 *   { rateLimit: (client) => limiter.tryTake(client) },
 * )
 * res.writeHead(answer.status, answer.headers).end(JSON.stringify(answer.body))
 * ```
 */
export function handleDiscoverRequest(
  auth: Auth,
  request: DiscoverRequest,
  options: DiscoverHandlerOptions = {},
): Promise<HttpAnswer> {
  return answerDiscover(request, {
    rateLimit: options.rateLimit,
    discover: (email) => auth.discoverAuthProvider(email as string),
  })
}
