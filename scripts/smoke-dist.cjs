// Verifies a token through the built package, as a CommonJS consumer would require it, and checks
// that an AuthError from the CJS copy is recognised by the ESM copy's guard.
const assert = require('node:assert/strict')
const { createAuth, isAuthError } = require('canonical-auth')
const { createTestIssuer } = require('canonical-auth/testing')

;(async () => {
  const issuer = await createTestIssuer()
  const auth = createAuth({ auth0: issuer.auth0 })
  assert.equal((await auth.verifyAuth0Token(await issuer.sign())).subject, 'auth0|test-user')
  const error = await auth.verifyAuth0Token('a.b.c').catch((e) => e)
  const esm = await import('canonical-auth')
  assert.ok(!(error instanceof esm.AuthError), 'expected two copies of AuthError')
  assert.ok(isAuthError(error) && esm.isAuthError(error))
  await auth.close()
  await issuer.close()
  const express = require('canonical-auth/express')
  const koa = require('canonical-auth/koa')
  const { canonicalAuth } = require('canonical-auth/fastify')
  assert.equal(typeof express.requireAuth, 'function')
  assert.equal(typeof koa.discoverHandler, 'function')
  assert.equal(typeof canonicalAuth, 'function')
  const { createRedisStore } = require('canonical-auth/redis')
  assert.equal(typeof createRedisStore, 'function')
  console.log('cjs: ok')
})().catch((error) => {
  console.error(error)
  process.exit(1)
})
