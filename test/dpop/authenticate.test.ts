import { generateKeyPairSync, sign } from 'node:crypto'
import { type AuthConfig, type AuthEvent, isAuthError } from 'canonical-auth'
import {
  createDpopKeyPair,
  createDpopProof,
  type DpopKeyPair,
  dpopThumbprint,
} from 'canonical-auth/testing'
import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { authFailure, ssoToken } from '../helpers.js'
import { useTestStack } from '../stack.js'

const stack = useTestStack(({ directory }) => ({
  directory: { baseUrl: directory.baseUrl, timeoutMs: 300, deadlineMs: 1_000, retries: 0 },
}))

const URL_ = 'https://api.example.com/reports'
let client: DpopKeyPair
let other: DpopKeyPair

beforeAll(async () => {
  client = await createDpopKeyPair()
  other = await createDpopKeyPair()
})

/** A token bound to `client`'s key, for ada. */
function boundToken(claims: Record<string, unknown> = {}, key: DpopKeyPair = client) {
  return stack.issuer.sign(
    { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true, ...claims },
    { dpop: key.publicJwk },
  )
}

/** The request a DPoP client sends: the token with the DPoP scheme and a fresh proof. */
async function dpopRequest(
  token: string,
  proofOptions: Partial<Parameters<typeof createDpopProof>[0]> = {},
  request: { method?: string; url?: string } = {},
) {
  const method = request.method ?? 'GET'
  const url = request.url ?? URL_
  const proof = await createDpopProof({
    ...client,
    method,
    url,
    accessToken: token,
    ...proofOptions,
  })
  return { headers: { authorization: `DPoP ${token}`, dpop: proof }, method, url }
}

/** The claims of a valid proof for `GET URL_` with `token`. */
async function proofClaims(token: string): Promise<Record<string, unknown>> {
  const ath = base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))),
  )
  return {
    jti: crypto.randomUUID(),
    htm: 'GET',
    htu: URL_,
    iat: Math.floor(Date.now() / 1000),
    ath,
  }
}

