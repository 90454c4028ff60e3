import { type AddressInfo, connect } from 'node:net'
import type { Auth, AuthConfig } from 'canonical-auth'
import { requireAuth as expressAuth } from 'canonical-auth/express'
import canonicalAuth from 'canonical-auth/fastify'
import { requireAuth as koaAuth } from 'canonical-auth/koa'
import { createDpopKeyPair, createDpopProof, type DpopKeyPair } from 'canonical-auth/testing'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { beforeAll, describe, expect, it } from 'vitest'
import { listening } from '../helpers.js'
import { useTestStack } from '../stack.js'

// How each adapter tells canonical-auth the URL a client called: the framework's own protocol
// and host (X-Forwarded-* only where the app trusts its proxy), the path before any mount point
// took its prefix, or dpop.origin when configured.

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
}))

interface App {
  readonly origin: string
  close(): Promise<void>
}

/** An app serving `GET /api/me` behind `requireAuth(auth)`, trusting its proxy or not. */
type Start = (auth: Auth, trustProxy: boolean) => Promise<App>

function startExpress(express: typeof express5): Start {
  return async (auth, trustProxy) => {
    const app = express()
    if (trustProxy) app.set('trust proxy', true)
    // Mounted under /api: the proof names the whole path, not the router's part of it.
    const router = express.Router()
    router.get('/me', expressAuth(auth), (req, res) => {
      res.json({ userId: req.auth?.userId })
    })
    app.use('/api', router)
    return listening(app.listen(0, '127.0.0.1'))
  }
}

const startFastify: Start = async (auth, trustProxy) => {
  const app = Fastify({ trustProxy })
  await app.register(
    async (scope) => {
      await scope.register(canonicalAuth, { auth })
      scope.get('/me', { preHandler: scope.requireAuth() }, async (request) => ({
        userId: request.auth?.userId,
      }))
    },
    { prefix: '/api' },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  }
}

function startKoa(Koa: typeof Koa3): Start {
  return async (auth, trustProxy) => {
    const app = new Koa()
    app.proxy = trustProxy
    const guard = koaAuth(auth)
    app.use(async (ctx, next) => {
      if (ctx.path !== '/api/me') return next()
      await guard(ctx, async () => {
        ctx.body = { userId: ctx.state.auth?.userId }
      })
    })
    return listening(app.listen(0, '127.0.0.1'))
  }
}

const frameworks: [string, Start][] = [
  ['express 5', startExpress(express5)],
  ['express 4', startExpress(express4 as unknown as typeof express5)],
  ['fastify 5', startFastify],
  ['koa 3', startKoa(Koa3)],
  ['koa 2', startKoa(Koa2 as unknown as typeof Koa3)],
]

/** One request written byte for byte (fetch would not send a Host of our choosing, or none). */
async function rawCall(
  origin: string,
  raw: { requestLine: string; host?: string | undefined },
  token: string,
  proof: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const socket = connect(Number(new URL(origin).port), '127.0.0.1')
  const lines = [
    raw.requestLine,
    ...(raw.host === undefined ? [] : [`host: ${raw.host}`]),
    `authorization: DPoP ${token}`,
    `dpop: ${proof}`,
    'connection: close',
  ]
  // Written, not ended: a server may drop a request whose client closed its side before the answer.
  socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1])
  const body = text.slice(text.indexOf('\r\n\r\n') + 4)
  return { status, body: JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1)) }
}

let key: DpopKeyPair
beforeAll(async () => {
  key = await createDpopKeyPair()
})

