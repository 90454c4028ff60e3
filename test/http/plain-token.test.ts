import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { extractToken, type HeadersInput, plainToken } from '../../src/core/http/extract.js'
import { assertCompactJws } from '../../src/core/verify/token-shape.js'

// The verification cache is asked with the token of a plain request before its syntax is
// checked, and a plain token that passes the shape check is verified without the full read of the
// headers. That is sound only if every canonical compact JWS that `plainToken` finds is exactly
// what `extractToken`, the full check, finds in the same headers.

const sources = { bearer: true, headers: ['x-user-token'] }
const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']
const segment = fc.string({ unit: fc.constantFrom(...B64URL), minLength: 2, maxLength: 12 })
const jws = fc.tuple(segment, segment, segment).map((parts) => parts.join('.'))
const noise = fc.string({ unit: fc.constantFrom(...B64URL, '.', ' ', '\t', '\n', '=', ',', '"') })

function isCompactJws(value: string): boolean {
  try {
    assertCompactJws(value, 8_192)
    return true
  } catch {
    return false
  }
}

function fullRead(headers: Record<string, unknown>): string | Error {
  try {
    return extractToken(headers as HeadersInput, sources)
  } catch (error) {
    return error as Error
  }
}

describe('plainToken', () => {
  it('finds a canonical token only where the full read finds the same token', () => {
    const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr', 'Basic', 'Bearer ', '')
    const header = fc.oneof(
      fc
        .tuple(
          scheme,
          fc.constantFrom(' ', '  ', '\t'),
          fc.oneof(jws, noise),
          fc.oneof(fc.constant(''), noise),
        )
        .map(([s, gap, token, tail]) => `${s}${gap}${token}${tail}`),
      noise,
    )
    fc.assert(
      fc.property(
        fc.record(
          {
            authorization: fc.oneof(header, fc.array(header, { maxLength: 2 }), fc.anything()),
            'x-user-token': fc.oneof(jws, noise, fc.array(jws, { maxLength: 2 }), fc.anything()),
          },
          { requiredKeys: [] },
        ),
        (headers) => {
          const plain = plainToken(headers as HeadersInput, sources)
          if (plain === undefined || !isCompactJws(plain)) return
          expect(fullRead(headers as Record<string, unknown>)).toBe(plain)
        },
      ),
      { numRuns: 2_000 },
    )
  })

  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['Bearer  abc.def.ghi', undefined],
    ['Bearer abc.def.ghi ', undefined],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer ', undefined],
  ])('reads %j as %j', (authorization, expected) => {
    expect(plainToken({ authorization }, sources)).toBe(expected)
  })

  it('takes a bare token header alone, or equal to the Bearer token, never a different one', () => {
    expect(plainToken({ 'x-user-token': 'abc.def.ghi' }, sources)).toBe('abc.def.ghi')
    expect(
      plainToken({ authorization: 'Bearer abc.def.ghi', 'x-user-token': 'abc.def.ghi' }, sources),
    ).toBe('abc.def.ghi')
    expect(
      plainToken({ authorization: 'Bearer abc.def.ghi', 'x-user-token': 'abc.def.ghj' }, sources),
    ).toBeUndefined()
    expect(plainToken({ 'x-user-token': ' abc.def.ghi' }, sources)).toBeUndefined()
  })

  it('reads a header whose name is in another case, as the full read does', () => {
    expect(plainToken({ Authorization: 'Bearer abc.def.ghi' }, sources)).toBe('abc.def.ghi')
    expect(fullRead({ Authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi')
  })

  it('never throws, leaving repeated or malformed headers to the full read', () => {
    const odd = [
      { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] },
      { authorization: 42 },
      { 'x-user-token': ['a.b.c'] },
    ]
    for (const headers of odd)
      expect(plainToken(headers as unknown as HeadersInput, sources)).toBeUndefined()
  })

  it('ignores the sources that are turned off', () => {
    const headersOnly = { bearer: false, headers: ['x-user-token'] }
    expect(plainToken({ authorization: 'Bearer abc.def.ghi' }, headersOnly)).toBeUndefined()
    const bearerOnly = { bearer: true, headers: [] }
    expect(plainToken({ 'x-user-token': 'abc.def.ghi' }, bearerOnly)).toBeUndefined()
  })
})
