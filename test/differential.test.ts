import { type Auth, createAuth, isAuthError } from 'canonical-auth'
import { createTestIssuer, type TestIssuer } from 'canonical-auth/testing'
import fc from 'fast-check'
import type { JWK } from 'jose'
import { HttpResponse, http } from 'msw'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AsymmetricAlgorithm } from '../src/core/verify/config.js'
import { claimsFor, nowSeconds, rejectsWith, verifiedToken } from './helpers.js'
import { ecKey, type NodeKey, rsaKey } from './keys.js'
import { server } from './msw.js'

// The two signature engines (`signatureCheck: 'auto'`, node:crypto for RS* once jose has selected
// and imported the key; `'jose'`, jose alone) must accept exactly the same tokens and refuse the
// rest with the same code. Two instances with the same configuration and the same warm state (key
// set fetched, keys selected) verify the same tokens, named cases first, then fuzzed ones.

const ALGORITHMS: AsymmetricAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256']

// One key set with a bit of everything jose selects by: a key without `alg` (any RS*/PS*), two
// keys sharing a kid, a key without a kid, an EC key. And a key set of one key.
const main = rsaKey('main', 2048)
const dup1 = rsaKey('dup', 2048)
const dup2 = rsaKey('dup', 2048)
const kidless = rsaKey(undefined, 2048)
const ec = ecKey('ec', 'prime256v1')
const solo = rsaKey('solo', 2048)
const stranger = rsaKey('main', 2048)
const { alg: _anyAlg, ...mainWithoutAlg } = main.jwk

const KEY_SETS = {
  several: [mainWithoutAlg, dup1.jwk, dup2.jwk, kidless.jwk, ec.jwk],
  one: [solo.jwk],
} satisfies Record<string, JWK[]>
type KeySetName = keyof typeof KEY_SETS

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url')
const json = (value: unknown) => Buffer.from(JSON.stringify(value))

