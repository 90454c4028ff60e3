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

  it.each([
    [' ada@acme.com', 'a space'],
    ['\tada@acme.com\t', 'tabs'],
    ['ada@acme.com\r\n', 'CR LF'],
    ['\n \t\r ada@acme.com \r\n', 'a mix'],
  ])('trims ASCII whitespace around %j (%s)', (input) => {
    expect(canonicalizeEmail(input)?.address).toBe('ada@acme.com')
  })

  // Whitespace that String.prototype.trim would strip, and characters that show as nothing:
  // refused around the address as well as inside it, alone or behind ASCII padding.
  describe.each([
    ['U+00A0 NO-BREAK SPACE', '\u00A0'],
    ['U+3000 IDEOGRAPHIC SPACE', '\u3000'],
    ['U+FEFF BYTE ORDER MARK', '\uFEFF'],
    ['U+2028 LINE SEPARATOR', '\u2028'],
    ['U+2029 PARAGRAPH SEPARATOR', '\u2029'],
    ['U+1680 OGHAM SPACE MARK', '\u1680'],
    ['U+2007 FIGURE SPACE', '\u2007'],
    ['U+202F NARROW NO-BREAK SPACE', '\u202F'],
    ['U+205F MEDIUM MATHEMATICAL SPACE', '\u205F'],
    ['U+0085 NEXT LINE', '\u0085'],
    ['U+000B VERTICAL TAB', '\u000B'],
    ['U+000C FORM FEED', '\u000C'],
    ['U+200B ZERO WIDTH SPACE', '\u200B'],
    ['U+200E LEFT-TO-RIGHT MARK', '\u200E'],
    ['U+2060 WORD JOINER', '\u2060'],
    ['U+180E MONGOLIAN VOWEL SEPARATOR', '\u180E'],
    ['U+3164 HANGUL FILLER', '\u3164'],
  ])('%s', (_name, char) => {
    it.each([
      ['after the address', `ada@acme.com${char}`],
      ['before the address', `${char}ada@acme.com`],
      ['after the address, behind ASCII padding', ` ada@acme.com${char} `],
      ['inside the local part', `ada${char}@acme.com`],
      ['inside the domain', `ada@acme${char}.com`],
    ])('is refused %s', (_where, input) => {
      expect(canonicalizeEmail(input)).toBeUndefined()
    })
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
