import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import {
  type Auth,
  type AuthContext,
  type DiscoverHandlerOptions,
  isAuthError,
} from 'canonical-auth'
import {
  discoverHandler as expressDiscover,
  metadataHandler as expressMetadata,
  requireAuth as expressRequireAuth,
} from 'canonical-auth/express'
import canonicalAuth from 'canonical-auth/fastify'
import {
  type FetchGuard,
  discoverHandler as fetchDiscover,
  metadataHandler as fetchMetadata,
  requireAuth as fetchRequireAuth,
} from 'canonical-auth/fetch'
import {
  discoverHandler as honoDiscover,
  metadataHandler as honoMetadata,
  requireAuth as honoRequireAuth,
} from 'canonical-auth/hono'
import {
  discoverHandler as koaDiscover,
  metadataHandler as koaMetadata,
  requireAuth as koaRequireAuth,
} from 'canonical-auth/koa'
import express5 from 'express'
import express4 from 'express4'
import Fastify, { type FastifyInstance } from 'fastify'
import { type Context, Hono } from 'hono'
import 'reflect-metadata'
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Module,
  type Type,
} from '@nestjs/common'
import { APP_FILTER, NestFactory } from '@nestjs/core'
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express'
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify'
import {
  CanonicalAuthModule,
  CurrentUser,
  type NestRequireAuthOptions,
  RequireAuth,
} from 'canonical-auth/nest'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { listening } from '../helpers.js'

/** The instances a conformance app is wired to. */
export interface Auths {
  /** Issuer, directory and discovery all healthy. */
  readonly main: Auth
  /** A tenant whose key set cannot be fetched. */
  readonly keysDown: Auth
  /** `main`'s tenant and directory, as a protected resource with RFC 9728 metadata. */
  readonly pointed: Auth
  /** `main`'s tenant and directory, accepting DPoP-bound tokens only, with server nonces. */
  readonly strict: Auth
}

/** A running app: the same routes in each framework. */
export interface RunningApp {
  readonly origin: string
  close(): Promise<void>
}

export interface Harness {
  readonly name: string
  start(auths: Auths): Promise<RunningApp>
}

// The routes every harness serves:
//   GET  /me          requireAuth()                                     → { userId }
//   GET  /reports     requireAuth({ scopes: ['read:reports'] })         → { userId }
//   GET  /admin       requireAuth({ permissions: { anyOf: [...] } })    → { userId }
//   GET  /org         requireAuth({ claims: ORG_RULES, scopes: ['read:reports'] }) → { userId }
//   GET  /optional    requireAuth({ optional: true })                   → { userId | null }
//   GET  /delegated   requireAuth({ delegateErrors: true }); the framework's error handler answers 418
//   GET  /delegated-scope  the same, and scopes: ['read:reports']
//   GET  /keys-down   requireAuth() on a tenant whose key set is unreachable
//   GET  /pointed     requireAuth({ scopes: ['read:reports'] }) on the instance with metadata
//   GET  /strict      requireAuth() on the instance that requires DPoP, with nonces
//   GET  /.well-known/oauth-protected-resource/api   that instance's metadata document
//   POST /public/auth/discover                                          discoverHandler
//   POST /public/auth/discover-limited      discoverHandler with a rate limit that refuses everyone
export const ADMIN = { anyOf: ['admin:all', 'admin:users'] }
export const METADATA_PATH = '/.well-known/oauth-protected-resource/api'
const REPORTS = { scopes: ['read:reports'] }
/** The claim rules of `/org`: a namespaced claim among them. */
export const ORG_RULES = {
  equals: { org_id: 'org_1' },
  includes: { 'https://acme.example.com/roles': ['admin', 'billing'] },
  check: (claims: Readonly<Record<string, unknown>>) => claims.suspended !== true,
}
const ORG = { claims: ORG_RULES, scopes: ['read:reports'] }
const DELEGATED_SCOPE = { delegateErrors: true, scopes: ['read:reports'] }

/** The discover rate limit of `/public/auth/discover-limited`: every client is over it. */
export const overLimit: DiscoverHandlerOptions = {
  rateLimit: () => ({ allowed: false, retryAfterSeconds: 7 }),
}

