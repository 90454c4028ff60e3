/** `npm run example:platform-api` (Express). Env: PORT, AUTH0_DOMAIN, AUTH0_AUDIENCE, DIRECTORY_URL, DIRECTORY_TOKEN, TRUSTED_CONNECTIONS (connection:domain pairs), DIRECTORY_ALLOW_INSECURE_HTTP, REDIS_URL, REDIS_PREFIX, CACHE_SECRET; without them, a local stack. */
import { served, withConfig } from '../local-stack.js'
import { withSharedCache } from '../shared-cache.js'
import { createPlatformApi } from './app.js'

await withConfig(
  'platform-api (Express)',
  async (base) => {
    const shared = await withSharedCache(base)
    const { app, auth } = createPlatformApi(shared.config)
    const server = await served(app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1'))
    return {
      url: server.url,
      close: async () => {
        await server.close()
        await auth.close()
        await shared.close()
      },
    }
  },
  '/validate',
)
