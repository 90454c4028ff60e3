import { errorAnswer } from 'canonical-auth'
import { FAULT_MODES } from 'canonical-auth/testing'
import { describe, expect, it, vi } from 'vitest'
import { UPSTREAM_SECRET } from '../../src/testing/transport.js'
import { advance, authFailure, rejectsWith, verifiedToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

// The key set endpoint misbehaving: down at start, down after warm-up, slow, flapping, every
// broken answer, and a rotation in the middle of traffic. The verification cache is off so
// that every request needs the keys.

const stack = useTestStack(() => ({
  cache: { tokens: false },
  jwks: { timeoutMs: 500, maxAgeMs: 60_000, staleIfErrorMs: 120_000 },
}))
const authFor = stack.auth

describe.each(FAULT_MODES)('key set fault: %s', (mode) => {
  it('at start: 503 jwks_unavailable with Retry-After, by the timeout, nothing kept', async () => {
    const auth = authFor()
    stack.issuer.fail(mode)
    const started = Date.now()
    const error = await auth.verifyAuth0Token(await stack.issuer.sign()).catch((e: unknown) => e)
    // A hang check: `slow` answers after 10 s, the timeout is 500 ms.
    expect(Date.now() - started).toBeLessThan(3_000)
    const answer = errorAnswer(error)
    expect(answer.status).toBe(503)
    expect(answer.body).toMatchObject({ error: 'jwks_unavailable' })
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(JSON.stringify(answer)).not.toContain(UPSTREAM_SECRET)

    // Nothing of the failure is kept: once the backoff has passed, keys are fetched and used.
    stack.issuer.fail(null)
    vi.useFakeTimers({ toFake: ['Date'] })
    advance(31_000)
    await expect(auth.verifyAuth0Token(await stack.issuer.sign())).resolves.toMatchObject(
      verifiedToken(stack.issuer),
    )
  })

  it('after warm-up: the kept copy serves through the outage, then 503', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    stack.issuer.fail(mode)
    advance(61_000)
    await expect(auth.verifyAuth0Token(await stack.issuer.sign())).resolves.toMatchObject(
      verifiedToken(stack.issuer),
    )
    await vi.waitFor(() => expect(stack.jwksFetches).toBe(2))
    advance(120_000)
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
  })
})

describe('key set bodies and redirects', () => {
  it('a trickled key set fails every concurrent caller by the timeout, with one fetch', async () => {
    const auth = authFor()
    stack.issuer.fail('trickle')
    const tokens = await Promise.all(Array.from({ length: 10 }, () => stack.issuer.sign()))
    const started = Date.now()
    const outcomes = await Promise.all(
      tokens.map((token) => authFailure(auth.verifyAuth0Token(token))),
    )
    // A hang check: the trickled key set takes minutes to arrive; the timeout is 500 ms.
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(outcomes.map((error) => error.code)).toEqual(Array(10).fill('jwks_unavailable'))
    expect(stack.jwksFetches).toBe(1)
    expect(stack.issuer.faultLog.bodiesCompleted).toBe(0)
    // The client hung up rather than reading on in the background.
    await vi.waitFor(() => expect(stack.issuer.faultLog.bodiesAbandoned).toBe(1))
  })

  it('a huge key set is not read past 1 MiB, and nothing of it is kept', async () => {
    const auth = authFor()
    stack.issuer.fail('huge')
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
    expect(stack.issuer.faultLog.bodiesCompleted).toBe(0)
    await vi.waitFor(() => expect(stack.issuer.faultLog.bodiesAbandoned).toBe(1))

    // Recovered and past the backoff: the keys are fetched again, not taken from the huge answer.
    stack.issuer.fail(null)
    vi.useFakeTimers({ toFake: ['Date'] })
    advance(31_000)
    await expect(auth.verifyAuth0Token(await stack.issuer.sign())).resolves.toMatchObject(
      verifiedToken(stack.issuer),
    )
    expect(stack.jwksFetches).toBe(2)
  })

  it('a redirected key set is not followed: the other host is never asked', async () => {
    const auth = authFor()
    stack.issuer.fail('redirect')
    await rejectsWith(auth.verifyAuth0Token(await stack.issuer.sign()), 'jwks_unavailable')
    expect(stack.issuer.faultLog.redirected).toEqual([])
  })
})

describe('key set flapping and rotation', () => {
  it('keeps verifying while the endpoint flaps, and never accepts a bad token meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = authFor()
    await auth.verifyAuth0Token(await stack.issuer.sign())
    for (let round = 0; round < 6; round++) {
      stack.issuer.fail(round % 2 === 0 ? 'down' : null)
      advance(61_000)
      const sub = `auth0|round-${round}`
      await expect(auth.verifyAuth0Token(await stack.issuer.sign({ sub }))).resolves.toMatchObject(
        verifiedToken(stack.issuer, sub),
      )
      await rejectsWith(
        auth.verifyAuth0Token(await stack.issuer.sign({ aud: 'other' })),
        'token_invalid',
      )
      // Each round's background refresh has settled (applied or failed) before the endpoint flips.
      await vi.waitFor(() => expect(stack.jwksFetches).toBe(round + 2))
    }
  })

  it('verifies old and new kids side by side when the key rotates mid-traffic', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = authFor()
    const subs = (key: string) => Array.from({ length: 20 }, (_, i) => `auth0|${key}-${i}`)
    const before = await Promise.all(subs('old').map((sub) => stack.issuer.sign({ sub })))
    await Promise.all(before.map((token) => auth.verifyAuth0Token(token)))
    await stack.issuer.rotateKey()
    advance(31_000)
    const after = await Promise.all(subs('new').map((sub) => stack.issuer.sign({ sub })))
    const mixed = after.flatMap((token, i) => [token, before[i] as string])
    const results = await Promise.all(mixed.map((token) => auth.verifyAuth0Token(token)))
    expect(results.map((verified) => verified.subject)).toEqual(
      subs('new').flatMap((sub, i) => [sub, subs('old')[i]]),
    )
    // One fetch at start, one for the new kid, shared by every request that needed it.
    expect(stack.jwksFetches).toBe(2)
  })
})
