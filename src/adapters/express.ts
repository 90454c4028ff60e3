import type { NextFunction, Request, RequestHandler, Response } from 'express'
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
  setRequestAuth,
} from '../core/http/index.js'

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
      auth?: AuthContext
    }
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

function send(res: Response, answer: HttpAnswer): void {
  res.status(answer.status).set(answer.headers).send(JSON.stringify(answer.body))
}

/**
 * Express middleware: authenticates the request and puts the canonical user on `req.auth`, or
 * answers 400/401/403/502/503 as JSON with `WWW-Authenticate`. Works with Express 4 and 5.
 *
 * @example
 * ```ts
 * app.get('/reports', requireAuth(auth, { scopes: ['read:reports'] }), (req, res) => {
 *   res.json({ userId: req.auth?.userId })
 * })
 * ```
 */
export function requireAuth(auth: Auth, options: RequireAuthOptions = {}): RequestHandler {
  const guard = createGuard(auth, options)
  const pass = (req: Request, next: NextFunction, context: AuthContext | undefined) => {
    if (context !== undefined) setRequestAuth(req, context)
    next()
  }
  return (req: Request, res: Response, next: NextFunction) => {
    // Only a request with a DPoP proof needs its method and URL.
    const result = guard(
      req.headers.dpop === undefined
        ? { headers: req.headers }
        : { headers: req.headers, method: req.method, url: () => urlOf(req) },
    )
    // A token and user in memory: on to the next handler at once.
    if (!(result instanceof Promise)) return pass(req, next, result)
    result.then(
      (context) => {
        const nonce = context?.dpop?.nonce
        if (nonce !== undefined) res.set('dpop-nonce', nonce)
        pass(req, next, context)
      },
      (error: unknown) => (options.delegateErrors ? next(error) : send(res, errorAnswer(error))),
    )
  }
}

/**
 * The URL the client called: `req.protocol` and the host as Express 5's `req.host` reads them
 * (`X-Forwarded-Proto` and `X-Forwarded-Host` only under `trust proxy`, in Express 4 too), and
 * the path before any router took its prefix.
 */
function urlOf(req: Request): string {
  const trust = req.app.get('trust proxy fn') as
    | ((address: string | undefined, hop: number) => boolean)
    | undefined
  let host = req.get('x-forwarded-host')
  if (host === undefined || trust?.(req.socket.remoteAddress, 0) !== true) host = req.get('host')
  else if (host.includes(',')) host = host.slice(0, host.indexOf(',')).trimEnd()
  return requestUrl(req.protocol, host, req.originalUrl)
}

/**
 * `POST /public/auth/discover` for Express: reads `{ "email": "…" }` (from `req.body` when a body
 * parser ran, else from the request itself: `application/json`, at most 4 KiB, within 5 seconds)
 * and answers how that email logs in.
 *
 * @example
 * ```ts
 * app.post('/public/auth/discover', discoverHandler(auth))
 * // with a per-client rate limit
 * app.post('/public/auth/discover', discoverHandler(auth, { rateLimit: (ip) => limiter.take(ip) }))
 * ```
 */
export function discoverHandler(auth: Auth, options: DiscoverHandlerOptions = {}): RequestHandler {
  return (req: Request, res: Response) => {
    handleDiscoverRequest(
      auth,
      {
        body: req.body as unknown,
        stream: req,
        contentType: req.headers['content-type'],
        client: req.ip ?? '',
      },
      options,
    ).then(
      (answer) => send(res, answer),
      (error: unknown) => send(res, errorAnswer(error)),
    )
  }
}

/**
 * `GET /.well-known/oauth-protected-resource` for Express: the RFC 9728 metadata document of the
 * `protectedResource` configured in `createAuth` (public, cacheable, readable from any origin).
 * Mount it at the path of the metadata URL: `/.well-known/oauth-protected-resource`, followed by
 * the resource identifier's path when it has one.
 *
 * @throws TypeError when the instance has no `protectedResource`.
 * @example
 * ```ts
 * app.get('/.well-known/oauth-protected-resource', metadataHandler(auth))
 * ```
 */
export function metadataHandler(auth: Auth): RequestHandler {
  const answer = metadataAnswer(requireProtectedResource(auth, 'metadataHandler'))
  return (_req: Request, res: Response) => send(res, answer)
}
