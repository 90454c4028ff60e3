import { describe, expect, it } from 'vitest'
import { colorFor, printable } from '../../src/cli/report.js'
import { count, duration, instant, list, maskEmail, maskSub, size } from '../../src/cli/words.js'

describe('what the command-line tool prints', () => {
  it('says the byte caps as they are set', () => {
    expect([1_048_576, 262_144, 4_096].map(size)).toEqual(['1 MiB', '256 KiB', '4 KiB'])
  })

  it('says durations in words', () => {
    expect(
      [0, 59, 60, 61, 3_599, 3_600, 3_660, 86_399, 86_400, 90_000, -125].map(duration),
    ).toEqual([
      '0 s',
      '59 s',
      '1 min',
      '1 min 1 s',
      '59 min 59 s',
      '1 h',
      '1 h 1 min',
      '23 h 59 min',
      '1 d',
      '1 d 1 h',
      '2 min 5 s',
    ])
  })

  it('masks subs and emails unless asked to show them', () => {
    expect(maskSub('samlp|acme-okta|00u1ab2cd3', false)).toBe('samlp|acme-okta|00u1…')
    expect(maskSub('auth0|abc', false)).toBe('auth0|****')
    expect(maskSub('no-bar-subject', false)).toBe('no-b…')
    expect(maskSub('auth0|abcdef', true)).toBe('auth0|abcdef')
    expect(maskEmail('ada.lovelace@acme.com', false)).toBe('a***@acme.com')
    expect(maskEmail('not-an-email', false)).toBe('***')
    expect(maskEmail('ada@acme.com', true)).toBe('ada@acme.com')
  })

  it('says instants, lists and counts', () => {
    expect(instant(1_800_000_000)).toBe('2027-01-15T08:00:00Z')
    expect([instant(1e300), instant('1'), instant(Number.NaN)]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect([list([]), list(['a']), list(['a', 'b']), list(['a', 'b', 'c'])]).toEqual([
      'none',
      'a',
      'a and b',
      'a, b and c',
    ])
    expect([count(1, 'key'), count(2, 'key')]).toEqual(['1 key', '2 keys'])
  })

  it('prints control characters as escapes, never acting on them', () => {
    expect(printable('RS256\u001b[2J\n  pass  forged\u2028')).toBe(
      'RS256\\u001b[2J\\u000a  pass  forged\\u2028',
    )
    expect(printable('plain text, “quotes” and ü')).toBe('plain text, “quotes” and ü')
  })

  it('colours on a TTY only, never with NO_COLOR, always with FORCE_COLOR (but FORCE_COLOR=0)', () => {
    expect(colorFor({ isTTY: true }, {})).toBe(true)
    expect(colorFor({ isTTY: false }, {})).toBe(false)
    expect(colorFor({}, {})).toBe(false)
    expect(colorFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false)
    // An empty NO_COLOR is as good as unset (no-color.org).
    expect(colorFor({ isTTY: true }, { NO_COLOR: '' })).toBe(true)
    expect(colorFor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true)
    expect(colorFor({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false)
    expect(colorFor({ isTTY: false }, { FORCE_COLOR: '0' })).toBe(false)
  })
})
