/**
 * `npm run example:dpop-service` (Express, DPoP required, with nonces). Same environment as
 * platform-api, plus DPOP_NONCE_SECRET and DPOP_ORIGIN; `PORT` defaults to 3004. On the local
 * stack it also plays the client once: an oauth4webapi DPoP client with a DPoP-bound token.
 */
import * as oauth from 'oauth4webapi'
import { configFromEnv, type LocalStack, served, startLocalStack } from '../local-stack.js'
import { createDpopService } from './app.js'

const fromEnv = configFromEnv()
const stack: LocalStack | undefined = fromEnv === undefined ? await startLocalStack() : undefined
const { app, auth } = createDpopService(fromEnv ?? (stack as LocalStack).config, {
  nonceSecret: process.env.DPOP_NONCE_SECRET ?? 'a-local-nonce-secret-that-is-32+-chars',
  ...(process.env.DPOP_ORIGIN === undefined ? {} : { origin: process.env.DPOP_ORIGIN }),
})
const service = await served(app.listen(Number(process.env.PORT ?? 3004), '127.0.0.1'))
console.log(`dpop-service listening at ${service.url}`)

if (stack !== undefined) {
  // The client's key pair, and a token bound to it: what Auth0 issues to a client that sends a
  // DPoP proof to its token endpoint.
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP({}, keyPair)
  const token = await stack.issuer.sign(
    {
      sub: 'samlp|acme-waad|ada',
      email: 'ada@acme.com',
      email_verified: true,
      scope: 'read:payments',
    },
    { dpop: keyPair.publicKey },
  )
  const url = new URL(`${service.url}/payments`)
  const call = () =>
    oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, {
      DPoP,
      [oauth.allowInsecureRequests]: true,
    })
  try {
    await call()
  } catch (error) {
    // The first proof has no nonce: the service answers use_dpop_nonce with one, which
    // oauth4webapi keeps for the next proof.
    if (!oauth.isDPoPNonceError(error)) throw error
    console.log('GET /payments → 401 use_dpop_nonce, with a DPoP-Nonce; retrying with it')
  }
  const response = await call()
  console.log(`GET /payments → ${response.status} ${JSON.stringify(await response.json())}`)
  const stolen = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  console.log(
    `the same token as a Bearer token → ${stolen.status} ${stolen.headers.get('www-authenticate')}`,
  )
}

const stop = async () => {
  await service.close()
  await auth.close()
  await stack?.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