/** A proof signed by hand, for headers jose will not sign. */
async function signedBy(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signer: (input: Uint8Array) => Promise<ArrayBuffer | Uint8Array>,
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`
  const signature = await signer(new TextEncoder().encode(input))
  return `${input}.${base64url.encode(new Uint8Array(signature))}`
}

const DPOP_ALGS = 'algs="ES256 ES384 EdDSA RS256 PS256"'

describe('DPoP: a bound token with a valid proof', () => {
  it('is accepted, with the binding on the context', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    const context = await auth.authenticate(await dpopRequest(token))
    expect(context.userId).toBe(stack.directory.users.get('ada@acme.com')?.id)
    expect(context.dpop).toEqual({ thumbprint: await dpopThumbprint(client.publicJwk) })
  })

  it('compares htu after normalisation, without query and fragment', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    const request = await dpopRequest(
      token,
      { url: 'HTTPS://API.Example.com:443/reports' },
      { url: 'https://api.example.com/reports?year=2026#top' },
    )
    await expect(auth.authenticate(request)).resolves.toMatchObject({ dpop: {} })
  })

  it('takes the origin from dpop.origin, and the path from the request', async () => {
    const auth = stack.auth({ dpop: { origin: 'https://api.example.com' } })
    const token = await boundToken()
    for (const url of ['/reports?year=2026', 'http://10.0.0.7:8080/reports']) {
      const proof = await createDpopProof({
        ...client,
        method: 'GET',
        url: URL_,
        accessToken: token,
      })
      const headers = { authorization: `DPoP ${token}`, dpop: proof }
      await expect(auth.authenticate({ headers, method: 'GET', url })).resolves.toMatchObject({
        dpop: {},
      })
    }
    const internal = await dpopRequest(token, {}, { url: 'http://10.0.0.7:8080/reports' })
    await expect(authFailure(auth.authenticate(internal))).resolves.toMatchObject({
      code: 'invalid_dpop_proof',
    })
  })

  it.each(['ES384', 'EdDSA', 'RS256', 'PS256'])('accepts a proof signed with %s', async (alg) => {
    const auth = stack.auth()
    const key = await createDpopKeyPair(alg)
    const token = await boundToken({}, key)
    const request = await dpopRequest(token, { ...key })
    await expect(auth.authenticate(request)).resolves.toMatchObject({ dpop: {} })
  })

  it('accepts the DPoP scheme in any case, and the token from a fetch Headers', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    const { headers, method, url } = await dpopRequest(token)
    const context = await auth.authenticate({
      headers: new Headers({ Authorization: `dpop ${token}`, DPoP: headers.dpop }),
      method,
      url,
    })
    expect(context.dpop).toBeDefined()
  })
})

/** Authenticates and returns the refusal, which must be an AuthError. */
async function refusal(
  request: Parameters<ReturnType<typeof stack.auth>['authenticate']>[0],
  config: Partial<AuthConfig> = {},
) {
  return authFailure(stack.auth(config).authenticate(request))
}

describe('DPoP: every check of RFC 9449 §4.3 refuses with invalid_dpop_proof', () => {
  const cases: [string, () => Promise<Partial<Parameters<typeof createDpopProof>[0]>>, RegExp][] = [
    ['a typ other than dpop+jwt', async () => ({ header: { typ: 'JWT' } }), /typ/],
    ['no typ', async () => ({ header: { typ: undefined } }), /typ/],
    [
      'an alg outside the allowlist',
      async () => ({ ...(await createDpopKeyPair('ES512')) }),
      /alg/,
    ],
    [
      'a jwk that holds the private key',
      async () => ({ header: { jwk: await exportJWK(client.privateKey) } }),
      /public key/,
    ],
    ['no jwk', async () => ({ header: { jwk: undefined } }), /jwk/],
    [
      'a symmetric jwk',
      async () => ({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } }),
      /public key/,
    ],
    [
      'a signature by another key than its jwk (the bound one)',
      async () => ({ privateKey: other.privateKey, publicJwk: client.publicJwk }),
      /signature/,
    ],
    [
      'a jwk of another key than the signature, not the bound one either',
      async () => ({ header: { jwk: other.publicJwk } }),
      /bound to/,
    ],
    ['an htm that is not the method', async () => ({ method: 'POST' }), /htm/],
    ['an htu for another URL', async () => ({ url: 'https://api.example.com/admin' }), /htu/],
    ['an htu for another origin', async () => ({ url: 'https://evil.example.com/reports' }), /htu/],
    ['an htu that is not a URL', async () => ({ claims: { htu: 'reports' } }), /htu/],
    [
      'an iat too old',
      async () => ({ claims: { iat: Math.floor(Date.now() / 1000) - 301 } }),
      /too old/,
    ],
    [
      'an iat ahead of the clock',
      async () => ({ claims: { iat: Math.floor(Date.now() / 1000) + 60 } }),
      /future/,
    ],
    ['an iat that is not a number', async () => ({ claims: { iat: '1700000000' } }), /iat/],
    ['no jti', async () => ({ claims: { jti: undefined } }), /jti/],
    ['a jti too long', async () => ({ claims: { jti: 'x'.repeat(257) } }), /jti/],
    ['no ath', async () => ({ accessToken: undefined }), /ath/],
    ['an ath of another token', async () => ({ accessToken: 'another-token' }), /ath/],
    ['its key is not the one the token is bound to', async () => ({ ...other }), /bound to/],
  ]

  it.each(cases)('%s', async (_name, options, reason) => {
    const token = await boundToken()
    const error = await refusal(await dpopRequest(token, await options()))
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.status).toBe(401)
    expect(error.message).toMatch(reason)
    expect(error.wwwAuthenticate).toBe(
      `Bearer, DPoP error="invalid_dpop_proof", error_description="${error.message}", ${DPOP_ALGS}`,
    )
  })

  it('refuses a request without a proof', async () => {
    const token = await boundToken()
    const error = await refusal({
      headers: { authorization: `DPoP ${token}` },
      method: 'GET',
      url: URL_,
    })
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.message).toBe('The request has no DPoP proof')
  })

  it.each([
    ['two proofs joined in one field', (proof: string) => `${proof}, ${proof}`],
    ['two proofs as a list', (proof: string) => [proof, proof]],
  ])('answers 400 invalid_request to %s', async (_name, twice) => {
    const token = await boundToken()
    const { headers, method, url } = await dpopRequest(token)
    const error = await refusal({
      headers: { ...headers, dpop: twice(headers.dpop) as string },
      method,
      url,
    })
    expect(error.code).toBe('invalid_request')
    expect(error.status).toBe(400)
    expect(error.wwwAuthenticate).toBeUndefined()
  })

  it.each([
    ['not a JWT', 'not-a-jwt'],
    ['a JWE-shaped value', 'a.b.c.d.e'],
    ['padding', 'eyJ0eXAiOiJkcG9wK2p3dCJ9=.e30.c2ln'],
    ['a header that is not JSON', `${base64url.encode('nope')}.e30.c2ln`],
    ['an unsigned proof', `${base64url.encode('{"typ":"dpop+jwt","alg":"none"}')}.e30.`],
    ['too long a proof', `${'a'.repeat(9_000)}.e30.c2ln`],
  ])('refuses a proof that is %s before any key is imported', async (_name, proof) => {
    const token = await boundToken()
    const error = await refusal({
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      method: 'GET',
      url: URL_,
    })
    expect(error.code).toBe('invalid_dpop_proof')
  })

  it('refuses an HS256 proof, whatever key it names', async () => {
    const token = await boundToken()
    const proof = await new SignJWT({
      jti: 'x',
      htm: 'GET',
      htu: URL_,
      iat: Math.floor(Date.now() / 1000),
    })
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'HS256',
        jwk: { kty: 'oct', k: 'c2VjcmV0' } as JWK,
      })
      .sign(new TextEncoder().encode('secret-secret-secret-secret-1234'))
    const error = await refusal({
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      method: 'GET',
      url: URL_,
    })
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.message).toMatch(/alg/)
  })

  it('refuses a proof with crit, even one it signs correctly', async () => {
    const token = await boundToken()
    const proof = await signedBy(
      { typ: 'dpop+jwt', alg: 'ES256', jwk: client.publicJwk, crit: ['exp'], exp: 1 },
      await proofClaims(token),
      (input) => crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, client.privateKey, input),
    )
    const error = await refusal({
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      method: 'GET',
      url: URL_,
    })
    expect(error.message).toMatch(/crit/)
  })

  it('refuses a proof by another key before any work on its key or signature', async () => {
    // A large RSA key the sender holds no private half of, and a signature of random bytes: had
    // the key been imported and the signature checked, the refusal would name the signature.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 4096 })
    const publicJwk = publicKey.export({ format: 'jwk' })
    const token = await boundToken()
    const proof = await signedBy(
      { typ: 'dpop+jwt', alg: 'RS256', jwk: publicJwk },
      await proofClaims(token),
      async () => crypto.getRandomValues(new Uint8Array(512)),
    )
    const error = await refusal({
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      method: 'GET',
      url: URL_,
    })
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.message).toBe(
      'The DPoP proof is invalid: its key is not the key the access token is bound to',
    )
  })

  it('refuses an RSA key shorter than 2048 bits', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const publicJwk = publicKey.export({ format: 'jwk' })
    const token = await boundToken({}, { publicJwk } as DpopKeyPair)
    const proof = await signedBy(
      { typ: 'dpop+jwt', alg: 'RS256', jwk: publicJwk },
      await proofClaims(token),
      async (input) => sign('sha256', input, privateKey),
    )
    const error = await refusal({
      headers: { authorization: `DPoP ${token}`, dpop: proof },
      method: 'GET',
      url: URL_,
    })
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.message).toMatch(/signature/)
  })

  it('takes a proof window from dpop.iatWindowSeconds', async () => {
    const token = await boundToken()
    const iat = Math.floor(Date.now() / 1000) - 90
    const error = await refusal(await dpopRequest(token, { claims: { iat } }), {
      dpop: { iatWindowSeconds: 60 },
    })
    expect(error.message).toMatch(/too old/)
    await expect(
      stack.auth().authenticate(await dpopRequest(token, { claims: { iat } })),
    ).resolves.toBeDefined()
  })

  it('refuses a proof signed with an algorithm left out of dpop.algorithms', async () => {
    const token = await boundToken()
    const error = await refusal(await dpopRequest(token), { dpop: { algorithms: ['EdDSA'] } })
    expect(error.message).toMatch(/alg/)
    expect(error.wwwAuthenticate).toContain('DPoP error="invalid_dpop_proof"')
    expect(error.wwwAuthenticate).toContain('algs="EdDSA"')
  })
})

describe('DPoP: the token and the scheme', () => {
  it('refuses a bound token presented as Bearer, with the error in the DPoP challenge', async () => {
    const token = await boundToken()
    for (const headers of [{ authorization: `Bearer ${token}` }, { 'x-user-token': token }]) {
      const error = await refusal({ headers })
      expect(error.code).toBe('token_invalid')
      expect(error.message).toMatch(/bound to a DPoP key/)
      expect(error.wwwAuthenticate).toBe(
        `Bearer, DPoP error="invalid_token", error_description="${error.message}", ${DPOP_ALGS}`,
      )
    }
  })

  it('refuses a bound token in verifyAuth0Token, where no proof can come with it', async () => {
    const events: AuthEvent[] = []
    const auth = stack.auth({ onEvent: (event) => void events.push(event) })
    const token = await boundToken()
    const error = await authFailure(auth.verifyAuth0Token(token))
    expect(error.code).toBe('token_invalid')
    expect(error.message).toMatch(/bound to a DPoP key/)
    expect(events.at(-1)).toEqual({ type: 'token.rejected', code: 'token_invalid' })
    // After the request that proved it, too: the verification cache holds it then.
    await auth.authenticate(await dpopRequest(token))
    expect((await authFailure(auth.verifyAuth0Token(token))).code).toBe('token_invalid')
    // Where DPoP is disabled, bound tokens are plain tokens.
    const plain = stack.auth({ dpop: { mode: 'disabled' } })
    await expect(plain.verifyAuth0Token(token)).resolves.toMatchObject({
      subject: 'samlp|acme-waad|ada',
    })
  })

  it('refuses a bound token presented as Bearer from the verification cache too', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    await auth.authenticate(await dpopRequest(token))
    const error = await authFailure(
      auth.authenticate({ headers: { authorization: `Bearer ${token}` } }),
    )
    expect(error.code).toBe('token_invalid')
  })

  it('accepts a bound token as Bearer only when DPoP is disabled, and then ignores the DPoP scheme', async () => {
    const auth = stack.auth({ dpop: { mode: 'disabled' } })
    const token = await boundToken()
    await expect(
      auth.authenticate({ headers: { authorization: `Bearer ${token}` } }),
    ).resolves.toBeDefined()
    const error = await authFailure(auth.authenticate(await dpopRequest(token)))
    expect(error.code).toBe('token_missing')
    expect(error.wwwAuthenticate).toBe('Bearer')
  })

  it('refuses an unbound token presented with the DPoP scheme', async () => {
    const token = await ssoToken(stack.issuer)
    const error = await refusal(await dpopRequest(token))
    expect(error.code).toBe('token_invalid')
    expect(error.message).toMatch(/not bound/)
    expect(error.wwwAuthenticate).toContain('DPoP error="invalid_token"')
  })

  it('keeps Bearer tokens as they were where DPoP is allowed: no DPoP challenge', async () => {
    const auth = stack.auth()
    await expect(
      auth.authenticate({ headers: { authorization: `Bearer ${await ssoToken(stack.issuer)}` } }),
    ).resolves.toBeDefined()
    const missing = await authFailure(auth.authenticate({ headers: {} }))
    expect(missing.wwwAuthenticate).toBe('Bearer')
    const expired = await authFailure(
      auth.authenticate({
        headers: { authorization: `Bearer ${await ssoToken(stack.issuer, { exp: 1 })}` },
      }),
    )
    expect(expired.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/)
  })

  it('puts the error of a DPoP request with an expired token in the DPoP challenge', async () => {
    const token = await boundToken({ exp: Math.floor(Date.now() / 1000) - 60 })
    const error = await refusal(await dpopRequest(token))
    expect(error.code).toBe('token_expired')
    expect(error.wwwAuthenticate).toBe(
      `Bearer, DPoP error="invalid_token", error_description="${error.message}", ${DPOP_ALGS}`,
    )
  })

  it('never hands a DPoP token of another issuer to the legacy hook', async () => {
    let called = false
    const { privateKey } = await generateKeyPair('RS256')
    const foreign = await new SignJWT({
      iss: 'https://legacy.example.com/',
      sub: 'x',
      cnf: { jkt: await dpopThumbprint(client.publicJwk) },
    })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey)
    const error = await refusal(await dpopRequest(foreign), {
      legacy: {
        verify: async () => {
          called = true
          return { userId: '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d' }
        },
      },
    })
    expect(error.code).toBe('token_invalid')
    expect(called).toBe(false)
  })

  describe("mode: 'required'", () => {
    it('refuses Bearer tokens, bound or not, with the DPoP challenge only', async () => {
      for (const token of [await ssoToken(stack.issuer), await boundToken()]) {
        const error = await refusal(
          { headers: { authorization: `Bearer ${token}` } },
          { dpop: { mode: 'required' } },
        )
        expect(error.code).toBe('token_invalid')
        expect(error.wwwAuthenticate).toBe(
          `DPoP error="invalid_token", error_description="${error.message}", ${DPOP_ALGS}`,
        )
      }
    })

    it('challenges a request without a token with DPoP only', async () => {
      const error = await refusal({ headers: {} }, { dpop: { mode: 'required' } })
      expect(error.code).toBe('token_missing')
      expect(error.wwwAuthenticate).toBe(`DPoP ${DPOP_ALGS}`)
    })

    it('accepts a DPoP request', async () => {
      const auth = stack.auth({ dpop: { mode: 'required' } })
      await expect(auth.authenticate(await dpopRequest(await boundToken()))).resolves.toMatchObject(
        { dpop: {} },
      )
    })
  })

  it('answers 500 when authenticate is not given the method and URL of a DPoP request', async () => {
    const token = await boundToken()
    const { headers } = await dpopRequest(token)
    const error = await refusal({ headers })
    expect(error.code).toBe('internal_error')
    expect(error.message).toMatch(/method and URL/)
  })
})

describe('DPoP: replayed proofs', () => {
  it('accepts each proof once', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    const request = await dpopRequest(token)
    await auth.authenticate(request)
    const error = await authFailure(auth.authenticate(request))
    expect(error.code).toBe('invalid_dpop_proof')
    expect(error.message).toMatch(/used before/)
  })

  it('records a proof only once it passed every other check', async () => {
    const auth = stack.auth()
    const token = await boundToken()
    const request = await dpopRequest(token)
    // The same proof with another method fails its htm check, and is not recorded for it.
    await expect(
      authFailure(auth.authenticate({ ...request, method: 'POST' })),
    ).resolves.toMatchObject({ code: 'invalid_dpop_proof' })
    await expect(auth.authenticate(request)).resolves.toMatchObject({ dpop: {} })
  })

  it("keys jtis by the proof key: one client cannot spend another one's jti", async () => {
    const auth = stack.auth()
    const jti = 'shared-jti'
    const mine = await dpopRequest(await boundToken(), { claims: { jti } })
    const theirs = await dpopRequest(
      await boundToken({ sub: 'samlp|acme-waad|bob', email: 'bob@acme.com' }, other),
      { ...other, claims: { jti } },
    )
    await auth.authenticate(theirs)
    await expect(auth.authenticate(mine)).resolves.toMatchObject({ dpop: {} })
  })

  it('uses a configured store, and answers 503 when it fails', async () => {
    const events: AuthEvent[] = []
    const keys: [string, number][] = []
    const store = {
      async setIfAbsent(key: string, ttlMs: number) {
        keys.push([key, ttlMs])
        throw new Error('redis down, with secrets')
      },
    }
    const auth = stack.auth({
      dpop: { replay: { store } },
      onEvent: (event) => void events.push(event),
    })
    const error = await authFailure(auth.authenticate(await dpopRequest(await boundToken())))
    expect(error.code).toBe('replay_store_unavailable')
    expect(error.status).toBe(503)
    expect(error.cause).toBeUndefined()
    expect(keys).toHaveLength(1)
    expect(keys[0]?.[0]).toMatch(/^canonical-auth:dpop:v1:[A-Za-z0-9_-]{43}$/)
    // The 300 s window, 30 s ahead, and a minute for replicas' clocks.
    expect(keys[0]?.[1]).toBe(390_000)
    expect(events).toContainEqual({
      type: 'dpop.replay_store',
      outcome: 'error',
      decision: 'rejected',
    })
  })

  it('treats a store slower than its timeout as failing', async () => {
    const events: AuthEvent[] = []
    const store = { setIfAbsent: () => new Promise<boolean>(() => {}) }
    const auth = stack.auth({
      dpop: { replay: { store, timeoutMs: 20 } },
      onEvent: (event) => void events.push(event),
    })
    const error = await authFailure(auth.authenticate(await dpopRequest(await boundToken())))
    expect(error.code).toBe('replay_store_unavailable')
    expect(events).toContainEqual({
      type: 'dpop.replay_store',
      outcome: 'timeout',
      decision: 'rejected',
    })
  })

  it("accepts unrecorded proofs while the store fails with onStoreError: 'allow'", async () => {
    const events: AuthEvent[] = []
    const store = { setIfAbsent: async () => 'OK' as unknown as boolean }
    const auth = stack.auth({
      dpop: { replay: { store, onStoreError: 'allow' } },
      onEvent: (event) => void events.push(event),
    })
    await expect(auth.authenticate(await dpopRequest(await boundToken()))).resolves.toMatchObject({
      dpop: {},
    })
    expect(events).toContainEqual({
      type: 'dpop.replay_store',
      outcome: 'error',
      decision: 'allowed',
    })
  })

  it('fails like a store when the in-memory store is full of live proofs, never forgetting one', async () => {
    const auth = stack.auth({ dpop: { replay: { max: 2 } } })
    const token = await boundToken()
    const first = await dpopRequest(token)
    await auth.authenticate(first)
    await auth.authenticate(await dpopRequest(token))
    const error = await authFailure(auth.authenticate(await dpopRequest(token)))
    expect(error.code).toBe('replay_store_unavailable')
    await expect(authFailure(auth.authenticate(first))).resolves.toMatchObject({
      code: 'invalid_dpop_proof',
    })
  })
})

describe('DPoP: server nonces', () => {
  const nonce = { secret: 'a-shared-secret-of-at-least-32-characters' }

  it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce, then accepts the proof that carries it', async () => {
    const auth = stack.auth({ dpop: { nonce } })
    const token = await boundToken()
    const error = await authFailure(auth.authenticate(await dpopRequest(token)))
    expect(error.code).toBe('use_dpop_nonce')
    expect(error.status).toBe(401)
    const issued = error.dpop?.nonce as string
    expect(issued).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(error.wwwAuthenticate).toBe(
      `Bearer, DPoP error="use_dpop_nonce", error_description="${error.message}", ${DPOP_ALGS}`,
    )
    const context = await auth.authenticate(await dpopRequest(token, { nonce: issued }))
    expect(context.dpop?.nonce).toBe(issued)
  })

  it('refuses a nonce it did not issue, and one made with another secret', async () => {
    const auth = stack.auth({ dpop: { nonce } })
    const otherAuth = stack.auth({
      dpop: { nonce: { secret: 'another-shared-secret-of-32-characters!' } },
    })
    const token = await boundToken()
    const theirs = (await authFailure(otherAuth.authenticate(await dpopRequest(token)))).dpop?.nonce
    for (const wrong of ['made-up', theirs]) {
      const error = await authFailure(auth.authenticate(await dpopRequest(token, { nonce: wrong })))
      expect(error.code).toBe('use_dpop_nonce')
    }
  })

  it('shares nonces between replicas with the same secret', async () => {
    const token = await boundToken()
    const issued = (
      await authFailure(stack.auth({ dpop: { nonce } }).authenticate(await dpopRequest(token)))
    ).dpop?.nonce
    await expect(
      stack.auth({ dpop: { nonce } }).authenticate(await dpopRequest(token, { nonce: issued })),
    ).resolves.toBeDefined()
  })
})

describe('DPoP: nothing of the proof, key or token in an answer or event', () => {
  it('keeps every refusal free of them', async () => {
    const events: AuthEvent[] = []
    const auth = stack.auth({ onEvent: (event) => void events.push(event) })
    const token = await boundToken()
    const requests = [
      await dpopRequest(token, { method: 'POST' }),
      await dpopRequest(token, { ...other }),
      await dpopRequest(token, { header: { jwk: await exportJWK(client.privateKey) } }),
    ]
    for (const request of requests) {
      const error = await authFailure(auth.authenticate(request))
      const said = JSON.stringify([error.message, error.wwwAuthenticate, error.cause === undefined])
      for (const secret of [
        token,
        request.headers.dpop,
        ...token.split('.'),
        ...request.headers.dpop.split('.'),
        client.publicJwk.x as string,
        'ada@acme.com',
      ]) {
        expect(said).not.toContain(secret)
        expect(JSON.stringify(events)).not.toContain(secret)
      }
      expect(isAuthError(error)).toBe(true)
    }
    expect(events.filter((event) => event.type === 'token.rejected')).toHaveLength(3)
  })
})
