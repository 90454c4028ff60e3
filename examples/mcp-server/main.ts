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
  '/mcp',
  (url, token) =>
    `curl -s ${url}/mcp -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' ` +
    `-H 'accept: application/json, text/event-stream' ` +
    `-d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'`,
)
