import type { AuthEvent } from 'canonical-auth'
import { beforeEach, describe, expect, it } from 'vitest'
import { b64, bearer, nowSeconds } from './helpers.js'
import { useTestStack } from './stack.js'

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
  onEvent: (event) => void events.push(event),
}))
const authFor = stack.auth
let events: AuthEvent[]

beforeEach(() => {
  events = []
})

const EMAIL = 'Ada.Lovelace@Acme.com'
const claims = { sub: 'samlp|acme-waad|ada', email: EMAIL, email_verified: true }

/** No event may carry the token, any part of it, the email or the sub. */
function expectNothingSecret(token: string): void {
  const text = JSON.stringify(events).toLowerCase()
  for (const secret of [...token.split('.'), EMAIL, 'ada.lovelace', 'samlp|acme-waad|ada']) {
    expect(text).not.toContain(secret.toLowerCase())
  }
}

describe('onEvent', () => {
  it('reports shared store calls: a miss and a write on one replica, a hit on the next', async () => {
    const shared = new Map<string, unknown>()
    const store = {
      get: async (key: string) => shared.get(key) as never,
      set: async (key: string, value: unknown) => void shared.set(key, value),
      delete: async (key: string) => void shared.delete(key),
    }
    const token = await stack.issuer.sign(claims)
    await authFor({ cache: { store } }).authenticate({ headers: bearer(token) })
    await authFor({ cache: { store } }).authenticate({ headers: bearer(token) })
    const calls = events.filter((event) => event.type === 'cache.store')
    expect(calls).toEqual([
      { type: 'cache.store', operation: 'get', outcome: 'miss', durationMs: expect.any(Number) },
      { type: 'cache.store', operation: 'set', outcome: 'ok', durationMs: expect.any(Number) },
      { type: 'cache.store', operation: 'get', outcome: 'hit', durationMs: expect.any(Number) },
    ])
    expect(events.filter((event) => event.type === 'directory.call')).toHaveLength(1)
    expectNothingSecret(token)
  })

  it('reports a first request and a repeat: key set fetch, verification, directory, cache', async () => {
    const auth = authFor()
    const token = await stack.issuer.sign(claims)
    const first = await auth.authenticate({ headers: bearer(token) })
    await auth.authenticate({ headers: bearer(token) })

    expect(events).toEqual([
      {
        type: 'jwks.fetch',
        jwksUri: stack.issuer.jwksUri,
        outcome: 'ok',
        durationMs: expect.any(Number),
      },
      { type: 'token.verified', issuer: stack.issuer.issuer, cached: false },
      {
        type: 'directory.call',
        operation: 'ensure',
        outcome: 'ok',
        durationMs: expect.any(Number),
      },
      { type: 'user.resolved', userId: first.userId, source: 'directory', created: true },
      { type: 'token.verified', issuer: stack.issuer.issuer, cached: true },
      { type: 'user.resolved', userId: first.userId, source: 'cache', created: false },
    ])
    expectNothingSecret(token)
  })

  it('reports rejections with their code and nothing of the token', async () => {
    const auth = authFor()
    const expired = await stack.issuer.sign({
      ...claims,
      exp: nowSeconds() - 600,
      iat: nowSeconds() - 900,
    })
    await expect(auth.verifyAuth0Token(expired)).rejects.toThrow()
    await expect(auth.authenticate({ headers: bearer(expired) })).rejects.toThrow()
    await expect(auth.authenticate({ headers: {} })).rejects.toThrow()
    const forged = `${b64({ alg: 'none' })}.${b64({ ...claims, iss: stack.issuer.issuer })}.`
    await expect(auth.authenticate({ headers: bearer(forged) })).rejects.toThrow()
    const repeated = { authorization: [`Bearer ${expired}`, `Bearer ${expired}`] }
    await expect(auth.authenticate({ headers: repeated })).rejects.toThrow()

    expect(events.filter((event) => event.type === 'token.rejected')).toEqual([
      { type: 'token.rejected', code: 'token_expired' },
      { type: 'token.rejected', code: 'token_expired' },
      { type: 'token.rejected', code: 'token_missing' },
      { type: 'token.rejected', code: 'token_invalid' },
      { type: 'token.rejected', code: 'invalid_request' },
    ])
    expectNothingSecret(expired)
  })

  it('reports a failed resolution once, as user.unresolved, with the directory call', async () => {
    const auth = authFor()
    stack.directory.fail('5xx')
    const token = await stack.issuer.sign(claims)
    await expect(auth.authenticate({ headers: bearer(token) })).rejects.toThrow()
    expect(events.slice(-2)).toEqual([
      {
        type: 'directory.call',
        operation: 'ensure',
        outcome: 'error',
        durationMs: expect.any(Number),
      },
      { type: 'user.unresolved', code: 'directory_unavailable' },
    ])
    expect(events.filter((event) => event.type === 'token.rejected')).toEqual([])
    expectNothingSecret(token)
  })

  it('reports a failed key set fetch', async () => {
    const auth = authFor()
    stack.issuer.fail('down')
    await expect(auth.verifyAuth0Token(await stack.issuer.sign(claims))).rejects.toThrow()
    expect(events).toEqual([
      {
        type: 'jwks.fetch',
        jwksUri: stack.issuer.jwksUri,
        outcome: 'error',
        durationMs: expect.any(Number),
      },
      { type: 'token.rejected', code: 'jwks_unavailable' },
    ])
  })

  it('ignores a hook that throws or rejects: requests still succeed', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      for (const onEvent of [
        () => {
          throw new Error('logger down')
        },
        async () => {
          throw new Error('logger down')
        },
      ]) {
        const auth = authFor({ onEvent })
        const context = await auth.authenticate({
          headers: bearer(await stack.issuer.sign(claims)),
        })
        expect(context.userId).toMatch(/^[0-9a-f-]{36}$/)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