function expressHarness(name: string, express: typeof express5): Harness {
  return {
    name,
    async start({ main, keysDown, pointed, strict }) {
      const app = express()
      const me = (req: express5.Request, res: express5.Response) => {
        res.json({ userId: req.auth?.userId ?? null })
      }
      app.get('/me', expressRequireAuth(main), me)
      app.get('/reports', expressRequireAuth(main, { scopes: ['read:reports'] }), me)
      app.get('/admin', expressRequireAuth(main, { permissions: ADMIN }), me)
      app.get('/org', expressRequireAuth(main, ORG), me)
      app.get('/optional', expressRequireAuth(main, { optional: true }), me)
      app.get('/delegated', expressRequireAuth(main, { delegateErrors: true }), me)
      app.get('/delegated-scope', expressRequireAuth(main, DELEGATED_SCOPE), me)
      app.get('/keys-down', expressRequireAuth(keysDown), me)
      app.get('/pointed', expressRequireAuth(pointed, REPORTS), me)
      app.get('/strict', expressRequireAuth(strict), me)
      app.get(METADATA_PATH, expressMetadata(pointed))
      app.post('/public/auth/discover', expressDiscover(main))
      app.post('/public/auth/discover-limited', expressDiscover(main, overLimit))
      app.use(
        (
          error: unknown,
          _req: express5.Request,
          res: express5.Response,
          next: express5.NextFunction,
        ) => {
          if (isAuthError(error)) res.status(418).json({ delegated: error.code })
          else next(error)
        },
      )
      return listening(app.listen(0, '127.0.0.1'))
    },
  }
}

