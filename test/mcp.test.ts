import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { createMcpTokenVerifier, type McpAuthExtra, metadataHandler } from 'canonical-auth/mcp'
import { describe, expect, it } from 'vitest'
import { ssoToken, UUID } from './helpers.js'
import { useTestStack } from './stack.js'

const stack = useTestStack(({ directory }) => ({ directory: { baseUrl: directory.baseUrl } }))

describe('createMcpTokenVerifier', () => {
  it("answers the SDK's AuthInfo: client, scopes, expiry, resource, and the canonical user", async () => {
    const mcp = 'https://mcp.example.com/mcp'
    const auth = stack.auth({
      auth0: { ...stack.issuer.auth0, audience: mcp },
      protectedResource: { resource: mcp },
    })
    const token = await ssoToken(stack.issuer, 'ada', {
      scope: 'openid mcp:tools',
      azp: 'agent-1',
      aud: mcp,
    })
    const info = await createMcpTokenVerifier(auth).verifyAccessToken(token)
    const extra = info.extra as McpAuthExtra
    expect(info).toMatchObject({
      token,
      clientId: 'agent-1',
      scopes: ['openid', 'mcp:tools'],
      resource: new URL('https://mcp.example.com/mcp'),
    })
    expect(info.expiresAt).toBe(JSON.parse(atob(token.split('.')[1] as string)).exp)
    expect(extra.userId).toMatch(UUID)
    expect(extra.userId).toBe(stack.directory.users.get('ada@acme.com')?.id)
    expect(JSON.stringify(info.extra)).not.toContain('samlp|acme-waad|ada')
  })

  it('takes client_id without azp, and the configured audience the token matched as resource', async () => {
    const api = 'https://api.example.com/v1'
    const auth = stack.auth({ auth0: { ...stack.issuer.auth0, audience: ['reports', api] } })
    const verifier = createMcpTokenVerifier(auth)
    // The token names other audiences first, one of them a URL nobody configured.
    const token = await ssoToken(stack.issuer, 'ada', {
      azp: undefined,
      client_id: 'cli-7',
      aud: ['https://elsewhere.example.net/', `${stack.issuer.issuer}userinfo`, api],
    })
    const info = await verifier.verifyAccessToken(token)
    expect(info.clientId).toBe('cli-7')
    expect(info.resource).toEqual(new URL(api))
    // A configured audience that is not a URL names no resource.
    const plain = await ssoToken(stack.issuer, 'ada', { aud: ['reports', 'https://x.test/'] })
    expect((await verifier.verifyAccessToken(plain)).resource).toBeUndefined()
  })

  it('refuses a token of the tenant for another of its APIs when a resource is configured', async () => {
    const mcp = 'https://mcp.example.com/mcp'
    const auth = stack.auth({
      auth0: { ...stack.issuer.auth0, audience: [mcp, 'https://api.example.com'] },
      protectedResource: { resource: mcp },
    })
    const verifier = createMcpTokenVerifier(auth)
    for (const aud of ['https://api.example.com', ['https://api.example.com', 'https://x.test/']]) {
      const other = await ssoToken(stack.issuer, 'ada', { aud })
      const refusal = await verifier.verifyAccessToken(other).catch((error: unknown) => error)
      expect(refusal).toBeInstanceOf(InvalidTokenError)
      expect((refusal as Error).message).toBe('The access token was not issued for this resource')
    }
    const ours = await ssoToken(stack.issuer, 'ada', { aud: [mcp, 'https://api.example.com'] })
    expect((await verifier.verifyAccessToken(ours)).resource).toEqual(new URL(mcp))
  })

  it("refuses with the SDK's own errors, by status", async () => {
    const auth = stack.auth()
    const verifier = createMcpTokenVerifier(auth, { scopes: ['mcp:tools'] })
    const forged = `${(await ssoToken(stack.issuer, 'ada')).slice(0, -8)}AAAAAAAA`
    await expect(verifier.verifyAccessToken(forged)).rejects.toBeInstanceOf(InvalidTokenError)
    await expect(verifier.verifyAccessToken('')).rejects.toBeInstanceOf(InvalidRequestError)
    await expect(verifier.verifyAccessToken('a b')).rejects.toBeInstanceOf(InvalidRequestError)
    const noScope = await ssoToken(stack.issuer, 'ada', { scope: 'openid' })
    await expect(verifier.verifyAccessToken(noScope)).rejects.toBeInstanceOf(InsufficientScopeError)
    const machine = await stack.issuer.sign({ sub: 'svc@clients', scope: 'mcp:tools' })
    await expect(verifier.verifyAccessToken(machine)).rejects.toBeInstanceOf(InsufficientScopeError)
    stack.directory.fail('down')
    const newcomer = await ssoToken(stack.issuer, 'newcomer', { scope: 'mcp:tools' })
    const down = await verifier.verifyAccessToken(newcomer).catch((error: unknown) => error)
    expect(down).toBeInstanceOf(ServerError)
    expect((down as Error).message).toBe('The user directory is unavailable')
  })

  it('applies permissions and claim rules as requireAuth does', async () => {
    const auth = stack.auth()
    const verifier = createMcpTokenVerifier(auth, {
      permissions: ['tools:run'],
      claims: { equals: { org_id: 'org_1' } },
    })
    const good = await ssoToken(stack.issuer, 'ada', {
      permissions: ['tools:run'],
      org_id: 'org_1',
    })
    expect((await verifier.verifyAccessToken(good)).extra?.userId).toMatch(UUID)
    const otherOrg = await ssoToken(stack.issuer, 'ada', {
      permissions: ['tools:run'],
      org_id: 'org_2',
    })
    const refusal = await verifier.verifyAccessToken(otherOrg).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(InvalidTokenError)
    expect((refusal as Error).message).toBe("Unexpected 'org_id' value")
    const noPermission = await ssoToken(stack.issuer, 'ada', { org_id: 'org_1' })
    await expect(verifier.verifyAccessToken(noPermission)).rejects.toBeInstanceOf(
      InsufficientScopeError,
    )
  })
})

describe('metadataHandler (canonical-auth/mcp)', () => {
  it('needs protectedResource', () => {
    expect(() => metadataHandler(stack.auth())).toThrow(/needs protectedResource/)
  })
})
