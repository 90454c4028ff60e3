import { type Auth, internalsOf } from './auth.js'
import type { Discovery } from './discovery.js'
import type { RateLimitDecision, RateLimitHook } from './discovery-config.js'
import { AuthError } from './errors.js'
import { errorAnswer, type HttpAnswer, jsonAnswer } from './respond.js'

/** What the discover endpoint reads from a request. */
export interface DiscoverRequest {
  /** The parsed JSON body, or the raw body (string or bytes) when no body parser ran. */
  readonly body: unknown
  /** Who is asking, for the rate limit hook (usually the client IP). */
  readonly client?: string
}

export interface DiscoverSteps {
  readonly rateLimit: RateLimitHook | undefined
  discover(email: unknown): Promise<Discovery>
}

const MAX_BODY_BYTES = 4_096

/**
 * `POST /public/auth/discover` with `{ "email": "…" }`, written once for every adapter: 200 with
 * the {@link Discovery}, 400 `invalid_request` for a bad body or email, 429 when the rate limit
 * hook refuses, 502 when a source is down. It never asks the user directory, so its answer does
 * not depend on whether the user exists.
 */
export async function answerDiscover(
  request: DiscoverRequest,
  steps: DiscoverSteps,
): Promise<HttpAnswer> {
  try {
    if (steps.rateLimit !== undefined) await enforceRateLimit(steps.rateLimit, request.client ?? '')
    const email = readEmail(request.body)
    return jsonAnswer(await steps.discover(email))
  } catch (error) {
    return errorAnswer(error)
  }
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
 * Answers `POST /public/auth/discover` for any HTTP framework: pass the body (parsed or raw) and
 * the client's address, write out the {@link HttpAnswer}. The Express, Fastify and Koa adapters'
 * `discoverHandler` is this function.
 *
 * @example
 * ```ts
 * // e.g. in a fetch-style handler
 * const { status, headers, body } = await handleDiscoverRequest(auth, { body: await request.text(), client: ip })
 * return new Response(JSON.stringify(body), { status, headers })
 * ```
 */
export function handleDiscoverRequest(auth: Auth, request: DiscoverRequest): Promise<HttpAnswer> {
  const { rateLimit } = internalsOf(auth)
  return answerDiscover(request, {
    rateLimit,
    discover: (email) => auth.discoverAuthProvider(email as string),
  })
}
