import { type AuthConfig, createAuth } from 'canonical-auth'
import { discoverHandler, requireAuth } from 'canonical-auth/hono'
import { Hono } from 'hono'

/**
 * A Hono service: the same protection, the same answers. `app.fetch` runs on Node (through
 * @hono/node-server), Cloudflare Workers, Deno and Bun alike.
 */
export function createHonoService(config: AuthConfig) {
  const auth = createAuth(config)
  const app = new Hono()
  app.post('/public/auth/discover', discoverHandler(auth))
  app.get('/profile', requireAuth(auth), (c) => {
    const user = c.get('auth')
    return c.json({ userId: user?.userId, email: user?.user.email ?? null })
  })
  app.get('/healthz', (c) => c.json({ ok: true }))
  return { app, auth }
}
