import {
  type Auth,
  type AuthContext,
  bodyChunks,
  createGuard,
  type DiscoverHandlerOptions,
  errorAnswer,
  type HttpAnswer,
  handleDiscoverRequest,
  metadataAnswer,
  type RequireAuthOptions,
  requireProtectedResource,
  type WaitUntil,
} from '../core/http/index.js'

export type {
  ClaimRules,
  ClaimValue,
  DiscoverHandlerOptions,
  ProtectedResourceMetadata,
  RateLimitDecision,
  RateLimitHook,
  RequireAuthOptions,
  ScopeRequirement,
} from '../core/http/index.js'

/**
 * What a platform hands a fetch handler beside the request: Cloudflare Workers' `ctx`, Vercel's
 * or Netlify's context. `waitUntil` keeps background work (a key set refresh) going after the
 * answer.
 */
export interface FetchContext {
  waitUntil?(task: Promise<unknown>): void
}

/** A route's check: the request's `AuthContext`, or the `Response` that refuses it. */
export type FetchGuard<T extends AuthContext | undefined = AuthContext> = (
  request: Request,
  context?: FetchContext,
) => Promise<T | Response>

/** The standard answer as a `Response`: status, JSON body, `WWW-Authenticate`, `Cache-Control`. */
export function toResponse(answer: HttpAnswer): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: answer.headers,
  })
}

/**
 * A route's check for any `fetch` handler (Cloudflare Workers, Deno, Bun, Vercel Edge, Node's own
 * servers): resolves to the request's `AuthContext`, or to the `Response` that refuses it (400/401/
 * 403/502/503, JSON, `WWW-Authenticate`), which the handler returns as it is. With
 * `optional: true`, a request without a token resolves to `undefined`; with `delegateErrors`,
 * refusals reject with the `AuthError` instead. A DPoP request that succeeds with server nonces
 * carries the next nonce in `auth.dpop.nonce`: send it as the `DPoP-Nonce` header.
 *
 * @example
 * ```ts
 * const guard = requireAuth(auth, { scopes: ['read:reports'] })
 * export default {
 *   async fetch(request: Request, env: unknown, ctx: ExecutionContext) {
 *     const auth = await guard(request, ctx)
 *     if (auth instanceof Response) return auth
 *     return Response.json({ userId: auth.userId })
 *   },
 * }
 * ```
 */
export function requireAuth(
  auth: Auth,
  options: RequireAuthOptions & { optional: true },
): FetchGuard<AuthContext | undefined>
export function requireAuth(auth: Auth, options?: RequireAuthOptions): FetchGuard
export function requireAuth(
  auth: Auth,
  options: RequireAuthOptions = {},
): FetchGuard<AuthContext | undefined> {
  const guard = createGuard(auth, options)
  const refuse = (error: unknown): Response => {
    if (options.delegateErrors) throw error
    return toResponse(errorAnswer(error))
  }
  return (request, context) => {
    const result = guard({
      headers: request.headers,
      method: request.method,
      url: request.url,
      waitUntil: waitUntilOf(context),
    })
    if (!(result instanceof Promise)) return Promise.resolve(result)
    return result.catch(refuse)
  }
}

/** The platform's `waitUntil`, called on its context (Workers refuse a detached one). */
function waitUntilOf(context: FetchContext | undefined): WaitUntil | undefined {
  if (context?.waitUntil === undefined) return undefined
  return (task) => context.waitUntil?.(task)
}

/**
 * `POST /public/auth/discover` for any `fetch` handler: reads `{ "email": "…" }` from the request
 * (`application/json`, at most 4 KiB, within 5 seconds) and answers how that email logs in.
 * `client` (the caller's address, as the platform tells it) is what the rate limit hook is given.
 *
 * @example
 * ```ts
 * const discover = discoverHandler(auth, { rateLimit: (ip) => limiter.take(ip) })
 * // Cloudflare Workers
 * return discover(request, { client: request.headers.get('cf-connecting-ip') ?? '' })
 * ```
 */
export function discoverHandler(
  auth: Auth,
  options: DiscoverHandlerOptions = {},
): (request: Request, context?: { client?: string }) => Promise<Response> {
  return async (request, context) => {
    try {
      const answer = await handleDiscoverRequest(
        auth,
        {
          stream: bodyChunks(request.body),
          contentType: request.headers.get('content-type') ?? undefined,
          ...(context?.client === undefined ? {} : { client: context.client }),
        },
        options,
      )
      return toResponse(answer)
    } catch (error) {
      return toResponse(errorAnswer(error))
    }
  }
}

/**
 * `GET /.well-known/oauth-protected-resource` for any `fetch` handler: the RFC 9728 metadata
 * document of the `protectedResource` configured in `createAuth`. Serve it at the path of the
 * metadata URL (`protectedResourceMetadataUrl(auth)`).
 *
 * @throws TypeError when the instance has no `protectedResource`.
 */
export function metadataHandler(auth: Auth): (request?: Request) => Response {
  const answer = metadataAnswer(requireProtectedResource(auth, 'metadataHandler'))
  return () => toResponse(answer)
}
