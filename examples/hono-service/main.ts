/** `npm run example:hono-service` (Hono on Node). Same environment as platform-api. */
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { served, withConfig } from '../local-stack.js'
import { createHonoService } from './app.js'

await withConfig(
  'hono-service (Hono)',
  async (config) => {
    const { app, auth } = createHonoService(config)
    const server = createAdaptorServer({ fetch: app.fetch }) as Server
    server.listen(Number(process.env.PORT ?? 3005), '127.0.0.1')
    const running = await served(server)
    return {
      url: running.url,
      close: async () => {
        await running.close()
        await auth.close()
      },
    }
  },
  '/profile',
)
