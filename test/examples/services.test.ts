import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { AuthEvent } from 'canonical-auth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgenticBackend } from '../../examples/agentic-backend/app.js'
import { createHonoService } from '../../examples/hono-service/app.js'
import { createKoaService } from '../../examples/koa-service/app.js'
import { type LocalStack, startLocalStack } from '../../examples/local-stack.js'
import { createPlatformApi } from '../../examples/platform-api/app.js'
import { withSharedCache } from '../../examples/shared-cache.js'
import { redisAvailable, startRedisServer } from '../redis-server.js'

let stack: LocalStack
const closers: (() => Promise<unknown> | unknown)[] = []
const urls: Record<string, string> = {}

beforeAll(async () => {
  stack = await startLocalStack()
  const platform = createPlatformApi(stack.config)
  const platformServer = platform.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => platformServer.once('listening', resolve))
  urls.platform = `http://127.0.0.1:${(platformServer.address() as AddressInfo).port}`
  const agentic = await createAgenticBackend(stack.config)
  urls.agentic = await agentic.app.listen({ port: 0, host: '127.0.0.1' })
  const koa = createKoaService(stack.config)
  const koaServer = koa.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => koaServer.once('listening', resolve))
  urls.koa = `http://127.0.0.1:${(koaServer.address() as AddressInfo).port}`
  const hono = createHonoService(stack.config)
  const honoServer = createAdaptorServer({ fetch: hono.app.fetch }) as Server
  honoServer.listen(0, '127.0.0.1')
  await new Promise((resolve) => honoServer.once('listening', resolve))
  urls.hono = `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}`
  closers.push(
    () => new Promise((resolve) => honoServer.close(resolve)),
    () => hono.auth.close(),
    () => new Promise((resolve) => platformServer.close(resolve)),
    () => platform.auth.close(),
    () => agentic.app.close(),
    () => new Promise((resolve) => koaServer.close(resolve)),
    () => koa.auth.close(),
  )
})
afterAll(async () => {
  for (const close of closers) await close()
  await stack.close()
})

