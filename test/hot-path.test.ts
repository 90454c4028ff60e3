import type { AuthContext, AuthEvent } from 'canonical-auth'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { b64, bearer } from './helpers.js'
import { useTestStack } from './stack.js'

// What the hot path does, counted rather than timed: a token already verified, for a user
// already resolved, reaches no upstream, no signature engine, no decoder and no JSON parse,
// and every such request gets the same frozen user.

const work = vi.hoisted(() => ({ jwtVerify: 0, fastSignature: 0, decode: 0 }))

vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof import('jose')>()
  return {
    ...jose,
    jwtVerify: (...args: Parameters<typeof jose.jwtVerify>) => {
      work.jwtVerify += 1
      return jose.jwtVerify(...args)
    },
  }
})
vi.mock('../src/core/verify/fast-signature.js', async (importOriginal) => {
  const fast = await importOriginal<typeof import('../src/core/verify/fast-signature.js')>()
  return {
    ...fast,
    checkSignatureFast: (...args: Parameters<typeof fast.checkSignatureFast>) => {
      work.fastSignature += 1
      return fast.checkSignatureFast(...args)
    },
  }
})
vi.mock('../src/core/verify/decode.js', async (importOriginal) => {
  const decode = await importOriginal<typeof import('../src/core/verify/decode.js')>()
  return {
    ...decode,
    decodeUnverified: (...args: Parameters<typeof decode.decodeUnverified>) => {
      work.decode += 1
      return decode.decodeUnverified(...args)
    },
  }
})

const stack = useTestStack((s) => ({ directory: { baseUrl: s.directory.baseUrl } }))

describe.each(['auto', 'jose'] as const)('the hot path (signatureCheck: %s)', (signatureCheck) => {
  beforeEach(() => {
    work.jwtVerify = 0
    work.fastSignature = 0
    work.decode = 0
  })

  it('does the work once for a new token, then none for the same token', async () => {
    const events: AuthEvent[] = []
    const auth = stack.auth({ signatureCheck, onEvent: (event) => void events.push(event) })
    const token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|ada',
      email: 'ada@acme.com',
      email_verified: true,
    })
    const headers = { authorization: `Bearer ${token}` }
    const first = await auth.authenticate({ headers })
    expect(first.user).toMatchObject({ source: 'directory', created: true })
    expect(work.decode).toBe(1)
    expect(signatureCheck === 'auto' ? work.fastSignature : work.jwtVerify).toBe(1)
    const settled = {
      ...work,
      jwks: stack.issuer.calls.jwks,
      ensure: stack.directory.calls.ensure,
      lookup: stack.directory.calls.lookup,
    }
    events.length = 0

    const answers: AuthContext[] = []
    for (let i = 0; i < 50; i++) answers.push(await auth.authenticate({ headers }))

    expect({
      ...work,
      jwks: stack.issuer.calls.jwks,
      ensure: stack.directory.calls.ensure,
      lookup: stack.directory.calls.lookup,
    }).toEqual(settled)
    const user = answers[0]?.user
    expect(user).toEqual({
      id: first.userId,
      email: 'ada@acme.com',
      source: 'cache',
      created: false,
    })
    expect(Object.isFrozen(user)).toBe(true)
    expect(
      answers.every((answer) => answer.user === user && answer.token === answers[0]?.token),
    ).toBe(true)
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(['token.verified', 'user.resolved']),
    )
    expect(events.filter((e) => e.type === 'token.verified')).toEqual(
      Array(50).fill({ type: 'token.verified', issuer: stack.issuer.issuer, cached: true }),
    )
  })

  it('verifies a new token of a known user, and asks no one about the user', async () => {
    const auth = stack.auth({ signatureCheck })
    const claims = { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true }
    await auth.authenticate({
      headers: { authorization: `Bearer ${await stack.issuer.sign(claims)}` },
    })
    const ensure = stack.directory.calls.ensure
    const fresh = await stack.issuer.sign({ ...claims, jti: 'another' })
    const context = await auth.authenticate({ headers: { authorization: `Bearer ${fresh}` } })
    expect(context.user.source).toBe('cache')
    expect(stack.directory.calls.ensure).toBe(ensure)
    expect(work.decode).toBe(2)
  })
})

describe('answers without a promise when everything it needs is in memory', () => {
  const NOW = Symbol.for('canonical-auth.authenticate-now')
  type Now = (request: { headers: Record<string, string> }) => AuthContext | Promise<AuthContext>
  const claims = { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true }

  it('a cached token of a cached user', async () => {
    const auth = stack.auth()
    const headers = { authorization: `Bearer ${await stack.issuer.sign(claims)}` }
    const first = await auth.authenticate({ headers })
    const answer = (auth as unknown as Record<symbol, Now>)[NOW]?.call(auth, { headers })
    expect(answer).not.toBeInstanceOf(Promise)
    expect(answer).toMatchObject({ userId: first.userId })
  })

  it('with the verification cache off: a new token whose key is selected, of a cached user', async () => {
    const auth = stack.auth({ cache: { tokens: false } })
    const now = (auth as unknown as Record<symbol, Now>)[NOW] as Now
    const first = await auth.authenticate({ headers: bearer(await stack.issuer.sign(claims)) })
    const fresh = bearer(await stack.issuer.sign({ ...claims, jti: 'fresh' }))
    const answer = now.call(auth, { headers: fresh })
    expect(answer).not.toBeInstanceOf(Promise)
    expect(answer).toMatchObject({ userId: first.userId, user: { source: 'cache' } })
    // A forgery on the same path is refused on the spot, as the error the promise would carry.
    const [h, p] = (fresh.authorization.slice(7) as string).split('.')
    const forged = bearer(`${h}.${p}.${b64('not the signature')}`)
    expect(() => now.call(auth, { headers: forged })).toThrow(
      expect.objectContaining({ code: 'token_invalid' }),
    )
    await expect(auth.authenticate({ headers: forged })).rejects.toMatchObject({
      code: 'token_invalid',
    })
  })
})

describe('timers', () => {
  it('arms no timer for a cached request, however long the requests keep coming', async () => {
    const auth = stack.auth()
    const headers = bearer(
      await stack.issuer.sign({
        sub: 'samlp|acme-waad|ada',
        email: 'ada@acme.com',
        email_verified: true,
      }),
    )
    await auth.authenticate({ headers })
    const timers = vi.spyOn(globalThis, 'setTimeout')
    try {
      for (let i = 0; i < 20; i++) {
        await auth.authenticate({ headers })
        // A turn of the event loop between requests, as a server has: a cached clock reading
        // would have expired and been re-armed here.
        await new Promise((resolve) => setImmediate(resolve))
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      // The test's own 2 ms waits are the only timers.
      expect(timers.mock.calls.filter(([, delay]) => delay !== 2)).toEqual([])
      expect(timers).toHaveBeenCalledTimes(20)
    } finally {
      timers.mockRestore()
    }
  })
})
