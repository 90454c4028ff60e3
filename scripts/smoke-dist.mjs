// Verifies a token through the built package, as an ESM consumer would import it.
import assert from 'node:assert/strict'
import { AuthError, createAuth, isAuthError, verifyAuth0Token } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'

const issuer = await createTestIssuer()
const auth = createAuth({ auth0: issuer.auth0 })
const verified = await auth.verifyAuth0Token(await issuer.sign({ sub: 'samlp|acme|1' }))
assert.equal(verified.connection, 'acme')
assert.equal(
  (await verifyAuth0Token(await issuer.sign(), { auth0: issuer.auth0 })).subject,
  'auth0|test-user',
)
const error = await auth.verifyAuth0Token('a.b.c').catch((e) => e)
assert.ok(error instanceof AuthError && isAuthError(error) && error.code === 'token_invalid')
await auth.close()
await issuer.close()
console.log('esm: ok')

// The adapters, as ESM consumers import them.
const express = await import('canonical-auth/express')
const koa = await import('canonical-auth/koa')
const fastify = await import('canonical-auth/fastify')
assert.equal(typeof express.requireAuth, 'function')
assert.equal(typeof express.discoverHandler, 'function')
assert.equal(typeof koa.requireAuth, 'function')
assert.equal(typeof koa.discoverHandler, 'function')
assert.equal(fastify.default, fastify.canonicalAuth)
assert.equal(typeof fastify.default, 'function')
// The fetch and Hono adapters: a refusal is a standard Response.
const fetchAdapter = await import('canonical-auth/fetch')
const hono = await import('canonical-auth/hono')
assert.equal(typeof hono.requireAuth, 'function')
const nest = await import('canonical-auth/nest')
assert.equal(typeof nest.RequireAuth, 'function')
assert.equal(typeof nest.CanonicalAuthModule.forRootAsync, 'function')
const fetchIssuer = await createTestIssuer()
const fetchAuth = createAuth({ auth0: fetchIssuer.auth0 })
const answer = await fetchAdapter.requireAuth(fetchAuth)(new Request('https://api.example.com/'))
assert.ok(answer instanceof Response && answer.status === 401)
assert.equal(answer.headers.get('www-authenticate'), 'Bearer')
await fetchAuth.close()
await fetchIssuer.close()
const { createRedisStore } = await import('canonical-auth/redis')
assert.throws(() => createRedisStore({ client: {} }), TypeError)
// The MCP verifier answers with the SDK's own error class.
const mcp = await import('canonical-auth/mcp')
const { InvalidTokenError } = await import('@modelcontextprotocol/sdk/server/auth/errors.js')
const mcpIssuer = await createTestIssuer()
const mcpAuth = createAuth({ auth0: mcpIssuer.auth0 })
const refusal = await mcp
  .createMcpTokenVerifier(mcpAuth)
  .verifyAccessToken('a.b.c')
  .catch((e) => e)
assert.ok(refusal instanceof InvalidTokenError)
await mcpAuth.close()
await mcpIssuer.close()
console.log('esm adapters, store and mcp verifier: ok')
