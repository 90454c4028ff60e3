import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Auth } from '../core/auth.js'
import { handleDiscoverRequest } from '../core/discovery/handler.js'
import { errorAnswer, type HttpAnswer } from '../core/http/answer.js'
import { createGuard, type RequireAuthOptions } from '../core/http/guard.js'
import type { AuthContext } from '../core/types.js'

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireAuth`: the canonical user. Absent on an optional route without a token. */
      auth?: AuthContext
    }
  }
}

export type { RequireAuthOptions, Requirement } from '../core/http/guard.js'

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
  return (req: Request, res: Response, next: NextFunction) => {
    guard({ headers: req.headers }).then(
      (context) => {
        if (context !== undefined) req.auth = context
        next()
      },
      (error: unknown) => (options.delegateErrors ? next(error) : send(res, errorAnswer(error))),
    )
  }
}

/**
 * `POST /public/auth/discover` for Express: reads `{ "email": "…" }` (from `req.body` when a body
 * parser ran, else from the request itself: `application/json`, at most 4 KiB, within 5 seconds)
 * and answers how that email logs in.
 *
 * @example
 * ```ts
 * app.post('/public/auth/discover', discoverHandler(auth))
 * ```
 */
export function discoverHandler(auth: Auth): RequestHandler {
  return (req: Request, res: Response) => {
    handleDiscoverRequest(auth, {
      body: req.body as unknown,
      stream: req,
      contentType: req.headers['content-type'],
      client: req.ip ?? '',
    }).then(
      (answer) => send(res, answer),
      (error: unknown) => send(res, errorAnswer(error)),
    )
  }
}