const fastifyHarness: Harness = {
  name: 'fastify 5',
  async start({ main, keysDown, pointed, strict }) {
    const app = Fastify()
    app.setErrorHandler((error, _request, reply) => {
      if (isAuthError(error)) return reply.code(418).send({ delegated: error.code })
      return reply.send(error)
    })
    const me = async (request: { auth?: { userId: string } }) => ({
      userId: request.auth?.userId ?? null,
    })
    // Two tenants, each with its own plugin instance in a sibling encapsulated context.
    await app.register(async (scope) => {
      await scope.register(canonicalAuth, { auth: main, discoverPath: '/public/auth/discover' })
      scope.get('/me', { preHandler: scope.requireAuth() }, me)
      scope.get('/reports', { preHandler: scope.requireAuth({ scopes: ['read:reports'] }) }, me)
      scope.get('/admin', { preHandler: scope.requireAuth({ permissions: ADMIN }) }, me)
      scope.get('/org', { preHandler: scope.requireAuth(ORG) }, me)
      scope.get('/optional', { preHandler: scope.requireAuth({ optional: true }) }, me)
      scope.get('/delegated', { preHandler: scope.requireAuth({ delegateErrors: true }) }, me)
      scope.get('/delegated-scope', { preHandler: scope.requireAuth(DELEGATED_SCOPE) }, me)
    })
    await app.register(async (scope) => {
      await scope.register(canonicalAuth, {
        auth: main,
        discoverPath: '/public/auth/discover-limited',
        discover: overLimit,
      })
    })
    await app.register(async (scope) => {
      await scope.register(canonicalAuth, { auth: pointed, metadataPath: METADATA_PATH })
      scope.get('/pointed', { preHandler: scope.requireAuth(REPORTS) }, me)
    })
    await app.register(async (scope) => {
      await scope.register(canonicalAuth, { auth: strict })
      scope.get('/strict', { preHandler: scope.requireAuth() }, me)
    })
    await app.register(async (scope) => {
      await scope.register(canonicalAuth, { auth: keysDown })
      scope.get('/keys-down', { preHandler: scope.requireAuth() }, me)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    }
  },
}

function koaHarness(name: string, Koa: typeof Koa3): Harness {
  return {
    name,
    async start({ main, keysDown, pointed, strict }) {
      const app = new Koa()
      const me: Koa3.Middleware = (ctx) => {
        ctx.body = { userId: ctx.state.auth?.userId ?? null }
      }
      const routes: Record<string, Koa3.Middleware[]> = {
        'GET /me': [koaRequireAuth(main), me],
        'GET /reports': [koaRequireAuth(main, { scopes: ['read:reports'] }), me],
        'GET /admin': [koaRequireAuth(main, { permissions: ADMIN }), me],
        'GET /org': [koaRequireAuth(main, ORG), me],
        'GET /optional': [koaRequireAuth(main, { optional: true }), me],
        'GET /delegated': [koaRequireAuth(main, { delegateErrors: true }), me],
        'GET /delegated-scope': [koaRequireAuth(main, DELEGATED_SCOPE), me],
        'GET /keys-down': [koaRequireAuth(keysDown), me],
        'GET /pointed': [koaRequireAuth(pointed, REPORTS), me],
        'GET /strict': [koaRequireAuth(strict), me],
        [`GET ${METADATA_PATH}`]: [koaMetadata(pointed)],
        'POST /public/auth/discover': [koaDiscover(main)],
        'POST /public/auth/discover-limited': [koaDiscover(main, overLimit)],
      }
      app.use(async (ctx, next) => {
        try {
          await next()
        } catch (error) {
          if (!isAuthError(error)) throw error
          ctx.status = 418
          ctx.body = { delegated: error.code }
        }
      })
      app.use(async (ctx, next) => {
        const [first, second] = routes[`${ctx.method} ${ctx.path}`] ?? []
        if (first === undefined) return next()
        await first(ctx, async () => {
          await second?.(ctx, async () => {})
        })
      })
      return listening(app.listen(0, '127.0.0.1'))
    },
  }
}

// The JSON answers of the routes themselves, as Express's res.json writes them.
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' }

/** A route's answer for the fetch harness: its userId, with the next DPoP nonce when there is one. */
function meAnswer(auth: AuthContext | undefined): Response {
  const nonce = auth?.dpop?.nonce
  return new Response(JSON.stringify({ userId: auth?.userId ?? null }), {
    headers: nonce === undefined ? JSON_TYPE : { ...JSON_TYPE, 'dpop-nonce': nonce },
  })
}

/** A fetch handler served by Node through @hono/node-server, as Node users run one. */
function served(fetch: (request: Request) => Promise<Response>): Promise<RunningApp> {
  const server = createAdaptorServer({ fetch }) as Server
  server.listen(0, '127.0.0.1')
  return listening(server)
}

const fetchHarness: Harness = {
  name: 'fetch',
  async start({ main, keysDown, pointed, strict }) {
    const guards: Record<string, FetchGuard<AuthContext | undefined>> = {
      '/me': fetchRequireAuth(main),
      '/reports': fetchRequireAuth(main, { scopes: ['read:reports'] }),
      '/admin': fetchRequireAuth(main, { permissions: ADMIN }),
      '/org': fetchRequireAuth(main, ORG),
      '/optional': fetchRequireAuth(main, { optional: true }),
      '/delegated': fetchRequireAuth(main, { delegateErrors: true }),
      '/delegated-scope': fetchRequireAuth(main, DELEGATED_SCOPE),
      '/keys-down': fetchRequireAuth(keysDown),
      '/pointed': fetchRequireAuth(pointed, REPORTS),
      '/strict': fetchRequireAuth(strict),
    }
    const metadata = fetchMetadata(pointed)
    const discover = fetchDiscover(main)
    const limited = fetchDiscover(main, overLimit)
    return served(async (request) => {
      const { pathname } = new URL(request.url)
      if (request.method === 'POST' && pathname === '/public/auth/discover') {
        return discover(request, { client: '127.0.0.1' })
      }
      if (request.method === 'POST' && pathname === '/public/auth/discover-limited') {
        return limited(request, { client: '127.0.0.1' })
      }
      if (request.method === 'GET' && pathname === METADATA_PATH) return metadata(request)
      const guard = request.method === 'GET' ? guards[pathname] : undefined
      if (guard === undefined) return new Response('not found', { status: 404 })
      try {
        const auth = await guard(request)
        return auth instanceof Response ? auth : meAnswer(auth)
      } catch (error) {
        if (!isAuthError(error)) throw error
        return new Response(JSON.stringify({ delegated: error.code }), {
          status: 418,
          headers: JSON_TYPE,
        })
      }
    })
  },
}

const honoHarness: Harness = {
  name: 'hono 4',
  async start({ main, keysDown, pointed, strict }) {
    const app = new Hono()
    const answer = (c: Context) =>
      c.body(JSON.stringify({ userId: c.get('auth')?.userId ?? null }), 200, JSON_TYPE)
    app.onError((error, c) => {
      if (isAuthError(error))
        return c.body(JSON.stringify({ delegated: error.code }), 418, JSON_TYPE)
      throw error
    })
    app.get('/me', honoRequireAuth(main), answer)
    app.get('/reports', honoRequireAuth(main, { scopes: ['read:reports'] }), answer)
    app.get('/admin', honoRequireAuth(main, { permissions: ADMIN }), answer)
    app.get('/org', honoRequireAuth(main, ORG), answer)
    app.get('/optional', honoRequireAuth(main, { optional: true }), answer)
    app.get('/delegated', honoRequireAuth(main, { delegateErrors: true }), answer)
    app.get('/delegated-scope', honoRequireAuth(main, DELEGATED_SCOPE), answer)
    app.get('/keys-down', honoRequireAuth(keysDown), answer)
    app.get('/pointed', honoRequireAuth(pointed, REPORTS), answer)
    app.get('/strict', honoRequireAuth(strict), answer)
    app.get(METADATA_PATH, honoMetadata(pointed))
    app.post('/public/auth/discover', honoDiscover(main))
    app.post('/public/auth/discover-limited', honoDiscover(main, overLimit))
    return served(async (request) => app.fetch(request))
  },
}

/**
 * A Nest controller with the routes every harness serves, its decorators applied as TypeScript's
 * legacy decorators apply them (this file is not compiled with them; test/nest is).
 */
function nestController(routes: Record<string, NestRequireAuthOptions>): Type {
  class Routes {}
  Controller()(Routes)
  for (const [path, options] of Object.entries(routes)) {
    const name = `route${path.replace(/[^a-z]/g, '_')}`
    const handler = (auth: AuthContext | undefined) => ({ userId: auth?.userId ?? null })
    Object.defineProperty(Routes.prototype, name, { value: handler, configurable: true })
    const descriptor = Object.getOwnPropertyDescriptor(Routes.prototype, name) as PropertyDescriptor
    CurrentUser()(Routes.prototype, name, 0)
    RequireAuth(options)(Routes.prototype, name, descriptor)
    Get(path)(Routes.prototype, name, descriptor)
  }
  return Routes
}

/** The delegated routes' answer: a Nest exception filter, as a Nest app would write one. */
class DelegatedFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse()
    if (!isAuthError(exception)) throw exception
    const body = { delegated: exception.code }
    if (typeof response.code === 'function') response.code(418).send(body)
    else response.status(418).json(body)
  }
}
Catch()(DelegatedFilter)

