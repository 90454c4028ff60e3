import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalStack, startLocalStack } from '../../examples/local-stack.js'
import { startWorker } from '../../examples/worker/run.js'

// The Worker example on workerd (from npm) against the local stack: a first-time SSO user gets
// their UUID from the directory, discovery answers, and a request without a token is refused.

let stack: LocalStack
let worker: Awaited<ReturnType<typeof startWorker>>

beforeAll(async () => {
  stack = await startLocalStack()
  worker = await startWorker(stack.config)
}, 60_000)
afterAll(async () => {
  await worker?.close()
  await stack?.close()
})

describe('examples/worker on workerd', () => {
  it("answers /profile with the user's canonical UUID", async () => {
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|wren',
      email: 'wren@acme.com',
      email_verified: true,
    })
    const response = await fetch(`${worker.url}/profile`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { userId: string; email: string }
    expect(body).toEqual({
      userId: (await stack.store.lookup('wren@acme.com'))?.id,
      email: 'wren@acme.com',
    })
  })

  it('refuses a request without a token with the standard answer', async () => {
    const response = await fetch(`${worker.url}/profile`)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(await response.json()).toEqual({
      error: 'token_missing',
      error_description: expect.any(String),
    })
  })

  it('answers discovery', async () => {
    const response = await fetch(`${worker.url}/public/auth/discover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@acme.com' }),
    })
    expect(await response.json()).toMatchObject({ method: 'sso', connection: 'acme-waad' })
  })

  it('bundles within its budget', () => {
    // The whole Worker, core and dependencies, minified: about 580 KiB today (140 KiB gzipped),
    // zod's share the largest; far under Workers' limits, and held there.
    expect(worker.bundleBytes).toBeLessThan(640 * 1024)
  })
})
