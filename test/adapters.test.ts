import { type Auth, type AuthContext, createAuth } from 'canonical-auth'
import {
  discoverHandler as expressDiscover,
  requireAuth as expressRequireAuth,
} from 'canonical-auth/express'
import canonicalAuth, { canonicalAuth as named } from 'canonical-auth/fastify'
import { discoverHandler as koaDiscover, requireAuth as koaRequireAuth } from 'canonical-auth/koa'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import express from 'express'
import Fastify, { type FastifyRequest } from 'fastify'
import Koa, { type Context } from 'koa'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { listening } from './helpers.js'

let issuer: TestIssuer
let auth: Auth

beforeAll(async () => {
  issuer = await createTestIssuer()
  auth = createAuth({
    auth0: issuer.auth0,
    discovery: { domains: { 'acme.com': { connection: 'acme-waad' } } },
  })
})
afterAll(async () => {
  await auth.close()
  await issuer.close()
})

const discover = (origin: string, body: string, type = 'application/json') =>
  fetch(`${origin}/public/auth/discover`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  })

describe('discoverHandler with a body parser in front', () => {
  it('uses req.body from express.json()', async () => {
    const app = express()
    app.use(express.json())
    app.post('/public/auth/discover', expressDiscover(auth))
    const server = await listening(app.listen(0, '127.0.0.1'))
    const response = await discover(server.origin, '{"email":"ada@acme.com"}')
    expect(await response.json()).toMatchObject({ method: 'sso', connection: 'acme-waad' })
    await server.close()
  })

  it('answers a malformed body with its JSON 400 when mounted before a global express.json()', async () => {
    const app = express()
    app.post('/public/auth/discover', expressDiscover(auth))
    app.use(express.json())
    const server = await listening(app.listen(0, '127.0.0.1'))
    const response = await discover(server.origin, '{"email": ')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    await server.close()
  })

  it('uses ctx.request.body from a Koa body parser', async () => {
    const app = new Koa()
    app.use(async (ctx, next) => {
      ;(ctx.request as { body?: unknown }).body = { email: 'ada@acme.com' }
      await next()
    })
    app.use(koaDiscover(auth))
    const server = await listening(app.listen(0, '127.0.0.1'))
    const response = await discover(server.origin, 'ignored: the parser already ran', 'text/plain')
    expect(await response.json()).toMatchObject({ method: 'sso' })
    await server.close()
  })

  it('refuses an oversized raw body without reading it all, in Express and Koa', async () => {
    const expressApp = express()
    expressApp.post('/public/auth/discover', expressDiscover(auth))
    const koaApp = new Koa()
    koaApp.use(koaDiscover(auth))
    for (const server of [
      await listening(expressApp.listen(0, '127.0.0.1')),
      await listening(koaApp.listen(0, '127.0.0.1')),
    ]) {
      const response = await discover(
        server.origin,
        JSON.stringify({ email: 'ada@acme.com', pad: 'x'.repeat(100_000) }),
      )
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: 'invalid_request' })
      await server.close()
    }
  })
})

describe('the Fastify plugin', () => {
  it('is exported as default and by name', () => {
    expect(named).toBe(canonicalAuth)
  })

  it('does not mount discovery unless asked', async () => {
    const app = Fastify()
    await app.register(canonicalAuth, { auth })
    const response = await app.inject({
      method: 'POST',
      url: '/public/auth/discover',
      payload: { email: 'a@acme.com' },
    })
    expect(response.statusCode).toBe(404)
    await app.close()
  })

  it('explains a second registration in the same context', async () => {
    const app = Fastify()
    await app.register(canonicalAuth, { auth })
    await expect(app.register(canonicalAuth, { auth }).ready()).rejects.toThrow(
      /already registered/,
    )
  })

  it('refuses to start without an Auth', async () => {
    const app = Fastify()
    await expect(app.register(canonicalAuth, {} as { auth: Auth }).ready()).rejects.toThrow(
      /needs \{ auth \}/,
    )
  })

  it('leaves request.auth undefined on routes without requireAuth', async () => {
    const app = Fastify()
    await app.register(canonicalAuth, { auth })
    app.get('/open', async (request) => ({ auth: request.auth ?? null }))
    expect((await app.inject({ url: '/open' })).json()).toEqual({ auth: null })
    await app.close()
  })
})

describe('requireAuth options are checked when the route is built', () => {
  it.each([
    ['an empty scope list', { scopes: [] }],
    ['an empty anyOf', { permissions: { anyOf: [] } }],
    ['a non-string scope', { scopes: [42] }],
    [
      'both anyOf and allOf, which would check only one',
      { scopes: { anyOf: ['a'], allOf: ['b'] } },
    ],
    ['neither anyOf nor allOf', { permissions: { oneOf: ['a'] } }],
  ])('refuses %s', (_name, options) => {
    expect(() => expressRequireAuth(auth, options as never)).toThrow(TypeError)
    expect(() => koaRequireAuth(auth, options as never)).toThrow(TypeError)
  })
})

describe('adapter types', () => {
  it('puts AuthContext on each framework request without casts', () => {
    expectTypeOf<express.Request['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf<Context['state']['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf(expressRequireAuth).returns.toExtend<express.RequestHandler>()
    expectTypeOf(koaRequireAuth).returns.toExtend<Koa.Middleware>()
  })
})
