import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { type AuthConfig, createAuth, protectedResourceMetadataUrl } from 'canonical-auth'
import { createMcpTokenVerifier, type McpAuthExtra, metadataHandler } from 'canonical-auth/mcp'
import express from 'express'

/**
 * An MCP server over Streamable HTTP whose callers are users signed in through SSO: every request
 * to `/mcp` carries the user's access token, canonical-auth verifies it and resolves the canonical
 * user, and the `whoami` tool answers with that user's UUID (never the sub). Clients discover
 * where to get a token from `/.well-known/oauth-protected-resource/mcp` (RFC 9728), which the 401
 * challenge points to, as the MCP authorization spec requires.
 *
 * `origin` is where clients reach this server, e.g. `http://127.0.0.1:3003`: the resource
 * identifier is `<origin>/mcp`.
 */
export function createMcpService(config: AuthConfig, origin: string) {
  const auth = createAuth({
    ...config,
    protectedResource: { resource: `${origin}/mcp`, resourceName: 'Example MCP server' },
  })
  const app = express()
  // /.well-known/oauth-protected-resource/mcp, where the 401 challenge points.
  app.get(new URL(protectedResourceMetadataUrl(auth)).pathname, metadataHandler(auth))
  app.post(
    '/mcp',
    express.json(),
    requireBearerAuth({
      verifier: createMcpTokenVerifier(auth),
      resourceMetadataUrl: protectedResourceMetadataUrl(auth),
    }),
    async (req, res) => {
      // Stateless: one server and transport per request, nothing kept between calls, and plain
      // JSON answers (no event stream) since no call here streams.
      const server = whoAmIServer()
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true })
      res.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      await transport.handleRequest(req, res, req.body)
    },
  )
  return { app, auth }
}

function whoAmIServer(): McpServer {
  const server = new McpServer({ name: 'canonical-auth-example', version: '1.0.0' })
  server.registerTool(
    'whoami',
    { description: 'The canonical user id of the signed-in caller' },
    async ({ authInfo }) => {
      const extra = authInfo?.extra as McpAuthExtra | undefined
      const answer = { userId: extra?.userId, email: extra?.user.email, client: authInfo?.clientId }
      return {
        content: [{ type: 'text', text: JSON.stringify(answer) }],
        structuredContent: answer,
      }
    },
  )
  return server
}
