// The key set's server, a worker of its own: counts fetches, and answers refreshes (every fetch
// after the first) only after 300 ms, so that the request that starts one ends before it does.
interface Env {
  readonly JWKS: unknown
}

let fetches = 0

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/stats') return Response.json({ jwks: fetches })
    if (pathname !== '/jwks.json') return new Response('not found', { status: 404 })
    fetches += 1
    if (fetches > 1) await new Promise((resolve) => setTimeout(resolve, 300))
    return Response.json(env.JWKS)
  },
}
