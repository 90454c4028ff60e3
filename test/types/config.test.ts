// Configuration mistakes that fail at compile time, before createAuth's own validation sees them:
// `tsc --noEmit` (npm run typecheck) checks each `@ts-expect-error` line (one over code that
// compiles is itself an error), so every shape refused here stays refused. Nothing below runs
// createAuth: the configurations are only typed.

import {
  type AsymmetricAlgorithm,
  type AuthConfig,
  createAuth,
  type DirectoryConfig,
  type UserDirectory,
  verifyAuth0Token,
} from 'canonical-auth'
import { describe, expectTypeOf, it } from 'vitest'

const auth0 = { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' }
const directory = { baseUrl: 'http://users.internal:8080' }
const client = undefined as unknown as UserDirectory

// Typed, never called.
const typed = (configs: () => void) => expectTypeOf(configs).toBeFunction()

describe('AuthConfig accepts the documented shapes', () => {
  it('the minimal config, several tenants, and a custom directory', () => {
    expectTypeOf({ auth0, directory }).toExtend<AuthConfig>()
    expectTypeOf({
      auth0: [auth0, { issuer: 'https://login.example.com/', audience: ['a', 'b'] }],
      directory: { client, mode: 'lookup' as const },
    }).toExtend<AuthConfig>()
    expectTypeOf({
      auth0: { ...auth0, algorithms: ['RS256', 'PS256', 'ES256'] as const },
    }).toExtend<AuthConfig>()
    expectTypeOf(createAuth).parameters.toEqualTypeOf<[config: AuthConfig]>()
    expectTypeOf(verifyAuth0Token).parameters.toEqualTypeOf<[token: string, config: AuthConfig]>()
  })
})

describe('AuthConfig refuses at compile time', () => {
  it('a misspelt key', () => {
    typed(() => {
      createAuth({
        auth0,
        // @ts-expect-error: `directory`
        directry: directory,
      })
      createAuth({
        // @ts-expect-error: `clockToleranceSeconds`
        auth0: { ...auth0, clockTolerance: 5 },
        directory,
      })
      createAuth({
        auth0,
        // @ts-expect-error: `canonicalUserId`
        claims: { canonicalUserID: 'https://example.com/uuid' },
      })
    })
  })

  it('a symmetric or unsigned algorithm', () => {
    typed(() => {
      // @ts-expect-error: HS* is never accepted
      createAuth({ auth0: { ...auth0, algorithms: ['HS256'] }, directory })
      // @ts-expect-error: nor is none
      createAuth({ auth0: { ...auth0, algorithms: ['none'] }, directory })
      // @ts-expect-error: a list, not one name
      createAuth({ auth0: { ...auth0, algorithms: 'RS256' }, directory })
    })
    expectTypeOf<'RS256' | 'PS256' | 'ES256' | 'EdDSA'>().toExtend<AsymmetricAlgorithm>()
    expectTypeOf<'HS256'>().not.toExtend<AsymmetricAlgorithm>()
    expectTypeOf<'none'>().not.toExtend<AsymmetricAlgorithm>()
  })

  it('an audience that is not a string or a list of strings', () => {
    typed(() => {
      // @ts-expect-error: 42 is not an API identifier
      createAuth({ auth0: { domain: 'tenant.eu.auth0.com', audience: 42 }, directory })
      // @ts-expect-error: nor is a list of numbers
      createAuth({ auth0: { domain: 'tenant.eu.auth0.com', audience: [42] }, directory })
      // @ts-expect-error: the audience is required
      createAuth({ auth0: { domain: 'tenant.eu.auth0.com' }, directory })
    })
  })

  it('no auth0 tenant', () => {
    typed(() => {
      // @ts-expect-error: auth0 is required
      createAuth({ directory })
      // @ts-expect-error: not a bare domain
      createAuth({ auth0: 'tenant.eu.auth0.com', directory })
    })
  })

  it('a directory with neither baseUrl nor client, or a bad one', () => {
    typed(() => {
      // @ts-expect-error: a directory needs baseUrl or client
      createAuth({ auth0, directory: { mode: 'lookup' } })
      // @ts-expect-error: the same, with only HTTP options
      createAuth({ auth0, directory: { timeoutMs: 1_000, retries: 1 } })
      // @ts-expect-error: baseUrl is a string
      createAuth({ auth0, directory: { baseUrl: 8080 } })
      // @ts-expect-error: mode is ensure or lookup
      createAuth({ auth0, directory: { ...directory, mode: 'create' } })
      // @ts-expect-error: a client implements UserDirectory
      createAuth({ auth0, directory: { client: {} } })
    })
    expectTypeOf<{ mode: 'lookup' }>().not.toExtend<DirectoryConfig>()
    expectTypeOf<{ baseUrl: string }>().toExtend<DirectoryConfig>()
    expectTypeOf<{ client: UserDirectory }>().toExtend<DirectoryConfig>()
  })

  it('trust, legacy and hook shapes', () => {
    typed(() => {
      // @ts-expect-error: a trusted connection lists the domains it owns
      createAuth({ auth0, directory, trust: { trustedConnections: ['acme-waad'] } })
      createAuth({
        auth0,
        directory,
        // @ts-expect-error: the legacy hook answers { userId, email? } or null
        legacy: { verify: (_token: string) => 'b3c1a6a2-1c1e-4c6e-9a7e-2f1d3c4b5a69' },
      })
      // @ts-expect-error: no test-mode switch exists
      createAuth({ auth0, directory, allowTestTokens: true })
    })
  })
})
