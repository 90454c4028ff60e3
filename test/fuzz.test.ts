import { type Auth, canonicalizeEmail, errorAnswer, isAuthError } from 'canonical-auth'
import { createDpopKeyPair, createDpopProof, type DpopKeyPair } from 'canonical-auth/testing'
import fc from 'fast-check'
import { beforeEach, describe, expect, it } from 'vitest'
import { extractToken } from '../src/core/http/extract.js'
import { authFailure, nowSeconds } from './helpers.js'
import { useTestStack } from './stack.js'

// Property-based and fuzz tests through the public entry points: whatever a client sends, the
// library answers with an AuthError (a 4xx the adapters can render), never with another exception,
// never with a user. fast-check shrinks and prints any counter-example it finds.

const RUNS = { numRuns: 300 }
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const CLIENT_ERRORS = new Set([400, 401, 403])

const stack = useTestStack((s) => ({ directory: { baseUrl: s.directory.baseUrl } }))

/** Asserts `authenticate` refused these headers with an AuthError answered as a client error. */
async function refused(auth: Auth, headers: Record<string, unknown>): Promise<void> {
  const error = await authFailure(auth.authenticate({ headers: headers as never }))
  expect(CLIENT_ERRORS.has(errorAnswer(error).status)).toBe(true)
}

