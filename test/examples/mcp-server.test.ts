// The MCP example end to end with the SDK's own client: a token from the testing kit, the
// canonical user from the example directory, and the RFC 9728 challenge for a missing token.

import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Auth } from 'canonical-auth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalStack, startLocalStack } from '../../examples/local-stack.js'
import { createMcpService } from '../../examples/mcp-server/app.js'
import { UUID } from '../helpers.js'
import { server as msw } from '../msw.js'

let stack: LocalStack
let server: Server
let origin: string
let auth: Auth

beforeAll(async () => {
  // The SDK client's requests do not settle through msw's fetch interception (its connect never
  // resolves), and everything here is on loopback: msw stands aside for this file.
  msw.close()
  stack = await startLocalStack()
  let listener: RequestListener = (_request, response) => response.end()
  server = createServer((request, response) => listener(request, response))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  // The MCP server is its own API: its tokens carry its resource identifier as audience.
  const tenant = stack.config.auth0 as { issuer: string; jwksUri: string }
  const service = createMcpService(
    { ...stack.config, auth0: { ...tenant, audience: `${origin}/mcp` } },
    origin,
  )
  auth = service.auth
  listener = service.app
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await auth.close()
  await stack.close()
  msw.listen({ onUnhandledRequest: 'error' })
})

async function connect(token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(
    new URL(`${origin}/mcp`),
    token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } },
  )
  const client = new Client({ name: 'canonical-auth-test', version: '1.0.0' })
  await client.connect(transport)
  return client
}

const ada = () =>
  stack.issuer.sign({
    sub: 'samlp|acme-waad|ada',
    email: 'ada@acme.com',
    email_verified: true,
    aud: `${origin}/mcp`,
  })

describe('the MCP example', () => {
  it("answers whoami with the caller's canonical UUID, through the SDK's client", async () => {
    const client = await connect(await ada())
    try {
      const { tools } = await client.listTools()
      expect(tools.map((tool) => tool.name)).toEqual(['whoami'])
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      const answer = result.structuredContent as { userId: string; email: string; client: string }
      const stored = await stack.store.lookup('ada@acme.com')
      expect(answer.userId).toMatch(UUID)
      expect(answer.userId).toBe(stored?.id)
      expect(answer.userId).not.toContain('acme-waad')
      expect(answer.email).toBe('ada@acme.com')
    } finally {
      await client.close()
    }
  })

  it('gives a first-time user a UUID on the first call, the same on the next', async () => {
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|newcomer',
      email: 'newcomer@acme.com',
      email_verified: true,
      aud: `${origin}/mcp`,
    })
    const ids: unknown[] = []
    for (let call = 0; call < 2; call++) {
      const client = await connect(token)
      const result = await client.callTool({ name: 'whoami', arguments: {} })
      ids.push((result.structuredContent as { userId: string }).userId)
      await client.close()
    }
    expect(ids[0]).toMatch(UUID)
    expect(ids[1]).toBe(ids[0])
  })

  it('answers a missing token with 401 and the RFC 9728 challenge the MCP spec asks for', async () => {
    const response = await fetch(`${origin}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(response.status).toBe(401)
    const challenge = response.headers.get('www-authenticate') ?? ''
    const pointer = /resource_metadata="([^"]+)"/.exec(challenge)?.[1]
    expect(pointer).toBe(`${origin}/.well-known/oauth-protected-resource/mcp`)
    // The SDK's own discovery reads the document it points to.
    const metadata = await discoverOAuthProtectedResourceMetadata(`${origin}/mcp`, {
      resourceMetadataUrl: pointer as string,
    })
    expect(metadata).toMatchObject({
      resource: `${origin}/mcp`,
      authorization_servers: [stack.issuer.issuer],
      bearer_methods_supported: ['header'],
    })
    await expect(connect()).rejects.toThrow()
  })

  it('refuses a token of the tenant for another API with 401 invalid_token', async () => {
    const other = await stack.issuer.sign({
      sub: 'samlp|acme-waad|ada',
      email: 'ada@acme.com',
      email_verified: true,
    })
    await expect(connect(other)).rejects.toThrow(/invalid_token/)
  })

  it('refuses a forged or expired token with 401 invalid_token, leaking nothing', async () => {
    const token = await ada()
    const forged = `${token.slice(0, -8)}AAAAAAAA`
    const expired = await stack.issuer.sign(
      {
        sub: 'samlp|acme-waad|ada',
        email: 'ada@acme.com',
        email_verified: true,
        aud: `${origin}/mcp`,
      },
      { expiresIn: -60 },
    )
    for (const bad of [forged, expired]) {
      const response = await fetch(`${origin}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bad}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
      const text = `${await response.text()} ${response.headers.get('www-authenticate')}`
      for (const segment of bad.split('.')) expect(text).not.toContain(segment)
      expect(text).not.toContain('acme-waad')
    }
  })
})
