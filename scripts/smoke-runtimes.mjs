// The built core on another runtime (run by Deno and by Bun in CI, and by Node): verifies, resolves
// a first-time user through the directory, refuses bad tokens, refreshes its key set in the
// background through waitUntil, and answers through the fetch adapter, DPoP included. Upstream
// fetches are counted by canonical-auth's own `jwks.fetch` events, not by the servers' hits (a
// runtime may retry a request on a kept-alive connection that was reset).
import assert from 'node:assert/strict'
import { requireAuth } from '../dist/fetch.js'
import { createAuth, isAuthError } from '../dist/index.js'
import {
  createDpopKeyPair,
  createDpopProof,
  createTestDirectory,
  createTestIssuer,
} from '../dist/testing.js'

const runtime =
  typeof Deno !== 'undefined'
    ? `Deno ${Deno.version.deno}`
    : typeof Bun !== 'undefined'
      ? `Bun ${Bun.version}`
      : `Node ${process.version}`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const issuer = await createTestIssuer()
const directory = await createTestDirectory()
const fetches = []
const auth = createAuth({
  auth0: issuer.auth0,
  directory: { baseUrl: directory.baseUrl },
  jwks: { maxAgeMs: 1_000 },
  cache: { tokens: false },
  onEvent: (event) => {
    if (event.type === 'jwks.fetch') fetches.push(event.outcome)
  },
})
try {
  const ada = { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true }
  const headers = async (claims = ada) => ({ authorization: `Bearer ${await issuer.sign(claims)}` })

  const first = await auth.authenticate({ headers: await headers() })
  assert.match(first.userId, UUID)
  assert.equal(first.user.created, true)
  const again = await auth.authenticate({ headers: await headers() })
  assert.equal(again.userId, first.userId)

  const expired = await auth
    .verifyAuth0Token(await issuer.sign({ ...ada, exp: Math.floor(Date.now() / 1000) - 3_600 }))
    .catch((error) => error)
  assert.ok(isAuthError(expired) && expired.code === 'token_expired')
  const forged = await auth
    .verifyAuth0Token(`${(await issuer.sign(ada)).slice(0, -4)}AAAA`)
    .catch((e) => e)
  assert.ok(isAuthError(forged) && forged.code === 'token_invalid')

  // Past the key set's max age: served from the kept copy, refreshed through waitUntil.
  await new Promise((resolve) => setTimeout(resolve, 1_100))
  const background = []
  await auth.authenticate({ headers: await headers(), waitUntil: (task) => background.push(task) })
  assert.equal(background.length, 1)
  await Promise.all(background)
  assert.deepEqual(fetches, ['ok', 'ok'])

  // The fetch adapter: a refusal is a standard Response; a DPoP-bound token with its proof passes.
  const guard = requireAuth(auth)
  const refused = await guard(new Request('https://api.example.com/reports'))
  assert.ok(refused instanceof Response)
  assert.equal(refused.status, 401)
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer')
  const key = await createDpopKeyPair()
  const bound = await issuer.sign(ada, { dpop: key.publicJwk })
  const url = 'https://api.example.com/reports'
  const proof = await createDpopProof({ ...key, method: 'GET', url, accessToken: bound })
  const granted = await guard(
    new Request(`${url}?year=2026`, { headers: { authorization: `DPoP ${bound}`, dpop: proof } }),
  )
  assert.ok(!(granted instanceof Response), 'the DPoP request is accepted')
  assert.equal(granted.userId, first.userId)
  const replayed = await guard(
    new Request(url, { headers: { authorization: `DPoP ${bound}`, dpop: proof } }),
  )
  assert.equal(replayed.status, 401)
  console.log(`${runtime}: the built core verifies, resolves, refreshes and answers`)
} finally {
  await auth.close()
  await issuer.close()
  await directory.close()
}
// msw, which the testing kit loads, opens a BroadcastChannel when imported; Deno keeps a process
// with one open alive, so this script ends itself there.
if (typeof Deno !== 'undefined') Deno.exit(0)
