import { randomUUID } from 'node:crypto'
import {
  type AuthConfig,
  createAuth,
  type DirectoryUser,
  resolveCanonicalUser,
  type UserDirectory,
  verifyAuth0Token,
} from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import { describe, expect, it } from 'vitest'
import { rejectsWith, verifiedToken } from './helpers.js'
import { server } from './msw.js'
import { useInstances } from './stack.js'

describe('top-level verifyAuth0Token', () => {
  const keep = useInstances()

  it('shares one key set cache across calls with equal inline configs', async () => {
    const issuer = keep(await createTestIssuer())
    for (let i = 0; i < 10; i++) {
      const verified = await verifyAuth0Token(await issuer.sign({ sub: `auth0|${i}` }), {
        auth0: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience },
      })
      expect(verified.subject).toBe(`auth0|${i}`)
    }
    expect(issuer.calls.jwks).toBe(1)
  })

  it('shares the key set per issuer even when other settings differ', async () => {
    const issuer = keep(await createTestIssuer())
    const token = await issuer.sign()
    await verifyAuth0Token(token, { auth0: issuer.auth0 })
    await verifyAuth0Token(token, { auth0: { ...issuer.auth0, clockToleranceSeconds: 0 } })
    await verifyAuth0Token(token, { auth0: issuer.auth0, claims: { email: 'https://x/email' } })
    expect(issuer.calls.jwks).toBe(1)
  })

  it('applies each call its own config', async () => {
    const issuer = keep(await createTestIssuer())
    const token = await issuer.sign()
    await expect(verifyAuth0Token(token, { auth0: issuer.auth0 })).resolves.toMatchObject(
      verifiedToken(issuer),
    )
    await rejectsWith(
      verifyAuth0Token(token, { auth0: { ...issuer.auth0, audience: 'https://other' } }),
      'token_invalid',
    )
  })
})

describe('several tenants and custom domains', () => {
  it('verifies each tenant against its own keys and audience', async () => {
    const a = await createTestIssuer({ audience: 'https://api-a' })
    const b = await createTestIssuer({ listen: false, audience: 'https://api-b' })
    server.use(...b.handlers)
    const auth = createAuth({ auth0: [a.auth0, b.auth0] })
    expect((await auth.verifyAuth0Token(await a.sign({ sub: 'auth0|a' }))).issuer).toBe(a.issuer)
    expect((await auth.verifyAuth0Token(await b.sign({ sub: 'auth0|b' }))).issuer).toBe(b.issuer)
    // A token of tenant B carrying tenant A's audience is still B's token: wrong audience.
    await rejectsWith(
      auth.verifyAuth0Token(await b.sign({ aud: 'https://api-a' })),
      'token_invalid',
    )
    // Tenant B's keys cannot vouch for a token that claims tenant A.
    const forged = await b.sign({ iss: a.issuer, aud: 'https://api-a' }, { header: { kid: a.kid } })
    await rejectsWith(auth.verifyAuth0Token(forged), 'token_invalid')
    expect(a.calls.jwks).toBe(1)
    expect(b.calls.jwks).toBe(1)
    await auth.close()
    await a.close()
  })

  it('shares one key set between a tenant domain and its custom domain', async () => {
    const issuer = await createTestIssuer()
    const custom = 'https://login.example.invalid/'
    const auth = createAuth({
      auth0: [issuer.auth0, { issuer: custom, jwksUri: issuer.jwksUri, audience: issuer.audience }],
    })
    await auth.verifyAuth0Token(await issuer.sign())
    expect((await auth.verifyAuth0Token(await issuer.sign({ iss: custom }))).issuer).toBe(custom)
    expect(issuer.calls.jwks).toBe(1)
    await auth.close()
    await issuer.close()
  })
})

describe('close()', () => {
  it('refuses calls after close', async () => {
    const issuer = await createTestIssuer()
    const auth = createAuth({ auth0: issuer.auth0 })
    await auth.close()
    await rejectsWith(auth.verifyAuth0Token(await issuer.sign()), 'internal_error')
    await issuer.close()
  })
})

describe('top-level functions: configurations that differ never share an instance', () => {
  /** A directory client for one database, with a toJSON for logging, as many clients have. */
  class NamedDirectory implements UserDirectory {
    readonly id = randomUUID()
    async ensure(): Promise<DirectoryUser> {
      return { id: this.id, created: false }
    }
    async lookup(): Promise<DirectoryUser | null> {
      return { id: this.id }
    }
    toJSON() {
      return { type: 'NamedDirectory' }
    }
  }

  it('tells apart two directory clients that serialise alike', async () => {
    const issuer = await createTestIssuer()
    try {
      const token = await issuer.sign({
        sub: 'auth0|ada',
        email: 'ada@acme.com',
        email_verified: true,
      })
      for (const client of [new NamedDirectory(), new NamedDirectory()]) {
        const config: AuthConfig = { auth0: issuer.auth0, directory: { client } }
        const user = await resolveCanonicalUser(await verifyAuth0Token(token, config), config)
        expect(user.id).toBe(client.id)
      }
    } finally {
      await issuer.close()
    }
  })

  it('tells apart a configuration whose trust is not enumerable', async () => {
    const issuer = await createTestIssuer()
    try {
      const open: AuthConfig = { auth0: issuer.auth0, directory: { client: new NamedDirectory() } }
      const strict = { ...open }
      Object.defineProperty(strict, 'trust', { value: { allow: () => false }, enumerable: false })
      const token = await issuer.sign({
        sub: 'auth0|cy',
        email: 'cy@acme.com',
        email_verified: true,
      })
      await resolveCanonicalUser(await verifyAuth0Token(token, open), open)
      await rejectsWith(
        resolveCanonicalUser(await verifyAuth0Token(token, strict), strict),
        'identity_untrusted',
      )
    } finally {
      await issuer.close()
    }
  })
})
