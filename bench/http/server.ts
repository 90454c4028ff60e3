/**
 * One benchmark server, run in its own process by bench/http/run.ts: a hello-world GET on one
 * framework behind one auth middleware. Reads its setup from the BENCH_SERVER environment
 * variable (JSON), listens on a loopback port and writes `listening <port>` to stdout.
 */
import type { AddressInfo } from 'node:net'
import { type AuthConfig, createAuth } from 'canonical-auth'
import { requireAuth as expressAuth } from 'canonical-auth/express'
import canonicalFastify from 'canonical-auth/fastify'
import { requireAuth as koaAuth } from 'canonical-auth/koa'
import { type Framework, LOADED_NO_OP, NO_OP, SIGNATURE_ONLY } from './guards.js'

export type { Framework }

/** What guards the route: nothing, a peer library, or canonical-auth with or without its cache. */
export type Guard =
  | 'none'
  | 'express-oauth2-jwt-bearer'
  | 'express-jwt + jwks-rsa'
  | 'fastify-auth0-verify'
  | 'koa-jwt + jwks-rsa'
  | 'canonical-auth'
  | 'canonical-auth, verification cache off'
  | typeof SIGNATURE_ONLY
  | typeof NO_OP
  | typeof LOADED_NO_OP

export interface ServerSetup {
  readonly framework: Framework
  readonly guard: Guard
  readonly issuer: string
  readonly jwksUri: string
  readonly audience: string
  readonly directoryUrl: string
}

const HELLO = { hello: 'world' }

function canonicalConfig(setup: ServerSetup): AuthConfig {
  return {
    auth0: { issuer: setup.issuer, jwksUri: setup.jwksUri, audience: setup.audience },
    directory: { baseUrl: setup.directoryUrl },
    ...(setup.guard === 'canonical-auth, verification cache off'
      ? { cache: { tokens: false } }
      : {}),
  }
}

const isCanonical = (guard: Guard) => guard.startsWith('canonical-auth')
const isNoOp = (guard: Guard) => guard === NO_OP || guard === LOADED_NO_OP

/**
 * The least work any guard that checks each request's token must do: the RS256 signature of the
 * Bearer token, by node:crypto with a key imported once, and nothing else (no claim, no issuer,
 * no user). What it serves is the ceiling for a guard that verifies every request.
 */
async function signatureOnly(setup: ServerSetup): Promise<(authorization: unknown) => boolean> {
  const { createPublicKey, verify } = await import('node:crypto')
  const response = await fetch(setup.jwksUri)
  const { keys } = (await response.json()) as { keys: import('node:crypto').JsonWebKey[] }
  const key = createPublicKey({ key: keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' })
  return (authorization) => {
    if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return false
    const token = authorization.slice(7)
    const dot = token.lastIndexOf('.')
    return verify(
      'RSA-SHA256',
      Buffer.from(token.slice(0, dot), 'latin1'),
      key,
      Buffer.from(token.slice(dot + 1), 'base64url'),
    )
  }
}

// express-jwt and koa-jwt take the same jwks-rsa secret and jsonwebtoken options.
const jwksRsaOptions = (setup: ServerSetup) => ({
  jwksUri: setup.jwksUri,
  cache: true,
  rateLimit: true,
})
const jwtOptions = (setup: ServerSetup) => ({
  issuer: setup.issuer,
  audience: setup.audience,
  algorithms: ['RS256'] as ['RS256'],
})

async function express(setup: ServerSetup) {
  const { default: createApp } = await import('express')
  const app = createApp()
  if (isCanonical(setup.guard)) {
    app.use(expressAuth(createAuth(canonicalConfig(setup))))
  } else if (isNoOp(setup.guard)) {
    app.use((_req, _res, next) => {
      next()
    })
  } else if (setup.guard === SIGNATURE_ONLY) {
    const valid = await signatureOnly(setup)
    app.use((req, res, next) => {
      if (valid(req.headers.authorization)) next()
      else res.status(401).end()
    })
  } else if (setup.guard === 'express-oauth2-jwt-bearer') {
    const { auth } = await import('express-oauth2-jwt-bearer')
    app.use(auth({ issuer: setup.issuer, jwksUri: setup.jwksUri, audience: setup.audience }))
  } else if (setup.guard === 'express-jwt + jwks-rsa') {
    const { expressjwt } = await import('express-jwt')
    const { expressJwtSecret } = await import('jwks-rsa')
    app.use(
      expressjwt({
        secret: expressJwtSecret(jwksRsaOptions(setup)) as never,
        ...jwtOptions(setup),
      }),
    )
  }
  app.get('/hello', (_req, res) => {
    res.json(HELLO)
  })
  return app.listen(0, '127.0.0.1')
}

async function fastify(setup: ServerSetup) {
  const { default: createApp } = await import('fastify')
  const app = createApp()
  if (isCanonical(setup.guard)) {
    await app.register(canonicalFastify, { auth: createAuth(canonicalConfig(setup)) })
    app.get('/hello', { preHandler: app.requireAuth() }, async () => HELLO)
  } else if (isNoOp(setup.guard)) {
    app.get(
      '/hello',
      {
        preHandler: (_request, _reply, done) => {
          done()
        },
      },
      async () => HELLO,
    )
  } else if (setup.guard === SIGNATURE_ONLY) {
    const valid = await signatureOnly(setup)
    app.get(
      '/hello',
      {
        preHandler: (request, reply, done) => {
          if (valid(request.headers.authorization)) done()
          else reply.code(401).send()
        },
      },
      async () => HELLO,
    )
  } else if (setup.guard === 'fastify-auth0-verify') {
    const { default: auth0Verify } = await import('fastify-auth0-verify')
    await app.register(auth0Verify, {
      domain: setup.issuer,
      issuer: setup.issuer,
      audience: setup.audience,
    })
    app.get('/hello', { preValidation: app.authenticate }, async () => HELLO)
  } else {
    app.get('/hello', async () => HELLO)
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app.server
}

async function koa(setup: ServerSetup) {
  const { default: Koa } = await import('koa')
  const app = new Koa()
  if (isCanonical(setup.guard)) {
    app.use(koaAuth(createAuth(canonicalConfig(setup))))
  } else if (isNoOp(setup.guard)) {
    app.use((_ctx, next) => next())
  } else if (setup.guard === SIGNATURE_ONLY) {
    const valid = await signatureOnly(setup)
    app.use((ctx, next) => {
      if (valid(ctx.headers.authorization)) return next()
      ctx.status = 401
      return undefined
    })
  } else if (setup.guard === 'koa-jwt + jwks-rsa') {
    const { default: koaJwt } = await import('koa-jwt')
    const { koaJwtSecret } = await import('jwks-rsa')
    app.use(koaJwt({ secret: koaJwtSecret(jwksRsaOptions(setup)) as never, ...jwtOptions(setup) }))
  }
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = HELLO
  })
  return app.listen(0, '127.0.0.1')
}

const setup = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerSetup
// Kept for the life of the server, never called: only its weight on the heap counts.
const resident = setup.guard === LOADED_NO_OP ? createAuth(canonicalConfig(setup)) : undefined
if (resident !== undefined) await fetch(setup.jwksUri).then((response) => response.arrayBuffer())
const server = await { express, fastify, koa }[setup.framework](setup)
if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})
