/**
 * `npm run example:mcp-server` (Express + the MCP TypeScript SDK). Same environment as platform-api;
 * `PORT` defaults to 3003. The resource identifier is `http://127.0.0.1:<PORT>/mcp`, and it is the
 * audience tokens must carry: register the MCP server in your tenant as an API with that identifier.
 */
import type { AuthConfig } from 'canonical-auth'
import { configFromEnv, type LocalStack, served, startLocalStack } from '../local-stack.js'
import { createMcpService } from './app.js'

const port = Number(process.env.PORT ?? 3003)
const origin = `http://127.0.0.1:${port}`
const resource = `${origin}/mcp`
const fromEnv = configFromEnv()
const stack: LocalStack | undefined = fromEnv === undefined ? await startLocalStack() : undefined
const base = fromEnv ?? (stack as LocalStack).config
const tenant = Array.isArray(base.auth0) ? base.auth0[0] : base.auth0
// The MCP server is its own API: tokens for it carry its resource identifier as audience.
const config: AuthConfig = { ...base, auth0: { ...tenant, audience: resource } }
const { app, auth } = createMcpService(config, origin)
const service = await served(app.listen(port, '127.0.0.1'))
console.log(`mcp-server (Streamable HTTP) listening at ${service.url}/mcp`)
if (stack !== undefined) {
  const token = await stack.issuer.sign({
    sub: 'samlp|acme-waad|ada',
    email: 'ada@acme.com',
    email_verified: true,
    aud: resource,
  })
  console.log(
    `local tenant ${stack.issuer.issuer}, user directory on ${stack.databaseKind} at ${stack.directory.url}`,
  )
  console.log(
    `try:\n  curl -s ${resource} -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' ` +
      `-H 'accept: application/json, text/event-stream' ` +
      `-d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}'`,
  )
}
const stop = async () => {
  await service.close()
  await auth.close()
  await stack?.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
