import { type AuthConfig, createAuth } from 'canonical-auth'
import { discoverHandler, requireAuth } from 'canonical-auth/koa'
import Koa from 'koa'

/** A Koa service: the same protection, the same answers. */
export function createKoaService(config: AuthConfig) {
  const auth = createAuth(config)
  const app = new Koa()
  const protect = requireAuth(auth)
  const discover = discoverHandler(auth)

  app.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/public/auth/discover') return discover(ctx, next)
    if (ctx.method === 'GET' && ctx.path === '/profile') {
      return protect(ctx, async () => {
        ctx.body = { userId: ctx.state.auth?.userId, email: ctx.state.auth?.user.email ?? null }
      })
    }
    if (ctx.method === 'GET' && ctx.path === '/healthz') {
      ctx.body = { ok: true }
      return
    }
    await next()
  })
  return { app, auth }
}
