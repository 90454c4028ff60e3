import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { createAuth } from 'canonical-auth'
import { createTestDirectory, createTestIssuer } from 'canonical-auth/testing'
import { createVerifier } from 'fast-jwt'
import { createLocalJWKSet, createRemoteJWKSet, importJWK, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { type Measurement, type MeasureOptions, measure, summarize } from './measure.js'

export interface MicroRow {
  readonly contender: string
  readonly scenario: 'one token' | '1,000 tokens round-robin' | 'one token, 16 in flight'
  readonly result: Measurement
  readonly note?: string
}

/** The suffix of the rows that verify the kilobyte token with Auth0's usual claims. */
export const REALISTIC = 'realistic Auth0 token'

/** Splits a compact JWS for the floor: what a signature check alone costs. */
function signatureParts(token: string): { input: Buffer; signature: Buffer } {
  const [h, p, s] = token.split('.') as [string, string, string]
  return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url') }
}

/**
 * Verifies the same Auth0-shaped RS256 tokens with every contender, each checking signature,
 * issuer, audience and expiry (the same work), one after the other, round-robin over 1,000
 * distinct tokens, and with 16 verifications in flight.
 */
export async function runMicro(
  options: MeasureOptions,
  log: (line: string) => void,
): Promise<MicroRow[]> {
  const issuer = await createTestIssuer({ audience: 'https://api.bench' })
  const directory = await createTestDirectory()
  const claims = { email: 'ada@acme.com', email_verified: true, sub: 'samlp|acme-waad|ada' }
  const one = await issuer.sign(claims)
  const many = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      issuer.sign({ ...claims, sub: `samlp|acme-waad|u${i}` }),
    ),
  )
  // An access token as Auth0 issues it to an API with RBAC: scope, permissions, azp, two
  // audiences and namespaced claims, about a kilobyte.
  const realisticClaims = (i: number) => ({
    'https://acme.example.com/roles': ['admin', 'editor'],
    sub: `samlp|acme-waad|ada${i}@acme.com`,
    aud: [issuer.audience, 'https://tenant.eu.auth0.com/userinfo'],
    azp: 'xQ8b1mYzR2vK7pL0aT3nW5cE9dF4gH6j',
    scope: 'openid profile email read:reports write:reports',
    org_id: 'org_4Fq9ZkP2mXc7Rt1B',
    permissions: ['read:reports', 'write:reports', 'read:users'],
    email: `ada${i}@acme.com`,
    email_verified: true,
  })
  const realistic = await issuer.sign(realisticClaims(0))
  const realisticMany = await Promise.all(
    Array.from({ length: 1000 }, (_, i) => issuer.sign(realisticClaims(i))),
  )
  const jwk = issuer.jwks.keys[0] as Parameters<typeof importJWK>[0]
  const publicKey: KeyObject = createPublicKey({
    key: jwk as import('node:crypto').JsonWebKey,
    format: 'jwk',
  })
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const joseKey = await importJWK(jwk, 'RS256')
  const localSet = createLocalJWKSet(issuer.jwks)
  const remoteSet = createRemoteJWKSet(new URL(issuer.jwksUri))
  const joseOptions = { issuer: issuer.issuer, audience: issuer.audience, algorithms: ['RS256'] }
  const fast = createVerifier({
    key: pem,
    algorithms: ['RS256'],
    allowedIss: issuer.issuer,
    allowedAud: issuer.audience,
    cache: false,
  })
  const fastCached = createVerifier({
    key: pem,
    algorithms: ['RS256'],
    allowedIss: issuer.issuer,
    allowedAud: issuer.audience,
    cache: true,
  })
  const auth0 = { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience }
  const uncached = createAuth({ auth0, cache: { tokens: false } })
  const cached = createAuth({ auth0, directory: { baseUrl: directory.baseUrl } })
  const resolveOnly = await cached.verifyAuth0Token(one)
  await cached.resolveCanonicalUser(resolveOnly)
  const headers = { authorization: `Bearer ${one}` }

  let cursor = 0
  const next = () => {
    cursor = (cursor + 1) % many.length
    return cursor
  }

  type Contender = {
    name: string
    one: () => unknown
    many: () => unknown
    sync?: boolean
    note?: string
  }
  /** node:crypto's bare RSA check of one token, and round-robin over many. */
  const floor = (name: string, token: string, tokens: readonly string[], note: string) => {
    const single = signatureParts(token)
    const all = tokens.map(signatureParts)
    const check = ({ input, signature }: { input: Buffer; signature: Buffer }) =>
      cryptoVerify('RSA-SHA256', input, publicKey, signature)
    return {
      name,
      sync: true,
      note,
      one: () => check(single),
      many: () => check(all[next()] as { input: Buffer; signature: Buffer }),
    }
  }
  const contenders: Contender[] = [
    floor(
      'node:crypto RSA-SHA256 verify (the floor)',
      one,
      many,
      'signature only, no claim checks',
    ),
    {
      name: 'jose jwtVerify, local key',
      one: () => jwtVerify(one, joseKey, joseOptions),
      many: () => jwtVerify(many[next()] as string, joseKey, joseOptions),
    },
    {
      name: 'jose jwtVerify, local key set',
      one: () => jwtVerify(one, localSet, joseOptions),
      many: () => jwtVerify(many[next()] as string, localSet, joseOptions),
    },
    {
      name: 'jose jwtVerify, remote key set',
      one: () => jwtVerify(one, remoteSet, joseOptions),
      many: () => jwtVerify(many[next()] as string, remoteSet, joseOptions),
    },
    {
      name: 'fast-jwt, no cache',
      sync: true,
      one: () => fast(one),
      many: () => fast(many[next()] as string),
    },
    {
      name: 'fast-jwt, with its cache',
      sync: true,
      one: () => fastCached(one),
      many: () => fastCached(many[next()] as string),
    },
    {
      name: 'jsonwebtoken',
      sync: true,
      one: () => jsonwebtoken.verify(one, pem, joseOptions as jsonwebtoken.VerifyOptions),
      many: () =>
        jsonwebtoken.verify(many[next()] as string, pem, joseOptions as jsonwebtoken.VerifyOptions),
    },
    {
      name: 'canonical-auth verifyAuth0Token, cache off',
      one: () => uncached.verifyAuth0Token(one),
      many: () => uncached.verifyAuth0Token(many[next()] as string),
    },
    floor(
      `node:crypto RSA-SHA256 verify (the floor), ${REALISTIC}`,
      realistic,
      realisticMany,
      `signature only, no claim checks; ${realistic.length} characters`,
    ),
    {
      name: `fast-jwt, no cache, ${REALISTIC}`,
      sync: true,
      note: `${realistic.length} characters`,
      one: () => fast(realistic),
      many: () => fast(realisticMany[next()] as string),
    },
    {
      name: `canonical-auth verifyAuth0Token, cache off, ${REALISTIC}`,
      note: `${realistic.length} characters`,
      one: () => uncached.verifyAuth0Token(realistic),
      many: () => uncached.verifyAuth0Token(realisticMany[next()] as string),
    },
    {
      name: 'canonical-auth verifyAuth0Token (defaults)',
      note: 'verification cache on',
      one: () => cached.verifyAuth0Token(one),
      many: () => cached.verifyAuth0Token(many[next()] as string),
    },
    {
      name: 'canonical-auth resolveCanonicalUser, cached user',
      one: () => cached.resolveCanonicalUser(resolveOnly),
      many: () => cached.resolveCanonicalUser(resolveOnly),
    },
    {
      name: 'canonical-auth authenticate, end to end (defaults)',
      note: 'extract, verify (cached), resolve (cached)',
      one: () => cached.authenticate({ headers }),
      many: () => cached.authenticate({ headers: { authorization: `Bearer ${many[next()]}` } }),
    },
  ]

  const rows: MicroRow[] = []
  try {
    // Warm every path once (key sets fetched, users resolved) before anything is timed.
    for (const contender of contenders) {
      await contender.one()
      for (let i = 0; i < many.length; i++) await contender.many()
    }
    // Every contender and scenario is one case; the repetitions go round all of them in turn, so
    // that a machine that speeds up or slows down during the run moves every case alike and the
    // ratios between them (to the floor above all) hold.
    const cases = contenders.flatMap((contender) => {
      const sync = contender.sync === true
      const note = contender.note === undefined ? {} : { note: contender.note }
      const base = { contender: contender.name, sync, ...note }
      return [
        { ...base, scenario: 'one token' as const, operation: contender.one, inFlight: 1 },
        {
          ...base,
          scenario: '1,000 tokens round-robin' as const,
          operation: contender.many,
          inFlight: 1,
        },
        ...(sync
          ? []
          : [
              {
                ...base,
                scenario: 'one token, 16 in flight' as const,
                operation: contender.one,
                inFlight: 16,
              },
            ]),
      ]
    })
    const runs = cases.map((): number[] => [])
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      for (const [index, { operation, sync, inFlight }] of cases.entries()) {
        const warmupMs = repetition === 0 ? options.warmupMs : options.warmupMs / 5
        const result = await measure(operation, {
          ...options,
          warmupMs,
          repetitions: 1,
          inFlight,
          sync,
        })
        runs[index]?.push(...result.runs)
      }
      log(`  repetition ${repetition + 1} of ${options.repetitions} done`)
    }
    for (const [index, { contender, scenario, note }] of cases.entries()) {
      rows.push({
        contender,
        scenario,
        result: summarize(runs[index] ?? []),
        ...(note === undefined ? {} : { note }),
      })
    }
  } finally {
    await uncached.close()
    await cached.close()
    await issuer.close()
    await directory.close()
  }
  return rows
}
