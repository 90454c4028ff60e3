// DPoP with code nobody here wrote: oidc-provider (with its DPoP feature) issues DPoP-bound JWT
// access tokens to a client built on oauth4webapi, which then calls an Express, a Fastify and a
// Koa service through its own DPoP support: its proofs, its nonce retry, its challenge parsing.

import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Auth, createAuth } from 'canonical-auth'
import { requireAuth as expressAuth } from 'canonical-auth/express'
import canonicalAuth from 'canonical-auth/fastify'
import { requireAuth as koaAuth } from 'canonical-auth/koa'
import { createTestDirectory, type TestDirectory } from 'canonical-auth/testing'
import express from 'express'
import Fastify from 'fastify'
import { exportJWK, generateKeyPair } from 'jose'
import Koa from 'koa'
import * as oauth from 'oauth4webapi'
import Provider from 'oidc-provider'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listening, UUID } from '../helpers.js'

const API = 'https://api.example.com'
const SECRET = 'a-client-secret-long-enough-for-the-provider'
const NONCE_SECRET = 'a-nonce-secret-for-these-services-32+'
const insecure = { [oauth.allowInsecureRequests]: true }

let providerServer: Server
let issuer: string
let directory: TestDirectory
let as: oauth.AuthorizationServer
const client: oauth.Client = { client_id: 'reports-agent' }

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signing = { ...(await exportJWK(privateKey)), kid: 'provider-key-1', alg: 'RS256' }
  let listener: RequestListener = (_request, response) => response.end()
  providerServer = createServer((request, response) => listener(request, response))
  await new Promise<void>((resolve) => providerServer.listen(0, '127.0.0.1', resolve))
  issuer = `http://127.0.0.1:${(providerServer.address() as AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'reports-agent',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        dpop_bound_access_tokens: true,
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'read:reports',
          audience: resource,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // The agent acts for one person of the directory's organisation.
    extraTokenClaims: () => ({ email: 'agent@acme.com', email_verified: true }),
    jwks: { keys: [signing] },
    ttl: { ClientCredentials: 600 },
  })
  listener = provider.callback()
  as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), insecure),
  )
  directory = await createTestDirectory()
})
afterAll(async () => {
  await new Promise((resolve) => providerServer.close(resolve))
  await directory.close()
})

/** A DPoP key pair, and a DPoP-bound access token the provider issued for it. */
async function boundAccessToken() {
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP(client, keyPair)
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(SECRET),
    new URLSearchParams({ resource: API, scope: 'read:reports' }),
    { DPoP, ...insecure },
  )
  const tokens = await oauth.processClientCredentialsResponse(as, client, response)
  expect(tokens.token_type).toBe('dpop')
  return { token: tokens.access_token, DPoP, keyPair }
}

function authFor(nonces: boolean): Auth {
  return createAuth({
    auth0: { issuer, audience: API },
    directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
    ...(nonces ? { dpop: { nonce: { secret: NONCE_SECRET } } } : {}),
  })
}

interface Service {
  readonly origin: string
  close(): Promise<void>
}

const frameworks: Record<string, (auth: Auth) => Promise<Service>> = {
  express: async (auth) => {
    const app = express()
    app.get('/me', expressAuth(auth), (req, res) => {
      res.json({ userId: req.auth?.userId })
    })
    return listening(app.listen(0, '127.0.0.1'))
  },
  fastify: async (auth) => {
    const app = Fastify()
    await app.register(canonicalAuth, { auth })
    app.get('/me', { preHandler: app.requireAuth() }, async (request) => ({
      userId: request.auth?.userId,
    }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    }
  },
  koa: async (auth) => {
    const app = new Koa()
    const guard = koaAuth(auth)
    app.use((ctx, next) =>
      guard(ctx, async () => {
        ctx.body = { userId: ctx.state.auth?.userId }
        await next()
      }),
    )
    return listening(app.listen(0, '127.0.0.1'))
  },
}

describe.each(Object.keys(frameworks))(
  '%s, called by oauth4webapi with a DPoP-bound token',
  (name) => {
    const start = frameworks[name] as (auth: Auth) => Promise<Service>
    let auth: Auth
    let nonced: Auth
    let service: Service
    let noncedService: Service
    beforeAll(async () => {
      auth = authFor(false)
      nonced = authFor(true)
      service = await start(auth)
      noncedService = await start(nonced)
    })
    afterAll(async () => {
      await service.close()
      await noncedService.close()
      await auth.close()
      await nonced.close()
    })

    it('accepts the token with the proof oauth4webapi makes, and resolves the user', async () => {
      const { token, DPoP } = await boundAccessToken()
      const url = new URL(`${service.origin}/me`)
      const response = await oauth.protectedResourceRequest(
        token,
        'GET',
        url,
        new Headers(),
        null,
        {
          DPoP,
          ...insecure,
        },
      )
      expect(response.status).toBe(200)
      const { userId } = (await response.json()) as { userId: string }
      expect(userId).toMatch(UUID)
      expect(userId).toBe(directory.users.get('agent@acme.com')?.id)
    })

    it('asks for a nonce, which oauth4webapi reads from the challenge and retries with', async () => {
      const { token, DPoP } = await boundAccessToken()
      const url = new URL(`${noncedService.origin}/me`)
      const call = () =>
        oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, {
          DPoP,
          ...insecure,
        })
      const first = await call().then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(oauth.isDPoPNonceError(first)).toBe(true)
      const second = await call()
      expect(second.status).toBe(200)
      expect(second.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/)
      // The nonce of the answer serves the next request too.
      expect((await call()).status).toBe(200)
    })

    it('refuses the same token presented as Bearer, and a replayed proof', async () => {
      const { token, DPoP } = await boundAccessToken()
      const url = `${service.origin}/me`
      const asBearer = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      expect(asBearer.status).toBe(401)
      expect(asBearer.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_token"/)

      const sent: Headers[] = []
      const recording = {
        DPoP,
        ...insecure,
        [oauth.customFetch]: (input: string, init: oauth.CustomFetchOptions<string, unknown>) => {
          sent.push(new Headers(init.headers))
          return fetch(input, init as RequestInit)
        },
      }
      const accepted = await oauth.protectedResourceRequest(
        token,
        'GET',
        new URL(url),
        new Headers(),
        null,
        recording,
      )
      expect(accepted.status).toBe(200)
      const replay = await fetch(url, { headers: sent[0] as Headers })
      expect(replay.status).toBe(401)
      expect(await replay.json()).toMatchObject({ error: 'invalid_dpop_proof' })
    })
  },
)
