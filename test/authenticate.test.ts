import { inspect } from 'node:util'
import { AuthError, type AuthErrorCode, type HeadersInput, isAuthError } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import { describe, expect, it, vi } from 'vitest'
import { b64, forge, nowSeconds, rejectsWith, ssoToken, strangerKey, UUID } from './helpers.js'
import { useTestStack } from './stack.js'

const LEGACY_ID = '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d'

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
}))
const authFor = stack.auth

describe('authenticate: token locations', () => {
  it('reads Authorization: Bearer and returns the canonical user', async () => {
    const context = await authFor().authenticate({
      headers: { authorization: `Bearer ${await ssoToken(stack.issuer)}` },
    })
    expect(context.userId).toBe(stack.directory.users.get('ada@acme.com')?.id)
    expect(context.user.source).toBe('directory')
    expect(context.token?.subject).toBe('samlp|acme-waad|ada')
  })

  it('reads X-User-Token, as agentic-backend forwards it', async () => {
    const context = await authFor().authenticate({
      headers: { 'x-user-token': await ssoToken(stack.issuer) },
    })
    expect(context.userId).toBe(stack.directory.users.get('ada@acme.com')?.id)
  })

  it('accepts the scheme in any case, a fetch Headers object, and header names in any case', async () => {
    const auth = authFor()
    const token = await ssoToken(stack.issuer)
    const ada = stack.directory.addUser('ada@acme.com')
    const adaContext = { userId: ada.id, token: { subject: 'samlp|acme-waad|ada' } }
    await expect(
      auth.authenticate({ headers: { authorization: `bEaReR ${token}` } }),
    ).resolves.toMatchObject(adaContext)
    await expect(
      auth.authenticate({ headers: new Headers({ Authorization: `Bearer ${token}` }) }),
    ).resolves.toMatchObject(adaContext)
    await expect(
      auth.authenticate({ headers: { Authorization: `Bearer ${token}` } }),
    ).resolves.toMatchObject(adaContext)
  })

  it('accepts both locations when they carry the same token', async () => {
    const token = await ssoToken(stack.issuer)
    const ada = stack.directory.addUser('ada@acme.com')
    const headers = { authorization: `Bearer ${token}`, 'x-user-token': token }
    await expect(authFor().authenticate({ headers })).resolves.toMatchObject({
      userId: ada.id,
      token: { subject: 'samlp|acme-waad|ada' },
    })
  })

  it.each<[string, Record<string, unknown>, AuthErrorCode]>([
    ['no token', {}, 'token_missing'],
    ['an empty Authorization header', { authorization: '' }, 'token_missing'],
    ['a Basic scheme', { authorization: 'Basic YWRhOnNlY3JldA==' }, 'token_missing'],
    ['Bearer without a token', { authorization: 'Bearer' }, 'invalid_request'],
    ['Bearer with two tokens', { authorization: 'Bearer a.b.c d.e.f' }, 'invalid_request'],
    ['Bearer glued to its token', { authorization: 'Bearerabc.def.ghi' }, 'token_missing'],
    ['Bearer with a comma', { authorization: 'Bearer a.b.c, Basic x' }, 'invalid_request'],
    ['a header that is not a credential', { authorization: '!!!' }, 'invalid_request'],
    [
      'two Authorization headers',
      { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] },
      'invalid_request',
    ],
    ['an X-User-Token with spaces', { 'x-user-token': 'a.b.c d' }, 'invalid_request'],
    // Frameworks hand over strings; a record built by hand may not (found by test/fuzz.test.ts).
    ['an Authorization header that is not a string', { authorization: 42 }, 'invalid_request'],
    ['an Authorization header that is an object', { authorization: [{}] }, 'invalid_request'],
    ['an Authorization header that is null', { authorization: null }, 'token_missing'],
  ])('answers %s with %s', async (_name, headers, code) => {
    await rejectsWith(authFor().authenticate({ headers: headers as HeadersInput }), code)
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('refuses two different tokens (400)', async () => {
    const headers = {
      authorization: `Bearer ${await ssoToken(stack.issuer)}`,
      'x-user-token': await ssoToken(stack.issuer, { sub: 'samlp|acme-waad|eve' }),
    }
    await rejectsWith(authFor().authenticate({ headers }), 'invalid_request')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('reads only the configured locations', async () => {
    const token = await ssoToken(stack.issuer)
    const bearerOnly = authFor({ tokenSources: { headers: [] } })
    await rejectsWith(
      bearerOnly.authenticate({ headers: { 'x-user-token': token } }),
      'token_missing',
    )
    const custom = authFor({
      tokenSources: { bearer: false, headers: ['X-Forwarded-Access-Token'] },
    })
    await rejectsWith(
      custom.authenticate({ headers: { authorization: `Bearer ${token}` } }),
      'token_missing',
    )
    const ada = stack.directory.addUser('ada@acme.com')
    await expect(
      custom.authenticate({ headers: { 'x-forwarded-access-token': token } }),
    ).resolves.toMatchObject({ userId: ada.id, token: { subject: 'samlp|acme-waad|ada' } })
  })

  it('rejects an invalid token before the directory is asked', async () => {
    const expired = await ssoToken(stack.issuer, {
      iat: nowSeconds() - 7200,
      exp: nowSeconds() - 3600,
    })
    await rejectsWith(
      authFor().authenticate({ headers: { authorization: `Bearer ${expired}` } }),
      'token_expired',
      expired,
    )
    expect(stack.directory.requests).toHaveLength(0)
  })
})

describe('authenticate: legacy tokens', () => {
  it('refuses a token from another issuer when no legacy hook is configured', async () => {
    const other = await createTestIssuer({ listen: false })
    await rejectsWith(
      authFor().authenticate({ headers: { authorization: `Bearer ${await other.sign()}` } }),
      'token_invalid',
    )
  })

  it.each([
    ['an opaque token', 'garbage', /not a JWT.*audience/],
    ['three segments that are not a JWT', 'aaa.bbb.ccc', /not a well-formed JWT/],
    ['a padded token', 'aaaa.bbbb.cc==', /not a well-formed JWT/],
  ])('says why %s is refused when no legacy hook is configured', async (_name, token, message) => {
    const error = await authFor()
      .authenticate({ headers: { authorization: `Bearer ${token}` } })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'token_invalid' })
    expect((error as Error).message).toMatch(message)
  })

  it('says a well-formed JWT from another issuer is not from a configured one', async () => {
    const other = await createTestIssuer({ listen: false })
    const error = await authFor()
      .authenticate({ headers: { authorization: `Bearer ${await other.sign()}` } })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'token_invalid' })
    expect((error as Error).message).toMatch(/not issued by a configured issuer/)
  })

  it('sends a non-Auth0 token to the legacy hook and returns its UUID', async () => {
    const verify = vi.fn(async (token: string) =>
      token === 'legacy-opaque-token' ? { userId: LEGACY_ID, email: 'Ada@Acme.com' } : null,
    )
    const context = await authFor({ legacy: { verify } }).authenticate({
      headers: { 'x-user-token': 'legacy-opaque-token' },
    })
    expect(context).toEqual({
      userId: LEGACY_ID,
      user: { id: LEGACY_ID, email: 'ada@acme.com', source: 'legacy', created: false },
    })
    expect(context).not.toHaveProperty('token')
    expect(stack.directory.requests).toHaveLength(0)
  })

  it('sends a JWT from an unconfigured issuer to the hook', async () => {
    const other = await createTestIssuer({ listen: false })
    const verify = vi.fn(async () => ({ userId: LEGACY_ID }))
    const context = await authFor({ legacy: { verify } }).authenticate({
      headers: { authorization: `Bearer ${await other.sign()}` },
    })
    expect(context.userId).toBe(LEGACY_ID)
    expect(verify).toHaveBeenCalledTimes(1)
  })

  it('never sends a token that claims a configured issuer to the hook, even a forged one', async () => {
    const verify = vi.fn(async () => ({ userId: LEGACY_ID }))
    const auth = authFor({ legacy: { verify } })
    const forged = `${(await ssoToken(stack.issuer)).slice(0, -8)}AAAAAAAA`
    await rejectsWith(
      auth.authenticate({ headers: { authorization: `Bearer ${forged}` } }),
      'token_invalid',
    )
    expect(verify).not.toHaveBeenCalled()
  })

  describe('a token that claims a configured issuer, however malformed, never reaches the hook', () => {
    const variants: [string, (token: string, issuer: string) => Promise<string> | string][] = [
      ['= padding after the signature', (token) => `${token}=`],
      [
        'altered trailing bits in the signature',
        (token) => {
          const last = token.at(-1) as string
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
          const value = alphabet.indexOf(last)
          // The signature is 342 characters (2 spare bits): flip one of them.
          return `${token.slice(0, -1)}${alphabet[value ^ 1]}`
        },
      ],
      [
        'a standard-base64 payload with padding',
        (token) => {
          const [header, payload, signature] = token.split('.') as [string, string, string]
          const standard = Buffer.from(payload, 'base64url').toString('base64')
          return `${header}.${standard}.${signature}`
        },
      ],
      [
        'a header that is not JSON',
        (token) => `${b64('not json')}.${token.split('.').slice(1).join('.')}`,
      ],
      ['four segments', (token) => `${token}.AAAA`],
      [
        'alg none with an empty signature',
        (token) => `${b64({ alg: 'none', typ: 'JWT' })}.${token.split('.')[1]}.`,
      ],
      [
        'a duplicate iss, the last one naming another issuer',
        async (_token, issuer) =>
          forge(
            { alg: 'RS256', typ: 'JWT' },
            `{"iss":"${issuer}","sub":"samlp|acme-waad|ada","iss":"https://legacy.example/"}`,
            await strangerKey(),
          ),
      ],
      [
        'an escaped issuer inside a broken payload',
        (_token, issuer) =>
          `${b64({ alg: 'RS256' })}.${b64(`{"iss":"${issuer.replaceAll('/', '\\/')}",`)}.c2ln`,
      ],
      [
        'an issuer without its trailing slash, in a different case',
        async (_token, issuer) =>
          forge(
            { alg: 'RS256' },
            { iss: issuer.slice(0, -1).toUpperCase(), sub: 'auth0|x' },
            await strangerKey(),
          ),
      ],
      [
        'a stray leading base64 character that shifts the payload',
        (token) => {
          const [header, payload, signature] = token.split('.') as [string, string, string]
          return `${header}.A${payload}.${signature}`
        },
      ],
      [
        'a version tag in front and no dots',
        (token) => `v1:${b64(Buffer.from(token.split('.')[1] as string, 'base64url').toString())}`,
      ],
      [
        'more than sixteen segments',
        (token) => `${Array(16).fill('AAAA').join('.')}.${token.split('.')[1]}`,
      ],
      [
        'the whole token percent-encoded',
        (token) => [...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''),
      ],
      [
        'the token inside a claim of an unsigned envelope',
        (token) => `${b64({ alg: 'none' })}.${b64({ token })}.`,
      ],
      ['the token base64-encoded once more', (token) => b64(token)],
      ...(['127%2E0.0.1', 'x@127.0.0.1', '127.0.0.1'].map((host) => [
        `an issuer whose host is written ${host}`,
        (token: string, issuer: string) => {
          const [header, payload, signature] = token.split('.') as [string, string, string]
          const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
          const iss = issuer.replace('127.0.0.1', host).replace('http://', 'http:%2F%2F')
          return `${header}.${b64({ ...claims, iss })}.${signature}`
        },
      ]) as [string, (token: string, issuer: string) => string][]),
    ]

    it.each(variants)('%s', async (_name, make) => {
      const verify = vi.fn(async () => ({ userId: LEGACY_ID }))
      const auth = authFor({ legacy: { verify } })
      const token = await make(await ssoToken(stack.issuer), stack.issuer.issuer)
      await rejectsWith(auth.authenticate({ headers: { 'x-user-token': token } }), 'token_invalid')
      expect(verify).not.toHaveBeenCalled()
      expect(stack.directory.requests).toHaveLength(0)
    })
  })

  it('still sends a legacy token that names no configured issuer to the hook, however encoded', async () => {
    const verify = vi.fn(async () => ({ userId: LEGACY_ID }))
    const auth = authFor({ legacy: { verify } })
    const legacy = [
      'legacy-opaque-token',
      `${b64({ alg: 'HS256' })}.${b64({ iss: 'https://legacy.example/', sub: 'u1' })}.c2ln`,
      b64(`${b64({ alg: 'HS256' })}.${b64({ iss: 'https://legacy.example/' })}.c2ln`),
      `%7B${'a'.repeat(40)}%7D`,
    ]
    for (const token of legacy) {
      await auth.authenticate({ headers: { 'x-user-token': token } })
    }
    expect(verify).toHaveBeenCalledTimes(legacy.length)
  })

  it.each<[string, () => unknown]>([
    ['null', () => null],
    ['an Auth0 sub as the id', () => ({ userId: 'auth0|legacy' })],
    ['a non-UUID id', () => ({ userId: '12345' })],
    ['a thrown error', () => Promise.reject(new Error('jwt malformed'))],
  ])('answers token_invalid when the hook returns %s', async (_name, answer) => {
    const auth = authFor({ legacy: { verify: answer as () => null } })
    await rejectsWith(auth.authenticate({ headers: { 'x-user-token': 'legacy' } }), 'token_invalid')
  })

  it("keeps no claim of the hook's jose error in the cause", async () => {
    const { errors } = await import('jose')
    const payload = { email: 'ada.secret@acme.com', sub: 'legacy|secret-sub' }
    const auth = authFor({
      legacy: {
        verify: () => {
          throw new errors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp')
        },
      },
    })
    const error = await auth
      .authenticate({ headers: { 'x-user-token': 'legacy' } })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'token_invalid', cause: { code: 'ERR_JWT_EXPIRED' } })
    const shown = inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })
    expect(shown).not.toContain(payload.email)
    expect(shown).not.toContain(payload.sub)
  })

  it('passes an AuthError from the hook through', async () => {
    const auth = authFor({
      legacy: {
        verify: () => {
          throw new AuthError('token_expired')
        },
      },
    })
    await rejectsWith(auth.authenticate({ headers: { 'x-user-token': 'legacy' } }), 'token_expired')
  })

  it('caps the size of a legacy token too', async () => {
    const verify = vi.fn(async () => ({ userId: LEGACY_ID }))
    const auth = authFor({ legacy: { verify } })
    await rejectsWith(
      auth.authenticate({ headers: { 'x-user-token': 'x'.repeat(9000) } }),
      'token_invalid',
    )
    expect(verify).not.toHaveBeenCalled()
  })
})

