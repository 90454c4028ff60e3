import { type AuthConfig, createAuth } from 'canonical-auth'
import canonicalAuth from 'canonical-auth/fastify'
import Fastify from 'fastify'

/**
 * agentic-backend: embeds canonical-auth itself instead of calling platform-api's /validate.
 * Agents forward the user's token as `X-User-Token`; browsers send `Authorization: Bearer`.
 */
export async function createAgenticBackend(config: AuthConfig) {
  const auth = createAuth(config)
  const app = Fastify()
  await app.register(canonicalAuth, { auth })

  app.get('/workflows', { preHandler: app.requireAuth() }, async (request) => ({
    userId: request.auth?.userId,
    source: request.auth?.user.source,
    workflows: [],
  }))

  app.get(
    '/workflows/admin',
    { preHandler: app.requireAuth({ permissions: ['workflows:admin'] }) },
    async (request) => ({
      userId: request.auth?.userId,
    }),
  )

  app.get('/healthz', async () => ({ ok: true }))
  app.addHook('onClose', () => auth.close())
  return { app, auth }
}
