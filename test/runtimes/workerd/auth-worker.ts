// The service under test on workerd: one shared `Auth` per route, kept across requests as a
// Worker keeps module state, behind the fetch adapter. Every fetch it makes goes to the upstream
// worker (its global outbound), which serves the key set.

import { type FetchContext, requireAuth } from '../../../src/adapters/fetch.js'
import { createAuth } from '../../../src/index.js'

const config = {
  auth0: {
    issuer: 'http://127.0.0.1/',
    jwksUri: 'http://127.0.0.1/jwks.json',
    audience: 'https://api.test',
  },
  claims: { canonicalUserId: 'https://example.test/uid' },
  // A copy is fresh for a second and served a second longer; a fetch may take 500 ms.
  jwks: { maxAgeMs: 1_000, staleIfErrorMs: 1_000, timeoutMs: 500, cooldownMs: 1_000 },
  cache: { tokens: false as const },
}

// Two instances, so that the route that passes waitUntil and the one that does not never share
// a key set.
const withWaitUntil = requireAuth(createAuth(config))
const withoutWaitUntil = requireAuth(createAuth(config))

export default {
  async fetch(request: Request, _env: unknown, ctx: FetchContext): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/stats') return fetch('http://127.0.0.1/stats')
    const guard =
      pathname === '/with-wait-until'
        ? (r: Request) => withWaitUntil(r, ctx)
        : pathname === '/without-wait-until'
          ? (r: Request) => withoutWaitUntil(r)
          : undefined
    if (guard === undefined) return new Response('not found', { status: 404 })
    const auth = await guard(request)
    if (auth instanceof Response) return auth
    return Response.json({ userId: auth.userId, nodeCrypto: typeof process !== 'undefined' })
  },
}
