import { canonicalizeEmail } from 'canonical-auth'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('canonicalizeEmail', () => {
  it.each([
    ['  Ada@ACME.com ', 'ada@acme.com'],
    ['first.last+tag@acme.co.uk', 'first.last+tag@acme.co.uk'],
    ['ada@Bücher.example', 'ada@xn--bcher-kva.example'],
    ['ada@xn--bcher-kva.example', 'ada@xn--bcher-kva.example'],
    ["o'brien@acme.com", "o'brien@acme.com"],
  ])('canonicalises %j to %s', (input, expected) => {
    expect(canonicalizeEmail(input)?.address).toBe(expected)
  })

  it('splits the parts', () => {
    expect(canonicalizeEmail('Ada@Acme.com')).toEqual({
      address: 'ada@acme.com',
      local: 'ada',
      domain: 'acme.com',
    })
  })

  it.each([
    'ada@\u212Acme.com',
    '\u212Aate@acme.com',
    'ada@ａｃｍｅ.com',
    'ädä@acme.com',
    '"ada"@acme.com',
    '"a@b"@acme.com',
    'ada@acme.com@evil.com',
    'ada@[127.0.0.1]',
    'ada@127.0.0.1',
    'ada@0x7f.1',
    'ada@acme.com.',
    'ada@acme..com',
    'ada.@acme.com',
    '.ada@acme.com',
    'a..da@acme.com',
    'ada@-acme.com',
    'ada@acme-.com',
    'ada@localhost',
    'ada@acme.123',
    'a da@acme.com',
    'ada@acme.com\u0000',
    // IDNA would drop or remap these and land on the ASCII name they imitate (found by fuzzing).
    'ada@acme\u00AD.com',
    'ada@ac\u200Bme.com',
    'ada@acme\u200D.com',
    'ada@acme\u3002com',
    'ada@acme\uFF61com',
    'ada@acme.com\uFE0F',
    'ada@acme.com/evil',
    'ada@acme.com:8080',
    'ada@acme.com#x',
    'ada@acme.com?x',
    '@acme.com',
    'ada@',
    'ada',
    '',
    `${'a'.repeat(65)}@acme.com`,
    `ada@${'a'.repeat(250)}.com`,
  ])('refuses %j', (input) => {
    expect(canonicalizeEmail(input)).toBeUndefined()
  })

  it.each([undefined, null, 42, {}, ['ada@acme.com']])('refuses the non-string %j', (input) => {
    expect(canonicalizeEmail(input)).toBeUndefined()
  })

  it('is idempotent and never widens what it accepts (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.emailAddress(), fc.string(), fc.string({ unit: 'grapheme' })),
        (input) => {
          const once = canonicalizeEmail(input)
          if (once === undefined) return
          expect(canonicalizeEmail(once.address)).toEqual(once)
          expect(once.address).toBe(once.address.toLowerCase())
          expect(once.address).toMatch(/^[\x21-\x7e]+$/)
          expect(once.address.split('@')).toHaveLength(2)
        },
      ),
    )
  })

  it('folds case-variants of one address together (property)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.array(fc.boolean(), { minLength: 1 }), (address, flips) => {
        const varied = [...address]
          .map((char, i) => (flips[i % flips.length] ? char.toUpperCase() : char))
          .join('')
        expect(canonicalizeEmail(varied)?.address).toBe(canonicalizeEmail(address)?.address)
      }),
    )
  })
})
