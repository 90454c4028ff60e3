import { type AuthError, createAuth, isAuthError } from 'canonical-auth'
import { createTestIssuer } from 'canonical-auth/testing'
import fc from 'fast-check'
import { type CryptoKey, generateKeyPair, jwtVerify } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { assertClaimTypes } from '../../src/core/verify/checks.js'
import { checkClaims, claimRulesFor } from '../../src/core/verify/claims.js'
import type { TenantVerification } from '../../src/core/verify/config.js'
import { decodeUnverified } from '../../src/core/verify/decode.js'
import { toAuthError } from '../../src/core/verify/jose-errors.js'
import { verifyOptionsFor } from '../../src/core/verify/verify.js'
import { forge } from '../helpers.js'

// canonical-auth checks the registered claims itself on the payload it has already decoded. These
// properties hold it to jose's `jwtVerify` with the same options over random claim sets: the same
// tokens accepted, the same refused, each with the same error, plus canonical-auth's stricter
// claim-type checks on both sides.

const NOW = 1_800_000_000
const ISSUER = 'https://tenant.example.com/'
const AUDIENCES = ['https://api.one', 'https://api.two', 'https://api.three'] as const

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

interface TenantOptions {
  audience: string[]
  clockToleranceSeconds: number
  maxTokenAgeSeconds: number
  requireAccessTokenType: boolean
}

const tenantOptions: fc.Arbitrary<TenantOptions> = fc.record({
  audience: fc.subarray([...AUDIENCES], { minLength: 1 }),
  clockToleranceSeconds: fc.oneof(fc.constantFrom(0, 5, 300), fc.integer({ min: 0, max: 300 })),
  maxTokenAgeSeconds: fc.oneof(
    fc.constantFrom(1, 60, 86_400),
    fc.integer({ min: 1, max: 31_536_000 }),
  ),
  requireAccessTokenType: fc.boolean(),
})

// Seconds around NOW: each check's edges for these options (one either side and on it), ordinary
// times, and the values a malformed token may carry instead.
function timeFor({ clockToleranceSeconds: tolerance, maxTokenAgeSeconds: maxAge }: TenantOptions) {
  const edges = [NOW - tolerance, NOW + tolerance, NOW - maxAge - tolerance, NOW].flatMap(
    (edge) => [edge - 1, edge, edge + 1],
  )
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...edges) },
    { weight: 4, arbitrary: fc.integer({ min: NOW - 200_000, max: NOW + 200_000 }) },
    { weight: 1, arbitrary: fc.double({ min: NOW - 1_000, max: NOW + 1_000, noNaN: true }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        0,
        -1,
        1e300,
        -1e300,
        253_402_300_800,
        2 ** 53,
        '1800000000',
        null,
      ),
    },
    { weight: 1, arbitrary: fc.oneof(fc.boolean(), fc.string(), fc.array(fc.integer())) },
  )
}
const audience = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...AUDIENCES) },
  { weight: 1, arbitrary: fc.constantFrom('https://api.other', '', null, 7) },
  {
    weight: 2,
    arbitrary: fc.array(fc.constantFrom(...AUDIENCES, 'https://api.other', null, 1), {
      maxLength: 4,
    }),
  },
  { weight: 1, arbitrary: fc.object({ maxDepth: 1 }) },
)
const issuer = fc.oneof(
  { weight: 4, arbitrary: fc.constant(ISSUER) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'https://tenant.example.com',
      'https://other.example.com/',
      '',
      null,
      [ISSUER],
      1,
    ),
  },
)
const subject = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('auth0|u1', 'samlp|acme|ada@acme.com') },
  { weight: 1, arbitrary: fc.constantFrom('', null, 5, 'a\u0000b', 'line\u2028break') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
)
// Each registered claim present far more often than not, so that whole valid sets are common.
const mostly = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { freq: 8, nil: undefined })
function claimSetFor(options: TenantOptions) {
  const time = timeFor(options)
  return fc
    .record({
      iss: mostly(issuer),
      aud: mostly(audience),
      sub: mostly(subject),
      iat: mostly(time),
      nbf: fc.option(time, { freq: 2, nil: undefined }),
      exp: mostly(time),
      name: fc.string({ unit: 'grapheme', maxLength: 12 }),
      scope: fc.constantFrom('read:a write:b', ''),
    })
    .map((claims) => JSON.parse(JSON.stringify(claims)) as Record<string, unknown>)
}
const typ = fc.constantFrom(
  undefined,
  'JWT',
  'jwt',
  'at+jwt',
  'AT+JWT',
  'application/at+jwt',
  'Application/AT+JWT',
  'application/jwt',
  'at+jwt ',
  5,
  null,
)
/** Well-formed claims whose times sit on, or one second either side of, each time check's edge. */
function timesAtEdges(options: TenantOptions) {
  const { clockToleranceSeconds: tolerance, maxTokenAgeSeconds: maxAge } = options
  const edges = [NOW - tolerance, NOW + tolerance, NOW - maxAge - tolerance].flatMap((edge) => [
    edge - 1,
    edge,
    edge + 1,
  ])
  const time = fc.constantFrom(...edges, NOW)
  return fc.record({
    iss: fc.constant(ISSUER),
    aud: fc.constant(options.audience[0]),
    sub: fc.constant('auth0|u1'),
    iat: time,
    nbf: fc.option(time, { nil: undefined }),
    exp: time,
  })
}

/** Options, a claim set with edges for those options, and a header `typ`. */
const scenario = tenantOptions.chain((options) =>
  fc.tuple(fc.constant(options), claimSetFor(options), typ),
)

function tenantWith(options: TenantOptions): TenantVerification {
  return { issuer: ISSUER, algorithms: ['ES256'], ...options } as unknown as TenantVerification
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
