/** `npm run example:agentic-backend` (Fastify). Same environment as platform-api, and LOG_LEVEL (default info; debug shows every auth event). */
import { withConfig } from '../local-stack.js'
import { createAgenticBackend } from './app.js'

await withConfig(
  'agentic-backend (Fastify)',
  async (config) => {
    const { app } = await createAgenticBackend(config, {
      logger: { level: process.env.LOG_LEVEL ?? 'info' },
    })
    const url = await app.listen({ port: Number(process.env.PORT ?? 3002), host: '127.0.0.1' })
    return { url, close: () => app.close() }
  },
  '/workflows',
)
