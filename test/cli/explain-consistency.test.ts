import { type Auth0TenantConfig, type AuthConfig, isAuthError } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import fc from 'fast-check'
import type { ProtectedHeaderParameters } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { explainToken } from '../../src/cli/explain.js'
import { claimChecks } from '../../src/cli/explain-claims.js'
import { assertClaimTypes } from '../../src/core/verify/checks.js'
import { checkClaims, claimRulesFor } from '../../src/core/verify/claims.js'
import { ISSUER, NOW, scenario, tenantWith } from '../claim-sets.js'
import { b64, claimsFor, forge, nowSeconds, strangerKey } from '../helpers.js'

// The lines of `explain` never contradict the verifier: over random claim sets they pass exactly
// when the verifier's claim checks do, and the claim it refuses has a failing line; over the
// rejection suite's tokens, every line passes exactly when the verifier accepts.

const LINE_OF: Record<string, string> = {
  typ: 'typ',
  iss: 'issuer',
  aud: 'audience',
  iat: 'issued at',
  nbf: 'not before',
  exp: 'expiry',
  sub: 'subject',
}

/** The claim the verifier's claim checks refuse, or `undefined` when they accept. */
function refusedClaim(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  rules: ReturnType<typeof claimRulesFor>,
): string | undefined {
  try {
    checkClaims(header, payload, rules, NOW)
    assertClaimTypes(payload)
    return undefined
  } catch (error) {
    if (!isAuthError(error)) throw error
    const claim =
      (error.cause as { claim?: string } | undefined)?.claim ?? /"(\w+)"/.exec(error.message)?.[1]
    if (claim === undefined) throw new Error(`no claim named in ${error.message}`)
    return claim
  }
}

describe('explain against the verifier', () => {
  it('claim lines pass exactly when the claim checks do, and the refused claim fails its line', () => {
    fc.assert(
      fc.property(scenario, ([options, claims, typ]) => {
        const header = {
          alg: 'ES256',
          ...(typ === undefined ? {} : { typ }),
        } as ProtectedHeaderParameters
        const rules = claimRulesFor(tenantWith(options))
        const lines = [
          { name: 'issuer', status: claims.iss === ISSUER ? 'pass' : 'fail' },
          ...claimChecks(header, claims, rules, NOW, false),
        ]
        const failing = lines.filter((line) => line.status === 'fail').map((line) => line.name)
        const refused = refusedClaim(header, claims, rules)
        if (refused === undefined) expect(failing).toEqual([])
        else expect(failing).toContain(LINE_OF[refused])
      }),
      { numRuns: 2_000 },
    )
  })

  describe('over the rejection suite', () => {
    let issuer: TestIssuer
    let config: AuthConfig
    beforeAll(async () => {
      issuer = await createTestIssuer()
      config = {
        auth0: { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience },
      }
    })
    afterAll(() => issuer.close())

    const claims = () => claimsFor(issuer)
    const corpus: Array<[string, () => Promise<string>, { requireAccessTokenType: true }?]> = [
      ['valid', () => issuer.sign()],
      ['expired', () => issuer.sign({ exp: nowSeconds() - 60, iat: nowSeconds() - 120 })],
      ['not yet valid', () => issuer.sign({ nbf: nowSeconds() + 600 })],
      [
        'issued in the future',
        () => issuer.sign({ iat: nowSeconds() + 600 }, { expiresIn: 3_600 }),
      ],
      ['too old', () => issuer.sign({ iat: nowSeconds() - 100_000 }, { expiresIn: 200_000 })],
      ['another audience', () => issuer.sign({ aud: 'https://other' })],
      ['another issuer', () => issuer.sign({ iss: 'https://other.example.com/' })],
      ['no sub', () => issuer.sign({ sub: undefined })],
      ['a sub with a control character', () => issuer.sign({ sub: 'auth0|a\u0000b' })],
      [
        'an exp of 1e400',
        () =>
          issuer.signRaw(
            `{"iss":"${issuer.issuer}","aud":"${issuer.audience}","sub":"auth0|x","iat":${nowSeconds()},"exp":1e400}`,
          ),
      ],
      ['a payload that is a list', () => issuer.signRaw('[]')],
      ['an unknown kid', () => issuer.sign({}, { header: { kid: 'gone' } })],
      ['a jku header', () => issuer.sign({}, { header: { jku: 'https://attacker.example/jwks' } })],
      [
        'a forged signature',
        async () => forge({ alg: 'RS256', kid: issuer.kid }, claims(), await strangerKey()),
      ],
      [
        'HS256',
        () => forge({ alg: 'HS256', kid: issuer.kid }, claims(), new TextEncoder().encode('s')),
      ],
      ['alg none', async () => `${b64({ alg: 'none' })}.${b64(claims())}.`],
      [
        'a typ other than at+jwt, which is required',
        () => issuer.sign(),
        { requireAccessTokenType: true },
      ],
      ['opaque', async () => 'opaque-token'],
      ['a JWE', async () => 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc'],
      ['too long', async () => `${'a'.repeat(9_000)}.b.c`],
      ['non-canonical base64url', async () => `${(await issuer.sign()).slice(0, -1)}=`],
    ]

    it.each(corpus)(
      '%s: the lines pass exactly when the verifier accepts',
      async (name, token, extra) => {
        const used: AuthConfig = { auth0: { ...(config.auth0 as Auth0TenantConfig), ...extra } }
        const report = await explainToken(await token(), used)
        const verification = report.checks.at(-1)
        expect(verification?.name).toBe('verification')
        const others = report.checks.slice(0, -1)
        const allPass = others.every((line) => line.status === 'pass')
        expect(allPass, name).toBe(verification?.status === 'pass')
        expect(verification?.status, name).toBe(name === 'valid' ? 'pass' : 'fail')
      },
    )
  })
})
