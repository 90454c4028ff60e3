import type { Context, Handler, MiddlewareHandler } from 'hono'
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

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
    auth: AuthContext | undefined
  }
}

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

function send(c: Context, answer: HttpAnswer): Response {
  return c.newResponse(JSON.stringify(answer.body), answer.status as 200, answer.headers)
}

/**
 * The platform's `waitUntil` (Cloudflare Workers, Vercel, Netlify), asked for only when a
 * background task starts: Hono throws when a request has no execution context (Node, Bun).
 */
function waitUntilOf(c: Context): WaitUntil {
  return (task) => {
    let context: { waitUntil(task: Promise<unknown>): void } | undefined
    try {
      context = c.executionCtx
    } catch {
      return
    }
    context.waitUntil(task)
  }
}

/**
 * Hono middleware (Hono 4): authenticates the request and puts the canonical user on
 * `c.get('auth')`, or answers 400/401/403/502/503 as JSON with `WWW-Authenticate`. Background work
 * (a key set refresh) goes to the execution context's `waitUntil` where the runtime has one.
 * `delegateErrors` throws the `AuthError` to `app.onError` instead.
 *
 * @example
 * ```ts
 * app.get('/reports', requireAuth(auth, { scopes: ['read:reports'] }), (c) =>
 *   c.json({ userId: c.get('auth')?.userId }),
 * )
 * ```
 */
export function requireAuth(auth: Auth, options: RequireAuthOptions = {}): MiddlewareHandler {
  const guard = createGuard(auth, options)
  return async (c, next) => {
    const result = guard({
      headers: c.req.raw.headers,
      method: c.req.method,
      url: c.req.url,
      waitUntil: waitUntilOf(c),
    })
    let context: AuthContext | undefined
    if (result instanceof Promise) {
      try {
        context = await result
      } catch (error) {
        if (options.delegateErrors) throw error
        return send(c, errorAnswer(error))
      }
      const nonce = context?.dpop?.nonce
      if (nonce !== undefined) c.header('dpop-nonce', nonce)
    } else {
      context = result
    }
    if (context !== undefined) c.set('auth', context)
    await next()
    return undefined
  }
}

/**
 * `POST /public/auth/discover` for Hono: reads `{ "email": "…" }` from the request
 * (`application/json`, at most 4 KiB, within 5 seconds) and answers how that email logs in. The
 * rate limit hook is given `client(c)`, the caller's address as your runtime tells it (Hono's
 * `getConnInfo`, or a header your proxy sets); without `client`, every caller shares one limit.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@hono/node-server/conninfo'
 * app.post('/public/auth/discover', discoverHandler(auth))
 * app.post('/public/auth/discover', discoverHandler(auth, {
 *   rateLimit: (ip) => limiter.take(ip),
 *   client: (c) => getConnInfo(c).remote.address,
 * }))
 * ```
 */
export function discoverHandler(
  auth: Auth,
  options: DiscoverHandlerOptions & { client?: (c: Context) => string | undefined } = {},
): Handler {
  const clientOf = options.client
  return async (c) => {
    try {
      const client = clientOf?.(c)
      const answer = await handleDiscoverRequest(
        auth,
        {
          stream: bodyChunks(c.req.raw.body),
          contentType: c.req.header('content-type'),
          ...(client === undefined ? {} : { client }),
        },
        options,
      )
      return send(c, answer)
    } catch (error) {
      return send(c, errorAnswer(error))
    }
  }
}

/**
 * `GET /.well-known/oauth-protected-resource` for Hono: the RFC 9728 metadata document of the
 * `protectedResource` configured in `createAuth`.
 *
 * @throws TypeError when the instance has no `protectedResource`.
 * @example
 * ```ts
 * app.get('/.well-known/oauth-protected-resource', metadataHandler(auth))
 * ```
 */
export function metadataHandler(auth: Auth): Handler {
  const answer = metadataAnswer(requireProtectedResource(auth, 'metadataHandler'))
  return (c) => send(c, answer)
}
