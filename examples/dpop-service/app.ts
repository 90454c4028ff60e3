import { type AuthConfig, createAuth } from 'canonical-auth'
import { requireAuth } from 'canonical-auth/express'
import express from 'express'

export interface DpopServiceOptions {
  /** The nonce secret, the same on every replica: 32 characters or more. */
  readonly nonceSecret: string
  /** The public origin clients call, when the service runs behind a proxy. */
  readonly origin?: string
}

/**
 * payments-api: a service that takes sender-constrained tokens only. A token stolen from a log or
 * a browser is worthless here without the client's private key, each proof is good for one
 * request, and proofs carry a nonce this service handed out.
 */
export function createDpopService(config: AuthConfig, options: DpopServiceOptions) {
  const auth = createAuth({
    ...config,
    dpop: {
      mode: 'required',
      nonce: { secret: options.nonceSecret },
      ...(options.origin === undefined ? {} : { origin: options.origin }),
    },
  })
  const app = express()
  app.disable('x-powered-by')
  // Browser clients read DPoP-Nonce only when CORS exposes it.
  app.use((_req, res, next) => {
    res.set('access-control-expose-headers', 'DPoP-Nonce, WWW-Authenticate')
    next()
  })

  app.get('/payments', requireAuth(auth, { scopes: ['read:payments'] }), (req, res) => {
    res.json({ userId: req.auth?.userId, boundTo: req.auth?.dpop?.thumbprint, payments: [] })
  })

  return { app, auth }
}
