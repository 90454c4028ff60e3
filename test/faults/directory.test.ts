import {
  type Auth,
  type AuthConfig,
  type AuthContext,
  AuthError,
  type AuthErrorCode,
  type AuthEvent,
  errorAnswer,
} from 'canonical-auth'
import { createTestDirectory, FAULT_MODES } from 'canonical-auth/testing'
import { HttpResponse, http, passthrough } from 'msw'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { UPSTREAM_SECRET } from '../../src/testing/transport.js'
import { advance, authFailure, bearer, expectFailsClosed, ssoToken } from '../helpers.js'
import { server } from '../msw.js'
import { useTestStack } from '../stack.js'

// The directory misbehaving in every way the issue names. Each case asserts the answer, that the
// request ends by its deadline rather than waiting for the upstream, and that nothing of the
// failure is cached: once the directory recovers, the next request asks it again and succeeds.

const DEADLINE_MS = 800
// A hang check, not a speed check: a `slow` directory answers after 10 s.
const NO_HANG_MS = DEADLINE_MS + 2_000

const stack = useTestStack()

function authFor(extra: Partial<AuthConfig> = {}, directoryExtra: object = {}): Auth {
  return stack.auth({
    directory: {
      baseUrl: stack.directory.baseUrl,
      timeoutMs: 300,
      deadlineMs: DEADLINE_MS,
      retries: 1,
      ...directoryExtra,
    },
    ...extra,
  })
}

/** User `n`'s token: `samlp|acme-waad|u<n>`, `u<n>@acme.com`. */
const userToken = (n = 1) => ssoToken(stack.issuer, `u${n}`)

/** Asserts that `context` is user `n`, as the directory answered for it. */
function expectDirectoryUser(context: AuthContext, n: number): void {
  const email = `u${n}@acme.com`
  expect(context.user).toMatchObject({ source: 'directory', email })
  expect(context.userId).toBe(stack.directory.users.get(email)?.id)
}

describe.each(FAULT_MODES)('directory fault: %s', (mode) => {
  it('answers 502 directory_unavailable by the deadline, leaks nothing, caches nothing', async () => {
    const auth = authFor()
    stack.directory.fail(mode)
    const token = await userToken()
    await expectFailsClosed(
      auth.authenticate({ headers: bearer(token) }),
      'directory_unavailable',
      NO_HANG_MS,
      ['samlp|acme-waad|u1', token.split('.')[1] as string],
    )

    stack.directory.fail(null)
    const calls = stack.directory.calls.ensure
    const context = await auth.authenticate({ headers: bearer(token) })
    expect(stack.directory.calls.ensure).toBeGreaterThan(calls)
    expect(context.user.source).toBe('directory')
    expect(context.userId).not.toBe('samlp|acme-waad|u1')
  })
})

describe.each(['ensure', 'lookup'] as const)('directory bodies and redirects (%s)', (mode) => {
  const SERVICE_KEY = 'svc-key-7f3a9c'

  /** A directory that requires the service credential, and an instance that sends it. */
  async function guarded() {
    const directory = await createTestDirectory({
      requireHeaders: { 'x-service-key': SERVICE_KEY },
    })
    onTestFinished(() => directory.close())
    directory.addUser('u1@acme.com')
    const auth = stack.auth({
      directory: {
        baseUrl: directory.baseUrl,
        mode,
        headers: { 'x-service-key': SERVICE_KEY },
        timeoutMs: 300,
        deadlineMs: DEADLINE_MS,
        retries: 1,
      },
    })
    return { directory, auth, calls: () => directory.calls[mode] }
  }

  it('a trickled answer fails closed by the deadline, and the connection is closed', async () => {
    const { directory, auth } = await guarded()
    directory.fail('trickle')
    const token = await userToken()
    await expectFailsClosed(
      auth.authenticate({ headers: bearer(token) }),
      'directory_unavailable',
      NO_HANG_MS,
      [SERVICE_KEY],
    )
    expect(directory.faultLog.bodiesCompleted).toBe(0)
    await vi.waitFor(() => expect(directory.faultLog.bodiesAbandoned).toBe(1))
  })

  it('a huge answer is not read past its cap, and nothing of it is cached', async () => {
    const { directory, auth, calls } = await guarded()
    directory.fail('huge')
    const token = await userToken()
    await expectFailsClosed(
      auth.authenticate({ headers: bearer(token) }),
      'directory_unavailable',
      NO_HANG_MS,
      [SERVICE_KEY],
    )
    expect(directory.faultLog.bodiesCompleted).toBe(0)
    await vi.waitFor(() => expect(directory.faultLog.bodiesAbandoned).toBe(1))

    directory.fail(null)
    const before = calls()
    const context = await auth.authenticate({ headers: bearer(token) })
    expect(calls()).toBe(before + 1)
    expect(context.user).toMatchObject({ source: 'directory', email: 'u1@acme.com' })
  })

  it('a redirect is not followed: the service credential goes nowhere else', async () => {
    const { directory, auth } = await guarded()
    directory.fail('redirect')
    const token = await userToken()
    await expectFailsClosed(
      auth.authenticate({ headers: bearer(token) }),
      'directory_unavailable',
      NO_HANG_MS,
      [SERVICE_KEY],
    )
    // The redirect target records every request, with its headers; it received none.
    expect(directory.faultLog.redirected).toEqual([])
    expect(directory.requests.every((r) => r.headers.get('x-service-key') === SERVICE_KEY)).toBe(
      true,
    )
  })
})

