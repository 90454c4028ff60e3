/** `npm run example:koa-service` (Koa). Same environment as platform-api. */
import type { AddressInfo } from 'node:net'
import { withConfig } from '../local-stack.js'
import { createKoaService } from './app.js'

await withConfig(
  'koa-service (Koa)',
  async (config) => {
    const { app, auth } = createKoaService(config)
    const server = app.listen(Number(process.env.PORT ?? 3003), '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        server.close()
        await auth.close()
      },
    }
  },
  '/profile',
)
