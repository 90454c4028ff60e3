// The types a service sees through each adapter: `tsc --noEmit` (npm run typecheck) checks every
// expectation and every `@ts-expect-error` line here; at run time these tests only build routes.
// An `@ts-expect-error` over code that compiles fails the type check, so each refused shape below
// stays refused.

import Router from '@koa/router'
import type { Auth, AuthContext, DiscoverHandlerOptions } from 'canonical-auth'
import {
  discoverHandler as expressDiscoverHandler,
  requireAuth as expressRequireAuth,
  type RequireAuthOptions,
} from 'canonical-auth/express'
import canonicalAuth, {
  type CanonicalAuthPluginOptions,
  type RequireAuthOptions as FastifyRequireAuthOptions,
  canonicalAuth as namedCanonicalAuth,
} from 'canonical-auth/fastify'
import {
  type RequireAuthOptions as KoaRequireAuthOptions,
  discoverHandler as koaDiscoverHandler,
  requireAuth as koaRequireAuth,
} from 'canonical-auth/koa'
import express, { type Request, type RequestHandler } from 'express'
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type preHandlerHookHandler,
} from 'fastify'
import Koa, { type DefaultState, type Middleware } from 'koa'
import { describe, expectTypeOf, it } from 'vitest'

// Never called: the instance is only a typed value for the route definitions below.
const auth = undefined as unknown as Auth

describe('Express: req.auth', () => {
  it('is AuthContext | undefined on every request, after importing the adapter', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<AuthContext | undefined>()
    // Optional, not required: absent on an optional route without a token.
    expectTypeOf<Pick<Request, 'auth'>>().toEqualTypeOf<{ auth?: AuthContext }>()
  })

  it('reaches a route handler after requireAuth, with no cast', () => {
    const app = express()
    app.get('/reports', expressRequireAuth(auth, { scopes: ['read:reports'] }), (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<AuthContext | undefined>()
      expectTypeOf(req.auth?.userId).toEqualTypeOf<string | undefined>()
      res.json({ userId: req.auth?.userId })
    })
    const router = express.Router()
    router.use(expressRequireAuth(auth))
    router.get('/me', (req) => {
      expectTypeOf(req.auth).toEqualTypeOf<AuthContext | undefined>()
    })
    app.use(router)
  })

  it('requireAuth and discoverHandler are Express middleware', () => {
    expectTypeOf(expressRequireAuth).parameters.toEqualTypeOf<
      [auth: Auth, options?: RequireAuthOptions]
    >()
    expectTypeOf(expressRequireAuth).returns.toEqualTypeOf<RequestHandler>()
    expectTypeOf(expressDiscoverHandler).parameters.toEqualTypeOf<
      [auth: Auth, options?: DiscoverHandlerOptions]
    >()
    expectTypeOf(expressDiscoverHandler).returns.toEqualTypeOf<RequestHandler>()
  })
})

