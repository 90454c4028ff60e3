import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { connectionFromSubject, ENTERPRISE_STRATEGIES } from '../../src/core/lib/connection.js'

describe('connectionFromSubject', () => {
  it.each([
    ['samlp|acme-waad|x1', 'acme-waad'],
    ['waad|acme|a|b', 'acme'],
    ['samlp||x1', undefined],
    ['samlp|acme', undefined],
    ['waad|abc123', undefined],
    ['oauth2|acme-waad|x', undefined],
    ['auth0|acme-waad|x', undefined],
    ['|samlp|acme|x', undefined],
    ['SAMLP|acme|x', undefined],
    ['', undefined],
  ])('%j names %j', (subject, connection) => {
    expect(connectionFromSubject(subject)).toBe(connection)
  })

  it('reads the second part of a three-part enterprise sub, whatever the parts hold', () => {
    const part = fc.string({ unit: fc.constantFrom('a', '|', '-', 'é', ' '), maxLength: 6 })
    const strategy = fc.oneof(fc.constantFrom(...ENTERPRISE_STRATEGIES), part)
    fc.assert(
      fc.property(strategy, fc.array(part, { maxLength: 4 }), (first, rest) => {
        const subject = [first, ...rest].join('|')
        const parts = subject.split('|')
        const expected =
          parts.length >= 3 && ENTERPRISE_STRATEGIES.has(parts[0] as string) && parts[1] !== ''
            ? parts[1]
            : undefined
        expect(connectionFromSubject(subject)).toBe(expected)
      }),
      { numRuns: 2_000 },
    )
  })
})