const get = async (url: string, token: string, header = 'authorization') => {
  const response = await fetch(url, {
    headers: { [header]: header === 'authorization' ? `Bearer ${token}` : token },
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('the example services on one stack', () => {
  it('give a first-time SSO user one UUID in every service, whichever is hit first', async () => {
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|kay',
      email: 'kay@acme.com',
      email_verified: true,
    })
    const viaAgentic = await get(`${urls.agentic}/workflows`, token, 'x-user-token')
    const viaKoa = await get(`${urls.koa}/profile`, token)
    const viaPlatform = await get(`${urls.platform}/validate`, token)
    const viaHono = await get(`${urls.hono}/profile`, token)
    expect(viaAgentic.status).toBe(200)
    expect(viaKoa.body.userId).toBe(viaAgentic.body.userId)
    expect(viaHono.body).toEqual({ userId: viaAgentic.body.userId, email: 'kay@acme.com' })
    expect(viaPlatform.body.userId).toBe(viaAgentic.body.userId)
    expect((await stack.store.lookup('kay@acme.com'))?.id).toBe(viaAgentic.body.userId)
  })

  it('platform-api creates the membership through onUserCreated, or just in time later', async () => {
    const fresh = await stack.issuer.sign({
      sub: 'samlp|acme-waad|lin',
      email: 'lin@acme.com',
      email_verified: true,
    })
    const orgs = await get(`${urls.platform}/organizations/me`, fresh)
    expect(orgs.body.organizations).toEqual([{ organization: 'acme', role: 'member' }])
    const check = await get(`${urls.platform}/check`, fresh)
    expect(check.body).toEqual({ valid: true, userId: orgs.body.userId })
  })

  it('agentic-backend enforces route permissions', async () => {
    const plain = await stack.issuer.sign({
      sub: 'samlp|acme-waad|kay',
      email: 'kay@acme.com',
      email_verified: true,
    })
    expect((await get(`${urls.agentic}/workflows/admin`, plain)).status).toBe(403)
    const admin = await stack.issuer.sign({
      sub: 'samlp|acme-waad|kay',
      email: 'kay@acme.com',
      email_verified: true,
      permissions: ['workflows:admin'],
    })
    expect((await get(`${urls.agentic}/workflows/admin`, admin)).status).toBe(200)
  })

  it('the Koa service serves discovery', async () => {
    const response = await fetch(`${urls.koa}/public/auth/discover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'kay@acme.com' }),
    })
    expect(await response.json()).toMatchObject({ method: 'sso', connection: 'acme-waad' })
  })
})

describe.runIf(redisAvailable())(
  'platform-api replicas with REDIS_URL (examples/shared-cache.ts)',
  () => {
    it('share resolved users through Redis: one directory call for two replicas', async () => {
      const redis = await startRedisServer()
      const calls: AuthEvent[] = []
      const onEvent = (event: AuthEvent) => {
        if (event.type === 'directory.call') calls.push(event)
      }
      const replicas = await Promise.all(
        [1, 2].map(async () => {
          const shared = await withSharedCache(
            { ...stack.config, onEvent },
            redis.url,
            'platform:',
            'an-example-secret-of-32-characters',
          )
          const platform = createPlatformApi(shared.config)
          const server = platform.app.listen(0, '127.0.0.1')
          await new Promise((resolve) => server.once('listening', resolve))
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
          const close = async () => {
            await new Promise((resolve) => server.close(resolve))
            await platform.auth.close()
            await shared.close()
          }
          return { url, close }
        }),
      )
      try {
        const token = await stack.issuer.sign({
          sub: 'samlp|acme-waad|rey',
          email: 'rey@acme.com',
          email_verified: true,
        })
        const [one, two] = replicas as [(typeof replicas)[0], (typeof replicas)[0]]
        const first = await get(`${one.url}/validate`, token)
        const second = await get(`${two.url}/validate`, token)
        expect(first.body.source).toBe('directory')
        expect(second.body).toMatchObject({ userId: first.body.userId, source: 'cache' })
        expect(calls).toHaveLength(1)
      } finally {
        for (const replica of replicas) await replica.close()
        await redis.stop()
      }
    })
  },
)

describe('agentic-backend logs canonical-auth events (examples/agentic-backend)', () => {
  it('as structured lines at their level, with no token, email or sub in them', async () => {
    const lines: Array<{ level: number; msg: string; auth?: Record<string, unknown> }> = []
    const stream = { write: (line: string) => void lines.push(JSON.parse(line)) }
    const { app } = await createAgenticBackend(stack.config, { logger: { level: 'debug', stream } })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const token = await stack.issuer.sign({
        sub: 'samlp|acme-waad|lin',
        email: 'lin@acme.com',
        email_verified: true,
      })
      expect((await get(`${url}/workflows`, token)).status).toBe(200)
      const forged = `${token.slice(0, -8)}AAAAAAAA`
      expect((await get(`${url}/workflows`, forged)).status).toBe(401)
    } finally {
      await app.close()
    }
    const events = lines.filter((line) => line.auth !== undefined)
    expect(events.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        'token.verified',
        'directory.call',
        'user.resolved',
        'token.rejected',
      ]),
    )
    const rejected = events.find((line) => line.msg === 'token.rejected')
    expect(rejected).toMatchObject({
      level: 30,
      auth: { type: 'token.rejected', code: 'token_invalid' },
    })
    expect(events.find((line) => line.msg === 'token.verified')?.level).toBe(20)
    const text = JSON.stringify(events)
    for (const secret of ['lin@acme.com', 'samlp|acme-waad|lin', 'AAAAAAAA', 'eyJ'])
      expect(text).not.toContain(secret)
  })
})