describe('directory faults that pass', () => {
  it('rides out a burst of 5xx within its retries', async () => {
    const auth = authFor({}, { retries: 2 })
    const ensure = `${stack.directory.baseUrl}/api/v1/users/ensure`
    server.use(
      http.post(ensure, () => new HttpResponse(UPSTREAM_SECRET, { status: 503 }), { once: true }),
      http.post(ensure, () => new HttpResponse(UPSTREAM_SECRET, { status: 500 }), { once: true }),
    )
    const context = await auth.authenticate({ headers: bearer(await userToken()) })
    expect(context.user.source).toBe('directory')
    expect(stack.directory.calls.ensure).toBe(1)
  })

  it('waits out one 429 for its Retry-After, then succeeds with the one retry', async () => {
    // Timers and Date are fake: the clock moves only when the test moves it, so the wait is
    // measured on that clock, whatever the load on the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const auth = authFor({}, { deadlineMs: 3_000 })
    const ensure = `${stack.directory.baseUrl}/api/v1/users/ensure`
    // The clock's time at each ensure request: the first is answered 429, the next reaches the
    // directory.
    const asked: number[] = []
    let firstAsked: () => void = () => {}
    const first = new Promise<void>((resolve) => {
      firstAsked = resolve
    })
    server.use(
      http.post(ensure, () => {
        asked.push(Date.now())
        if (asked.length > 1) return passthrough()
        firstAsked()
        return HttpResponse.json({}, { status: 429, headers: { 'retry-after': '1' } })
      }),
    )
    const context = auth.authenticate({ headers: bearer(await userToken()) })
    await first
    // Ten milliseconds at a time, with what is in flight run between steps, until the retry is
    // asked (or the 3 s deadline passes, which fails the request).
    for (let step = 0; asked.length < 2 && step < 300; step++) {
      await vi.advanceTimersByTimeAsync(10)
      await new Promise((resolve) => setImmediate(resolve))
    }
    expectDirectoryUser(await context, 1)
    expect(asked).toHaveLength(2)
    // Retried once, not before the second the 429 asked for (without it: 100 ms at most).
    expect((asked[1] as number) - (asked[0] as number)).toBeGreaterThanOrEqual(1_000)
    expect(stack.directory.calls.ensure).toBe(1)
  })

  it('answers 502 when the directory refuses connections (nothing listening)', async () => {
    const auth = authFor()
    await stack.directory.close()
    const error = await authFailure(auth.authenticate({ headers: bearer(await userToken()) }))
    expect(error.code).toBe('directory_unavailable')
    expect(errorAnswer(error).status).toBe(502)
  })
})

