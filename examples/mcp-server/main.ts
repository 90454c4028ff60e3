/** `npm run example:mcp-server` (Express + the MCP TypeScript SDK). Same environment as platform-api; `PORT` defaults to 3003. */
import { served, withConfig } from '../local-stack.js'
import { createMcpService } from './app.js'

const port = Number(process.env.PORT ?? 3003)
await withConfig(
  'mcp-server (Streamable HTTP)',
  async (config) => {
    const { app, auth } = createMcpService(config, `http://127.0.0.1:${port}`)
    const service = await served(app.listen(port, '127.0.0.1'))
    return {
      url: service.url,
      close: async () => {
        await service.close()
        await auth.close()
      },
    }
  },
  '/.well-known/oauth-protected-resource/mcp',
)