function nestHarness(name: string, platform: 'express' | 'fastify'): Harness {
  return {
    name,
    async start({ main, keysDown, pointed, strict }) {
      const controller = nestController({
        me: {},
        reports: { scopes: ['read:reports'] },
        admin: { permissions: ADMIN },
        org: ORG,
        optional: { optional: true },
        delegated: { delegateErrors: true },
        'delegated-scope': DELEGATED_SCOPE,
        'keys-down': { auth: keysDown },
        pointed: { ...REPORTS, auth: pointed },
        strict: { auth: strict },
      })
      class AppModule {}
      Module({
        imports: [CanonicalAuthModule.forRoot({ auth: main })],
        controllers: [controller],
        providers: [{ provide: APP_FILTER, useClass: DelegatedFilter }],
      })(AppModule)
      if (platform === 'express') {
        const app = await NestFactory.create<NestExpressApplication>(
          AppModule,
          new ExpressAdapter(),
          {
            logger: false,
            bodyParser: false,
          },
        )
        const express = app.getHttpAdapter().getInstance()
        express.get(METADATA_PATH, expressMetadata(pointed))
        express.post('/public/auth/discover', expressDiscover(main))
        express.post('/public/auth/discover-limited', expressDiscover(main, overLimit))
        await app.listen(0, '127.0.0.1')
        return listening(app.getHttpServer())
      }
      const app = await NestFactory.create<NestFastifyApplication>(
        AppModule,
        new FastifyAdapter(),
        {
          logger: false,
          bodyParser: false,
        },
      )
      await app.register(async (scope: FastifyInstance) => {
        await scope.register(canonicalAuth, { auth: main, discoverPath: '/public/auth/discover' })
      })
      await app.register(async (scope: FastifyInstance) => {
        await scope.register(canonicalAuth, {
          auth: main,
          discoverPath: '/public/auth/discover-limited',
          discover: overLimit,
        })
      })
      await app.register(async (scope: FastifyInstance) => {
        await scope.register(canonicalAuth, { auth: pointed, metadataPath: METADATA_PATH })
      })
      await app.listen(0, '127.0.0.1')
      return listening(app.getHttpServer())
    },
  }
}

export const harnesses: readonly Harness[] = [
  expressHarness('express 5', express5),
  expressHarness('express 4', express4 as unknown as typeof express5),
  fastifyHarness,
  koaHarness('koa 3', Koa3),
  koaHarness('koa 2', Koa2 as unknown as typeof Koa3),
  fetchHarness,
  honoHarness,
  nestHarness('nest 12 (express)', 'express'),
  nestHarness('nest 12 (fastify)', 'fastify'),
]
