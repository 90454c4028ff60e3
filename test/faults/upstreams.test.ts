import { createAuth } from 'canonical-auth'
import type { FaultMode } from 'canonical-auth/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { json, mswHandlers, type Route, withFault } from '../../src/testing/transport.js'
import { expectFailsClosed } from '../helpers.js'
import { server } from '../msw.js'
import { useTestStack } from '../stack.js'

// Auth0's /userinfo and Management API misbehaving in every fault mode. Each case asserts the
// answer (status and code), that the call ends well before the `slow` upstream would answer, that
// nothing of the failure leaks, and that nothing of it is cached: once the upstream recovers, the
// next call asks it again and gets the right answer.

const MODES: FaultMode[] = ['down', 'slow', '5xx', 'garbage', 'truncated', 'reset-mid-body', '429']
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

describe('Management API faults', () => {
  const TENANT = 'https://tenant.canonical-auth.invalid'
  const login = {
    clientId: 'spa-client',
    redirectUri: 'https://app.example.com/callback',
    audience: 'https://api.example.com',
  }
  const management = { clientId: 'm2m', clientSecret: 'super-secret-value' }
  const instances: { close(): Promise<void> }[] = []
  afterEach(async () => {
    for (const auth of instances.splice(0)) await auth.close()
  })

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
    const handlers = await mswHandlers(TENANT, route)
    if (handlers instanceof Error) throw handlers
    server.use(...handlers)
    return { faults, calls }
  }

  function authFor() {
    const auth = createAuth({
      auth0: { domain: new URL(TENANT).host, audience: 'https://api.example' },
      discovery: { ...login, management, timeoutMs: TIMEOUT_MS },
    })
    instances.push(auth)
    return auth
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
})