describe('circuit breaker', () => {
  const breakerAuth = (events: AuthEvent[] = [], breaker: object = {}) =>
    authFor(
      { onEvent: (event) => void events.push(event) },
      { retries: 0, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 5_000, ...breaker } },
    )

  it('never opens for failures of one identity alone: a 500 for one user turns nobody else away', async () => {
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    stack.directory.refuse('u1@acme.com', 500)
    for (let attempt = 0; attempt < 6; attempt++) {
      // A fresh token each time, so the verification cache plays no part.
      const error = await authFailure(auth.authenticate({ headers: bearer(await userToken(1)) }))
      expect(error.code).toBe('directory_unavailable')
    }
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    const other = await auth.authenticate({ headers: bearer(await userToken(2)) })
    expect(other.user.source).toBe('directory')
    // Two users failing is an outage again.
    stack.directory.fail('5xx')
    for (const n of [3, 4, 5])
      await authFailure(auth.authenticate({ headers: bearer(await userToken(n)) }))
    expect(events).toContainEqual({ type: 'circuit.state', circuit: 'directory', state: 'open' })
  })

  it('opens after consecutive failures and then fails fast with Retry-After, without calling', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    stack.directory.fail('5xx')
    for (let i = 1; i <= 3; i++) {
      expect(
        (await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))).code,
      ).toBe('directory_unavailable')
    }
    expect(stack.directory.calls.ensure).toBe(3)
    expect(events).toContainEqual({ type: 'circuit.state', circuit: 'directory', state: 'open' })

    const error = await authFailure(auth.authenticate({ headers: bearer(await userToken(4)) }))
    expect(error.code).toBe('directory_unavailable')
    expect(stack.directory.calls.ensure).toBe(3)
    const answer = errorAnswer(error)
    expect(answer.status).toBe(502)
    expect(answer.headers['retry-after']).toBe('5')
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'directory.call', outcome: 'rejected' }),
    )
  })

  it('lets one probe through after the reset timeout; its success closes the circuit', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    stack.directory.fail('down')
    for (let i = 1; i <= 3; i++)
      await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))
    stack.directory.fail(null)
    // Still open: refused without a call even though the directory is back.
    await authFailure(auth.authenticate({ headers: bearer(await userToken(4)) }))
    expect(stack.directory.calls.ensure).toBe(3)

    advance(5_001)
    const tokens = await Promise.all([5, 6, 7].map((n) => userToken(n)))
    const outcomes = await Promise.allSettled(
      tokens.map((token) => auth.authenticate({ headers: bearer(token) })),
    )
    // One probe went out and succeeded; the two that came with it were refused, not queued.
    expect(stack.directory.calls.ensure).toBe(4)
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1)
    expect(
      events.filter((event) => event.type === 'circuit.state').map((event) => event.state),
    ).toEqual(['open', 'half_open', 'closed'])
    expectDirectoryUser(await auth.authenticate({ headers: bearer(await userToken(8)) }), 8)
    expect(stack.directory.calls.ensure).toBe(5)
  })

  it('opens again when the probe fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const auth = breakerAuth()
    stack.directory.fail('5xx')
    for (let i = 1; i <= 3; i++)
      await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))
    advance(5_001)
    await authFailure(auth.authenticate({ headers: bearer(await userToken(4)) }))
    expect(stack.directory.calls.ensure).toBe(4)
    stack.directory.fail(null)
    const error = await authFailure(auth.authenticate({ headers: bearer(await userToken(5)) }))
    expect(error.retryAfterSeconds).toBe(5)
    expect(stack.directory.calls.ensure).toBe(4)
  })

  it('does not count answers as failures: users missing in lookup mode keep it closed', async () => {
    const auth = authFor(
      {},
      {
        mode: 'lookup',
        retries: 0,
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5_000 },
      },
    )
    for (let i = 1; i <= 4; i++) {
      expect(
        (await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))).code,
      ).toBe('user_not_provisioned')
    }
    expect(stack.directory.calls.lookup).toBe(4)
  })

  const FIRED = 'fired@acme.com'

  it('a user the directory refuses (403) is identity_untrusted every time, and never opens it', async () => {
    const events: AuthEvent[] = []
    // Retries on, to show a refusal is not retried either.
    const auth = authFor(
      { onEvent: (event) => void events.push(event) },
      { retries: 2, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 5_000 } },
    )
    stack.directory.refuse(FIRED, 403)
    const token = await ssoToken(stack.issuer, 'fired')
    for (let i = 1; i <= 10; i++) {
      const error = await authFailure(auth.authenticate({ headers: bearer(token) }))
      expect(error.code).toBe('identity_untrusted')
      expect(errorAnswer(error).status).toBe(403)
    }
    // Asked every time (a refusal is not cached), once per login (not retried).
    expect(stack.directory.calls.ensure).toBe(10)
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    expect(
      events.filter((event) => event.type === 'directory.call').map((event) => event.outcome),
    ).toEqual(Array(10).fill('refused'))
    expect(JSON.stringify(events)).not.toContain(FIRED)

    const context = await auth.authenticate({ headers: bearer(await userToken(1)) })
    expect(context.user.source).toBe('directory')
    expect(stack.directory.calls.ensure).toBe(11)
  })

  it.each<[number, AuthErrorCode]>([
    [409, 'identity_untrusted'],
    [410, 'identity_untrusted'],
    [422, 'identity_untrusted'],
    [400, 'directory_unavailable'],
    [401, 'directory_unavailable'],
    [404, 'directory_unavailable'],
    [413, 'directory_unavailable'],
  ])('an ensure answered %i for one user (%s) never opens it for others', async (status, code) => {
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    stack.directory.refuse(FIRED, status)
    const token = await ssoToken(stack.issuer, 'fired')
    for (let i = 1; i <= 6; i++) {
      expect((await authFailure(auth.authenticate({ headers: bearer(token) }))).code).toBe(code)
    }
    expect(stack.directory.calls.ensure).toBe(6)
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    expectDirectoryUser(await auth.authenticate({ headers: bearer(await userToken(1)) }), 1)
    expect(stack.directory.calls.ensure).toBe(7)
  })

  it('in lookup mode, a refused user (403) and unknown users (404) never open it', async () => {
    const events: AuthEvent[] = []
    const auth = authFor(
      { onEvent: (event) => void events.push(event) },
      {
        mode: 'lookup',
        retries: 2,
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5_000 },
      },
    )
    stack.directory.refuse(FIRED, 403)
    const token = await ssoToken(stack.issuer, 'fired')
    for (let i = 1; i <= 5; i++) {
      expect((await authFailure(auth.authenticate({ headers: bearer(token) }))).code).toBe(
        'identity_untrusted',
      )
      expect(
        (await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))).code,
      ).toBe('user_not_provisioned')
    }
    expect(stack.directory.calls.lookup).toBe(10)
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    stack.directory.addUser('u9@acme.com')
    expectDirectoryUser(await auth.authenticate({ headers: bearer(await userToken(9)) }), 9)
    expect(stack.directory.calls.lookup).toBe(11)
  })

  it('answers that are not a user (a redirect, an invalid body) never open it', async () => {
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    for (const mode of ['redirect', 'garbage', 'huge'] as const) {
      stack.directory.fail(mode)
      for (let i = 1; i <= 3; i++) {
        expect(
          (await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))).code,
        ).toBe('directory_unavailable')
      }
    }
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    stack.directory.fail(null)
    const calls = stack.directory.calls.ensure
    expectDirectoryUser(await auth.authenticate({ headers: bearer(await userToken(1)) }), 1)
    expect(stack.directory.calls.ensure).toBe(calls + 1)
  })

  it('a refusal does not hide an outage: 5xx for everyone still opens it', async () => {
    const events: AuthEvent[] = []
    const auth = breakerAuth(events)
    stack.directory.refuse(FIRED, 403)
    const token = await ssoToken(stack.issuer, 'fired')
    await authFailure(auth.authenticate({ headers: bearer(token) }))
    stack.directory.fail('5xx')
    for (let i = 1; i <= 3; i++) {
      expect(
        (await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))).code,
      ).toBe('directory_unavailable')
    }
    expect(events).toContainEqual({ type: 'circuit.state', circuit: 'directory', state: 'open' })
    const calls = stack.directory.calls.ensure
    await authFailure(auth.authenticate({ headers: bearer(await userToken(4)) }))
    expect(stack.directory.calls.ensure).toBe(calls)
  })

  it("passes a custom client's refusal through, without counting it", async () => {
    const refusal = new AuthError('identity_untrusted', 'The account is disabled')
    let calls = 0
    const events: AuthEvent[] = []
    const auth = authFor({
      onEvent: (event) => void events.push(event),
      directory: {
        client: {
          ensure: async (identity) => {
            calls += 1
            if (identity.email === FIRED) throw refusal
            return { id: '3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b' }
          },
          lookup: async () => null,
        },
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5_000 },
      },
    })
    const token = await ssoToken(stack.issuer, 'fired')
    for (let i = 1; i <= 5; i++) {
      const error = await authFailure(auth.authenticate({ headers: bearer(token) }))
      expect(error).toBe(refusal)
    }
    expect(calls).toBe(5)
    expect(events.filter((event) => event.type === 'circuit.state')).toEqual([])
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'directory.call', outcome: 'refused' }),
    )
    await expect(auth.authenticate({ headers: bearer(await userToken(1)) })).resolves.toMatchObject(
      { userId: '3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b', user: { source: 'directory' } },
    )
    expect(calls).toBe(6)
  })

  it('can be turned off: every request asks the failing directory', async () => {
    const auth = authFor({}, { retries: 0, circuitBreaker: false })
    stack.directory.fail('5xx')
    for (let i = 1; i <= 8; i++)
      await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))
    expect(stack.directory.calls.ensure).toBe(8)
  })

  it('guards a custom directory client too', async () => {
    let calls = 0
    const auth = authFor({
      directory: {
        client: {
          ensure: async () => {
            calls += 1
            throw new Error('connection refused')
          },
          lookup: async () => null,
        },
        circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 5_000 },
      },
    })
    for (let i = 1; i <= 4; i++)
      await authFailure(auth.authenticate({ headers: bearer(await userToken(i)) }))
    expect(calls).toBe(2)
  })
})
