// The DPoP example end to end with a client nobody here wrote (oauth4webapi): a DPoP-bound token
// from the local tenant, the nonce round trip, and the token refused as Bearer.

import type { AddressInfo } from 'node:net'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDpopService } from '../../examples/dpop-service/app.js'
import { type LocalStack, startLocalStack } from '../../examples/local-stack.js'
import { UUID } from '../helpers.js'

let stack: LocalStack
let service: ReturnType<typeof createDpopService>
let origin: string
let close: () => Promise<void>

beforeAll(async () => {
  stack = await startLocalStack()
  service = createDpopService(stack.config, {
    nonceSecret: 'a-test-nonce-secret-of-32-characters!',
  })
  const server = service.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise((resolve) => server.close(() => resolve()))
})
afterAll(async () => {
  await close()
  await service.auth.close()
  await stack.close()
})

async function client(scope = 'read:payments') {
  const keyPair = await oauth.generateKeyPair('ES256')
  const DPoP = oauth.DPoP({}, keyPair)
  const token = await stack.issuer.sign(
    { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true, scope },
    { dpop: keyPair.publicKey },
  )
  const call = () =>
    oauth.protectedResourceRequest(
      token,
      'GET',
      new URL(`${origin}/payments`),
      new Headers(),
      null,
      {
        DPoP,
        [oauth.allowInsecureRequests]: true,
      },
    )
  return { token, DPoP, call }
}

describe('examples/dpop-service', () => {
  it('answers an oauth4webapi client after one nonce round trip, with the user and the key', async () => {
    const { call, DPoP } = await client()
    const first = await call().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(oauth.isDPoPNonceError(first)).toBe(true)
    const response = await call()
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-expose-headers')).toContain('DPoP-Nonce')
    const body = (await response.json()) as { userId: string; boundTo: string }
    expect(body.userId).toMatch(UUID)
    expect(body.boundTo).toBe(await DPoP.calculateThumbprint())
  })

  it('refuses the token as Bearer, and a DPoP token without the scope', async () => {
    const { token } = await client()
    const asBearer = await fetch(`${origin}/payments`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(asBearer.status).toBe(401)
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_token"/)
    const { call } = await client('openid')
    await call().catch(() => undefined)
    const refused = await call().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
    const challenge = (refused as oauth.WWWAuthenticateChallengeError).cause[0]
    expect(challenge?.scheme).toBe('dpop')
    expect(challenge?.parameters.error).toBe('insufficient_scope')
  })
})
