import { createAuth } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'

export interface HerdResult {
  readonly requests: number
  readonly succeeded: number
  readonly sameUser: boolean
  readonly directoryCalls: number
  readonly jwksFetches: number
  readonly elapsedMs: number
}

/**
 * The cold herd: a fresh instance (no key set, no users cached) receives `requests` concurrent
 * first requests for one new user, each with its own token, over real loopback HTTP to the test
 * issuer and test directory. Counts the key set fetches and directory calls it took.
 */
export async function runHerd(requests = 1_000): Promise<HerdResult> {
  const issuer = await createTestIssuer({ audience: 'https://api.bench' })
  const directory = await createTestDirectory()
  const auth = createAuth({ auth0: issuer.auth0, directory: { baseUrl: directory.baseUrl } })
  try {
    const tokens = await Promise.all(
      Array.from({ length: requests }, (_, i) =>
        issuer.sign({
          sub: 'samlp|acme-waad|new-user',
          email: 'new.user@acme.com',
          email_verified: true,
          jti: `herd-${i}`,
        }),
      ),
    )
    const start = performance.now()
    const settled = await Promise.allSettled(
      tokens.map((token) => auth.authenticate({ headers: { authorization: `Bearer ${token}` } })),
    )
    const elapsedMs = performance.now() - start
    const ids = new Set(
      settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.userId] : [])),
    )
    return {
      requests,
      succeeded: settled.filter((outcome) => outcome.status === 'fulfilled').length,
      sameUser: ids.size === 1,
      directoryCalls: directory.calls.ensure + directory.calls.lookup,
      jwksFetches: issuer.calls.jwks,
      elapsedMs,
    }
  } finally {
    await auth.close()
    await issuer.close()
    await directory.close()
  }
}
