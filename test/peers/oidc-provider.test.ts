// A real OpenID provider nobody here wrote (oidc-provider, certified by the OpenID Foundation)
// issues JWT access tokens; canonical-auth, told only the issuer URL and the audience, finds the
// key set through the provider's own metadata and verifies them.

import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AuthEvent, createAuth } from 'canonical-auth'
import { exportJWK, generateKeyPair } from 'jose'
import Provider from 'oidc-provider'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectsWith } from '../helpers.js'
import { useInstances } from '../stack.js'

const API = 'https://api.example.com'
const OTHER_API = 'https://other.example.com'
const SECRET = 'a-client-secret-long-enough-for-the-provider'
let httpServer: Server
let issuer: string
let served = 0

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signing = { ...(await exportJWK(privateKey)), kid: 'provider-key-1', alg: 'RS256' }
  let listener: RequestListener = (_request, response) => response.end()
  httpServer = createServer((request, response) => {
    served += 1
    listener(request, response)
  })
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'reports-service',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'read:reports write:reports',
          audience: resource,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    jwks: { keys: [signing] },
    ttl: { ClientCredentials: 600 },
  })
  listener = provider.callback()
})
afterAll(async () => {
  await new Promise((resolve) => httpServer.close(resolve))
})

const keep = useInstances()

/** A JWT access token from the provider's token endpoint (client credentials, RFC 8707). */
async function accessToken(resource = API, scope = 'read:reports'): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${btoa(`reports-service:${SECRET}`)}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  })
  expect(response.status).toBe(200)
  const { access_token: token } = (await response.json()) as { access_token: string }
  return token
}

describe('oidc-provider as the issuer', () => {
  it('is verified with only the issuer URL and the audience configured', async () => {
    const events: AuthEvent[] = []
    const auth = keep(
      createAuth({
        auth0: { issuer, audience: API },
        onEvent: (event) => {
          events.push(event)
        },
      }),
    )
    const token = await accessToken()
    const verified = await auth.verifyAuth0Token(token)
    expect(verified).toMatchObject({
      subject: 'reports-service',
      issuer,
      audience: [API],
      scopes: ['read:reports'],
    })
    expect(verified.claims.client_id).toBe('reports-service')
    // The key set URL is the one the provider's own metadata names.
    const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string
    }
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'jwks.fetch', jwksUri: metadata.jwks_uri, outcome: 'ok' }),
    )
  })

  it('asks the provider for its metadata and keys once for many tokens', async () => {
    const auth = keep(createAuth({ auth0: { issuer, audience: API }, cache: { tokens: false } }))
    const tokens = await Promise.all([1, 2, 3, 4].map(() => accessToken()))
    const before = served
    for (const token of tokens) await auth.verifyAuth0Token(token)
    expect(served - before).toBe(2)
  })

  it('refuses its tokens for another audience, and forged ones', async () => {
    const auth = keep(createAuth({ auth0: { issuer, audience: API } }))
    await rejectsWith(auth.verifyAuth0Token(await accessToken(OTHER_API)), 'token_invalid')
    const token = await accessToken()
    await rejectsWith(auth.verifyAuth0Token(`${token.slice(0, -6)}AAAAAA`), 'token_invalid')
  })

  it('requires the issuer exactly as the provider names itself', async () => {
    const auth = keep(createAuth({ auth0: { issuer: `${issuer}/`, audience: API } }))
    // The token's iss has no trailing slash, so it is no configured issuer's…
    await rejectsWith(auth.verifyAuth0Token(await accessToken()), 'token_invalid')
    // …and a token naming the slashed issuer finds a document that names another one.
    const withSlash = keep(createAuth({ auth0: { issuer: `${issuer}/`, audience: API } }))
    const forged = await accessToken()
    const [header, payload, signature] = forged.split('.') as [string, string, string]
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
    const renamed = btoa(JSON.stringify({ ...claims, iss: `${issuer}/` }))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
    await rejectsWith(
      withSlash.verifyAuth0Token(`${header}.${renamed}.${signature}`),
      'jwks_unavailable',
    )
  })
})
