import type { AddressInfo } from 'node:net'
import { OAuth2Server } from 'oauth2-mock-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPlatformApi } from '../../examples/platform-api/app.js'
import { openDatabase } from '../../examples/user-directory/database.js'
import { type DirectoryServer, startDirectoryServer } from '../../examples/user-directory/server.js'
import { createUserStore, type UserStore } from '../../examples/user-directory/store.js'

// Tokens from an OAuth 2 server nobody here wrote, verified through the real JWKS HTTP path and
// resolved through the real user directory on PGlite.
const AUDIENCE = 'https://api.e2e.local'
let oauth: OAuth2Server
let database: Awaited<ReturnType<typeof openDatabase>>
let store: UserStore
let directory: DirectoryServer
let platform: ReturnType<typeof createPlatformApi>
let platformUrl: string
let closeServer: () => void

beforeAll(async () => {
  oauth = new OAuth2Server()
  await oauth.issuer.keys.generate('RS256')
  await oauth.start(0, '127.0.0.1')
  database = await openDatabase({})
  store = createUserStore(database.db)
  await store.migrate()
  directory = await startDirectoryServer({ store })
  const issuer = oauth.issuer.url as string
  platform = createPlatformApi({
    auth0: { issuer, jwksUri: `${issuer}/jwks`, audience: AUDIENCE },
    directory: { baseUrl: directory.url },
  })
  const server = platform.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  platformUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  closeServer = () => server.close()
})
afterAll(async () => {
  closeServer()
  await platform.auth.close()
  await directory.close()
  await database.close()
  await oauth.stop()
})

/** A token from the mock server's real /token endpoint, shaped like an Auth0 SSO access token. */
async function issue(claims: Record<string, unknown>): Promise<string> {
  oauth.service.once('beforeTokenSigning', (token) => {
    Object.assign(token.payload, { aud: AUDIENCE, ...claims })
  })
  const response = await fetch(`${oauth.issuer.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'e2e',
      client_secret: 'e2e',
      scope: 'openid',
    }),
  })
  const body = (await response.json()) as { access_token: string }
  return body.access_token
}

describe('end to end against oauth2-mock-server', () => {
  it('verifies its tokens over the real JWKS endpoint and resolves them on PGlite', async () => {
    const token = await issue({
      sub: 'samlp|acme-waad|e2e',
      email: 'E2E@Acme.com',
      email_verified: true,
    })
    const response = await fetch(`${platformUrl}/validate`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { userId: string; email: string }
    expect(body.email).toBe('e2e@acme.com')
    expect(body.userId).toBe((await store.lookup('e2e@acme.com'))?.id)
    expect(await store.identities(body.userId)).toEqual([
      { issuer: oauth.issuer.url, sub: 'samlp|acme-waad|e2e', connection: 'acme-waad' },
    ])
  })

  it('refuses its tokens for another audience, and a tampered one', async () => {
    const other = await issue({
      sub: 'samlp|acme-waad|e2e',
      aud: 'https://someone-else',
      email: 'e2e@acme.com',
      email_verified: true,
    })
    expect(
      (await fetch(`${platformUrl}/validate`, { headers: { authorization: `Bearer ${other}` } }))
        .status,
    ).toBe(401)
    const good = await issue({
      sub: 'samlp|acme-waad|e2e',
      email: 'e2e@acme.com',
      email_verified: true,
    })
    const [h, , s] = good.split('.')
    const payload = Buffer.from(
      JSON.stringify({
        sub: 'samlp|acme-waad|mallory',
        iss: oauth.issuer.url,
        aud: AUDIENCE,
        exp: 9_999_999_999,
        iat: Math.floor(Date.now() / 1000),
        email: 'ceo@acme.com',
        email_verified: true,
      }),
    ).toString('base64url')
    const tampered = await fetch(`${platformUrl}/validate`, {
      headers: { authorization: `Bearer ${h}.${payload}.${s}` },
    })
    expect(tampered.status).toBe(401)
    expect(await store.lookup('ceo@acme.com')).toBeNull()
  })

  it('refuses an unverified email from it without touching the directory', async () => {
    const before = await store.count()
    const token = await issue({
      sub: 'google-oauth2|e2e',
      email: 'other@acme.com',
      email_verified: false,
    })
    expect(
      (await fetch(`${platformUrl}/validate`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(403)
    expect(await store.count()).toBe(before)
  })
})
