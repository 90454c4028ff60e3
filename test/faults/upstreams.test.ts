import { createAuth } from 'canonical-auth'
import { FAULT_MODES, type FaultMode } from 'canonical-auth/testing'
import { describe, expect, it, vi } from 'vitest'
import { mswHandlers } from '../../src/testing/msw-handlers.js'
import { faultRecorder, json, type Route, withFault } from '../../src/testing/transport.js'
import { expectFailsClosed } from '../helpers.js'
import { server } from '../msw.js'
import { useInstances, useTestStack } from '../stack.js'

// Auth0's /userinfo, Management API and WebFinger misbehaving in every fault mode. Each case asserts the
// answer (status and code), that the call ends well before the `slow` upstream would answer, that
// nothing of the failure leaks, and that nothing of it is cached: once the upstream recovers, the
// next call asks it again and gets the right answer.

const MODES = FAULT_MODES
const TIMEOUT_MS = 300
// A hang check, not a speed check: a `slow` upstream answers after 10 s; one retry and a
// Retry-After of 1 s fit well inside this.
const NO_HANG_MS = 4_000

describe('userinfo faults', () => {
  const stack = useTestStack((s) => ({
    userinfo: { timeoutMs: TIMEOUT_MS },
    directory: { baseUrl: s.directory.baseUrl, retries: 0 },
  }))
  const SUB = 'samlp|acme-waad|ada'

  describe.each(MODES)('/userinfo: %s', (mode) => {
    it('fails closed with 502 by its deadline, leaks nothing, caches nothing', async () => {
      stack.issuer.profiles.set(SUB, { email: 'ada@acme.com', email_verified: true })
      const auth = stack.auth()
      const token = await stack.issuer.sign({
        sub: SUB,
        email: undefined,
        email_verified: undefined,
      })
      const verified = await auth.verifyAuth0Token(token) // the key set is warm before the fault
      stack.issuer.fail(mode)

      await expectFailsClosed(
        auth.resolveCanonicalUser(verified),
        'directory_unavailable',
        NO_HANG_MS,
        [token.split('.')[2] as string, SUB],
      )
      expect(stack.directory.requests).toHaveLength(0)

      stack.issuer.fail(null)
      const before = stack.issuer.calls.userinfo
      const user = await auth.resolveCanonicalUser(verified)
      expect(stack.issuer.calls.userinfo).toBe(before + 1)
      expect(user.email).toBe('ada@acme.com')
      expect(user.source).toBe('directory')
    })
  })
})

describe('userinfo bodies and redirects', () => {
  const stack = useTestStack((s) => ({
    userinfo: { timeoutMs: TIMEOUT_MS },
    directory: { baseUrl: s.directory.baseUrl, retries: 0 },
  }))
  const SUB = 'samlp|acme-waad|ada'

  async function ada() {
    stack.issuer.profiles.set(SUB, { email: 'ada@acme.com', email_verified: true })
    const auth = stack.auth()
    const token = await stack.issuer.sign({ sub: SUB, email: undefined, email_verified: undefined })
    return { auth, token, verified: await auth.verifyAuth0Token(token) }
  }

  it.each(['trickle', 'huge'] as const)(
    'a %s profile is not read to its end, and the connection is closed',
    async (mode) => {
      const { auth, verified } = await ada()
      stack.issuer.fail(mode)
      await expectFailsClosed(
        auth.resolveCanonicalUser(verified),
        'directory_unavailable',
        NO_HANG_MS,
        [],
      )
      expect(stack.issuer.faultLog.bodiesCompleted).toBe(0)
      await vi.waitFor(() => expect(stack.issuer.faultLog.bodiesAbandoned).toBe(1))
    },
  )

  it("a redirect is not followed: the other host never supplies the profile or sees the user's token", async () => {
    const { auth, token, verified } = await ada()
    stack.issuer.fail('redirect')
    await expectFailsClosed(
      auth.resolveCanonicalUser(verified),
      'directory_unavailable',
      NO_HANG_MS,
      [token.split('.')[2] as string],
    )
    expect(stack.issuer.faultLog.redirected).toEqual([])
    expect(stack.directory.users.size).toBe(0)
  })
})

