import 'reflect-metadata'
import type { AddressInfo } from 'node:net'
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Module,
} from '@nestjs/common'
import { APP_FILTER, NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import { type AuthContext, isAuthError } from 'canonical-auth'
import { CanonicalAuthModule, CurrentUser, RequireAuth } from 'canonical-auth/nest'
import { describe, expect, it } from 'vitest'
import { ssoToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
  trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
}))

@Controller()
class ReportsController {
  @Get('me')
  @RequireAuth()
  me(@CurrentUser() user: AuthContext) {
    return { userId: user.userId }
  }

  @Get('reports')
  @RequireAuth({ scopes: ['read:reports'] })
  reports(@CurrentUser() user: AuthContext) {
    return { userId: user.userId }
  }

  @Get('optional')
  @RequireAuth({ optional: true })
  optional(@CurrentUser() user: AuthContext | undefined) {
    return { userId: user?.userId ?? null }
  }

  @Get('delegated')
  @RequireAuth({ delegateErrors: true })
  delegated(@CurrentUser() user: AuthContext) {
    return { userId: user.userId }
  }

  @Get('open')
  open() {
    return { open: true }
  }
}

@Catch()
class DelegatedFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse()
    const body = JSON.stringify({ delegated: isAuthError(exception) ? exception.code : 'other' })
    if (typeof response.code === 'function') response.code(418).send(body)
    else response.status(418).send(body)
  }
}

const platforms = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const

describe.each(platforms)('NestJS 12 on the %s platform', (_name, adapter) => {
  async function start(forRoot: 'sync' | 'async' = 'sync') {
    const auth = stack.auth()
    const authModule =
      forRoot === 'sync'
        ? CanonicalAuthModule.forRoot({ auth })
        : CanonicalAuthModule.forRootAsync({ useFactory: async () => ({ auth }) })
    @Module({
      imports: [authModule],
      controllers: [ReportsController],
      providers: [{ provide: APP_FILTER, useClass: DelegatedFilter }],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, adapter(), { logger: false })
    await app.listen(0, '127.0.0.1')
    const { port } = app.getHttpServer().address() as AddressInfo
    return { origin: `http://127.0.0.1:${port}`, close: () => app.close() }
  }

  const get = async (origin: string, path: string, token?: string) => {
    const response = await fetch(`${origin}${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    })
    return {
      status: response.status,
      headers: {
        'content-type': response.headers.get('content-type'),
        'www-authenticate': response.headers.get('www-authenticate'),
        'cache-control': response.headers.get('cache-control'),
      },
      body: await response.json(),
    }
  }

  it('puts the user on @CurrentUser(), and answers refusals as every adapter does', async () => {
    for (const forRoot of ['sync', 'async'] as const) {
      const app = await start(forRoot)
      try {
        const token = await ssoToken(stack.issuer)
        const granted = await get(app.origin, '/me', token)
        expect(granted).toMatchObject({ status: 200, body: { userId: expect.any(String) } })
        const missing = await get(app.origin, '/me')
        expect(missing).toEqual({
          status: 401,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'www-authenticate': 'Bearer',
            'cache-control': 'no-store',
          },
          body: { error: 'token_missing', error_description: expect.any(String) },
        })
        const scope = await get(app.origin, '/reports', token)
        expect(scope.status).toBe(403)
        expect(scope.headers['www-authenticate']).toMatch(/error="insufficient_scope"/)
        await expect(get(app.origin, '/optional')).resolves.toMatchObject({
          status: 200,
          body: { userId: null },
        })
        await expect(get(app.origin, '/open')).resolves.toMatchObject({ status: 200 })
      } finally {
        await app.close()
      }
    }
  })

  it("hands refusals to Nest's exception filters with delegateErrors", async () => {
    const app = await start()
    try {
      await expect(get(app.origin, '/delegated')).resolves.toMatchObject({
        status: 418,
        body: { delegated: 'token_missing' },
      })
    } finally {
      await app.close()
    }
  })
})

describe('RequireAuth', () => {
  it('checks its options when the route is declared', () => {
    expect(() => RequireAuth({ scopes: [] })).toThrow(TypeError)
  })
})
