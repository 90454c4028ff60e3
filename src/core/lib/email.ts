/** An email address in its one canonical spelling. */
export interface CanonicalEmail {
  /** `local@domain`, lower-cased, the domain in ASCII (IDNA). */
  readonly address: string
  /** The local part, lower-cased; `+tags` and dots are kept. */
  readonly local: string
  /** The domain in ASCII, lower-cased, without a trailing dot. */
  readonly domain: string
}

// RFC 5322 dot-atom characters. A quoted local part ("a b"@x) is refused, as is anything non-ASCII.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/i
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
const IPV4 = /^\d+(?:\.\d+){3}$/
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is what it matches
const ASCII = /^[\u0000-\u007f]*$/
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u
// The whitespace a canonical address may be padded with: ASCII space, tab, CR and LF, nothing else.
const ASCII_PADDING = /^[ \t\r\n]+|[ \t\r\n]+$/g
// Whitespace and invisible characters that no address contains anywhere once it is trimmed:
// Unicode spaces (U+00A0, U+3000 …), line separators, controls, format characters (U+FEFF,
// U+200B, U+200E …) and other default-ignorable code points (U+180E, U+3164 …).
const HIDDEN = /[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u
// Characters that would change how a URL parser reads the host, or that no host name contains.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const HOST_BREAKING = /[\s\u0000-\u001f\u007f/?#@:[\]\\%]/u

/**
 * Canonicalises an email address for lookup and caching: trimmed of ASCII whitespace (space, tab,
 * CR, LF), lower-cased, the domain through IDNA to ASCII. Returns `undefined` for anything that is
 * not exactly one plausible address: any other whitespace or invisible character, leading,
 * trailing or inside (a no-break space U+00A0, an ideographic space U+3000, a byte-order mark
 * U+FEFF, a zero-width space), a non-ASCII or quoted local part, an IP-literal or dotless
 * domain, a trailing dot, more than one `@`, or a domain that changes under Unicode compatibility
 * folding (the Kelvin sign `\u212A` lower-cases to `k`, so `\u212Acme.com` would otherwise
 * become `kcme.com`) or that IDNA would quietly rewrite (a soft hyphen or zero-width character
 * dropped, `。` read as a dot).
 *
 * @example
 * ```ts
 * canonicalizeEmail(' Ada+SSO@Bücher.Example ')?.address // 'ada+sso@xn--bcher-kva.example'
 * canonicalizeEmail('ada@acme.com\u00A0')                 // undefined
 * canonicalizeEmail('a@acme.com@evil.com')                // undefined
 * ```
 */
export function canonicalizeEmail(input: unknown): CanonicalEmail | undefined {
  if (typeof input !== 'string') return undefined
  const trimmed = input.replace(ASCII_PADDING, '')
  if (trimmed.length === 0 || trimmed.length > 254 || HIDDEN.test(trimmed)) return undefined
  const at = trimmed.indexOf('@')
  if (at <= 0 || at !== trimmed.lastIndexOf('@')) return undefined
  const rawLocal = trimmed.slice(0, at)
  const rawDomain = trimmed.slice(at + 1)
  // The local part is checked before folding: the pattern admits ASCII only.
  if (rawLocal.length > 64 || !LOCAL_PART.test(rawLocal)) return undefined
  const domain = toAsciiDomain(rawDomain)
  if (domain === undefined) return undefined
  const local = rawLocal.toLowerCase()
  const address = `${local}@${domain}`
  if (address.length > 254) return undefined
  return { address, local, domain }
}

/**
 * {@link canonicalizeEmail} for an address that must arrive exactly as written, as on the public
 * discover endpoint: surrounding whitespace is refused there rather than trimmed. Whatever it
 * accepts, `canonicalizeEmail` accepts with the same result.
 */
export function canonicalizeExactEmail(input: unknown): CanonicalEmail | undefined {
  if (typeof input !== 'string' || input.replace(ASCII_PADDING, '') !== input) return undefined
  return canonicalizeEmail(input)
}

function toAsciiDomain(raw: string): string | undefined {
  if (raw.length === 0 || raw.endsWith('.') || HOST_BREAKING.test(raw)) return undefined
  // Refuse compatibility characters (Kelvin sign, fullwidth letters, ligatures) and invisible ones
  // (soft hyphen, zero-width joiners) before any folding: IDNA would map them away silently.
  if (raw.normalize('NFKC') !== raw || DEFAULT_IGNORABLE.test(raw)) return undefined
  const lower = raw.toLowerCase()
  let host: string
  try {
    host = new URL(`http://${lower}/`).hostname
  } catch {
    return undefined
  }
  if (host.endsWith('.') || IPV4.test(host)) return undefined
  const labels = host.split('.')
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined
  // IDNA may change only non-ASCII labels, each into its own xn-- label. Anything else (a label
  // mapped into ASCII, a Unicode full stop read as a dot) would let a look-alike become a real name.
  const given = lower.split('.')
  if (
    given.length !== labels.length ||
    !given.every((label, i) =>
      ASCII.test(label) ? label === labels[i] : (labels[i] as string).startsWith('xn--'),
    )
  )
    return undefined
  if (/^\d+$/.test(labels.at(-1) as string)) return undefined
  return host
}

/** An email domain in canonical form (lower-case ASCII), or undefined when it is not one. */
export function canonicalDomain(domain: string): string | undefined {
  return canonicalizeEmail(`x@${domain}`)?.domain
}
