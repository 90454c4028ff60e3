import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'
import { type Auth, createAuth, TokenCheckError } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import { decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { AsymmetricAlgorithm } from '../../src/core/verify/config.js'
import {
  b64,
  claimsFor,
  forge,
  nowSeconds,
  rejectsWith,
  strangerKey,
  verifiedToken,
} from '../helpers.js'
import { ecKey, forgeForExponentOne, rsaKey, rsaSignatureHolds, secp256k1Key } from '../keys.js'
import { server, strayRequests } from '../msw.js'

// The whole rejection suite runs twice: with the node:crypto fast path (the default where it
// exists) and with jose alone. Both must refuse exactly the same tokens.
describe.each(['auto', 'jose'] as const)('signatureCheck: %s', (engine) => {
  let issuer: TestIssuer
  let auth: Auth

  beforeAll(async () => {
    issuer = await createTestIssuer()
    auth = createAuth({
      signatureCheck: engine,
      auth0: issuer.auth0,
      claims: { canonicalUserId: 'https://example.com/user_id' },
    })
  })
  afterAll(async () => {
    await auth.close()
    await issuer.close()
  })

  const header = () => ({ alg: 'RS256', typ: 'JWT', kid: issuer.kid })
  const claims = (extra: Record<string, unknown> = {}) => claimsFor(issuer, extra)

  describe('a valid token', () => {
    it('verifies and describes the token without ever naming a user id', async () => {
      const token = await issuer.sign({
        sub: 'samlp|acme-waad|x1',
        email: 'Ada@Acme.com',
        email_verified: true,
        scope: 'read:things  write:things',
        permissions: ['read:reports', 42, 'write:reports'],
      })
      const verified = await auth.verifyAuth0Token(token)
      expect(verified).toMatchObject({
        subject: 'samlp|acme-waad|x1',
        issuer: issuer.issuer,
        audience: [issuer.audience],
        email: 'Ada@Acme.com',
        emailVerified: true,
        connection: 'acme-waad',
        scopes: ['read:things', 'write:things'],
        permissions: ['read:reports', 'write:reports'],
      })
      expect(verified.expiresAt).toBeInstanceOf(Date)
      expect(verified.expiresAt.getTime()).toBe((verified.claims.exp as number) * 1000)
      expect(verified).not.toHaveProperty('userId')
      expect(verified).not.toHaveProperty('canonicalUserId')
      expect(Object.isFrozen(verified.claims)).toBe(true)
    })

    it('names no connection for a two-part sub', async () => {
      const verified = await auth.verifyAuth0Token(await issuer.sign({ sub: 'waad|abc123' }))
      expect(verified).not.toHaveProperty('connection')
    })

    it('surfaces the canonical-id claim only when it holds a UUID', async () => {
      const claim = 'https://example.com/user_id'
      const uuid = '6F9619FF-8B86-4011-B42D-00C04FC964FF'
      const good = await auth.verifyAuth0Token(await issuer.sign({ [claim]: uuid }))
      expect(good.canonicalUserId).toBe(uuid.toLowerCase())
      for (const value of ['auth0|u1', '00000000-0000-0000-0000-000000000000', 42, `${uuid} `]) {
        const verified = await auth.verifyAuth0Token(await issuer.sign({ [claim]: value }))
        expect(verified).not.toHaveProperty('canonicalUserId')
      }
    })

    it('accepts an audience array that contains the configured audience', async () => {
      const token = await issuer.sign({ aud: ['https://other.invalid', issuer.audience] })
      expect((await auth.verifyAuth0Token(token)).audience).toEqual([
        'https://other.invalid',
        issuer.audience,
      ])
    })

    it('still verifies machine-to-machine tokens', async () => {
      const verified = await auth.verifyAuth0Token(await issuer.sign({ sub: 'client-id@clients' }))
      expect(verified.subject).toBe('client-id@clients')
    })

    it('reads namespaced email and connection claims when configured', async () => {
      const custom = createAuth({
        signatureCheck: engine,
        auth0: issuer.auth0,
        claims: {
          email: 'https://example.com/email',
          emailVerified: 'https://example.com/email_verified',
          connection: 'https://example.com/connection',
        },
      })
      const verified = await custom.verifyAuth0Token(
        await issuer.sign({
          sub: 'samlp|from-sub|x',
          email: 'ignored@example.com',
          'https://example.com/email': 'ada@acme.com',
          'https://example.com/email_verified': true,
          'https://example.com/connection': 'acme-waad',
        }),
      )
      expect(verified).toMatchObject({
        email: 'ada@acme.com',
        emailVerified: true,
        connection: 'acme-waad',
      })
      await custom.close()
    })
  })

  describe('time claims', () => {
    it('rejects an expired token as token_expired', async () => {
      const token = await issuer.sign({ iat: nowSeconds() - 120, exp: nowSeconds() - 60 })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_expired', token)
    })

    it('accepts a token expired within the clock tolerance, and not beyond it', async () => {
      const exp = nowSeconds() - 3
      const within = await issuer.sign({ iat: nowSeconds() - 60, exp })
      await expect(auth.verifyAuth0Token(within)).resolves.toMatchObject({
        ...verifiedToken(issuer),
        expiresAt: new Date(exp * 1000),
      })
      const beyond = await issuer.sign({ iat: nowSeconds() - 60, exp: nowSeconds() - 7 })
      await rejectsWith(auth.verifyAuth0Token(beyond), 'token_expired')
    })

    it('rejects a token that is not yet valid', async () => {
      const token = await issuer.sign({ nbf: nowSeconds() + 60 })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
      const nbf = nowSeconds() + 3
      const within = await issuer.sign({ nbf })
      await expect(auth.verifyAuth0Token(within)).resolves.toMatchObject({
        ...verifiedToken(issuer),
        claims: { nbf },
      })
    })

    it('rejects a token issued in the future', async () => {
      await rejectsWith(
        auth.verifyAuth0Token(await issuer.sign({ iat: nowSeconds() + 120 })),
        'token_invalid',
      )
    })

    it('rejects a token older than maxTokenAge as token_expired', async () => {
      const token = await issuer.sign({ iat: nowSeconds() - 25 * 3600, exp: nowSeconds() + 3600 })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_expired')
      const short = createAuth({
        signatureCheck: engine,
        auth0: { ...issuer.auth0, maxTokenAgeSeconds: 60 },
      })
      await rejectsWith(
        short.verifyAuth0Token(await issuer.sign({ iat: nowSeconds() - 120 })),
        'token_expired',
      )
      await short.close()
    })

    it.each([
      ['missing exp', { exp: undefined }],
      ['missing iat', { iat: undefined }],
      ['string exp', { exp: String(nowSeconds() + 600) }],
    ])('rejects a token with %s', async (_name, extra) => {
      await rejectsWith(auth.verifyAuth0Token(await issuer.sign(extra)), 'token_invalid')
    })

    it('rejects an exp of 1e400, which JSON.parse turns into Infinity', async () => {
      const payload = JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e400')
      const token = await issuer.signRaw(payload)
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
    })

    it.each([
      ['an exp of 1e300, past any date', { exp: 1e300 }],
      ['an exp past the year 9999', { exp: 253_402_300_800 }],
      ['an nbf of 1e300', { nbf: 1e300 }],
    ])('rejects %s', async (_name, extra) => {
      const token = await issuer.signRaw(JSON.stringify(claims(extra)))
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
    })

    it('describes a far but valid expiry with a real date', async () => {
      const exp = 253_402_300_799
      const verified = await auth.verifyAuth0Token(
        await issuer.signRaw(JSON.stringify(claims({ exp }))),
      )
      expect(verified.expiresAt.getTime()).toBe(exp * 1000)
    })
  })

  describe('issuer and audience', () => {
    it.each([
      ['a wrong audience', { aud: 'https://other-api.invalid' }],
      ['an audience array without ours', { aud: ['https://a.invalid', 'https://b.invalid'] }],
      ['no audience', { aud: undefined }],
      ['an empty audience array', { aud: [] }],
    ])('rejects %s', async (_name, extra) => {
      await rejectsWith(auth.verifyAuth0Token(await issuer.sign(extra)), 'token_invalid')
    })

    it.each([
      ['another issuer', 'https://evil.invalid/'],
      ['our issuer without its trailing slash', () => issuer.issuer.slice(0, -1)],
      ['our issuer with a second slash', () => `${issuer.issuer}/`],
      ['our issuer in upper case', () => issuer.issuer.toUpperCase()],
    ])('rejects %s', async (_name, iss) => {
      const value = typeof iss === 'function' ? iss() : iss
      const before = issuer.calls.jwks
      await rejectsWith(auth.verifyAuth0Token(await issuer.sign({ iss: value })), 'token_invalid')
      expect(issuer.calls.jwks).toBe(before)
    })

    it('rejects a token without an issuer', async () => {
      await rejectsWith(
        auth.verifyAuth0Token(await issuer.sign({ iss: undefined })),
        'token_invalid',
      )
    })
  })

  describe('subject', () => {
    it.each([
      ['no sub', { sub: undefined }],
      ['a numeric sub', { sub: 12345 }],
      ['an empty sub', { sub: '' }],
      ['an object sub', { sub: { id: 'x' } }],
      ['a sub with a newline', { sub: 'auth0|u1\nauth0|admin' }],
      ['a sub with a NUL', { sub: 'auth0|u1\u0000' }],
      ['a sub with a C1 control', { sub: 'auth0|u1\u0085' }],
      ['a sub with a line separator', { sub: 'auth0|u1\u2028x' }],
      ['a sub with a DEL', { sub: 'auth0|u1\u007f' }],
    ])('rejects a token with %s', async (_name, extra) => {
      await rejectsWith(auth.verifyAuth0Token(await issuer.sign(extra)), 'token_invalid')
    })
  })

  describe('errors carry nothing of the token', () => {
    const secret = { email: 'ada.secret@acme.com', sub: 'samlp|acme-waad|secret-sub' }

    it.each([
      ['expired', { iat: nowSeconds() - 120, exp: nowSeconds() - 60 }, 'token_expired'],
      ['for another audience', { aud: 'https://other-api.invalid' }, 'token_invalid'],
      ['not yet valid', { nbf: nowSeconds() + 600 }, 'token_invalid'],
      ['too old', { iat: nowSeconds() - 25 * 3600 }, 'token_expired'],
    ])('keeps no claim in the cause of a token %s', async (_name, extra, code) => {
      const token = await issuer.sign({ ...secret, ...extra })
      const error = await auth.verifyAuth0Token(token).catch((e: unknown) => e)
      expect(error).toMatchObject({ code })
      const cause = (error as Error).cause
      expect(cause).toBeInstanceOf(TokenCheckError)
      expect(cause).not.toHaveProperty('payload')
      const shown = inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })
      for (const value of [secret.email, secret.sub, token.split('.')[1] as string]) {
        expect(shown).not.toContain(value)
      }
      expect(JSON.stringify(error)).not.toContain(secret.email)
    })

    it('names the claim and jose code in the cause', async () => {
      const error = await auth
        .verifyAuth0Token(await issuer.sign({ aud: 'https://other-api.invalid' }))
        .catch((e: unknown) => e)
      expect((error as Error).cause).toMatchObject({
        name: 'TokenCheckError',
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        claim: 'aud',
        reason: 'check_failed',
      })
    })

    it('keeps no text of a payload that is not JSON', async () => {
      const token = await issuer.signRaw(`{"email":"${secret.email}", broken`)
      const error = await auth.verifyAuth0Token(token).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'token_invalid' })
      expect(inspect(error, { depth: Number.POSITIVE_INFINITY })).not.toContain(secret.email)
    })
  })

  describe('algorithm and key attacks', () => {
    it('rejects alg none, with or without a signature', async () => {
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}`
      await rejectsWith(auth.verifyAuth0Token(`${unsigned}.`), 'token_invalid')
      await rejectsWith(auth.verifyAuth0Token(`${unsigned}.AAAA`), 'token_invalid')
      await rejectsWith(auth.verifyAuth0Token(unsigned), 'token_invalid')
    })

    it('rejects HS256 signed with the public key as the secret', async () => {
      const jwk = issuer.jwks.keys[0]
      for (const secret of [JSON.stringify(jwk), String(jwk?.n)]) {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: issuer.kid })}.${b64(claims())}`
        const signature = createHmac('sha256', secret).update(input).digest('base64url')
        await rejectsWith(auth.verifyAuth0Token(`${input}.${signature}`), 'token_invalid')
      }
    })

    it('rejects a token signed by another key under our kid', async () => {
      const token = await forge(header(), claims(), await strangerKey())
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
    })

    it('rejects forgeries the same way once the key has been used (no await on that path)', async () => {
      const warm = await issuer.sign()
      await expect(auth.verifyAuth0Token(warm)).resolves.toMatchObject(verifiedToken(issuer))
      // The very header segment of the good token, with a stranger's signature over other claims.
      const goodHeader = JSON.parse(
        Buffer.from(warm.split('.')[0] as string, 'base64url').toString(),
      )
      const forged = await forge(goodHeader, claims({ sub: 'auth0|mallory' }), await strangerKey())
      expect(forged.split('.')[0]).toBe(warm.split('.')[0])
      await rejectsWith(auth.verifyAuth0Token(forged), 'token_invalid', forged)
      // A good signature whose bytes were changed after signing.
      const [h, p, s] = warm.split('.') as [string, string, string]
      const tampered = `${h}.${b64(claims({ sub: 'auth0|mallory' }))}.${s}`
      await rejectsWith(auth.verifyAuth0Token(tampered), 'token_invalid', tampered)
      await rejectsWith(auth.verifyAuth0Token(`${h}.${p}.${s.slice(0, -4)}AAAA`), 'token_invalid')
      await rejectsWith(
        auth.verifyAuth0Token(await issuer.sign({ exp: nowSeconds() - 120 })),
        'token_expired',
      )
      await rejectsWith(
        auth.verifyAuth0Token(await issuer.sign({ aud: 'https://other.example' })),
        'token_invalid',
      )
    })

    it('keeps verifying after a flood of distinct headers (the header cache is bounded)', async () => {
      const key = await strangerKey()
      for (let i = 0; i < 200; i++) {
        const token = await forge({ ...header(), kid: `junk-${i}` }, claims(), key)
        await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
      }
      await expect(
        auth.verifyAuth0Token(await issuer.sign({ sub: 'auth0|after-flood' })),
      ).resolves.toMatchObject(verifiedToken(issuer, 'auth0|after-flood'))
    })

    it('rejects a token whose kid is not in the key set', async () => {
      const token = await forge({ ...header(), kid: 'no-such-key' }, claims(), await strangerKey())
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
    })

    it('rejects an algorithm the tenant does not allow, even with a valid RSA signature', async () => {
      const rs384 = createAuth({
        signatureCheck: engine,
        auth0: { ...issuer.auth0, algorithms: ['RS384'] },
      })
      await rejectsWith(rs384.verifyAuth0Token(await issuer.sign()), 'token_invalid')
      await rs384.close()
    })

    it('refuses an embedded jwk, and never uses it', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
      const jwk = await exportJWK(publicKey)
      const token = await forge({ ...header(), jwk }, claims(), privateKey)
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
    })

    it.each(['jku', 'x5u'])('refuses a %s header and fetches nothing from it', async (name) => {
      const token = await forge(
        { ...header(), [name]: 'https://attacker.invalid/keys' },
        claims(),
        await strangerKey(),
      )
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
      // Even a correctly signed token may not point elsewhere for its keys.
      const signed = await issuer.sign({}, { header: { [name]: 'https://attacker.invalid/keys' } })
      await rejectsWith(auth.verifyAuth0Token(signed), 'token_invalid', signed)
      expect(strayRequests).toEqual([])
    })

    it('refuses an x5c header', async () => {
      const signed = await issuer.sign(
        {},
        { header: { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] } },
      )
      await rejectsWith(auth.verifyAuth0Token(signed), 'token_invalid')
    })

    it('rejects unknown critical header parameters', async () => {
      const token = await issuer.signRaw(JSON.stringify(claims()), {
        header: { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true },
      })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
    })

    it('rejects an unencoded payload (b64: false)', async () => {
      const token = await issuer.signRaw(JSON.stringify(claims()), {
        header: { b64: false, crit: ['b64'] },
      })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid')
    })

    it('enforces typ at+jwt when asked to, and not otherwise', async () => {
      const strict = createAuth({
        signatureCheck: engine,
        auth0: { ...issuer.auth0, requireAccessTokenType: true },
      })
      await rejectsWith(strict.verifyAuth0Token(await issuer.sign()), 'token_invalid')
      const typed = await issuer.sign({ sub: 'auth0|typed' }, { header: { typ: 'at+jwt' } })
      await expect(strict.verifyAuth0Token(typed)).resolves.toMatchObject(
        verifiedToken(issuer, 'auth0|typed'),
      )
      await expect(auth.verifyAuth0Token(typed)).resolves.toMatchObject(
        verifiedToken(issuer, 'auth0|typed'),
      )
      await strict.close()
    })
  })

  describe('unsafe keys in the key set', () => {
    /**
     * A tenant (msw-served) whose key set holds its real signing key and `extra` keys; the
     * instance has not fetched it yet. `claims` are valid claims for it.
     */
    async function tenantWith(extra: JWK[], algorithms: AsymmetricAlgorithm[] = ['RS256']) {
      const tenant = await createTestIssuer({ listen: false })
      server.use(
        http.get(tenant.jwksUri, () =>
          HttpResponse.json({ keys: [...tenant.jwks.keys, ...extra] }),
        ),
      )
      const instance = createAuth({
        signatureCheck: engine,
        auth0: { ...tenant.auth0, algorithms },
        cache: { tokens: false },
      })
      onTestFinished(() => instance.close())
      return { tenant, auth: instance, claims: claimsFor(tenant) }
    }

    it('refuses a token forged for an RSA key with exponent 1, which needs no private key', async () => {
      const n = issuer.jwks.keys[0]?.n as string
      const weak: JWK = { kty: 'RSA', n, e: 'AQ', kid: 'exponent-one', alg: 'RS256' }
      const { tenant, auth: instance, claims: valid } = await tenantWith([weak])
      const forged = forgeForExponentOne(n, { alg: 'RS256', kid: 'exponent-one' }, valid)
      // The forgery is a valid signature for that key (RFC 8017's verification, in integers;
      // checked here against the issuer's real signature and a tampered one).
      const genuine = await tenant.sign()
      expect(rsaSignatureHolds(tenant.jwks.keys[0] as { n: string; e: string }, genuine)).toBe(true)
      expect(rsaSignatureHolds(weak as { n: string; e: string }, genuine)).toBe(false)
      expect(rsaSignatureHolds(weak as { n: string; e: string }, forged)).toBe(true)
      expect(decodeJwt(forged)).toMatchObject({ iss: tenant.issuer, sub: valid.sub })
      await rejectsWith(instance.verifyAuth0Token(forged), 'token_invalid', forged)
      // The same again once the key set is warm, and the tenant's real key still works.
      await expect(instance.verifyAuth0Token(await tenant.sign())).resolves.toMatchObject(
        verifiedToken(tenant),
      )
      await rejectsWith(instance.verifyAuth0Token(forged), 'token_invalid', forged)
    })

    it('refuses tokens of an RSA key with a small exponent (3), though correctly signed', async () => {
      const small = rsaKey('exponent-three', 2048, 3)
      const { auth: instance, claims: valid } = await tenantWith([small.jwk])
      await rejectsWith(instance.verifyAuth0Token(small.sign(valid)), 'token_invalid')
    })

    it('answers a token of a 1024-bit RSA key as token_invalid, not as an internal error', async () => {
      const short = rsaKey('short', 1024)
      const { tenant, auth: instance, claims: valid } = await tenantWith([short.jwk])
      await rejectsWith(instance.verifyAuth0Token(short.sign(valid)), 'token_invalid')
      await expect(instance.verifyAuth0Token(await tenant.sign())).resolves.toMatchObject(
        verifiedToken(tenant),
      )
      await rejectsWith(instance.verifyAuth0Token(short.sign(valid)), 'token_invalid')
    })

    it('refuses tokens of an EC key on a curve it does not know (secp256k1)', async () => {
      const k1 = secp256k1Key('k1')
      const { auth: instance, claims: valid } = await tenantWith([k1.jwk], ['RS256', 'ES256'])
      await rejectsWith(instance.verifyAuth0Token(k1.sign(valid)), 'token_invalid')
      const relabelled = secp256k1Key('k1-as-p256')
      const { auth: other, claims: otherClaims } = await tenantWith(
        [{ ...relabelled.jwk, crv: 'P-256' }],
        ['RS256', 'ES256'],
      )
      await rejectsWith(other.verifyAuth0Token(relabelled.sign(otherClaims)), 'token_invalid')
    })

    it('answers a key that cannot be imported (a point off its curve) as token_invalid', async () => {
      const p256 = ecKey('off-curve', 'prime256v1')
      const offCurve: JWK = { ...p256.jwk, y: p256.jwk.x as string }
      const {
        tenant,
        auth: instance,
        claims: valid,
      } = await tenantWith([offCurve], ['RS256', 'ES256'])
      await rejectsWith(instance.verifyAuth0Token(p256.sign(valid)), 'token_invalid')
      await expect(instance.verifyAuth0Token(await tenant.sign())).resolves.toMatchObject(
        verifiedToken(tenant),
      )
      await rejectsWith(instance.verifyAuth0Token(p256.sign(valid)), 'token_invalid')
    })

    it('verifies tokens of safe keys of every supported kind next to them', async () => {
      const rsa = rsaKey('rsa-3072', 3072)
      const p256 = ecKey('p256', 'prime256v1')
      const {
        tenant,
        auth: instance,
        claims: valid,
      } = await tenantWith([rsa.jwk, p256.jwk, rsaKey('short', 1024).jwk], ['RS256', 'ES256'])
      await expect(
        instance.verifyAuth0Token(rsa.sign({ ...valid, sub: 'auth0|rsa-3072' })),
      ).resolves.toMatchObject(verifiedToken(tenant, 'auth0|rsa-3072'))
      await expect(
        instance.verifyAuth0Token(p256.sign({ ...valid, sub: 'auth0|p256' })),
      ).resolves.toMatchObject(verifiedToken(tenant, 'auth0|p256'))
    })
  })

  describe('malformed tokens', () => {
    it.each([
      [
        'a nested JWT payload',
        async () => issuer.signRaw(await issuer.sign(), { header: { cty: 'JWT' } }),
      ],
      ['an array payload', () => issuer.signRaw('[1,2,3]')],
      ['a string payload', () => issuer.signRaw('"claims"')],
      ['a number payload', () => issuer.signRaw('42')],
      ['a null payload', () => issuer.signRaw('null')],
      ['a non-JSON payload', () => issuer.signRaw('not json at all')],
      [
        'a payload that is not valid UTF-8',
        () => {
          const json = Buffer.from(JSON.stringify({ ...claims(), email: 'ada@acme.com' }))
          const at = json.indexOf('ada@')
          json[at] = 0xff // a lone byte no UTF-8 sequence starts with
          return issuer.signRaw(new Uint8Array(json))
        },
      ],
    ])('rejects %s', async (_name, make) => {
      await rejectsWith(auth.verifyAuth0Token(await make()), 'token_invalid')
    })

    it('rejects a JWE-shaped token (five segments)', async () => {
      const jwe = `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.AAAA.AAAA.AAAA.AAAA`
      await rejectsWith(auth.verifyAuth0Token(jwe), 'token_invalid')
    })

    it('rejects an oversized token before decoding it, without touching the key set', async () => {
      const before = issuer.calls.jwks
      const token = await issuer.sign({ padding: 'x'.repeat(9000) })
      await rejectsWith(auth.verifyAuth0Token(token), 'token_invalid', token)
      const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
      const nested = `${b64(`{"alg":"RS256","kid":"${issuer.kid}","x":${deep}}`)}.${b64(claims())}.AAAA`
      await rejectsWith(auth.verifyAuth0Token(nested), 'token_invalid')
      expect(issuer.calls.jwks).toBe(before)
    })

    it('rejects deep nesting within the size cap without crashing', async () => {
      const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`
      const forged = `${b64(`{"alg":"RS256","kid":"${issuer.kid}","x":${deep}}`)}.${b64(claims())}.AAAA`
      await rejectsWith(auth.verifyAuth0Token(forged), 'token_invalid')
    })

    it('honours a larger configured size cap', async () => {
      const roomy = createAuth({
        signatureCheck: engine,
        auth0: issuer.auth0,
        maxTokenLength: 16_384,
      })
      const token = await issuer.sign({ padding: 'x'.repeat(9000) })
      await expect(roomy.verifyAuth0Token(token)).resolves.toMatchObject({
        ...verifiedToken(issuer),
        claims: { padding: 'x'.repeat(9000) },
      })
      await roomy.close()
    })

    it('rejects whitespace, padding and standard-base64 variants of a valid token', async () => {
      const token = await issuer.sign()
      const [h, p, s] = token.split('.') as [string, string, string]
      const variants = [
        ` ${token}`,
        `${token} `,
        `${token}\n`,
        `${h}.${p}.\t${s}`,
        `${h}=.${p}.${s}`,
        `${h}.${p}.${s}==`,
        `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
        `${h}..${p}.${s}`,
        `Bearer ${token}`,
      ].filter((variant) => variant !== token)
      for (const variant of variants)
        await rejectsWith(auth.verifyAuth0Token(variant), 'token_invalid')
      await expect(auth.verifyAuth0Token(token)).resolves.toMatchObject(verifiedToken(issuer))
    })

    it('rejects a stripped signature', async () => {
      const [h, p] = (await issuer.sign()).split('.') as [string, string]
      await rejectsWith(auth.verifyAuth0Token(`${h}.${p}.`), 'token_invalid')
      await rejectsWith(auth.verifyAuth0Token(`${h}.${p}`), 'token_invalid')
    })

    it('rejects a signature whose trailing bits were altered, though it decodes to the same bytes', async () => {
      const token = await issuer.sign()
      const [h, p, s] = token.split('.') as [string, string, string]
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = alphabet.indexOf(s.at(-1) as string)
      // A 256-byte RSA signature is 342 characters: the last one carries four spare bits.
      const altered = `${s.slice(0, -1)}${alphabet[last | 0b0001]}`
      expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
      await rejectsWith(auth.verifyAuth0Token(`${h}.${p}.${altered}`), 'token_invalid')
    })

    it.each([undefined, null, 42, {}, ''])(
      'rejects a token that is not a non-empty string (%s)',
      async (value) => {
        await rejectsWith(auth.verifyAuth0Token(value as unknown as string), 'token_invalid')
      },
    )
  })
})