describe('Management API faults', () => {
  const TENANT = 'https://tenant.canonical-auth.invalid'
  const login = {
    clientId: 'spa-client',
    redirectUri: 'https://app.example.com/callback',
    audience: 'https://api.example.com',
  }
  const management = { clientId: 'm2m', clientSecret: 'super-secret-value' }
  const keep = useInstances()

  /** The tenant's token and connections endpoints, each with its own fault switch. */
  async function tenant() {
    const faults: { token: FaultMode | null; connections: FaultMode | null } = {
      token: null,
      connections: null,
    }
    const calls = { token: 0, connections: 0 }
    const route: Route = ({ method, path }) => {
      if (method === 'POST' && path === '/oauth/token') {
        calls.token += 1
        return withFault(faults.token, () =>
          json(200, { access_token: 'mgmt-token', expires_in: 86_400, token_type: 'Bearer' }),
        )
      }
      if (method === 'GET' && path === '/api/v2/clients/spa-client/connections') {
        calls.connections += 1
        return withFault(faults.connections, () =>
          json(200, {
            connections: [
              { name: 'acme-waad', strategy: 'waad', options: { domain_aliases: ['acme.com'] } },
            ],
          }),
        )
      }
      return undefined
    }
    const log = faultRecorder()
    const handlers = await mswHandlers(TENANT, route, log)
    if (handlers instanceof Error) throw handlers
    server.use(...handlers)
    return { faults, calls, log }
  }

  function authFor() {
    return keep(
      createAuth({
        auth0: { domain: new URL(TENANT).host, audience: 'https://api.example' },
        discovery: { ...login, management, timeoutMs: TIMEOUT_MS },
      }),
    )
  }

  describe.each(MODES)('%s', (mode) => {
    it.each(['token', 'connections'] as const)(
      'on the %s endpoint: 502 discovery_unavailable by its deadline, nothing leaked or cached',
      async (endpoint) => {
        const { faults, calls } = await tenant()
        const auth = authFor()
        faults[endpoint] = mode

        await expectFailsClosed(
          auth.discoverAuthProvider('ada@acme.com'),
          'discovery_unavailable',
          NO_HANG_MS,
          [management.clientSecret, 'mgmt-token'],
        )

        // Recovered: the next discovery asks again and routes to the connection; the failure was
        // not remembered as "no SSO here", which would send SSO users to a password prompt.
        faults[endpoint] = null
        const before = calls.connections
        const answer = await auth.discoverAuthProvider('ada@acme.com')
        expect(calls.connections).toBeGreaterThan(before)
        expect(answer).toMatchObject({ method: 'sso', connection: 'acme-waad' })
      },
    )
  })

  it.each(['token', 'connections'] as const)(
    'on the %s endpoint: a huge or trickled body is not read to its end',
    async (endpoint) => {
      const { faults, log } = await tenant()
      for (const mode of ['huge', 'trickle'] as const) {
        faults[endpoint] = mode
        await expectFailsClosed(
          authFor().discoverAuthProvider('ada@acme.com'),
          'discovery_unavailable',
          NO_HANG_MS,
          [management.clientSecret, 'mgmt-token'],
        )
      }
      expect(log.bodiesStarted).toBe(2)
      expect(log.bodiesCompleted).toBe(0)
    },
  )

  it.each(['token', 'connections'] as const)(
    'on the %s endpoint: a redirect is not followed, so no secret or token goes elsewhere',
    async (endpoint) => {
      const { faults, log } = await tenant()
      faults[endpoint] = 'redirect'
      await expectFailsClosed(
        authFor().discoverAuthProvider('ada@acme.com'),
        'discovery_unavailable',
        NO_HANG_MS,
        [management.clientSecret, 'mgmt-token'],
      )
      // The target records each request with its headers and body; it received none.
      expect(log.redirected).toEqual([])
    },
  )
})

describe('WebFinger faults', () => {
  const TENANT = 'https://tenant.canonical-auth.invalid'
  const keep = useInstances()

  /** The tenant's WebFinger endpoint, federating acme.com, with a fault switch. */
  async function webfinger() {
    const state: { fault: FaultMode | null; calls: number } = { fault: null, calls: 0 }
    const route: Route = ({ method, path }) => {
      if (method !== 'GET' || path !== '/.well-known/webfinger') return undefined
      state.calls += 1
      return withFault(state.fault, () =>
        json(200, { subject: 'urn:auth0:discovery:domain:acme.com', links: [] }),
      )
    }
    const log = faultRecorder()
    const handlers = await mswHandlers(TENANT, route, log)
    if (handlers instanceof Error) throw handlers
    server.use(...handlers)
    return { state, log }
  }

  function authFor() {
    return keep(
      createAuth({
        auth0: { domain: new URL(TENANT).host, audience: 'https://api.example' },
        discovery: { webfinger: true, timeoutMs: TIMEOUT_MS },
      }),
    )
  }

  describe.each(MODES)('%s', (mode) => {
    it('502 discovery_unavailable by its deadline, nothing cached', async () => {
      const { state, log } = await webfinger()
      const auth = authFor()
      state.fault = mode
      await expectFailsClosed(
        auth.discoverAuthProvider('ada@acme.com'),
        'discovery_unavailable',
        NO_HANG_MS,
        [],
      )
      expect(log.bodiesCompleted).toBe(0)
      expect(log.redirected).toEqual([])

      // Recovered: asked again, and federated; the failure was not kept as "not federated".
      state.fault = null
      const before = state.calls
      expect((await auth.discoverAuthProvider('ada@acme.com')).method).toBe('sso')
      expect(state.calls).toBe(before + 1)
    })
  })
})
