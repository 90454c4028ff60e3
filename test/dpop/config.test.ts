import { type AuthConfig, AuthConfigError, createAuth } from 'canonical-auth'
import { describe, expect, it } from 'vitest'

const auth0 = { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' }

function issuesOf(dpop: unknown): { path: string; message: string }[] {
  try {
    createAuth({ auth0, dpop } as AuthConfig)
  } catch (error) {
    expect(error).toBeInstanceOf(AuthConfigError)
    return [...(error as AuthConfigError).issues]
  }
  throw new Error('expected createAuth to throw')
}

describe('dpop configuration', () => {
  it('accepts every option, and none', async () => {
    for (const dpop of [
      undefined,
      {},
      { mode: 'disabled' },
      {
        mode: 'required',
        origin: 'https://api.example.com',
        algorithms: ['ES256', 'EdDSA', 'PS256'],
        iatWindowSeconds: 60,
        replay: { store: { setIfAbsent: async () => true }, onStoreError: 'allow', timeoutMs: 50 },
        nonce: { secret: 'x'.repeat(32), ttlSeconds: 10 },
      },
      { origin: 'http://localhost:3000/' },
    ] as AuthConfig['dpop'][]) {
      await createAuth({ auth0, dpop }).close()
    }
  })

  it.each<[string, unknown, string, RegExp]>([
    ['an unknown mode', { mode: 'optional' }, 'dpop.mode', /allowed|required|disabled/],
    ['a symmetric algorithm', { algorithms: ['HS256'] }, 'dpop.algorithms.0', /asymmetric/],
    ['alg none', { algorithms: ['none'] }, 'dpop.algorithms.0', /asymmetric/],
    ['no algorithm', { algorithms: [] }, 'dpop.algorithms', /at least one/],
    ['an origin with a path', { origin: 'https://api.example.com/v1' }, 'dpop.origin', /origin/],
    ['an origin with a query', { origin: 'https://api.example.com?x=1' }, 'dpop.origin', /origin/],
    ['an origin that is not a URL', { origin: 'api.example.com' }, 'dpop.origin', /absolute URL/],
    ['a window of 0', { iatWindowSeconds: 0 }, 'dpop.iatWindowSeconds', /./],
    ['a short nonce secret', { nonce: { secret: 'short' } }, 'dpop.nonce.secret', /32 characters/],
    [
      'a nonce lifetime under 10 s',
      { nonce: { secret: 'x'.repeat(32), ttlSeconds: 5 } },
      'dpop.nonce.ttlSeconds',
      /./,
    ],
    [
      'a nonce lifetime over 600 s',
      { nonce: { secret: 'x'.repeat(32), ttlSeconds: 601 } },
      'dpop.nonce.ttlSeconds',
      /./,
    ],
    [
      'a store without setIfAbsent',
      { replay: { store: { get() {} } } },
      'dpop.replay.store',
      /setIfAbsent/,
    ],
    [
      'an unknown store policy',
      { replay: { onStoreError: 'ignore' } },
      'dpop.replay.onStoreError',
      /./,
    ],
    ['an unknown option', { nonces: {} }, 'dpop', /nonces/],
  ])('refuses %s, naming the field', (_name, dpop, path, message) => {
    const issues = issuesOf(dpop)
    expect(issues.map((issue) => issue.path)).toContain(path)
    expect(issues.find((issue) => issue.path === path)?.message).toMatch(message)
  })
})