describe('Fastify: request.auth and fastify.requireAuth', () => {
  it('is AuthContext | undefined on every request, after importing the adapter', () => {
    expectTypeOf<FastifyRequest['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf<Pick<FastifyRequest, 'auth'>>().toEqualTypeOf<{ auth?: AuthContext }>()
  })

  it('decorates the instance with requireAuth(options?), a preHandler', () => {
    expectTypeOf<FastifyInstance['requireAuth']>().parameters.toEqualTypeOf<
      [options?: FastifyRequireAuthOptions]
    >()
    expectTypeOf<FastifyInstance['requireAuth']>().returns.toEqualTypeOf<preHandlerHookHandler>()
  })

  it('reaches a route handler, with no cast', () => {
    // Typed only: the Auth above is not a real instance, so the plugin is not registered.
    const routes = async () => {
      const app = Fastify()
      await app.register(canonicalAuth, { auth, discoverPath: '/public/auth/discover' })
      app.get(
        '/me',
        { preHandler: app.requireAuth({ permissions: { anyOf: ['a'] } }) },
        (request) => {
          expectTypeOf(request.auth).toEqualTypeOf<AuthContext | undefined>()
          return { userId: request.auth?.userId }
        },
      )
    }
    expectTypeOf(routes).toBeFunction()
  })

  it('the plugin takes { auth, discoverPath?, discover?, metadataPath? }, default and named export alike', () => {
    expectTypeOf(canonicalAuth).toEqualTypeOf(namedCanonicalAuth)
    expectTypeOf<CanonicalAuthPluginOptions>().toEqualTypeOf<{
      auth: Auth
      discoverPath?: string
      discover?: DiscoverHandlerOptions
      metadataPath?: string
    }>()
    const register = (app: FastifyInstance) => {
      app.register(canonicalAuth, { auth })
      // @ts-expect-error: the plugin needs the Auth instance
      app.register(canonicalAuth, { discoverPath: '/public/auth/discover' })
      // @ts-expect-error: a config is not an Auth instance (createAuth makes one)
      app.register(canonicalAuth, { auth: { auth0: { domain: 'a.b', audience: 'x' } } })
    }
    expectTypeOf(register).toBeFunction()
  })
})

describe('Koa: ctx.state.auth', () => {
  it('is AuthContext | undefined in the default state, after importing the adapter', () => {
    expectTypeOf<DefaultState['auth']>().toEqualTypeOf<AuthContext | undefined>()
    expectTypeOf<Pick<DefaultState, 'auth'>>().toEqualTypeOf<{ auth?: AuthContext }>()
  })

  it('reaches middleware and @koa/router routes, with no cast', () => {
    const app = new Koa()
    app.use(koaRequireAuth(auth, { optional: true }))
    app.use((ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | undefined>()
    })
    const router = new Router()
    router.get('/reports', koaRequireAuth(auth, { scopes: { allOf: ['read:reports'] } }), (ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | undefined>()
      ctx.body = { userId: ctx.state.auth?.userId }
    })
    router.post('/public/auth/discover', koaDiscoverHandler(auth))
    app.use(router.routes())
  })

  it('requireAuth and discoverHandler are Koa middleware', () => {
    expectTypeOf(koaRequireAuth).parameters.toEqualTypeOf<
      [auth: Auth, options?: KoaRequireAuthOptions]
    >()
    expectTypeOf(koaRequireAuth).returns.toEqualTypeOf<Middleware>()
    expectTypeOf(koaDiscoverHandler).returns.toEqualTypeOf<Middleware>()
  })
})

describe('requireAuth options, the same in every adapter', () => {
  it('is one type for Express, Fastify and Koa', () => {
    expectTypeOf<RequireAuthOptions>().toEqualTypeOf<FastifyRequireAuthOptions>()
    expectTypeOf<RequireAuthOptions>().toEqualTypeOf<KoaRequireAuthOptions>()
  })

  it('takes scopes and permissions as a list (all of them), { anyOf } or { allOf }', () => {
    expectTypeOf<{ scopes: ['read:reports', 'write:reports'] }>().toExtend<RequireAuthOptions>()
    expectTypeOf<{ scopes: { anyOf: ['read:reports'] } }>().toExtend<RequireAuthOptions>()
    expectTypeOf<{ permissions: { allOf: ['a', 'b'] } }>().toExtend<RequireAuthOptions>()
    expectTypeOf<{ permissions: readonly string[] }>().toExtend<RequireAuthOptions>()
    expectTypeOf<{ optional: true; delegateErrors: true }>().toExtend<RequireAuthOptions>()
    expectTypeOf<RequireAuthOptions['scopes']>().toEqualTypeOf<
      | readonly string[]
      | { readonly anyOf: readonly string[] }
      | { readonly allOf: readonly string[] }
      | undefined
    >()
    expectTypeOf<RequireAuthOptions['permissions']>().toEqualTypeOf<RequireAuthOptions['scopes']>()
  })

  it('refuses other shapes at compile time', () => {
    const routes = () => {
      // @ts-expect-error: one scope is still a list
      expressRequireAuth(auth, { scopes: 'read:reports' })
      // @ts-expect-error: anyOf takes a list
      koaRequireAuth(auth, { scopes: { anyOf: 'read:reports' } })
      // @ts-expect-error: there is no oneOf
      expressRequireAuth(auth, { permissions: { oneOf: ['a'] } })
      // @ts-expect-error: scopes are strings
      koaRequireAuth(auth, { scopes: [1] })
      // @ts-expect-error: a misspelt option
      expressRequireAuth(auth, { scope: ['read:reports'] })
      // @ts-expect-error: optional is a boolean
      koaRequireAuth(auth, { optional: 'yes' })
      // @ts-expect-error: the Auth instance comes first
      expressRequireAuth({ scopes: ['read:reports'] })
    }
    expectTypeOf(routes).toBeFunction()
  })
})