/** A token of exactly these header and payload bytes, signed by `key` as `alg` computes it. */
function signBytes(header: Uint8Array, payload: Uint8Array, key: NodeKey, alg?: string): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${key.signature(input, alg)}`
}

/** How an instance answered: the subject it verified, or the AuthError code. */
async function outcome(auth: Auth, token: string): Promise<string> {
  try {
    return `ok ${(await auth.verifyAuth0Token(token)).subject}`
  } catch (error) {
    if (!isAuthError(error)) throw error
    return error.code
  }
}

/**
 * Per test: a tenant serving `keySet` (msw), and one instance per engine, both warmed by verifying
 * a token for every (alg, kid) its keys answer, so that the fast path has its keys selected.
 */
function useEngines(keySet: KeySetName) {
  const state = {} as { issuer: TestIssuer; auto: Auth; jose: Auth }
  beforeEach(async () => {
    const issuer = await createTestIssuer({ listen: false })
    server.use(http.get(issuer.jwksUri, () => HttpResponse.json({ keys: KEY_SETS[keySet] })))
    const config = (signatureCheck: 'auto' | 'jose') =>
      createAuth({
        signatureCheck,
        auth0: { ...issuer.auth0, algorithms: ALGORITHMS },
        // Each verification goes through an engine, and no refetch happens during a test.
        cache: { tokens: false },
        jwks: { cooldownMs: 3_600_000, maxAgeMs: 3_600_000 },
      })
    Object.assign(state, { issuer, auto: config('auto'), jose: config('jose') })
    const claims = claimsFor(issuer)
    const warm =
      keySet === 'one'
        ? [solo.sign(claims), solo.sign(claims, { kid: undefined })]
        : [
            main.sign(claims),
            main.sign(claims, { alg: 'RS384' }),
            main.sign(claims, { alg: 'PS256' }),
            dup1.sign(claims),
            dup2.sign(claims),
            kidless.sign(claims),
            ec.sign(claims),
          ]
    for (const token of warm) {
      expect(await outcome(state.auto, token)).toBe('ok auth0|u1')
      expect(await outcome(state.jose, token)).toBe('ok auth0|u1')
    }
  })
  afterEach(async () => {
    await state.auto.close()
    await state.jose.close()
  })
  return state
}

describe.each(['auto', 'jose'] as const)('signatureCheck: %s, with every key warm', (engine) => {
  describe('a key set of several keys', () => {
    const engines = useEngines('several')
    const auth = () => engines[engine]

    it('refuses a kid that is not a string (["main"]) after "main" was verified', async () => {
      const claims = claimsFor(engines.issuer)
      for (const kid of [['main'], { toString: 'main' }, 1, true]) {
        await rejectsWith(auth().verifyAuth0Token(main.sign(claims, { kid })), 'token_invalid')
      }
      await expect(auth().verifyAuth0Token(main.sign(claims))).resolves.toMatchObject(
        verifiedToken(engines.issuer, 'auth0|u1'),
      )
    })

    it('refuses a header that is not UTF-8, under a kid already verified', async () => {
      const claims = json(claimsFor(engines.issuer))
      const header = json({ alg: 'RS256', kid: 'main', note: 'XX' })
      const at = header.indexOf('XX')
      for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xe2, 0x82]]) {
        const invalid = Buffer.concat([
          header.subarray(0, at),
          Buffer.from(bytes),
          header.subarray(at + 2),
        ])
        await rejectsWith(
          auth().verifyAuth0Token(signBytes(invalid, claims, main)),
          'token_invalid',
        )
      }
      // Valid UTF-8 beyond ASCII is fine.
      const accented = Buffer.from(header.toString().replace('XX', 'é✓'))
      await expect(
        auth().verifyAuth0Token(signBytes(accented, claims, main)),
      ).resolves.toMatchObject(verifiedToken(engines.issuer, 'auth0|u1'))
    })

    it('verifies a token under either of two keys that share a kid, and refuses a third', async () => {
      const claims = claimsFor(engines.issuer)
      for (const key of [dup1, dup2]) {
        const verified = await auth().verifyAuth0Token(key.sign(claims, { kid: 'dup' }))
        expect(verified.subject).toBe('auth0|u1')
      }
      const forged = stranger.sign(claims, { kid: 'dup' })
      await rejectsWith(auth().verifyAuth0Token(forged), 'token_invalid', forged)
      // A good signature over claims that fail is answered for the claims.
      const expired = dup2.sign(claimsFor(engines.issuer, { exp: nowSeconds() - 60 }))
      await rejectsWith(auth().verifyAuth0Token(expired), 'token_expired')
    })

    it('verifies a kid-less token under whichever of the matching keys signed it', async () => {
      const claims = claimsFor(engines.issuer)
      for (const [name, key] of Object.entries({ main, dup1, dup2, kidless })) {
        const sub = `auth0|${name}`
        await expect(
          auth().verifyAuth0Token(key.sign({ ...claims, sub }, { kid: undefined })),
        ).resolves.toMatchObject(verifiedToken(engines.issuer, sub))
      }
      await rejectsWith(
        auth().verifyAuth0Token(stranger.sign(claims, { kid: undefined })),
        'token_invalid',
      )
    })
  })

  describe('a key set of one key', () => {
    const engines = useEngines('one')
    const auth = () => engines[engine]

    it('refuses kid "" or null after a kid-less token was verified', async () => {
      const claims = claimsFor(engines.issuer)
      await expect(
        auth().verifyAuth0Token(solo.sign(claims, { kid: undefined })),
      ).resolves.toMatchObject(verifiedToken(engines.issuer, 'auth0|u1'))
      for (const kid of ['', null]) {
        await rejectsWith(auth().verifyAuth0Token(solo.sign(claims, { kid })), 'token_invalid')
      }
    })
  })
})

// Fuzzed tokens: headers (alg, kid of every type, typ, crit, b64), header and payload bytes that
// may not be UTF-8, claims that may break a rule, signatures by the named key, another key of the
// set, a stranger, or none at all, sometimes damaged.

// Mostly the value a valid token has, so that a good share of the tokens pass every check but
// one, or all of them.
const pick = <T>(common: T, ...rare: T[]) =>
  fc.oneof({ arbitrary: fc.constant(common), weight: 12 * rare.length }, fc.constantFrom(...rare))

const ABSENT = Symbol('absent')

const headerArbitrary = (kids: readonly unknown[]) =>
  fc.record({
    alg: pick<unknown>(
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'ES256',
      'HS256',
      'none',
      'rs256',
      '',
      null,
      256,
    ),
    kid: fc.oneof(
      // As often a kid jose selects no key by (or a different one) as one of the set's.
      fc.constantFrom<unknown>(...kids, ABSENT),
      fc.constantFrom<unknown>(
        '',
        'unknown',
        'MAIN',
        'main ',
        ['main'],
        ['solo'],
        null,
        0,
        true,
        {},
      ),
    ),
    typ: pick<unknown>(ABSENT, 'JWT', 'at+jwt', 'jwt', 1, null),
    crit: pick<unknown>(ABSENT, ['b64'], [], ['exp'], 'b64', null, ['urn:example:x']),
    b64: pick<unknown>(ABSENT, true, false, 'false'),
    extra: pick<unknown>(
      ABSENT,
      'x',
      { jku: 'https://attacker.invalid/' },
      { x5t: 'AAAA' },
      JSON.parse('{"__proto__":{"kid":"main"}}'),
    ),
  })

// Byte sequences that are not UTF-8 (a stray byte, an overlong form, a surrogate, a lone
// continuation, a truncated sequence, beyond U+10FFFF), and some that are.
const BYTES = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc3, 0xa9],
  [0xf0, 0x9f, 0x94, 0x91],
]
const bytesArbitrary = pick<'none' | 'bom' | 'space' | number[]>('none', 'bom', 'space', ...BYTES)

const claimsArbitrary = fc.record({
  exp: pick<unknown>('future', 'past', 'string', ABSENT),
  iat: pick<unknown>('now', 'future', 'string', ABSENT),
  nbf: pick<unknown>(ABSENT, 'future', 'past'),
  aud: pick<unknown>('ours', 'other', 'both', [], ABSENT),
  sub: pick<unknown>('auth0|u1', '', 42, 'client@clients', ABSENT),
  iss: pick<unknown>('ours', 'other'),
})

const signerArbitrary = pick<string>(
  'named',
  'main',
  'dup1',
  'kidless',
  'ec',
  'solo',
  'stranger',
  'random',
)
const damageArbitrary = pick<string>('none', 'flip', 'drop-byte', 'add-byte')

type Fields = Record<string, unknown>

function define(target: Fields, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

function headerFrom(fields: Fields): Fields {
  const header: Fields = {}
  for (const [name, value] of Object.entries(fields)) {
    if (value === ABSENT) continue
    if (name !== 'extra') header[name] = value
    else if (typeof value === 'string') header.note = value
    // Own properties as JSON.parse makes them, "__proto__" included (assigning it would not).
    else for (const [key, inner] of Object.entries(value as Fields)) define(header, key, inner)
  }
  return header
}

function claimsFrom(fields: Fields, issuer: TestIssuer): Fields {
  const now = nowSeconds()
  const time = { future: now + 600, past: now - 600, now, string: String(now + 600) }
  const aud = {
    ours: issuer.audience,
    other: 'https://other.invalid',
    both: ['x', issuer.audience],
  }
  const claims: Fields = { scope: 'openid' }
  for (const [name, value] of Object.entries(fields)) {
    if (value === ABSENT) continue
    if (name === 'exp' || name === 'iat' || name === 'nbf')
      claims[name] = time[value as keyof typeof time]
    else if (name === 'aud')
      claims.aud = typeof value === 'string' ? aud[value as keyof typeof aud] : value
    else if (name === 'iss')
      claims.iss = value === 'ours' ? issuer.issuer : 'https://other.invalid/'
    else claims[name] = value
  }
  return claims
}

/** The JSON bytes of `value`, with `change` applied: a BOM, a space, or bytes in a string value. */
function encoded(value: Fields, change: 'none' | 'bom' | 'space' | number[]): Buffer {
  if (change === 'none') return json(value)
  if (change === 'bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(value)])
  if (change === 'space') return Buffer.concat([json(value), Buffer.from(' ')])
  const bytes = json({ ...value, pad: '@@' })
  const at = bytes.indexOf('@@')
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(change), bytes.subarray(at + 2)])
}

const KEYS: Record<string, NodeKey> = { main, dup1, kidless, ec, solo, stranger }

/**
 * A signature over `input`: by `signer`, or for `named` by the key the header's kid names (its
 * first element when an array; the set's kid-less choice when it names none), as the header's
 * alg computes it where that key can.
 */
function signatureFor(input: string, header: Fields, signer: string, keySet: KeySetName): string {
  if (signer === 'random') return b64(Buffer.alloc(256, 7))
  const alg = typeof header.alg === 'string' ? header.alg : 'RS256'
  const kid = Array.isArray(header.kid) ? header.kid[0] : header.kid
  const named = kid === 'dup' ? dup2 : (KEYS[String(kid)] ?? (keySet === 'one' ? solo : kidless))
  const key = (signer === 'named' ? named : KEYS[signer]) ?? main
  const fallback = key === ec ? 'ES256' : 'RS256'
  const fits = key === ec ? alg === 'ES256' : /^(RS|PS)(256|384|512)$/.test(alg)
  return key.signature(input, fits ? alg : fallback)
}

function damaged(signature: string, damage: string): string {
  if (damage === 'none') return signature
  const bytes = Buffer.from(signature, 'base64url')
  const middle = bytes.length >> 1
  if (damage === 'flip') bytes[middle] = (bytes[middle] ?? 0) ^ 0x01
  if (damage === 'drop-byte') return b64(bytes.subarray(1))
  if (damage === 'add-byte') return b64(Buffer.concat([Buffer.from([0]), bytes]))
  return b64(bytes)
}

const KIDS: Record<KeySetName, string[]> = { several: ['main', 'dup', 'ec'], one: ['solo'] }

describe.each(['several', 'one'] as const)('the engines agree on fuzzed tokens (%s)', (keySet) => {
  const engines = useEngines(keySet)

  it('accepts and refuses the same tokens, with the same codes', async () => {
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(
        headerArbitrary(KIDS[keySet]),
        bytesArbitrary,
        claimsArbitrary,
        bytesArbitrary,
        signerArbitrary,
        damageArbitrary,
        async (headerFields, headerBytes, claimFields, claimBytes, signer, damage) => {
          const header = headerFrom(headerFields)
          const input = `${b64(encoded(header, headerBytes))}.${b64(
            encoded(claimsFrom(claimFields, engines.issuer), claimBytes),
          )}`
          const token = `${input}.${damaged(signatureFor(input, header, signer, keySet), damage)}`
          const auto = await outcome(engines.auto, token)
          const jose = await outcome(engines.jose, token)
          expect(auto).toBe(jose)
          expect(auto).not.toBe('internal_error')
          const kind = auto.startsWith('ok') ? 'ok' : auto
          seen.set(kind, (seen.get(kind) ?? 0) + 1)
        },
      ),
      { numRuns: 500 },
    )
    // Not a vacuous agreement: both accepted some tokens and refused others.
    expect(seen.get('ok') ?? 0).toBeGreaterThan(10)
    expect(seen.get('token_invalid') ?? 0).toBeGreaterThan(10)
  })
})
