// A Cloudflare Worker: one `Auth` per isolate, shared by every request it serves, built on the
// first request from the `AUTH_CONFIG` binding (the createAuth configuration as JSON; or write
// the configuration here in code). Background work goes to the platform's waitUntil.
import { type Auth, type AuthConfig, createAuth } from 'canonical-auth'
import { discoverHandler, type FetchContext, requireAuth } from 'canonical-auth/fetch'

interface Env {
  readonly AUTH_CONFIG: AuthConfig
}

let routes:
  | {
      readonly auth: Auth
      readonly profile: ReturnType<typeof requireAuth>
      readonly discover: ReturnType<typeof discoverHandler>
    }
  | undefined

function routesFor(env: Env) {
  if (routes === undefined) {
    const auth = createAuth(env.AUTH_CONFIG)
    routes = { auth, profile: requireAuth(auth), discover: discoverHandler(auth) }
  }
  return routes
}

export default {
  async fetch(request: Request, env: Env, ctx: FetchContext): Promise<Response> {
    const { profile, discover } = routesFor(env)
    const { pathname } = new URL(request.url)
    if (request.method === 'POST' && pathname === '/public/auth/discover') {
      return discover(request, { client: request.headers.get('cf-connecting-ip') ?? '' })
    }
    if (request.method === 'GET' && pathname === '/profile') {
      const user = await profile(request, ctx)
      if (user instanceof Response) return user
      return Response.json({ userId: user.userId, email: user.user.email ?? null })
    }
    if (pathname === '/healthz') return Response.json({ ok: true })
    return new Response('not found', { status: 404 })
  },
}
