import type { Auth, AuthContext } from 'canonical-auth'
import { requireAuth } from 'canonical-auth/express'
import express5 from 'express'
import express4 from 'express4'
import { describe, expect, it } from 'vitest'
import { bearer, listening, readJson, resolve, ssoToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

// Express makes each request an object of its own hidden class as it gives it the app's prototype;
// `req.auth` is an accessor on Express's shared request prototype rather than a property added to
// each request, and must read as one would.

const stack = useTestStack(({ directory }) => ({ directory: { baseUrl: directory.baseUrl } }))

type Handler = (req: express5.Request, res: express5.Response) => void

const answer: Handler = (req, res) => {
  res.json({ userId: req.auth?.userId ?? null, own: Object.hasOwn(req, 'auth') })
}

async function serve(express: typeof express5, build: (app: express5.Express) => void) {
  const app = express()
  build(app)
  return listening(app.listen(0, '127.0.0.1'))
}

const get = async (origin: string, path: string, token?: string) =>
  readJson(await fetch(`${origin}${path}`, { headers: token === undefined ? {} : bearer(token) }))

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
])('req.auth in %s', (_name, express) => {
  it('is the user, on the app and in an app mounted in it, and no own property of the request', async () => {
    const auth = stack.auth()
    const token = await ssoToken(stack.issuer)
    const { id } = await resolve(auth, token)
    const mounted = express()
    mounted.get('/me', answer)
    const server = await serve(express, (app) => {
      app.use(requireAuth(auth))
      app.get('/me', answer)
      app.use('/mounted', mounted)
    })
    // The first request waits for the key set and the directory, the next are answered at once.
    for (const path of ['/me', '/me', '/mounted/me']) {
      expect(await get(server.origin, path, token)).toEqual({ userId: id, own: false })
    }
    await server.close()
  })

  it('is the user in the parent app too when an app mounted in it authenticated the request', async () => {
    const auth = stack.auth()
    const token = await ssoToken(stack.issuer)
    const { id } = await resolve(auth, token)
    // The mounted app has no route of its own: the request goes back to the parent after it.
    const mounted = express()
    mounted.use(requireAuth(auth))
    const server = await serve(express, (app) => {
      app.use('/area', mounted)
      app.get('/area/me', answer)
    })
    for (let request = 0; request < 2; request += 1) {
      expect(await get(server.origin, '/area/me', token)).toEqual({ userId: id, own: false })
    }
    await server.close()
  })

  it('is undefined on an optional route without a token, after a request with one', async () => {
    const auth = stack.auth()
    const token = await ssoToken(stack.issuer)
    const server = await serve(express, (app) => {
      app.get('/optional', requireAuth(auth, { optional: true }), answer)
    })
    expect(await get(server.origin, '/optional', token)).toMatchObject({
      userId: expect.any(String),
    })
    expect(await get(server.origin, '/optional')).toEqual({ userId: null, own: false })
    await server.close()
  })

  it('is the user on a request that already had an auth property of its own', async () => {
    const auth = stack.auth()
    const token = await ssoToken(stack.issuer)
    const server = await serve(express, (app) => {
      app.use((req, _res, next) => {
        Object.defineProperty(req, 'auth', { value: 'stale', writable: true, configurable: true })
        next()
      })
      app.use(requireAuth(auth))
      app.get('/me', answer)
    })
    expect(await get(server.origin, '/me', token)).toEqual({
      userId: (await resolve(auth, token)).id,
      own: true,
    })
    await server.close()
  })

  it('reads what a later middleware sets, and keeps each request its own', async () => {
    const auth = stack.auth()
    const ada = await ssoToken(stack.issuer)
    const bob = await ssoToken(stack.issuer, 'bob')
    const server = await serve(express, (app) => {
      app.use(requireAuth(auth))
      app.get(
        '/replaced',
        (req, _res, next) => {
          req.auth = { ...(req.auth as AuthContext), userId: 'replaced' }
          next()
        },
        answer,
      )
      app.get('/me', answer)
    })
    expect(await get(server.origin, '/replaced', ada)).toEqual({ userId: 'replaced', own: false })
    const [first, second] = await Promise.all([
      get(server.origin, '/me', ada),
      get(server.origin, '/me', bob),
    ])
    expect(first).toEqual({ userId: (await resolve(auth, ada)).id, own: false })
    expect(second).toEqual({ userId: (await resolve(auth, bob)).id, own: false })
    await server.close()
  })
})

describe('req.auth on a request Express did not make', () => {
  it('is set as a property of the request itself', async () => {
    const auth: Auth = stack.auth()
    const token = await ssoToken(stack.issuer)
    const req = { headers: bearer(token) } as unknown as express5.Request
    await new Promise<void>((done, fail) => {
      requireAuth(auth)(req, {} as express5.Response, (error?: unknown) =>
        error === undefined ? done() : fail(error),
      )
    })
    expect(Object.hasOwn(req, 'auth')).toBe(true)
    expect(req.auth?.userId).toBe((await resolve(auth, token)).id)
  })
})
