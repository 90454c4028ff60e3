import { isAuthError } from 'canonical-auth'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isCanonicalBase64url } from '../../src/core/lib/base64url.js'
import { assertCompactJws } from '../../src/core/verify/token-shape.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const segment = fc
  .uint8Array({ minLength: 1, maxLength: 300 })
  .map((bytes) => Buffer.from(bytes).toString('base64url'))

function accepts(token: unknown, max = 8192): boolean {
  try {
    assertCompactJws(token, max)
    return true
  } catch (error) {
    expect(isAuthError(error) && error.code === 'token_invalid').toBe(true)
    return false
  }
}

describe('token pre-checks (property-based)', () => {
  it('accepts every canonical three-segment token within the cap', () => {
    fc.assert(fc.property(segment, segment, segment, (h, p, s) => accepts(`${h}.${p}.${s}`)))
  })

  it('treats every encoding of real bytes as canonical', () => {
    fc.assert(fc.property(segment, (s) => isCanonicalBase64url(s)))
  })

  it('rejects a segment whose last character carries stray bits, though it decodes the same', () => {
    fc.assert(
      fc.property(
        segment.filter((s) => s.length % 4 !== 0),
        fc.integer({ min: 1, max: 15 }),
        (s, flip) => {
          const spare = s.length % 4 === 2 ? 0b1111 : 0b11
          fc.pre((flip & spare) !== 0)
          const last = ALPHABET.indexOf(s.at(-1) as string)
          const altered = s.slice(0, -1) + ALPHABET[last ^ (flip & spare)]
          expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(s, 'base64url'))
          expect(isCanonicalBase64url(altered)).toBe(false)
          expect(accepts(`${s}.${s}.${altered}`)).toBe(false)
        },
      ),
    )
  })

  it('never throws anything but token_invalid, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (value) => {
        accepts(value)
      }),
    )
  })

  it('accepts a string only if it has the strict compact shape', () => {
    const shape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...ALPHABET, '.', '=', ' ', '+', '/', '\n') }),
        (value) => {
          if (accepts(value)) expect(value).toMatch(shape)
        },
      ),
    )
  })

  it('rejects anything longer than the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), (extra) => {
        const token = `${'A'.repeat(1024 + extra)}.AAAA.AAAA`
        expect(accepts(token, 1024)).toBe(false)
      }),
    )
  })
})