describe.each(frameworks)('%s', (_name, start) => {
  async function call(
    options: {
      config?: Partial<AuthConfig>
      trustProxy?: boolean
      /** The URL the proof names; default the app's own. */
      proofUrl?: (origin: string) => string
      headers?: Record<string, string>
      query?: string
      /** Sends the request as these bytes instead (the headers of the proof and token added). */
      raw?: { requestLine: string; host?: string | undefined }
    } = {},
  ) {
    const auth = stack.auth(options.config)
    const app = await start(auth, options.trustProxy ?? false)
    try {
      const token = await stack.issuer.sign(
        { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true },
        { dpop: key.publicJwk },
      )
      const proof = await createDpopProof({
        ...key,
        method: 'GET',
        url: options.proofUrl?.(app.origin) ?? `${app.origin}/api/me`,
        accessToken: token,
      })
      if (options.raw !== undefined) return await rawCall(app.origin, options.raw, token, proof)
      const response = await fetch(`${app.origin}/api/me${options.query ?? ''}`, {
        headers: { authorization: `DPoP ${token}`, dpop: proof, ...options.headers },
      })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    } finally {
      await app.close()
    }
  }

  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' }
  const publicUrl = () => 'https://api.example.com/api/me'

  it('checks htu against the URL called, whole path and all, query left out', async () => {
    await expect(call({ query: '?year=2026' })).resolves.toMatchObject({ status: 200 })
  })

  it('reads the forwarded protocol and host where the app trusts its proxy', async () => {
    await expect(
      call({ trustProxy: true, headers: forwarded, proofUrl: publicUrl }),
    ).resolves.toMatchObject({ status: 200 })
  })

  it('ignores the forwarded protocol and host where it does not', async () => {
    await expect(call({ headers: forwarded, proofUrl: publicUrl })).resolves.toMatchObject({
      status: 401,
      body: { error: 'invalid_dpop_proof' },
    })
    // A proof for the address the request really reached is accepted, whatever the headers say.
    await expect(call({ headers: forwarded })).resolves.toMatchObject({ status: 200 })
  })

  it('takes the origin from dpop.origin, whatever the request or its proxy says', async () => {
    const config = { dpop: { origin: 'https://api.example.com' } }
    await expect(
      call({ config, headers: { 'x-forwarded-host': 'evil.example.com' }, proofUrl: publicUrl }),
    ).resolves.toMatchObject({ status: 200 })
    await expect(call({ config })).resolves.toMatchObject({ status: 401 })
  })

  it('keeps a Host header from moving a proof to another path', async () => {
    const config = { dpop: { origin: 'https://api.example.com' } }
    const transfer = () => 'https://api.example.com/api/transfer'
    for (const host of [
      'x/api/transfer#',
      'x/api/transfer?',
      'x?',
      'x\\y',
      'api.example.com:99999',
      '1.2.3.999',
    ]) {
      await expect(
        call({ config, proofUrl: transfer, raw: { requestLine: 'GET /api/me HTTP/1.1', host } }),
      ).resolves.toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    }
    // Userinfo: Koa drops it from the host (then the proof is for another path), the others refuse it.
    const userinfo = await call({
      config,
      proofUrl: transfer,
      raw: { requestLine: 'GET /api/me HTTP/1.1', host: 'user@x' },
    })
    expect([400, 401]).toContain(userinfo.status)
    // Without dpop.origin, a Host naming another service's path is refused the same way.
    await expect(
      call({
        proofUrl: () => 'http://billing.internal/api/transfer',
        raw: { requestLine: 'GET /api/me HTTP/1.1', host: 'billing.internal/api/transfer?' },
      }),
    ).resolves.toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    // A well-formed Host is used as it is: the proof must name it.
    await expect(
      call({
        proofUrl: () => 'http://billing.internal/api/me',
        raw: { requestLine: 'GET /api/me HTTP/1.1', host: 'billing.internal' },
      }),
    ).resolves.toMatchObject({ status: 200 })
  })

  it('refuses a request with no Host, even with dpop.origin', async () => {
    const config = { dpop: { origin: 'https://api.example.com' } }
    await expect(
      call({
        config,
        proofUrl: () => 'https://api.example.com/me',
        raw: { requestLine: 'GET /api/me HTTP/1.0' },
      }),
    ).resolves.toMatchObject({ status: 400, body: { error: 'invalid_request' } })
  })

  it("checks an absolute-form target against the target's own URL", async () => {
    await expect(
      call({
        proofUrl: () => 'http://api.example.com/api/me',
        raw: { requestLine: 'GET http://api.example.com/api/me?x=1 HTTP/1.1', host: 'ignored' },
      }),
    ).resolves.toMatchObject({ status: 200 })
  })
})
