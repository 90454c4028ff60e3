/** `npm run example:koa-service` (Koa). Same environment as platform-api. */
import { served, withConfig } from '../local-stack.js'
import { createKoaService } from './app.js'

await withConfig(
  'koa-service (Koa)',
  async (config) => {
    const { app, auth } = createKoaService(config)
    const server = await served(app.listen(Number(process.env.PORT ?? 3003), '127.0.0.1'))
    return {
      url: server.url,
      close: async () => {
        await server.close()
        await auth.close()
      },
    }
  },
  '/profile',
)
