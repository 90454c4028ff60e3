/** `npm run example:platform-api` (Express). Env: PORT, AUTH0_DOMAIN, AUTH0_AUDIENCE, DIRECTORY_URL, DIRECTORY_TOKEN, TRUSTED_CONNECTIONS; without them, a local stack. */
import type { AddressInfo } from 'node:net'
import { withConfig } from '../local-stack.js'
import { createPlatformApi } from './app.js'

await withConfig(
  'platform-api (Express)',
  async (config) => {
    const { app, auth } = createPlatformApi(config)
    const server = app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.close()
        await auth.close()
      },
    }
  },
  '/validate',
)
