import type { Context, Middleware, Next } from 'koa'
import {
  type Auth,
  type AuthContext,
  createGuard,
  type DiscoverHandlerOptions,
  errorAnswer,
  type HttpAnswer,
  handleDiscoverRequest,
  metadataAnswer,
  type RequireAuthOptions,
  requestUrl,
  requireProtectedResource,
} from '../core/http/index.js'

declare module 'koa' {
  interface DefaultState {
    /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
    auth?: AuthContext
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

function send(ctx: Context, answer: HttpAnswer): void {
  ctx.status = answer.status
  ctx.set(answer.headers as Record<string, string>)
  ctx.body = JSON.stringify(answer.body)
}

/**
 * Koa middleware: authenticates the request and puts the canonical user on `ctx.state.auth`, or
 * answers 400/401/403/502/503 as JSON with `WWW-Authenticate`. Works with Koa 2 and 3.
 *
 * @example
 * ```ts
 * router.get('/reports', requireAuth(auth, { scopes: ['read:reports'] }), (ctx) => {
 *   ctx.body = { userId: ctx.state.auth?.userId }
 * })
 * ```
 */
export function requireAuth(auth: Auth, options: RequireAuthOptions = {}): Middleware {
  const guard = createGuard(auth, options)
  const refuse = (ctx: Context, error: unknown): void => {
    if (options.delegateErrors) throw error
    send(ctx, errorAnswer(error))
  }
  return (ctx: Context, next: Next) => {
    // Only a request with a DPoP proof needs its method and URL (protocol and host honour
    // X-Forwarded-* only when the app's `proxy` is set). `ctx.headers` is a getter: read once.
    const headers = ctx.headers
    const result = guard(
      headers.dpop === undefined
        ? { headers }
        : {
            headers,
            method: ctx.method,
            url: () => requestUrl(ctx.protocol, ctx.host, ctx.originalUrl),
          },
    )
    // A token and user in memory: on to the next middleware at once.
    if (!(result instanceof Promise)) {
      if (result !== undefined) ctx.state.auth = result
      return next()
    }
    return result.then(
      (context) => {
        if (context !== undefined) ctx.state.auth = context
        const nonce = context?.dpop?.nonce
        if (nonce !== undefined) ctx.set('dpop-nonce', nonce)
        return next()
      },
      (error: unknown) => refuse(ctx, error),
    )
  }
}

/**
 * `POST /public/auth/discover` for Koa: reads `{ "email": "…" }` (from `ctx.request.body` when a
 * body parser ran, else from the request itself: `application/json`, at most 4 KiB, within 5
 * seconds) and answers how that email logs in.
 *
 * @example
 * ```ts
 * router.post('/public/auth/discover', discoverHandler(auth))
 * // with a per-client rate limit
 * router.post('/public/auth/discover', discoverHandler(auth, { rateLimit: (ip) => limiter.take(ip) }))
 * ```
 */
export function discoverHandler(auth: Auth, options: DiscoverHandlerOptions = {}): Middleware {
  return async (ctx: Context) => {
    try {
      const answer = await handleDiscoverRequest(
        auth,
        {
          body: (ctx.request as { body?: unknown }).body,
          stream: ctx.req,
          contentType: ctx.req.headers['content-type'],
          client: ctx.ip,
        },
        options,
      )
      send(ctx, answer)
    } catch (error) {
      send(ctx, errorAnswer(error))
    }
  }
}

/**
 * `GET /.well-known/oauth-protected-resource` for Koa: the RFC 9728 metadata document of the
 * `protectedResource` configured in `createAuth` (public, cacheable, readable from any origin).
 * Mount it at the path of the metadata URL: `/.well-known/oauth-protected-resource`, followed by
 * the resource identifier's path when it has one.
 *
 * @throws TypeError when the instance has no `protectedResource`.
 * @example
 * ```ts
 * router.get('/.well-known/oauth-protected-resource', metadataHandler(auth))
 * ```
 */
export function metadataHandler(auth: Auth): Middleware {
  const answer = metadataAnswer(requireProtectedResource(auth, 'metadataHandler'))
  return (ctx: Context) => {
    send(ctx, answer)
  }
}
