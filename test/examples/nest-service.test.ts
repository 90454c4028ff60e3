import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalStack, startLocalStack } from '../../examples/local-stack.js'
import { createNestService } from '../../examples/nest-service/app.js'

// The NestJS example against the local stack: a first-time SSO user gets their UUID from the
// directory through @RequireAuth and @CurrentUser; a request without a token is refused.

let stack: LocalStack
let service: Awaited<ReturnType<typeof createNestService>>
let url = ''

beforeAll(async () => {
  stack = await startLocalStack()
  service = await createNestService(stack.config)
  await service.app.listen(0, '127.0.0.1')
  url = await service.app.getUrl()
}, 60_000)
afterAll(async () => {
  await service?.app.close()
  await service?.auth.close()
  await stack?.close()
})

describe('examples/nest-service', () => {
  it("answers /profile with the user's canonical UUID", async () => {
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|nia',
      email: 'nia@acme.com',
      email_verified: true,
    })
    const response = await fetch(`${url}/profile`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      userId: (await stack.store.lookup('nia@acme.com'))?.id,
      email: 'nia@acme.com',
    })
  })

  it('refuses a request without a token with the standard answer', async () => {
    const response = await fetch(`${url}/profile`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(await response.json()).toEqual({
      error: 'token_missing',
      error_description: expect.any(String),
    })
  })
})
