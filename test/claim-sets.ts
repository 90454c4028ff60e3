import fc from 'fast-check'
import type { TenantVerification } from '../src/core/verify/config.js'

// Random claim sets and tenant options, with every time check's edges, for the properties that
// hold canonical-auth's claim checks to jose's and the command-line tool's lines to both.

export const NOW = 1_800_000_000
export const ISSUER = 'https://tenant.example.com/'
export const AUDIENCES = ['https://api.one', 'https://api.two', 'https://api.three'] as const

export interface TenantOptions {
  audience: string[]
  clockToleranceSeconds: number
  maxTokenAgeSeconds: number
  requireAccessTokenType: boolean
}

export const tenantOptions: fc.Arbitrary<TenantOptions> = fc.record({
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
export function timeFor({
  clockToleranceSeconds: tolerance,
  maxTokenAgeSeconds: maxAge,
}: TenantOptions) {
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
export const audience = fc.oneof(
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
export const issuer = fc.oneof(
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
export const subject = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('auth0|u1', 'samlp|acme|ada@acme.com') },
  { weight: 1, arbitrary: fc.constantFrom('', null, 5, 'a\u0000b', 'line\u2028break') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
)
// Each registered claim present far more often than not, so that whole valid sets are common.
export const mostly = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.option(arbitrary, { freq: 8, nil: undefined })
export function claimSetFor(options: TenantOptions) {
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
export const typ = fc.constantFrom(
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
export function timesAtEdges(options: TenantOptions) {
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
export const scenario = tenantOptions.chain((options) =>
  fc.tuple(fc.constant(options), claimSetFor(options), typ),
)

export function tenantWith(options: TenantOptions): TenantVerification {
  return { issuer: ISSUER, algorithms: ['ES256'], ...options } as unknown as TenantVerification
}