describe('authenticate under fuzzed input (property-based)', () => {
  let auth: Auth
  let token: string
  let other: string
  beforeEach(async () => {
    auth = stack.auth()
    token = await stack.issuer.sign({
      sub: 'samlp|acme-waad|ada',
      email: 'ada@acme.com',
      email_verified: true,
    })
    other = await stack.issuer.sign({
      sub: 'samlp|acme-waad|eve',
      email: 'eve@acme.com',
      email_verified: true,
    })
    // Warm everything: the key set, the selected key, the verification cache and the user cache,
    // so the fuzzed tokens below go through the fastest paths a real service runs.
    expect(
      (await auth.authenticate({ headers: { authorization: `Bearer ${token}` } })).userId,
    ).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('refuses random Authorization headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: fc.constantFrom(...B64URL, '.', '=', ' ', '\t') }),
          fc.string().map((s) => `Bearer ${s}`),
          fc
            .tuple(fc.uint8Array(), fc.uint8Array(), fc.uint8Array())
            .map(
              (parts) =>
                `Bearer ${parts.map((p) => Buffer.from(p).toString('base64url')).join('.')}`,
            ),
        ),
        async (authorization) => refused(auth, { authorization }),
      ),
      RUNS,
    )
  })

  it('refuses header records of any shape (arrays, numbers, objects, odd names)', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.anything(),
      fc.constant(`Bearer ${'x'.repeat(20_000)}`),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('authorization', 'Authorization', 'AUTHORIZATION', 'x-other'),
          value,
        ),
        async (headers) => {
          // A record that happens to carry the valid token itself may resolve; everything else not.
          fc.pre(!JSON.stringify(headers).includes(token))
          await refused(auth, headers)
        },
      ),
      RUNS,
    )
  })

  it('refuses every single-character mutation of a valid, cached token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 100_000 }),
        fc.constantFrom(...B64URL, '.', '=', '+', '/', ' '),
        fc.constantFrom('replace', 'insert', 'delete'),
        async (at, char, how) => {
          const i = at % token.length
          const mutated =
            how === 'replace'
              ? token.slice(0, i) + char + token.slice(i + 1)
              : how === 'insert'
                ? token.slice(0, i) + char + token.slice(i)
                : token.slice(0, i) + token.slice(i + 1)
          // A space put before the token is one more space after the scheme: RFC 6750 allows
          // any number (1*SP), so the header still carries the valid token itself.
          fc.pre(mutated !== token && mutated !== ` ${token}`)
          await refused(auth, { authorization: `Bearer ${mutated}` })
        },
      ),
      RUNS,
    )
  })

  it('refuses valid tokens spliced, truncated, re-padded or re-encoded', async () => {
    const [h, p, s] = token.split('.') as [string, string, string]
    const [oh, op, os] = other.split('.') as [string, string, string]
    const standardBase64 = (segment: string) => Buffer.from(segment, 'base64url').toString('base64')
    const variants = [
      `${h}.${op}.${s}`, // another user's claims under this signature
      `${oh}.${p}.${os}`,
      `${h}.${p}.${os}`,
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}..${s}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}=.${p}.${s}`,
      `${h}.${standardBase64(p)}.${s}`,
      `${h}.${p}.${standardBase64(s)}`,
      `${h}.${Buffer.from(`${Buffer.from(p, 'base64url').toString()} `).toString('base64url')}.${s}`,
      `${h}.${p}.${s.slice(0, -4)}`,
      `${h}.${p}.${Buffer.alloc(256).toString('base64url')}`,
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`,
      `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${p}.${s}`,
    ]
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...variants), fc.nat({ max: 64 }), async (variant, cut) => {
        await refused(auth, { authorization: `Bearer ${variant}` })
        const truncated = variant.slice(0, Math.max(1, variant.length - cut))
        fc.pre(truncated !== token)
        await refused(auth, { authorization: `Bearer ${truncated}` })
      }),
      { numRuns: 100 },
    )
    // None of them reached the directory: only the warm-up call did.
    expect(stack.directory.calls.ensure).toBe(1)
  })

  it('refuses random claims signed by the real key when they break a rule', async () => {
    const now = nowSeconds()
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            sub: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
            exp: fc.oneof(fc.integer({ min: 0, max: now - 120 }), fc.string(), fc.double()),
            iat: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)),
            aud: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 2 })),
            email: fc.oneof(fc.emailAddress(), fc.string()),
          },
          { requiredKeys: ['exp'] },
        ),
        async (claims) => {
          // Every generated token is expired, has a non-number exp, or an audience other than the
          // configured one; each alone is reason enough to refuse it.
          // signRaw: signed as generated (jose's signer would refuse an infinite exp, say).
          const signed = await stack.issuer.signRaw(
            JSON.stringify({ iss: stack.issuer.issuer, ...claims }),
          )
          await refused(auth, { authorization: `Bearer ${signed}` })
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('DPoP proofs under fuzzed input (property-based)', () => {
  let auth: Auth
  let token: string
  let key: DpopKeyPair
  let valid: string
  const url = 'https://api.example.com/me'
  beforeEach(async () => {
    auth = stack.auth()
    key = await createDpopKeyPair()
    token = await stack.issuer.sign(
      { sub: 'samlp|acme-waad|ada', email: 'ada@acme.com', email_verified: true },
      { dpop: key.publicJwk },
    )
    valid = await createDpopProof({ ...key, method: 'GET', url, accessToken: token })
  })

  const request = (proof: unknown) => ({
    headers: { authorization: `DPoP ${token}`, dpop: proof as string },
    method: 'GET',
    url,
  })

  it('refuses random DPoP headers as a client error, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,60}$/),
          fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
        ),
        async (proof) => {
          const error = await authFailure(auth.authenticate(request(proof)))
          expect(CLIENT_ERRORS.has(errorAnswer(error).status)).toBe(true)
        },
      ),
      RUNS,
    )
  })

  it('refuses every single-character mutation of a valid proof', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valid.length - 1 }),
        fc.constantFrom(...B64URL, '.', '=', ' '),
        async (at, character) => {
          fc.pre(valid[at] !== character)
          const mutated = `${valid.slice(0, at)}${character}${valid.slice(at + 1)}`
          const error = await authFailure(auth.authenticate(request(mutated)))
          expect(error.code).toMatch(/^(invalid_dpop_proof|invalid_request)$/)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('refuses random proof claims signed by the bound key when they break a rule', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            htm: fc.constantFrom('GET', 'get', 'POST', 1),
            htu: fc.constantFrom(url, `${url}/`, 'https://api.example.com/ME', 'me', null),
            iat: fc.oneof(fc.integer({ min: -400, max: 100 }), fc.constant('now')),
            jti: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.constant(7)),
            ath: fc.constantFrom('right', 'wrong', undefined),
          },
          { requiredKeys: [] },
        ),
        async (claims) => {
          const offset = claims.iat
          // Offsets near the window's edges depend on when the check runs: left out.
          fc.pre(
            typeof offset !== 'number' ||
              !((offset >= -310 && offset <= -290) || (offset >= 20 && offset <= 40)),
          )
          const iat = typeof offset === 'number' ? nowSeconds() + offset : offset
          const breaks =
            ('htm' in claims && claims.htm !== 'GET') ||
            ('htu' in claims && claims.htu !== url) ||
            ('iat' in claims && (typeof offset !== 'number' || offset < -300 || offset > 30)) ||
            ('jti' in claims && typeof claims.jti !== 'string') ||
            ('ath' in claims && claims.ath !== 'right')
          fc.pre(breaks)
          const overrides: Record<string, unknown> = { ...claims }
          if ('iat' in claims) overrides.iat = iat
          // ath: 'right' is the token's hash (the default), 'wrong' another, undefined none.
          delete overrides.ath
          if (claims.ath === 'wrong') overrides.ath = 'x'
          const proof = await createDpopProof({
            ...key,
            method: 'GET',
            url,
            accessToken: 'ath' in claims && claims.ath === undefined ? undefined : token,
            claims: overrides,
          })
          const error = await authFailure(auth.authenticate(request(proof)))
          expect(error.code).toBe('invalid_dpop_proof')
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('header parsing (property-based)', () => {
  const sources = { bearer: true, headers: ['x-user-token'] }

  function outcome(headers: Record<string, unknown>): string | Error {
    try {
      return extractToken(headers as never, sources)
    } catch (error) {
      if (!isAuthError(error)) throw error
      expect(['token_missing', 'invalid_request']).toContain(error.code)
      return error
    }
  }

  it('finds the token only in a well-formed Bearer header or a named header, else an AuthError', () => {
    const token = fc.string({ unit: fc.constantFrom(...B64URL, '.'), minLength: 1 })
    fc.assert(
      fc.property(
        token,
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer:', 'Bear', ''),
        fc.constantFrom(' ', '  ', '\t', ''),
        (value, scheme, gap) => {
          const result = outcome({ authorization: `${scheme}${gap}${value}` })
          const wellFormed = /^bearer$/i.test(scheme) && / +/.test(gap)
          if (wellFormed) expect(result).toBe(value)
          else expect(result).toBeInstanceOf(Error)
        },
      ),
      RUNS,
    )
  })

  it('never throws anything but an AuthError, whatever the record holds', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom('authorization', 'x-user-token', 'X-User-Token'), fc.string()),
          fc.anything(),
        ),
        (headers) => {
          const result = outcome(headers)
          if (typeof result === 'string') expect(result).not.toMatch(/\s/)
        },
      ),
      RUNS,
    )
  })

  it('refuses two different tokens, accepts the same token twice', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1 }),
        fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1 }),
        (a, b) => {
          const result = outcome({ authorization: `Bearer ${a}`, 'x-user-token': b })
          if (a === b) expect(result).toBe(a)
          else expect(result).toBeInstanceOf(Error)
        },
      ),
      RUNS,
    )
  })
})

