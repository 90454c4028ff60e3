/** `npm run example:nest-service` (NestJS 12). Same environment as platform-api. */
import { withConfig } from '../local-stack.js'
import { createNestService } from './app.js'

await withConfig(
  'nest-service (NestJS)',
  async (config) => {
    const { app, auth } = await createNestService(config)
    await app.listen(Number(process.env.PORT ?? 3006), '127.0.0.1')
    return {
      url: await app.getUrl(),
      close: async () => {
        await app.close()
        await auth.close()
      },
    }
  },
  '/profile',
)
