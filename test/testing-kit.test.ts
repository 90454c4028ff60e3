import { createAuth, verifyAuth0Token } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import { rejectsWith } from './helpers.js'
import { server, strayRequests } from './msw.js'

describe('createTestIssuer', () => {
  it('mints Auth0-shaped tokens with sensible defaults', async () => {
    const issuer = await createTestIssuer()
    const token = await issuer.sign()
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: issuer.kid })
    const claims = decodeJwt(token)
    expect(claims).toMatchObject({
      iss: issuer.issuer,
      aud: issuer.audience,
      sub: 'auth0|test-user',
    })
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600)
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    await issuer.close()
  })

  it('drops claims given as undefined and honours expiresIn', async () => {
    const issuer = await createTestIssuer({ listen: false })
    const claims = decodeJwt(
      await issuer.sign({ scope: undefined, azp: undefined }, { expiresIn: 60 }),
    )
    expect(claims).not.toHaveProperty('scope')
    expect(claims).not.toHaveProperty('azp')
    expect((claims.exp as number) - (claims.iat as number)).toBe(60)
  })

  it('serves OIDC metadata that points at its key set', async () => {
    const issuer = await createTestIssuer()
    const metadata = await (await fetch(`${issuer.issuer}.well-known/openid-configuration`)).json()
    expect(metadata).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri })
    expect(await (await fetch(issuer.jwksUri)).json()).toEqual(issuer.jwks)
    expect(issuer.jwks.keys[0]).not.toHaveProperty('d')
    await issuer.close()
  })

  it('works through msw handlers alone, with an issuer that resolves nowhere', async () => {
    const issuer = await createTestIssuer({ listen: false })
    expect(issuer.issuer).toMatch(/^https:\/\/[a-z0-9-]+\.canonical-auth\.invalid\/$/)
    server.use(...issuer.handlers)
    const verified = await verifyAuth0Token(await issuer.sign({ sub: 'samlp|acme|1' }), {
      auth0: issuer.auth0,
    })
    expect(verified.connection).toBe('acme')
    expect(issuer.calls.jwks).toBe(1)
    expect(strayRequests).toEqual([])
  })

  it('is trusted by nothing that has not configured it', async () => {
    const mine = await createTestIssuer()
    const theirs = await createTestIssuer()
    const auth = createAuth({ auth0: mine.auth0 })
    await rejectsWith(auth.verifyAuth0Token(await theirs.sign()), 'token_invalid')
    // Even claiming our issuer, its signature does not verify against our key set.
    const spoof = await theirs.sign({ iss: mine.issuer }, { header: { kid: mine.kid } })
    await rejectsWith(auth.verifyAuth0Token(spoof), 'token_invalid')
    await auth.close()
    await mine.close()
    await theirs.close()
  })

  it.each(['down', '5xx', 'garbage'] as const)(
    'misbehaves on fail(%s) and recovers on fail(null)',
    async (mode) => {
      const issuer = await createTestIssuer()
      issuer.fail(mode)
      const failed = await fetch(issuer.jwksUri).then(
        async (response) =>
          response.ok
            ? response.json().then(
                () => false,
                () => true,
              )
            : true,
        () => true,
      )
      expect(failed).toBe(true)
      issuer.fail(null)
      expect((await fetch(issuer.jwksUri)).ok).toBe(true)
      await issuer.close()
    },
  )

  it('rotates keys, keeping the previous one by default', async () => {
    const issuer = await createTestIssuer()
    const first = issuer.kid
    const second = await issuer.rotateKey()
    expect(issuer.kid).toBe(second)
    expect(issuer.jwks.keys.map((key) => key.kid)).toEqual([second, first])
    await issuer.rotateKey({ keepPrevious: false })
    expect(issuer.jwks.keys).toHaveLength(1)
    await issuer.close()
  })
})