describe('email canonicalisation (property-based)', () => {
  const ascii = fc.emailAddress()

  it('round-trips: the canonical address is its own canonical form, whatever the case or spaces', () => {
    fc.assert(
      fc.property(ascii, fc.constantFrom('', ' ', '\t', '\n '), (address, pad) => {
        const canonical = canonicalizeEmail(`${pad}${address.toUpperCase()}${pad}`)
        fc.pre(canonical !== undefined)
        expect(canonicalizeEmail(canonical?.address)).toEqual(canonical)
        expect(canonical?.address).toBe(`${canonical?.local}@${canonical?.domain}`)
      }),
      RUNS,
    )
  })

  // Characters that fold to ASCII under Unicode compatibility mapping or case folding: an address
  // that contains one must never canonicalise to the ASCII address it imitates.
  const TRAPS = [
    '\u212A', // KELVIN SIGN -> k
    '\u212B', // ANGSTROM SIGN -> å
    '\u017F', // LATIN SMALL LETTER LONG S -> s (upper-cases to S)
    '\u0130', // LATIN CAPITAL LETTER I WITH DOT ABOVE -> i̇
    '\u0131', // DOTLESS I (upper-cases to I)
    '\uFF41', // FULLWIDTH a
    '\uFB01', // LIGATURE fi
    '\u00AD', // SOFT HYPHEN (IDNA maps it to nothing)
    '\u200B', // ZERO WIDTH SPACE
    '\u200D', // ZERO WIDTH JOINER
    '\u0430', // CYRILLIC a (a homoglyph, not a fold: must stay distinct)
    '\u2024', // ONE DOT LEADER
    '\uFF0E', // FULLWIDTH FULL STOP
    '\u3002', // IDEOGRAPHIC FULL STOP (IDNA maps it to .)
  ]

  it('never folds a Unicode trap into the ASCII address it imitates', () => {
    fc.assert(
      fc.property(ascii, fc.nat(), fc.constantFrom(...TRAPS), (address, at, trap) => {
        const i = at % (address.length + 1)
        const trapped = address.slice(0, i) + trap + address.slice(i)
        const canonical = canonicalizeEmail(trapped)
        if (canonical === undefined) return
        // Accepted only as a different (IDNA) domain, never as the imitated ASCII address.
        expect(canonical.address).not.toBe(canonicalizeEmail(address)?.address)
        expect(canonical.address).toMatch(/^[\x21-\x7e]+$/)
        expect(canonical.domain.split('.').some((label) => label.startsWith('xn--'))).toBe(true)
      }),
      RUNS,
    )
  })

  // ASCII padding that resolution trims, and whitespace or invisible characters that neither path
  // may tidy away, wherever they stand.
  const PADDING = [' ', '\t', '\r', '\n']
  const HIDDEN = [
    '\u00A0',
    '\u3000',
    '\uFEFF',
    '\u2028',
    '\u2029',
    '\u1680',
    '\u2007',
    '\u202F',
    '\u0085',
    '\u000B',
    '\u000C',
    '\u200B',
    '\u200E',
    '\u2060',
    '\u180E',
    '\u3164',
  ]
  const isHidden = (text: string) => HIDDEN.some((char) => text.includes(char))
  const trimPadding = (text: string) => text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')

  it('discovery and resolution read every address alike, whatever surrounds or hides in it', async () => {
    const auth = stack.auth({ discovery: { domains: { 'acme.com': { connection: 'acme-waad' } } } })
    /** The address discovery answers for, or undefined when it refuses the input. */
    const discovered = (input: string) =>
      auth.discoverAuthProvider(input).then(
        (answer) => answer.email,
        (error: unknown) => {
          expect(isAuthError(error) && error.code).toBe('invalid_request')
          return undefined
        },
      )
    let logins = 0
    /** The address resolution asks the directory for, or undefined when it refuses the token. */
    const resolved = async (input: string) => {
      logins += 1
      const token = await stack.issuer.sign({
        sub: `samlp|acme-waad|fuzz-${logins}`,
        email: input,
        email_verified: true,
      })
      const asked = stack.directory.requests.length
      return auth.resolveCanonicalUser(await auth.verifyAuth0Token(token)).then(
        () => JSON.parse(stack.directory.requests.at(-1)?.body ?? '{}').email as string,
        (error: unknown) => {
          expect(isAuthError(error) && error.code).toBe('identity_untrusted')
          expect(stack.directory.requests.length).toBe(asked)
          return undefined
        },
      )
    }
    const noise = fc.array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...PADDING), weight: 3 },
        { arbitrary: fc.constantFrom(...HIDDEN), weight: 1 },
      ),
      { maxLength: 3 },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { arbitrary: ascii, weight: 3 },
          { arbitrary: fc.constant('Ada@Acme.com'), weight: 1 },
          { arbitrary: fc.string(), weight: 1 },
        ),
        noise,
        noise,
        fc.option(fc.tuple(fc.nat(), fc.constantFrom(...HIDDEN)), { freq: 2 }),
        async (address, before, after, inside) => {
          const core =
            inside === null
              ? address
              : address.slice(0, inside[0] % (address.length + 1)) +
                inside[1] +
                address.slice(inside[0] % (address.length + 1))
          const input = before.join('') + core + after.join('')
          const byResolution = await resolved(input)
          // One reading: resolution links the address discovery answers for once ASCII padding is
          // trimmed; discovery itself refuses the padding; a hidden character is refused by both.
          expect(byResolution).toBe(await discovered(trimPadding(input)))
          expect(await discovered(input)).toBe(
            trimPadding(input) === input ? byResolution : undefined,
          )
          if (isHidden(input)) expect(byResolution).toBeUndefined()
          if (byResolution !== undefined)
            expect(byResolution).toBe(canonicalizeEmail(input)?.address)
        },
      ),
      RUNS,
    )
  }, 60_000)

  it('keeps distinct ASCII addresses distinct (canonicalisation only folds case and spaces)', () => {
    fc.assert(
      fc.property(ascii, ascii, (a, b) => {
        const ca = canonicalizeEmail(a)
        const cb = canonicalizeEmail(b)
        fc.pre(ca !== undefined && cb !== undefined)
        expect(ca?.address === cb?.address).toBe(a.toLowerCase() === b.toLowerCase())
      }),
      RUNS,
    )
  })
})
