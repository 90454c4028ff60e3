// Profiling aid (not part of `npm run bench`): what putting the user on an Express request costs.
// Express gives each request its app's prototype and adds properties of its own; V8 then copies
// the request's layout into a new hidden class for every property added to it. This times
// `req.auth = …` on request objects made as Express makes them: as an own property, the way the
// adapter keeps it (`setRequestAuth`: in a WeakMap behind an accessor on Express's request
// prototype), an assignment through that accessor's setter (what other code that sets `req.auth`
// pays), and the whole `requireAuth` middleware on such requests with the token and user cached.
//
//   npx tsx bench/profile-express-request.ts
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { createAuth } from 'canonical-auth'
import { requireAuth } from 'canonical-auth/express'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'
import express from 'express'
import { setRequestAuth } from '../src/core/http/request-auth.js'

const issuer = await createTestIssuer({ audience: 'https://api.bench' })
const directory = await createTestDirectory()
const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })
const token = await issuer.sign({
  email: 'ada@acme.com',
  email_verified: true,
  sub: 'samlp|acme-waad|ada',
})
const context = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })

const app = express()
const socket = new Socket()

/** A request as Express's `app.handle` and router leave it when a middleware runs. */
function expressRequest(): express.Request {
  const req = new IncomingMessage(socket)
  req.headers = { authorization: `Bearer ${token}`, host: 'localhost' }
  const res = new ServerResponse(req)
  const handled = req as IncomingMessage & Record<string, unknown>
  handled.res = res
  Object.setPrototypeOf(req, app.request)
  handled.next = () => {}
  handled.baseUrl = ''
  handled.originalUrl = '/hello'
  handled.params = {}
  return req as express.Request
}

const ROUNDS = 10
const CALLS = 20_000

/**
 * Microseconds per call of `step` on a request Express made, least of the rounds. The requests
 * are made before the clock starts, so that only `step` (and the garbage it leaves) is timed.
 */
function perCall(step: (req: express.Request) => void): number {
  let least = Number.POSITIVE_INFINITY
  for (let round = 0; round < ROUNDS; round++) {
    const requests = Array.from({ length: CALLS }, expressRequest)
    const start = process.hrtime.bigint()
    for (const req of requests) step(req)
    least = Math.min(least, Number(process.hrtime.bigint() - start) / CALLS / 1000)
  }
  return least
}

const ownProperty = perCall((req) => {
  req.auth = context
})
// The first authenticated request puts the accessor on Express's request prototype.
const middleware = requireAuth(auth)
const next = () => {}
middleware(expressRequest(), {} as express.Response, next)
const kept = perCall((req) => setRequestAuth(req, context))
const setter = perCall((req) => {
  req.auth = context
})
const whole = perCall((req) => middleware(req, {} as express.Response, next))

const micros = (value: number) => `${value.toFixed(2)} µs`
console.log(`req.auth = context as an own property: ${micros(ownProperty)}`)
console.log(`setRequestAuth(req, context), the adapter's way: ${micros(kept)}`)
console.log(`req.auth = context through the accessor's setter: ${micros(setter)}`)
console.log(`requireAuth(auth), token and user cached: ${micros(whole)}`)
await auth.close()
await issuer.close()
await directory.close()
