// A Vercel Edge function's shape: one shared `Auth` behind the fetch adapter, configured from the
// global the test sets before the first request.

import { requireAuth } from '../../../src/adapters/fetch.js'
import { type AuthConfig, createAuth } from '../../../src/index.js'

declare const CONFIG: AuthConfig
let guard: ReturnType<typeof requireAuth> | undefined

async function handler(request: Request): Promise<Response> {
  guard ??= requireAuth(createAuth(CONFIG))
  const auth = await guard(request)
  if (auth instanceof Response) return auth
  return Response.json({
    userId: auth.userId,
    subject: auth.token?.subject,
    nodeCrypto: typeof (globalThis as { process?: unknown }).process !== 'undefined',
  })
}

;(globalThis as { handler?: typeof handler }).handler = handler
