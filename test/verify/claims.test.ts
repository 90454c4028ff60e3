import { type AuthError, createAuth, isAuthError } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import fc from 'fast-check'
import { type CryptoKey, generateKeyPair, jwtVerify } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { assertClaimTypes } from '../../src/core/verify/checks.js'
import { checkClaims, claimRulesFor } from '../../src/core/verify/claims.js'
import { decodeUnverified } from '../../src/core/verify/decode.js'
import { toAuthError } from '../../src/core/verify/jose-errors.js'
import { verifyOptionsFor } from '../../src/core/verify/verify.js'
import {
  AUDIENCES,
  claimSetFor,
  ISSUER,
  NOW,
  scenario,
  type TenantOptions,
  tenantOptions,
  tenantWith,
  timesAtEdges,
} from '../claim-sets.js'
import { forge } from '../helpers.js'

// canonical-auth checks the registered claims itself on the payload it has already decoded. These
// properties hold it to jose's `jwtVerify` with the same options over random claim sets: the same
// tokens accepted, the same refused, each with the same error, plus canonical-auth's stricter
// claim-type checks on both sides.

/** An outcome compared across the two checkers: accepted, or the error in every visible part. */
function outcome(error?: unknown): unknown {
  if (error === undefined) return 'accepted'
  if (!isAuthError(error)) throw error
  const cause = (error as AuthError).cause as { code?: string; claim?: string; reason?: string }
  return {
    code: error.code,
    message: error.message,
    cause: { code: cause?.code, claim: cause?.claim, reason: cause?.reason },
  }
}

describe('claim checks against jose jwtVerify (differential, property-based)', () => {
  let privateKey: CryptoKey
  let publicKey: CryptoKey
  beforeAll(async () => {
    ;({ privateKey, publicKey } = await generateKeyPair('ES256'))
  })

  /** canonical-auth's decision: the payload as the verifier decodes it, its checks, at NOW. */
  function ours(token: string, options: TenantOptions): unknown {
    try {
      const parts = decodeUnverified(token)
      expect(parts.exact).toBe(true)
      checkClaims(parts.header, parts.payload, claimRulesFor(tenantWith(options)), NOW)
      assertClaimTypes(parts.payload)
      return outcome()
    } catch (error) {
      return outcome(error)
    }
  }

  /** jose's decision with the same options at NOW, then canonical-auth's stricter checks. */
  async function jose(token: string, options: TenantOptions): Promise<unknown> {
    try {
      const { payload } = await jwtVerify(token, publicKey, {
        ...verifyOptionsFor(tenantWith(options)),
        currentDate: new Date(NOW * 1000),
      })
      assertClaimTypes(payload)
      return outcome()
    } catch (error) {
      return outcome(toAuthError(error))
    }
  }

  it('accept and refuse exactly the tokens jwtVerify does, with the same error', async () => {
    let accepted = 0
    await fc.assert(
      fc.asyncProperty(scenario, async ([options, claims, headerTyp]) => {
        const header = headerTyp === undefined ? { alg: 'ES256' } : { alg: 'ES256', typ: headerTyp }
        const token = await forge(header, claims, privateKey)
        const decided = ours(token, options)
        expect(decided).toEqual(await jose(token, options))
        if (decided === 'accepted') accepted++
      }),
      { numRuns: 2_000 },
    )
    // The generators reach both sides of every check, acceptance included.
    expect(accepted).toBeGreaterThan(0)
  })

  it('decide alike on every edge of the time checks', async () => {
    const edges = tenantOptions.chain((options) =>
      fc.tuple(fc.constant(options), timesAtEdges(options), fc.constantFrom('at+jwt', 'JWT')),
    )
    await fc.assert(
      fc.asyncProperty(edges, async ([options, claims, headerTyp]) => {
        const token = await forge({ alg: 'ES256', typ: headerTyp }, claims, privateKey)
        expect(ours(token, options)).toEqual(await jose(token, options))
      }),
      { numRuns: 1_000 },
    )
  })

  it('reaches every refusal jose can give on these options', async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(scenario, async ([options, claims, headerTyp]) => {
        const header = headerTyp === undefined ? { alg: 'ES256' } : { alg: 'ES256', typ: headerTyp }
        const parts = decodeUnverified(await forge(header, claims, privateKey))
        try {
          checkClaims(parts.header, parts.payload, claimRulesFor(tenantWith(options)), NOW)
        } catch (error) {
          const cause = (error as AuthError).cause as { claim: string; reason: string }
          seen.add(`${cause.claim}:${cause.reason}`)
        }
      }),
      { numRuns: 2_000 },
    )
    expect([...seen].sort()).toEqual(
      [
        'typ:check_failed',
        ...['iss', 'aud', 'iat', 'sub', 'exp'].map((claim) => `${claim}:missing`),
        'iss:check_failed',
        'aud:check_failed',
        'iat:invalid',
        'nbf:invalid',
        'nbf:check_failed',
        'exp:invalid',
        'exp:check_failed',
        'iat:check_failed',
      ].sort(),
    )
  })
})

// The tenant defaults, spelled out so that the edges are generated for them.
const DEFAULT_OPTIONS: TenantOptions = {
  audience: [AUDIENCES[0], AUDIENCES[1]],
  clockToleranceSeconds: 5,
  maxTokenAgeSeconds: 86_400,
  requireAccessTokenType: false,
}

describe('verification end to end: the fast path and jose alone decide alike', () => {
  const issuerReady = createTestIssuer()
  afterEach(() => {
    vi.useRealTimers()
  })
  afterAll(async () => (await issuerReady).close())

  it('refuses and accepts the same random claim sets under both engines', async () => {
    const testIssuer = await issuerReady
    // Same instant for both: only Date is faked, so key set fetches still run on real timers.
    vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 })
    const engines = (['auto', 'jose'] as const).map((signatureCheck) =>
      createAuth({
        signatureCheck,
        cache: { tokens: false },
        auth0: { ...testIssuer.auth0, issuer: ISSUER, ...DEFAULT_OPTIONS },
      }),
    )
    try {
      await fc.assert(
        fc.asyncProperty(claimSetFor(DEFAULT_OPTIONS), async (claims) => {
          const token = await testIssuer.signRaw(JSON.stringify(claims))
          const [fast, jose] = await Promise.all(
            engines.map((auth) =>
              auth.verifyAuth0Token(token).then(
                (verified) => ({ accepted: verified.subject }),
                (error: unknown) => outcome(error),
              ),
            ),
          )
          expect(fast).toEqual(jose)
        }),
        { numRuns: 300 },
      )
    } finally {
      await Promise.all(engines.map((auth) => auth.close()))
    }
  })
})
