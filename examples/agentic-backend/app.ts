import { type AuthConfig, type AuthEvent, createAuth } from 'canonical-auth'
import canonicalAuth from 'canonical-auth/fastify'
import Fastify, { type FastifyServerOptions } from 'fastify'

/** How loud each canonical-auth event is in the service's log. */
function levelOf(event: AuthEvent): 'debug' | 'info' | 'warn' {
  switch (event.type) {
    case 'token.rejected':
    case 'user.unresolved':
      return 'info'
    case 'circuit.state':
      return 'warn'
    case 'directory.call':
    case 'jwks.fetch':
    case 'cache.store':
      return event.outcome === 'error' || event.outcome === 'timeout' ? 'warn' : 'debug'
    default:
      return 'debug'
  }
}

/**
 * agentic-backend: embeds canonical-auth itself instead of calling platform-api's /validate.
 * Agents forward the user's token as `X-User-Token`; browsers send `Authorization: Bearer`.
 * canonical-auth's events go to Fastify's logger as structured lines (`auth: { type, … }`); they
 * never carry a token, an email or a sub.
 */
export async function createAgenticBackend(
  config: AuthConfig,
  options: { logger?: FastifyServerOptions['logger'] } = {},
) {
  const app = Fastify({ logger: options.logger ?? false })
  const auth = createAuth({
    ...config,
    onEvent: (event) => {
      app.log[levelOf(event)]({ auth: event }, event.type)
      return config.onEvent?.(event)
    },
  })
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