describe('rule 1: the Auth0 sub is never a user id, on any path', () => {
  it('every outcome is either an AuthError or a UUID that is not the sub', async () => {
    const sub = 'waad|abc123'
    const token = await stack.issuer.sign({ sub, email: 'ada@acme.com', email_verified: true })
    const untrusted = await stack.issuer.sign({ sub, email: 'ada@acme.com', email_verified: false })
    const noEmail = await stack.issuer.sign({ sub })
    const claimWithSub = await stack.issuer.sign({
      sub,
      email_verified: true,
      email: 'ada@acme.com',
      'https://x/id': sub,
    })
    const scenarios: [string, () => Promise<unknown>][] = [
      ['healthy', () => authFor().authenticate({ headers: { authorization: `Bearer ${token}` } })],
      [
        'untrusted email',
        () => authFor().authenticate({ headers: { authorization: `Bearer ${untrusted}` } }),
      ],
      [
        'no email',
        () => authFor().authenticate({ headers: { authorization: `Bearer ${noEmail}` } }),
      ],
      [
        'sub in the canonical claim',
        () =>
          authFor({ claims: { canonicalUserId: 'https://x/id' } }).authenticate({
            headers: { authorization: `Bearer ${claimWithSub}` },
          }),
      ],
      [
        'lookup miss',
        () =>
          authFor({ directory: { baseUrl: stack.directory.baseUrl, mode: 'lookup' } }).authenticate(
            {
              headers: { authorization: `Bearer ${token}` },
            },
          ),
      ],
      [
        'legacy hook echoing the sub',
        () =>
          authFor({ legacy: { verify: () => ({ userId: sub }) } }).authenticate({
            headers: { 'x-user-token': sub },
          }),
      ],
      [
        'custom directory answering the sub',
        () =>
          authFor({
            directory: {
              client: { ensure: async () => ({ id: sub }), lookup: async () => ({ id: sub }) },
            },
          }).authenticate({
            headers: { authorization: `Bearer ${token}` },
          }),
      ],
    ]
    for (const mode of ['down', '5xx', 'slow', 'garbage'] as const) {
      scenarios.push([
        `directory ${mode}`,
        async () => {
          stack.directory.fail(mode)
          try {
            return await authFor().authenticate({ headers: { authorization: `Bearer ${token}` } })
          } finally {
            stack.directory.fail(null)
          }
        },
      ])
    }
    for (const [name, run] of scenarios) {
      const outcome = await run().catch((error: unknown) => error)
      if (isAuthError(outcome)) {
        expect(JSON.stringify(outcome), name).not.toContain(sub)
        continue
      }
      const { userId, user } = outcome as { userId: string; user: { id: string } }
      expect(userId, name).not.toBe(sub)
      expect(userId, name).toMatch(UUID)
      expect(user.id, name).toBe(userId)
    }
  })
})
