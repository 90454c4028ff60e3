import type { UserCacheStore, UserDirectory } from 'canonical-auth'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FLIGHT_GRACE_MS } from '../../src/core/lib/flights.js'
import { advance, ssoToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

// A platform that ends a request's unfinished work with the request (Cloudflare Workers) may leave
// a user resolution it started unsettled for ever, the directory deadline's timer included. Here
// a directory call that never answers, with timers that never fire, stands for one.

const stack = useTestStack(() => ({
  trust: { trustedConnections: { 'acme-waad': ['acme.com'] } },
}))

const ADA = '0b5f8c1e-4a53-4c6e-9d7e-2f0a6b1c3d4e'

afterEach(() => {
  vi.useRealTimers()
})

/** Lets pending callbacks run (setImmediate is left real). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

describe('a user resolution dropped with the request that started it', () => {
  it('never holds up the next request for that user: past its deadline, it is asked afresh', async () => {
    let calls = 0
    const client: UserDirectory = {
      ensure: () => {
        calls += 1
        return calls === 1 ? new Promise(() => {}) : Promise.resolve({ id: ADA, created: false })
      },
      lookup: async () => null,
    }
    const auth = stack.auth({ directory: { client, deadlineMs: 1_000 } })
    const token = await ssoToken(stack.issuer)
    // The key set and the verification are in memory before the clock stops.
    await auth.verifyAuth0Token(token)
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] })
    const headers = { authorization: `Bearer ${token}` }
    void auth.authenticate({ headers })
    while (calls === 0) await settle()
    // Within the deadline, a second request for the same user joins the first one's call.
    const joined = auth.authenticate({ headers })
    await settle()
    expect(calls).toBe(1)
    void joined.catch(() => {})
    advance(1_000 + 5_000 + FLIGHT_GRACE_MS)
    await expect(auth.authenticate({ headers })).resolves.toMatchObject({ userId: ADA })
    expect(calls).toBe(2)
  })
})

describe('waitUntil', () => {
  it('is handed the delete of a bad shared-cache entry', async () => {
    const deleted: string[] = []
    const store: UserCacheStore = {
      get: async () => ({ id: 'not-a-uuid' }),
      set: async () => {},
      delete: async (key) => {
        deleted.push(key)
      },
    }
    const client: UserDirectory = {
      ensure: async () => ({ id: ADA, created: false }),
      lookup: async () => null,
    }
    const auth = stack.auth({ directory: { client }, cache: { store } })
    const background: Promise<unknown>[] = []
    const context = await auth.authenticate({
      headers: { authorization: `Bearer ${await ssoToken(stack.issuer)}` },
      waitUntil: (task) => background.push(task),
    })
    expect(context.userId).toBe(ADA)
    expect(background).toHaveLength(1)
    await background[0]
    expect(deleted).toEqual([expect.stringMatching(/^canonical-auth:user:v1:/)])
  })
})
